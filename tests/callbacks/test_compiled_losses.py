"""What the schedule callbacks share: finding the losses they schedule."""

import keras
import pytest

import keras_evidential as ke
from keras_evidential.callbacks.compiled_losses import find_coefficient_losses
from tests.callbacks.fitting import alpha_model
from tests.callbacks.fitting import data
from tests.callbacks.fitting import full_batch_fit
from tests.callbacks.fitting import logits_model


def test_callbacks_refuse_a_model_without_edl_loss():
    x, labels = data()
    model = logits_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for callback in (ke.callbacks.TwoStageFit(switch_epoch=1), ke.callbacks.KLAnnealing()):
        with pytest.raises(ValueError, match="needs a model compiled with"):
            full_batch_fit(model, x, labels, 1, [callback])



@pytest.mark.xfail(
    keras.backend.backend() != "tensorflow",
    strict=True,
    reason="library: on JAX and PyTorch, Keras instantiates a loss class "
    "inside the stateless train step, where EDLLoss cannot create its "
    "kl_weight and stage variables: compile(loss=EDLLoss) cannot train there",
)
def test_finds_the_instance_keras_makes_for_the_loss_class():
    x, labels = data()
    model = alpha_model()
    model.compile(optimizer="sgd", loss=ke.losses.EDLLoss)
    model.fit(x, labels, epochs=1, verbose=0)  # Keras builds its loss container
    losses = find_coefficient_losses(model, "kl_weight", "test")
    assert len(losses) == 1 and isinstance(losses[0], ke.losses.EDLLoss)


def test_an_instance_is_found_once():
    model = logits_model()
    loss = ke.losses.EDLLoss(from_logits=True)
    model.compile(optimizer="sgd", loss=loss)
    assert find_coefficient_losses(model, "kl_weight", "test") == [loss]
