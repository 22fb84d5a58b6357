"""Evaluating evidential regressors in NumPy: scores, the coverage curve and its plot.

Every function takes the targets `y_true` of shape `(N, T)` (or `(N,)`)
and NIG parameters `y_pred` of shape `(N, 4T)` as NumPy arrays (the output of
`model.predict`), and returns NumPy values, computed by the formulas of
`keras_evidential.nig` in float64 where the backend allows it (TensorFlow,
PyTorch; JAX computes in float32 unless `jax_enable_x64` is set).
"""

from __future__ import annotations

from typing import Any
from typing import Mapping

import numpy as np
from keras import ops

from keras_evidential import nig
from keras_evidential.evaluation.plots import _figure_class
from keras_evidential.evaluation.plots import _finish
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import PathLike


DEFAULT_LEVELS = tuple(np.round(np.linspace(0.05, 0.95, 19), 2))


def _predictive(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_pred.ndim < 1 or y_pred.shape[-1] % 4 or y_pred.shape[-1] == 0:
        raise ValueError(
            "`y_pred` must hold NIG parameters (gamma, nu, alpha, beta) on its "
            f"last axis, a multiple of 4. Received: y_pred with shape {y_pred.shape}"
        )
    gamma, nu, alpha, beta = np.split(y_pred, 4, axis=-1)
    y = np.asarray(y_true, dtype="float64")
    if y.ndim == gamma.ndim - 1:
        y = y[..., None]
    if y.shape != gamma.shape:
        raise ValueError(
            "`y_true` must hold one value per target, shape (..., T) for "
            f"y_pred (..., 4T). Received: y_true with shape {np.shape(y_true)}, "
            f"y_pred with shape {y_pred.shape}"
        )
    if not (np.all(nu > 0) and np.all(beta > 0) and np.all(alpha > 1)
            and np.all(np.isfinite(y_pred))):
        raise ValueError(
            "`y_pred` must hold finite NIG parameters with nu > 0, alpha > 1, "
            f"beta > 0. Received: min nu={nu.min()}, min alpha={alpha.min()}, "
            f"min beta={beta.min()}"
        )
    scale = np.sqrt(beta * (1.0 + nu) / (alpha * nu))
    return y, gamma, scale, 2.0 * alpha


def regression_scores(
    y_true: ArrayLike, y_pred: ArrayLike, levels: ArrayLike = (0.5, 0.9, 0.95)
) -> dict[str, float]:
    """RMSE, Student-t NLL, CRPS and interval coverage of a NIG prediction.

    Returns:
        A dict with `rmse`, `nll`, `crps` (means over samples and targets)
        and `coverage_<percent>` for each level.
    """
    y, loc, scale, df = _predictive(y_true, y_pred)
    scores = {
        "rmse": float(np.sqrt(np.mean((y - loc) ** 2))),
        "nll": float(np.mean(_numpy(nig.student_t_nll(y, loc, scale, df)))),
        "crps": float(np.mean(_numpy(nig.student_t_crps(y, loc, scale, df)))),
    }
    curve = coverage_curve(y_true, y_pred, levels)
    for level, observed in zip(curve["expected"], curve["observed"]):
        scores[f"coverage_{round(100 * level):g}"] = float(observed)
    return scores


def coverage_curve(
    y_true: ArrayLike, y_pred: ArrayLike, levels: ArrayLike = DEFAULT_LEVELS
) -> dict[str, Any]:
    """Expected against observed coverage of the central predictive intervals.

    For each level `c`, the fraction of targets with `|2 F(y) - 1| <= c`,
    `F` the Student-t CDF of the prediction. A calibrated model lies on the
    diagonal; below it the intervals are too narrow (overconfident).

    Returns:
        A dict with `expected` (the levels), `observed` and
        `calibration_error`, the mean absolute gap `mean_c |observed_c - c|`.
    """
    levels = np.asarray(levels, dtype="float64")
    if levels.ndim != 1 or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"`levels` must be numbers in (0, 1). Received: levels={levels}")
    central = 1.0 - _numpy(nig.student_t_two_sided_tail(*_predictive(y_true, y_pred)))
    central = central.reshape(-1)
    observed = np.array([np.mean(central <= c) for c in levels])
    return {
        "expected": levels,
        "observed": observed,
        "calibration_error": float(np.mean(np.abs(observed - levels))),
    }


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def plot_coverage_curve(
    curves: Mapping[str, Any], path: PathLike | None = None, title: str | None = None
) -> Any:
    """Observed against expected coverage, with the diagonal of perfect calibration.

    Args:
        curves: A dict from `coverage_curve`, or `{label: curve}` to compare.
        path: Optional path of a PNG to write.
        title: Optional axes title.

    Returns:
        The `matplotlib.figure.Figure`.
    """
    if "expected" in curves:
        curves = {"": curves}
    figure = _figure_class()(figsize=(4, 4))
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
    for label, curve in curves.items():
        suffix = f" (error {curve['calibration_error']:.3f})"
        ax.plot(curve["expected"], curve["observed"], marker="o", markersize=3,
                label=(label + suffix).strip())
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("expected coverage (interval level)")
    ax.set_ylabel("observed coverage")
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    return _finish(figure, path)
