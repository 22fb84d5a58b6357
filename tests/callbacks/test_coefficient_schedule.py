"""CoefficientSchedule: one scheduling API for every loss coefficient."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.callbacks.fitting import alpha_model
from tests.callbacks.fitting import data
from tests.callbacks.fitting import full_batch_fit
from tests.callbacks.fitting import logits_model


def nig_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                             ke.layers.NormalInverseGammaOutput(units=1)])


def test_schedules_the_kl_weight_of_a_dirichlet_loss():
    x, labels = data()
    model = alpha_model()
    loss = ke.losses.EDLLoss()
    model.compile(optimizer="sgd", loss=loss)
    history = full_batch_fit(model, x, labels, 3, [
        ke.callbacks.CoefficientSchedule(lambda t: 0.5 * t, coefficient="kl_weight")])
    np.testing.assert_allclose(history.history["kl_weight"], [0.0, 0.5, 1.0])
    assert float(keras.ops.convert_to_numpy(loss.kl_weight)) == 1.0


def test_the_step_uses_the_scheduled_weight():
    """The loss that `fit` reports for the epoch is the risk plus the
    scheduled weight times the KL, computed by hand from the weights."""
    from tests import reference

    x, labels = data()
    model = alpha_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=ke.losses.EDLLoss())
    history = full_batch_fit(model, x, labels, 2, [
        ke.callbacks.CoefficientSchedule(lambda t: 0.25 + 0.5 * t)])
    alpha = model.predict(x, verbose=0).astype("float64")
    y = reference.one_hot(labels, 3)
    for epoch, weight in enumerate([0.25, 0.75]):
        expected = np.mean(reference.edl_loss(y, alpha, "mse", weight))
        np.testing.assert_allclose(history.history["loss"][epoch], expected, rtol=1e-5)


def test_schedules_the_regularizer_weight_of_a_nig_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = x[:, :1] ** 2
    model = nig_model()
    model.compile(optimizer="sgd", loss=ke.losses.EvidentialRegressionLoss())
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        ke.callbacks.CoefficientSchedule(lambda t: 0.01 * t, coefficient="regularizer_weight")])
    np.testing.assert_allclose(history.history["regularizer_weight"], [0.0, 0.01, 0.02], rtol=1e-6)


def test_kl_annealing_counts_from_start_epoch_after_an_earlier_cross_entropy_fit():
    """A cross-entropy stage in an earlier `fit` (the benchmark's CE-first
    rows): the KL weight at the first evidential epoch is 0, as the schedule
    says, not `initial_epoch * increment`."""
    x, labels = data()
    model = logits_model()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    full_batch_fit(model, x, labels, 3, [])
    model.compile(optimizer="sgd", loss=ke.losses.EDLLoss(from_logits=True, evidence="elu"))
    history = model.fit(x, labels, epochs=6, initial_epoch=3, batch_size=64, verbose=0,
                        callbacks=[ke.callbacks.KLAnnealing(0.25, start_epoch=3)])
    np.testing.assert_allclose(history.history["kl_weight"], [0.0, 0.25, 0.5])


def test_an_undeclared_setting_is_an_error_not_a_no_op():
    """Before: the benchmark set `loss.first_edl_epoch`, which nothing read,
    so its KL weight jumped at the switch."""
    loss = ke.losses.EDLLoss()
    with pytest.raises(AttributeError, match="first_edl_epoch"):
        loss.first_edl_epoch = 3
    with pytest.raises(AttributeError, match="warmup"):
        ke.callbacks.KLAnnealing().warmup = 3
    for obj in (ke.losses.RelaxedEDLLoss(), ke.losses.EvidentialRegressionLoss(),
                ke.callbacks.TwoStageFit(1), ke.callbacks.FiniteWeightsCheck()):
        with pytest.raises(AttributeError, match="Received: typo=1"):
            obj.typo = 1
    loss.kl_weight = loss.kl_weight  # a declared setting still assigns
    callback = ke.callbacks.KLAnnealing()
    callback.increment = 0.2
    assert callback.increment == 0.2


def test_a_user_subclass_may_add_attributes():
    class MyLoss(ke.losses.EDLLoss):
        def __init__(self):
            super().__init__()
            self.extra = 1

    assert MyLoss().extra == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"schedule": 3}, "schedule="),
    ({"schedule": lambda t: t, "coefficient": "lr"}, "coefficient="),
    ({"schedule": lambda t: t, "verbose": "1"}, "verbose="),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.callbacks.CoefficientSchedule(**kwargs)


def test_a_negative_scheduled_value_is_refused():
    x, labels = data()
    model = alpha_model()
    model.compile(optimizer="sgd", loss=ke.losses.EDLLoss())
    with pytest.raises(ValueError, match=r"schedule\(epoch\)"):
        full_batch_fit(model, x, labels, 1, [ke.callbacks.CoefficientSchedule(lambda t: -1.0)])


def test_kl_annealing_start_epoch_is_checked():
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="start_epoch"):
            ke.callbacks.KLAnnealing(start_epoch=bad)
