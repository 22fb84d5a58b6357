"""KLAnnealing and TwoStageFit inside a real `model.fit`."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference

N, D, K = 64, 6, 3


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)).astype("float32"), rng.integers(0, K, N)


def alpha_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(K), ke.layers.DirichletOutput("softplus")])


def logits_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(K)])


def full_batch_fit(model, x, y, epochs, callbacks):
    return model.fit(x, y, batch_size=N, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_kl_annealing_changes_the_compiled_loss_exactly(jit_compile):
    x, labels = data()
    model = alpha_model()
    # A zero learning rate keeps the weights, so each epoch's logged loss is
    # the formula evaluated at one fixed alpha with that epoch's KL weight.
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=ke.losses.EDLLoss(), jit_compile=jit_compile)
    history = full_batch_fit(model, x, labels, 5, [ke.callbacks.KLAnnealing(increment=0.25, max_weight=0.6)])
    weights = [0.0, 0.25, 0.5, 0.6, 0.6]
    np.testing.assert_allclose(history.history["kl_weight"], weights, rtol=1e-6)
    alpha = model.predict(x, verbose=0).astype("float64")
    y = reference.one_hot(labels, K)
    expected = [reference.edl_loss(y, alpha, "mse", w) for w in weights]
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-5)
    assert expected[0] != pytest.approx(expected[2])


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


def test_callbacks_refuse_a_model_without_edl_loss():
    x, labels = data()
    model = logits_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for callback in (ke.callbacks.TwoStageFit(switch_epoch=1), ke.callbacks.KLAnnealing()):
        with pytest.raises(ValueError, match="EDLLoss"):
            full_batch_fit(model, x, labels, 1, [callback])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ke.callbacks.TwoStageFit(switch_epoch=-1), "switch_epoch=-1"),
        (lambda: ke.callbacks.TwoStageFit(switch_epoch=2.5), "switch_epoch=2.5"),
        (lambda: ke.callbacks.KLAnnealing(increment=-0.1), "increment=-0.1"),
        (lambda: ke.callbacks.KLAnnealing(max_weight=float("inf")), "max_weight=inf"),
    ],
)
def test_invalid_callback_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_callback_configs_round_trip():
    for callback in (ke.callbacks.TwoStageFit(switch_epoch=4, verbose=1),
                     ke.callbacks.KLAnnealing(increment=0.25, max_weight=0.5)):
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(callback))
        assert type(restored) is type(callback)
        assert restored.get_config() == callback.get_config()
        name = keras.saving.get_registered_name(callback.__class__)
        assert name.startswith("keras_evidential>")
