"""LossCoefficient: a loss's scheduled coefficient as a metric."""

import keras
import numpy as np
import pytest

import keras_evidential as ke


def test_reports_the_loss_variable():
    loss = ke.losses.EDLLoss(kl_weight=0.3)
    metric = ke.metrics.LossCoefficient(loss)
    metric.update_state()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metric.result()), 0.3, rtol=1e-6)
    loss.kl_weight.assign(0.7)
    metric.update_state()
    metric.reset_state()  # not an average: the value stays
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metric.result()), 0.7, rtol=1e-6)
    assert metric.name == "kl_weight"


def test_unbound_metric_reports_nan():
    metric = ke.metrics.LossCoefficient(coefficient="regularizer_weight")
    assert np.isnan(keras.ops.convert_to_numpy(metric.result()))
    assert metric.name == "regularizer_weight"


def test_stage_of_tedl():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = np.arange(32) % 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    loss = ke.losses.EDLLoss(from_logits=True, evidence="elu")
    model.compile(optimizer="adam", loss=loss,
                  metrics=[ke.metrics.LossCoefficient(loss, "stage")])
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        keras.callbacks.CSVLogger("/dev/null"), ke.callbacks.TwoStageFit(2)])
    np.testing.assert_allclose(history.history["stage"], [1, 1, 2])


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": keras.losses.MeanSquaredError()}, "loss="),
    ({"coefficient": "lr"}, "coefficient="),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.metrics.LossCoefficient(**kwargs)
