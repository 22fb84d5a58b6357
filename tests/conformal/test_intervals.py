"""ConformalInterval: hand-worked intervals, SciPy references for the
Student-t base interval, the coverage guarantee, and serialization."""

import keras
import numpy as np
import pytest
from scipy import stats

import keras_evidential as ke
from tests.testing import TestCase
from tests.testing import to_numpy


def _nig(rng, n):
    return np.concatenate([
        rng.normal(size=(n, 1)), rng.uniform(0.5, 2.0, (n, 1)),
        rng.uniform(1.5, 4.0, (n, 1)), rng.uniform(0.5, 2.0, (n, 1)),
    ], axis=1)


def _student_t(y_pred):
    gamma, nu, alpha, beta = y_pred.T
    return gamma, np.sqrt(beta * (1 + nu) / (alpha * nu)), 2 * alpha


def test_standardized_interval_hand_worked():
    # gamma 0, nu 1, alpha 2, beta 1: scale = sqrt(1 * 2 / 2) = 1. Scores
    # |y| = 0.5, 1, 2, 3; alpha = 0.4: k = ceil(5 * 0.6) = 3, q = 2.
    y_pred = np.array([[0.0, 1.0, 2.0, 1.0]] * 4)
    layer = ke.conformal.ConformalInterval.calibrate(
        y_pred, np.array([0.5, -1.0, 2.0, 3.0]), alpha=0.4)
    assert layer.thresholds_list() == [2.0]
    # beta = 4 doubles the scale: loc 1 -+ 2 * 2.
    lower, upper = layer(np.array([[1.0, 1.0, 2.0, 4.0]], "float32"))
    np.testing.assert_allclose(to_numpy(lower), [[-3.0]], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(upper), [[5.0]], rtol=1e-6)


def test_quantile_scores_against_scipy():
    rng = np.random.default_rng(0)
    y_pred, y = _nig(rng, 30), rng.normal(size=(30, 1)) * 2
    loc, scale, df = _student_t(y_pred)
    half = stats.t.ppf(0.95, df) * scale
    want = np.maximum(loc - half - y[:, 0], y[:, 0] - loc - half)
    got = to_numpy(ke.conformal.interval_scores(y, y_pred, "quantile", 0.9))[:, 0]
    # JAX computes in float32 unless x64 is enabled.
    tolerance = 1e-10 if got.dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("method", ["standardized", "quantile"])
def test_coverage_guarantee_over_random_splits(method):
    # Targets drawn far from the model (scale 3): the base interval is off,
    # the calibrated one is valid.
    n, m, alpha, splits = 100, 200, 0.1, 1000
    rng = np.random.default_rng(1)
    y_pred = _nig(rng, 2000)
    y = y_pred[:, :1] + 3 * rng.standard_t(5, size=(2000, 1))
    scores = to_numpy(ke.conformal.interval_scores(y, y_pred, method, 0.9))[:, 0]
    coverages = []
    for _ in range(splits):
        order = rng.permutation(2000)
        q = ke.conformal.conformal_quantile(scores[order[:n]], alpha)
        coverages.append(np.mean(scores[order[n:n + m]] <= q))
    k = np.ceil((n + 1) * (1 - alpha))
    a, b = k, n + 1 - k
    var_c = a * b / ((a + b) ** 2 * (a + b + 1))
    se = np.sqrt((var_c + (a / (a + b) * b / (a + b) - var_c) / m) / splits)
    assert abs(np.mean(coverages) - k / (n + 1)) <= 4 * se


def test_two_targets_get_their_own_thresholds():
    y_pred = np.array([[0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0]] * 3)
    y = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    layer = ke.conformal.ConformalInterval.calibrate(y_pred, y, alpha=0.5)
    assert layer.thresholds_list() == [2.0, 20.0]  # k = ceil(4 * 0.5) = 2


class ConformalIntervalLayerTest(TestCase):
    def test_saved_with_the_model(self):
        rng = np.random.default_rng(2)
        y_pred = _nig(rng, 50).astype("float32")
        layer = ke.conformal.ConformalInterval.calibrate(
            y_pred, rng.normal(size=50), alpha=0.2, method="quantile")
        inputs = keras.Input((4,))
        lower, upper = layer(inputs)
        model = keras.Model(inputs, {"lower": lower, "upper": upper})
        path = self.get_temp_dir() + "/interval.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        got, want = loaded(y_pred), model(y_pred)
        for name in ("lower", "upper"):
            np.testing.assert_allclose(to_numpy(got[name]), to_numpy(want[name]))
        config = loaded.layers[-1].get_config()
        assert config["method"] == "quantile" and config["level"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"thresholds": []}, "`thresholds` must be"),
     ({"thresholds": 1.0, "method": "cqr"}, "`method` must be one of"),
     ({"thresholds": 1.0, "level": 1.0}, "`level` must be a number in")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.conformal.ConformalInterval(**kwargs)


def test_calibrate_checks_the_targets():
    with pytest.raises(ValueError, match="one column per target"):
        ke.conformal.ConformalInterval.calibrate(np.ones((3, 4)), np.ones((3, 2)), 0.1)


def test_calibrate_checks_the_level():
    with pytest.raises(ValueError, match="`level` must be a number in"):
        ke.conformal.ConformalInterval.calibrate(
            np.ones((3, 4)), np.ones(3), 0.1, method="quantile", level=1.5)
