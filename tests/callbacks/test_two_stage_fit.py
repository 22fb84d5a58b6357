"""TwoStageFit inside a real `model.fit`: cross-entropy, then EDL, one optimizer."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.callbacks.fitting import K
from tests.callbacks.fitting import alpha_model
from tests.callbacks.fitting import data
from tests.callbacks.fitting import full_batch_fit
from tests.callbacks.fitting import logits_model


@pytest.mark.parametrize("jit_compile", [False, True])
def test_two_stage_fit_losses_stages_and_optimizer_continuity(jit_compile):
    x, labels = data()
    y = reference.one_hot(labels, K)
    model = logits_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=ke.losses.EDLLoss(from_logits=True, evidence=ke.layers.EvidenceELU()),
        jit_compile=jit_compile,
    )

    class Record(keras.callbacks.Callback):
        """Logits and optimizer state at each epoch's start (the weights the
        full-batch step of that epoch computes its loss on)."""

        def __init__(self):
            super().__init__()
            self.logits, self.iterations, self.moments = [], [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.logits.append(self.model.predict(x, verbose=0).astype("float64"))
            self.iterations.append(int(self.model.optimizer.iterations.numpy()))
            self.moments.append([v.numpy().copy() for v in self.model.optimizer.variables[1:]])

    record = Record()
    history = full_batch_fit(
        model, x, labels, 6,
        [ke.callbacks.TwoStageFit(switch_epoch=3), ke.callbacks.KLAnnealing(increment=0.5), record],
    )
    assert history.history["stage"] == [1, 1, 1, 2, 2, 2]
    # Annealing counts from the first EDL epoch.
    np.testing.assert_allclose(history.history["kl_weight"], [0, 0, 0, 0, 0.5, 1.0])
    for epoch in range(6):
        logits = record.logits[epoch]
        if epoch < 3:
            expected = reference.softmax_cross_entropy(y, logits)
            keras_ce = keras.losses.CategoricalCrossentropy(from_logits=True)(y, logits)
            np.testing.assert_allclose(expected, float(keras_ce), rtol=1e-5)
        else:
            alpha = reference.EVIDENCE["elu"](logits) + 1
            expected = reference.edl_loss(y, alpha, "mse", history.history["kl_weight"][epoch])
        np.testing.assert_allclose(history.history["loss"][epoch], expected, rtol=1e-4)
    # One optimizer, never reset: iterations keep counting and Adam's moments
    # at the start of stage 2 are the ones stage 1 left.
    assert record.iterations == [0, 1, 2, 3, 4, 5]
    assert any(np.any(m != 0) for m in record.moments[3])
    assert int(model.optimizer.iterations.numpy()) == 6


def test_two_stage_fit_refuses_a_loss_without_logits():
    x, labels = data()
    model = alpha_model()
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss())
    with pytest.raises(ValueError, match="from_logits=False"):
        full_batch_fit(model, x, labels, 1, [ke.callbacks.TwoStageFit(switch_epoch=1)])


@pytest.mark.parametrize("switch_epoch", [-1, 1.5, "3", True, None])
def test_invalid_switch_epoch(switch_epoch):
    with pytest.raises(ValueError, match=r"Received: switch_epoch="):
        ke.callbacks.TwoStageFit(switch_epoch=switch_epoch)



@pytest.mark.parametrize("switch_epoch, message", [(-1, "switch_epoch=-1"), (2.5, "switch_epoch=2.5")])
def test_invalid_arguments_are_named(switch_epoch, message):
    with pytest.raises(ValueError, match=message):
        ke.callbacks.TwoStageFit(switch_epoch=switch_epoch)


def test_restored_callbacks_keep_their_schedule():
    callbacks = [
        ke.callbacks.KLAnnealing(increment=0.25, max_weight=0.6, verbose=0),
        ke.callbacks.TwoStageFit(switch_epoch=3, verbose=1),
    ]
    restored = [
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(callback)
        )
        for callback in callbacks
    ]
    for callback, twin in zip(callbacks, restored):
        assert type(twin) is type(callback)
        assert twin.get_config() == callback.get_config()

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(
        "sgd",
        ke.losses.EDLLoss(from_logits=True, evidence="elu", stage=1),
    )
    annealing, two_stage = restored
    params = {}  # Keras gives every callback of one fit the same dict.
    for callback in restored:
        callback.set_model(model)
        callback.set_params(params)
    two_stage.on_train_begin()
    weights, stages = [], []
    for epoch in range(7):
        two_stage.on_epoch_begin(epoch)
        annealing.on_epoch_begin(epoch)
        weights.append(float(model.loss.kl_weight.numpy()))
        stages.append(int(model.loss.stage.numpy()))
    # lambda_t = min(0.6, 0.25 t), t counted from the switch at epoch 3.
    assert stages == [1, 1, 1, 2, 2, 2, 2]
    np.testing.assert_allclose(weights, [0, 0, 0, 0, 0.25, 0.5, 0.6])



def test_config_round_trip():
    callback = ke.callbacks.TwoStageFit(switch_epoch=4, verbose=1)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(callback))
    assert type(restored) is ke.callbacks.TwoStageFit
    assert restored.get_config() == callback.get_config()
    assert keras.saving.get_registered_name(ke.callbacks.TwoStageFit) == "keras_evidential>TwoStageFit"
