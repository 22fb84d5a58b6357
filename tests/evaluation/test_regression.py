"""keras_evidential.evaluation.regression: NumPy scores, coverage curve, plot."""

import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_nig as ref


def _calibrated(n=4000, seed=0):
    """Targets drawn from the predicted Student-t: a calibrated prediction."""
    rng = np.random.default_rng(seed)
    g, nu, a, b = rng.normal(size=n), rng.uniform(0.5, 3, n), rng.uniform(1.5, 5, n), rng.uniform(0.5, 2, n)
    y = g + ref.width(nu, a, b) * rng.standard_t(2 * a)
    return y, np.stack([g, nu, a, b], axis=1)


def test_scores_match_reference():
    y, pred = _calibrated(200)
    scores = ke.evaluation.regression_scores(y, pred, levels=(0.5, 0.9))
    g, nu, a, b = pred.T
    np.testing.assert_allclose(scores["rmse"], np.sqrt(np.mean((y - g) ** 2)), rtol=1e-9)
    np.testing.assert_allclose(scores["nll"], ref.student_t_nll(y, g, nu, a, b).mean(), rtol=1e-6)
    crps = np.mean([ref.crps_by_integration(y[i], g[i], ref.width(nu[i], a[i], b[i]), 2 * a[i])
                    for i in range(20)])
    np.testing.assert_allclose(
        ke.evaluation.regression_scores(y[:20], pred[:20])["crps"], crps, rtol=1e-5)
    inside = ref.central_interval_contains(y, g, ref.width(nu, a, b), 2 * a, 0.9)
    assert scores["coverage_90"] == pytest.approx(inside.mean())


def test_calibrated_prediction_lies_on_the_diagonal_and_narrow_one_below():
    y, pred = _calibrated()
    curve = ke.evaluation.coverage_curve(y, pred)
    assert curve["calibration_error"] < 0.02
    narrow = pred.copy()
    narrow[:, 3] /= 9.0  # beta / 9: intervals a third as wide
    tight = ke.evaluation.coverage_curve(y, narrow)
    assert np.all(tight["observed"] < tight["expected"])


def test_plot_writes_png(tmp_path):
    y, pred = _calibrated(300)
    path = tmp_path / "coverage.png"
    figure = ke.evaluation.plot_coverage_curve({"model": ke.evaluation.coverage_curve(y, pred)}, path=path)
    assert path.stat().st_size > 1000
    assert figure.axes[0].get_xlabel().startswith("expected")


def test_bad_input_is_named():
    y, pred = _calibrated(10)
    with pytest.raises(ValueError, match="multiple of 4"):
        ke.evaluation.coverage_curve(y, pred[:, :3])
    with pytest.raises(ValueError, match="levels="):
        ke.evaluation.coverage_curve(y, pred, levels=[0.5, 1.0])
    bad = pred.copy()
    bad[0, 2] = 1.0
    with pytest.raises(ValueError, match="alpha > 1"):
        ke.evaluation.regression_scores(y, bad)
    with pytest.raises(ValueError, match="one value per target"):
        ke.evaluation.regression_scores(y[:5], pred)
