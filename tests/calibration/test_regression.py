"""The Student-t scale factor of NIG regressors, against a scipy fit of the
float64 NLL of `scipy.stats.t`."""

import keras
import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize_scalar

import keras_evidential as ke
from keras_evidential.calibration import fit_student_t_scale


def nig_data(seed=0, n=2000, noise=2.5):
    """NIG predictions whose Student-t scale is `noise` times too small."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(size=n)
    nu = rng.uniform(0.5, 3.0, n)
    alpha = rng.uniform(1.5, 6.0, n)
    beta = rng.uniform(0.2, 2.0, n)
    scale = np.sqrt(beta * (1 + nu) / (alpha * nu))
    y = gamma + noise * scale * rng.standard_t(2 * alpha)
    return y[:, None], np.stack([gamma, nu, alpha, beta], 1)


def reference_nll(y, y_pred, factor):
    gamma, nu, alpha, beta = y_pred.T
    scale = factor * np.sqrt(beta * (1 + nu) / (alpha * nu))
    return -np.mean(stats.t.logpdf(y[:, 0], 2 * alpha, gamma, scale))


def test_factor_matches_scipy():
    y, y_pred = nig_data()
    reference = minimize_scalar(
        lambda log_s: reference_nll(y, y_pred, np.exp(log_s)),
        bounds=(-5, 5), method="bounded", options={"xatol": 1e-8},
    )
    fitted = fit_student_t_scale(y, y_pred)
    np.testing.assert_allclose(fitted, np.exp(reference.x), rtol=2e-3)
    assert 2.2 < fitted < 2.8  # the scale was made 2.5 times too small
    np.testing.assert_allclose(
        ke.calibration.student_t_scale_nll(y, y_pred, fitted),
        reference_nll(y, y_pred, fitted), rtol=1e-6,
    )


def test_layer_scales_every_interval_and_keeps_the_mean():
    _, y_pred = nig_data(n=50)
    scaled = keras.ops.convert_to_numpy(
        ke.layers.StudentTScaling(1.7)(y_pred.astype("float32"))
    ).astype("float64")
    gamma, nu, alpha, beta = y_pred.T
    new = scaled.T
    np.testing.assert_allclose(new[:3], y_pred.T[:3], rtol=1e-6)
    # The 90 % interval's half-width, from scipy, grows by the factor.
    width = stats.t.ppf(0.95, 2 * alpha) * np.sqrt(beta * (1 + nu) / (alpha * nu))
    new_width = stats.t.ppf(0.95, 2 * new[2]) * np.sqrt(
        new[3] * (1 + new[1]) / (new[2] * new[1])
    )
    np.testing.assert_allclose(new_width, 1.7 * width, rtol=1e-5)


@pytest.mark.large
def test_calibrate_appends_the_layer_to_a_regressor():

    model = keras.Sequential([
        keras.Input((3,)), keras.layers.Dense(4),
        ke.layers.NormalInverseGammaOutput(units=1),
    ])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = 10.0 * rng.normal(size=(256, 1)).astype("float32")
    calibrated = ke.calibration.calibrate(model, x, y)
    layer = calibrated.layers[-1]
    assert isinstance(layer, ke.layers.StudentTScaling)
    np.testing.assert_allclose(
        layer.factor, fit_student_t_scale(y, model.predict(x, verbose=0)), rtol=1e-6
    )
    assert ke.export.regression.is_regression_model(calibrated)


@pytest.mark.parametrize("factor", [0.0, -1.0, float("nan"), "2"])
def test_bad_factor_is_named(factor):
    with pytest.raises(ValueError, match="`factor` must be"):
        ke.layers.StudentTScaling(factor)


def test_bad_targets_are_refused():
    _, y_pred = nig_data(n=4)
    with pytest.raises(ValueError, match="one value per target"):
        fit_student_t_scale(np.zeros((3, 1)), y_pred)
    with pytest.raises(ValueError):
        fit_student_t_scale(np.zeros((4, 1)), y_pred * np.array([1, -1, 1, 1]))
