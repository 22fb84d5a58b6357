"""The calibration layers: formulas, config round trip, and a calibrated model
that saves, loads, is recognised by `model_kind` and exports."""

import os

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase


class CalibrationLayersTest(TestCase):
    def test_temperature_on_evidence(self):
        alpha = np.array([[9.0, 1.0, 3.0], [0.1, 2.1, 0.6]], "float32")
        self.run_layer_test(
            ke.layers.TemperatureScaling,
            {"temperature": 4.0, "prior_concentration": 0.1},
            input_data=alpha,
            expected_output=0.1 + (alpha.astype("float64") - 0.1) / 4.0,
            supports_masking=False,
        )

    def test_temperature_on_logits(self):
        z = np.array([[2.0, -1.0, 0.5]], "float32")
        self.run_layer_test(
            ke.layers.TemperatureScaling,
            {"temperature": 0.5, "target": "logits"},
            input_data=z,
            expected_output=z.astype("float64") * 2.0,
            supports_masking=False,
        )

    def test_vector_scaling(self):
        z = np.array([[2.0, -1.0, 0.5]], "float32")
        self.run_layer_test(
            ke.layers.VectorScaling,
            {"scale": [1.0, 2.0, 3.0], "bias": [0.0, 1.0, -1.0], "target": "logits"},
            input_data=z,
            expected_output=np.array([[2.0, -1.0, 0.5]]) * [1, 2, 3] + [0, 1, -1],
            supports_masking=False,
        )
        alpha = np.array([[3.0, 1.0, 5.0]], "float32")
        self.run_layer_test(
            ke.layers.VectorScaling,
            {"scale": [0.5, 2.0, 0.25]},
            input_data=alpha,
            expected_output=np.array([[2.0, 1.0, 2.0]]),
            supports_masking=False,
        )


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (ke.layers.TemperatureScaling, {"temperature": 0.0}, "`temperature` must be"),
        (ke.layers.TemperatureScaling, {"target": "alpha"}, "`target` must be one of"),
        (ke.layers.VectorScaling, {"scale": [1.0, -1.0]}, "`scale` must be"),
        (ke.layers.VectorScaling, {"scale": [1.0], "bias": [0.0]}, "`bias` applies"),
        (ke.layers.VectorScaling, {"scale": [1.0, 2.0], "bias": [0.0],
                                   "target": "logits"}, "one number per class"),
    ],
)
def test_bad_arguments_are_named(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def edl_model(prior=1.0):
    return keras.Sequential([
        keras.Input((4,), name="features"),
        keras.layers.Dense(3, kernel_initializer=keras.initializers.RandomNormal(seed=1)),
        ke.layers.DirichletOutput(prior_concentration=prior),
    ])


def calibration_data(model, n=96):
    """Inputs, and labels that follow the model's prediction 70 % of the time:
    a model too confident for them (a temperature > 1 inside the range)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32") * 3.0
    y = model.predict(x, verbose=0).argmax(1)
    flip = rng.random(n) < 0.3
    y[flip] = rng.integers(0, 3, flip.sum())
    return x, y


def test_calibrated_edl_model_keeps_its_kind_and_accuracy():
    prior = 0.1  # R-EDL's head: the layer must keep its lambda
    model = edl_model(prior)
    x, y = calibration_data(model)
    calibrated = ke.calibration.calibrate(model, x, y)
    layer = calibrated.layers[-1]
    alpha = model.predict(x, verbose=0)
    np.testing.assert_allclose(
        layer.temperature,
        ke.calibration.fit_temperature(alpha, y, prior_concentration=prior),
        rtol=1e-6,
    )
    kind = ke.model_kind(calibrated)
    assert (kind.output, kind.unknown_class, kind.prior_concentration) == (
        "alpha", False, prior
    )
    calibrated_alpha = calibrated.predict(x, verbose=0)
    np.testing.assert_allclose(
        calibrated_alpha, prior + (alpha - prior) / layer.temperature, rtol=1e-5
    )
    np.testing.assert_array_equal(calibrated_alpha.argmax(1), alpha.argmax(1))


@pytest.mark.large
def test_calibrated_model_saves_and_loads(tmp_path):
    model = edl_model()
    x, y = calibration_data(model)
    calibrated = ke.calibration.calibrate(model, x, y, method="vector")
    path = os.path.join(tmp_path, "calibrated.keras")
    calibrated.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[-1], ke.layers.VectorScaling)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), calibrated.predict(x, verbose=0), rtol=1e-6
    )
    assert ke.model_kind(loaded).output == "alpha"


def test_softmax_and_logits_models():
    softmax = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    x, y = calibration_data(softmax)
    calibrated = ke.calibration.calibrate(softmax, x, y, output="softmax")
    layer = calibrated.layers[-1]
    assert layer.target == "logits"
    np.testing.assert_allclose(
        layer.temperature,
        ke.calibration.fit_temperature(softmax.predict(x, verbose=0), y, "logits"),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="alpha or logits"):
        ke.calibration.calibrate(softmax, x, y)  # a logits model with no EDLLoss
    unknown = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(3), ke.layers.DirichletOutput(),
        ke.layers.UnknownClassHead(),
    ])
    with pytest.raises(ValueError, match="unknown-class head"):
        ke.calibration.calibrate(unknown, x, y)


@pytest.mark.large
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="serving is TF")
def test_calibrated_model_exports():
    model = edl_model()
    x, y = calibration_data(model)
    calibrated = ke.calibration.calibrate(model, x, y)
    serve, _ = ke.export.serving_function(calibrated)
    served = serve(x[:5])
    alpha = calibrated.predict(x[:5], verbose=0).astype("float64")
    np.testing.assert_allclose(served["alpha"], alpha, rtol=1e-5)
    np.testing.assert_allclose(
        served["probabilities"], alpha / alpha.sum(1, keepdims=True), rtol=1e-5
    )
    np.testing.assert_allclose(served["uncertainty"], 3 / alpha.sum(1), rtol=1e-5)


def test_a_calibrator_with_another_prior_than_its_head_is_refused():
    model = edl_model(prior=0.1)
    wrong = ke.calibration.append_calibrator(model, ke.layers.TemperatureScaling(2.0))
    with pytest.raises(ValueError, match="prior_concentration must be the head's"):
        ke.model_kind(wrong)
