"""Selective prediction in NumPy: risk-coverage curves, AURC, E-AURC and the
accuracy at a coverage, for every uncertainty score of a Dirichlet or NIG
prediction, and their plot.

The figures are the estimators of `keras_evidential.metrics.selective` (in
float64), so `model.evaluate` with `keras_evidential.metrics.AURC` (and the
others) gives the same number on the same data. Every function takes an
*uncertainty* (higher = less certain; the samples with the lowest are
answered first) and a per-sample loss: 0/1 errors for a classifier (AURC is
then Geifman et al.'s), or any loss (e.g. squared errors of a regressor).

Reference:
- Geifman, Uziel, El-Yaniv, "Bias-Reduced Uncertainty Estimation for Deep
  Neural Classifiers", ICLR 2019
"""

from __future__ import annotations

from typing import Any
from typing import Mapping
from typing import Sequence

import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential import nig
from keras_evidential.evaluation.curves import _checked_alpha
from keras_evidential.evaluation.curves import label_indices
from keras_evidential.evaluation.plots import _figure_class
from keras_evidential.evaluation.plots import _finish
from keras_evidential.evaluation.plots import _labelled
from keras_evidential.metrics import selective
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.scores import UNCERTAINTY_SCORES
from keras_evidential.metrics.scores import uncertainty_score
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import PathLike
from keras_evidential.validation import check_nig_parameters

DEFAULT_COVERAGES = (0.5, 0.8, 0.9, 0.95)


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


def _losses_and_scores(losses, uncertainty, sample_weight):
    losses = np.asarray(losses, "float64").reshape(-1)
    uncertainty = np.asarray(uncertainty, "float64").reshape(-1)
    weights = (
        np.ones_like(losses)
        if sample_weight is None
        else np.asarray(sample_weight, "float64").reshape(-1)
    )
    if not losses.shape == uncertainty.shape == weights.shape:
        raise ValueError(
            "`losses`, `uncertainty` and `sample_weight` must have one entry "
            f"per sample. Received: {losses.size} losses, {uncertainty.size} "
            f"uncertainties, {weights.size} weights"
        )
    for name, values in (("losses", losses), ("uncertainty", uncertainty),
                         ("sample_weight", weights)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"`{name}` must be finite. Received: NaN or inf values")
    if np.any(weights < 0):
        raise ValueError(
            f"`sample_weight` must be >= 0. Received: min={weights.min()}"
        )
    return losses, uncertainty, weights


def risk_coverage_curve(
    losses: ArrayLike, uncertainty: ArrayLike, sample_weight: ArrayLike = None
) -> dict[str, Any]:
    """The risk-coverage curve: one point per distinct uncertainty threshold.

    Accepting the samples whose uncertainty is at most `t`, the coverage is
    their share and the selective risk their mean loss.

    Args:
        losses: `(N,)` per-sample losses (1 = misclassified, 0 = correct).
        uncertainty: `(N,)` scores, higher = less certain.
        sample_weight: Optional `(N,)` weights >= 0.

    Returns:
        A dict: `coverage` and `risk` (increasing coverage, ending at 1),
        `threshold`, and `aurc`.

    Example:

    >>> curve = keras_evidential.evaluation.risk_coverage_curve(
    ...     [0, 1, 0, 1], [0.1, 0.2, 0.2, 0.9])
    >>> curve["coverage"].tolist(), curve["risk"].round(4).tolist()
    ([0.25, 0.75, 1.0], [0.0, 0.3333, 0.5])
    """
    losses, uncertainty, weights = _losses_and_scores(losses, uncertainty, sample_weight)
    _, coverage, risk = selective.risk_coverage(uncertainty, losses, weights)
    threshold = np.sort(uncertainty)
    # The last item of each tie group holds the group's point.
    last = np.r_[threshold[1:] != threshold[:-1], True]
    return {
        "coverage": coverage[last],
        "risk": risk[last],
        "threshold": threshold[last],
        "aurc": aurc(losses, uncertainty, weights),
    }


def aurc(
    losses: ArrayLike, uncertainty: ArrayLike, sample_weight: ArrayLike = None
) -> float:
    """Area under the risk-coverage curve (`selective.aurc`); NaN without samples.

    Example:

    >>> round(keras_evidential.evaluation.aurc([0, 1, 0], [0.2, 0.5, 0.9]), 4)
    0.2778
    """
    losses, uncertainty, weights = _losses_and_scores(losses, uncertainty, sample_weight)
    return float(selective.aurc(uncertainty, losses, weights))


def excess_aurc(
    errors: ArrayLike, uncertainty: ArrayLike, sample_weight: ArrayLike = None
) -> float:
    """E-AURC of 0/1 `errors` (`selective.excess_aurc`): AURC minus Geifman et
    al.'s optimum `r + (1 - r) log(1 - r)`."""
    errors, uncertainty, weights = _losses_and_scores(errors, uncertainty, sample_weight)
    if not np.all((errors == 0) | (errors == 1)):
        raise ValueError(
            "`errors` must be 0/1 losses (E-AURC's optimum is that of the "
            f"error rate). Received: values {np.unique(errors)[:5]}"
        )
    return float(selective.excess_aurc(uncertainty, errors, weights))


def risk_at_coverage(
    losses: ArrayLike,
    uncertainty: ArrayLike,
    coverage: float = 0.9,
    sample_weight: ArrayLike = None,
) -> float:
    """Mean loss of the most certain samples making up `coverage` of the data."""
    coverage = selective.validate_coverage(coverage)
    losses, uncertainty, weights = _losses_and_scores(losses, uncertainty, sample_weight)
    return float(selective.risk_at_coverage(uncertainty, losses, weights, coverage))


def dirichlet_uncertainties(
    alpha: ArrayLike,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, np.ndarray]:
    """Every uncertainty score of a K-class Dirichlet, higher = less certain.

    Returns a dict of `(N,)` float64 arrays: the scores of
    `keras_evidential.metrics.UNCERTAINTY_SCORES` (`vacuity`, `epkl`,
    `dissonance`, `least_confidence` = 1 - max probability, the entropies
    and the mutual information), `alpha0` (the negated strength `-S`) and
    `differential_entropy` (`H[Dir(alpha)]`).
    """
    alpha, prior_concentration = _checked_alpha(alpha, prior_concentration, minimum_alpha)
    scores = {
        name: _numpy(uncertainty_score(alpha, name, prior_concentration, minimum_alpha))
        for name in UNCERTAINTY_SCORES
    }
    scores["alpha0"] = -_numpy(dirichlet.strength(alpha))
    scores["differential_entropy"] = _numpy(dirichlet.differential_entropy(alpha))
    return scores


def nig_uncertainties(y_pred: ArrayLike) -> dict[str, np.ndarray]:
    """Every uncertainty of a NIG prediction `(N, 4)` (one target), higher = less
    certain: `nig.UNCERTAINTIES` (Amini's and Meinert's aleatoric and epistemic)
    and the `predictive_variance`."""
    y_pred = np.asarray(y_pred, "float64")
    if y_pred.ndim != 2 or y_pred.shape[-1] != 4:
        raise ValueError(
            "`y_pred` must hold the NIG parameters of one target, shape (N, 4). "
            f"Received: y_pred.shape={y_pred.shape}"
        )
    _, nu, alpha, beta = nig.split_nig(ops.convert_to_tensor(y_pred))
    check_nig_parameters(nu, alpha, beta)
    scores = {name: fn(nu, alpha, beta) for name, fn in nig.UNCERTAINTIES.items()}
    scores["predictive_variance"] = nig.predictive_variance(nu, alpha, beta)
    return {name: _numpy(value).reshape(-1) for name, value in scores.items()}


def selective_classification(
    alpha: ArrayLike,
    labels: ArrayLike,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, Any]:
    """AURC, E-AURC and the accuracy at each coverage, for every Dirichlet score.

    Args:
        alpha: `(N, K)` Dirichlet concentrations.
        labels: `(N,)` class indices or one-hot labels.
        coverages: The coverages of `accuracy_at_<percent>`.
        prior_concentration, minimum_alpha: The head's prior (see
            `keras_evidential.evaluation`).

    Returns:
        `{score: {"aurc", "e_aurc", "accuracy_at_<percent>", ...}}` and, under
        the key `"accuracy"`, the accuracy on all samples.

    Example:

    >>> figures = keras_evidential.evaluation.selective_classification(
    ...     [[9.0, 1.0], [5.0, 1.0], [1.0, 2.0]], [0, 1, 1], coverages=(0.5,))
    >>> round(figures["vacuity"]["aurc"], 4), figures["vacuity"]["accuracy_at_50"]
    (0.2778, 0.5)
    """
    coverages = [selective.validate_coverage(c) for c in coverages]
    scores = dirichlet_uncertainties(alpha, prior_concentration, minimum_alpha)
    labels = label_indices(alpha, labels)
    predictions = _numpy(
        predict_labels(ops.convert_to_tensor(np.asarray(alpha, "float32")), False)
    )
    errors = (predictions != labels).astype("float64")
    figures: dict[str, Any] = {
        "accuracy": float(1.0 - errors.mean()) if errors.size else float("nan")
    }
    for name, uncertainty in scores.items():
        row = {
            "aurc": aurc(errors, uncertainty),
            "e_aurc": excess_aurc(errors, uncertainty),
        }
        for coverage in coverages:
            key = f"accuracy_at_{round(100 * coverage):g}"
            row[key] = 1.0 - risk_at_coverage(errors, uncertainty, coverage)
        figures[name] = row
    return figures


def plot_risk_coverage(
    curves: Mapping[str, Any],
    path: PathLike | None = None,
    title: str | None = None,
    ylabel: str = "selective risk",
) -> Any:
    """Selective risk against coverage.

    Args:
        curves: A dict from `risk_coverage_curve`, or `{label: curve}` to
            compare scores or models (the legend gives each AURC).
        path: Optional path of a PNG to write.
        title: Optional axes title.
        ylabel: The y-axis label. Defaults to "selective risk".

    Returns:
        The `matplotlib.figure.Figure`.
    """
    figure = _figure_class()(figsize=(5, 4))
    ax = figure.add_subplot()
    for label, curve in _labelled(curves, "coverage").items():
        suffix = f" (AURC {curve['aurc']:.4f})"
        ax.step(np.r_[0.0, curve["coverage"]], np.r_[curve["risk"][0], curve["risk"]],
                where="pre", label=(label + suffix).strip())
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("coverage")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return _finish(figure, path)
