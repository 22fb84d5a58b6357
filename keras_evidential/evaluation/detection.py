"""NumPy figures of the EDL benchmark: OOD and misclassification detection,
calibration and the Brier score.

These take scores and probabilities rather than `alpha`, so a softmax
baseline, an F-EDL model (`flexible_expected_probability`) and a Dirichlet
model are scored by the same code. Convention: a *confidence* score is
higher for in-distribution (or correct) samples; `confidence_scores` gives
the standard ones of a Dirichlet. The figures are the estimators of
`keras_evidential.metrics.ranking` and the Brier and calibration functions of
the metrics, so `model.evaluate` with the matching metric gives the same
number; each is NaN where it is undefined (one class missing, no samples).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.evaluation.curves import roc_auc
from keras_evidential.metrics import ranking
from keras_evidential.metrics.calibration import calibration_bins
from keras_evidential.metrics.calibration import confidence_and_correct
from keras_evidential.metrics.calibration import expected_calibration_error_from_bins
from keras_evidential.metrics.detection import squared_errors
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_number


# The published MNIST tables (I-EDL, R-EDL, DAEDL) score OOD detection by
# these; each is oriented so that higher means "more in-distribution".
CONFIDENCE_SCORES = (
    "max_probability",
    "alpha0",
    "differential_entropy",
    "mutual_information",
    "vacuity",
)


def _binary(labels, scores):
    labels = np.asarray(labels).astype(bool).reshape(-1)
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    if labels.shape != scores.shape:
        raise ValueError(
            "`labels` and `scores` must have the same length. "
            f"Received: {labels.shape[0]} labels and {scores.shape[0]} scores"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("`scores` must be finite. Received: NaN or inf values")
    return labels, scores


def average_precision(
    labels: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike = None
) -> float:
    """Area under the precision-recall curve, step-wise (no interpolation).

    `AP = sum_n (R_n - R_{n-1}) P_n` over the distinct score thresholds in
    decreasing order, the definition of scikit-learn's
    `average_precision_score` (`keras_evidential.metrics.ranking`); NaN
    unless both classes are present.
    """
    labels, scores = _binary(labels, scores)
    positive, negative = ranking.weights_of(labels, sample_weight)
    return float(ranking.average_precision(scores, positive, negative))


def fpr_at_tpr(
    labels: ArrayLike,
    scores: ArrayLike,
    tpr: float = 0.95,
    sample_weight: ArrayLike = None,
) -> float:
    """False-positive rate at the highest threshold reaching `tpr` ("FPR95").

    Samples scoring at or above the threshold are predicted positive
    (`keras_evidential.metrics.ranking`); NaN if either class is missing.
    """
    tpr = check_number(tpr, "tpr", 0, 1, low_open=True)
    labels, scores = _binary(labels, scores)
    positive, negative = ranking.weights_of(labels, sample_weight)
    return float(ranking.fpr_at_tpr(scores, positive, negative, tpr))


def confidence_scores(alpha: ArrayLike) -> dict[str, np.ndarray]:
    """The standard OOD scores of Dirichlet outputs, higher = more in-distribution.

    Returns a dict of `(N,)` float64 arrays: `max_probability` (`max_k
    p_bar_k`), `alpha0` (the strength `S`), `differential_entropy` (its
    negative, `-H[Dir(alpha)]`), `mutual_information` (its negative) and
    `vacuity` (`-K / S`, which ranks as `alpha0`).
    """
    alpha = ops.convert_to_tensor(np.asarray(alpha, dtype="float32"))
    scores = {
        "max_probability": ops.max(dirichlet.expected_probability(alpha), axis=-1),
        "alpha0": dirichlet.strength(alpha),
        "differential_entropy": -dirichlet.differential_entropy(alpha),
        "mutual_information": -dirichlet.mutual_information(alpha),
        "vacuity": -dirichlet.vacuity(alpha),
    }
    return {
        name: np.asarray(ops.convert_to_numpy(value), dtype="float64")
        for name, value in scores.items()
    }


def ood_detection(
    in_scores: ArrayLike, out_scores: ArrayLike, tpr: float = 0.95
) -> dict[str, float]:
    """OOD-detection figures of a confidence score (higher = in-distribution).

    Returns a dict: `aupr_in` (in-distribution positive, the published
    tables' AUPR), `aupr_out` (OOD positive, ranked by the negated score),
    `auroc` and `fpr95` (share of OOD samples accepted at 95 % TPR on the
    in-distribution ones).
    """
    in_scores = np.asarray(in_scores, dtype="float64").reshape(-1)
    out_scores = np.asarray(out_scores, dtype="float64").reshape(-1)
    labels = np.r_[np.ones(in_scores.size, bool), np.zeros(out_scores.size, bool)]
    scores = np.r_[in_scores, out_scores]
    return {
        "aupr_in": average_precision(labels, scores),
        "aupr_out": average_precision(~labels, -scores),
        "auroc": roc_auc(labels, scores),
        "fpr95": fpr_at_tpr(labels, scores, tpr),
    }


def misclassification_detection(
    correct: ArrayLike, confidence: ArrayLike
) -> dict[str, float]:
    """AUPR and AUROC of a confidence score with the correct predictions positive."""
    correct, confidence = _binary(correct, confidence)
    return {
        "aupr": average_precision(correct, confidence),
        "auroc": roc_auc(correct, confidence),
    }


def _probabilities_and_labels(probabilities, labels):
    probabilities = np.asarray(probabilities, dtype="float64")
    labels = np.asarray(labels).reshape(-1)
    if probabilities.ndim != 2 or probabilities.shape[0] != labels.shape[0]:
        raise ValueError(
            "Expected `probabilities` of shape (N, K) and `labels` of shape "
            f"(N,). Received: probabilities.shape={probabilities.shape}, "
            f"labels.shape={labels.shape}"
        )
    k = probabilities.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"`labels` must be class indices in [0, {k}). "
            f"Received: min={labels.min()}, max={labels.max()}"
        )
    return probabilities, labels.astype("int32")


def _confidence_and_correct(probabilities, labels):
    probabilities, labels = _probabilities_and_labels(probabilities, labels)
    return confidence_and_correct(
        ops.convert_to_tensor(probabilities), ops.convert_to_tensor(labels)
    )


def brier_score(probabilities: ArrayLike, labels: ArrayLike) -> float:
    """`mean_i sum_k (y_ik - p_ik)^2`, in [0, 2]; NaN without samples."""
    probabilities, labels = _probabilities_and_labels(probabilities, labels)
    if labels.size == 0:
        return float("nan")
    errors = squared_errors(
        ops.convert_to_tensor(probabilities),
        ops.convert_to_tensor(labels.astype("int32")),
        probabilities.shape[1],
    )
    return float(np.mean(ops.convert_to_numpy(errors)))


def reliability_bins(
    probabilities: ArrayLike, labels: ArrayLike, num_bins: int = 15
) -> dict[str, np.ndarray]:
    """Per-bin `count`, mean `confidence` and `accuracy` of `max_k p_k`.

    The bins of `ExpectedCalibrationError`: `(i / B, (i + 1) / B]`; empty
    bins have NaN confidence and accuracy.
    """
    confidence, correct = _confidence_and_correct(probabilities, labels)
    count, confidence_sum, correct_sum = (
        np.asarray(ops.convert_to_numpy(t), dtype="float64")
        for t in calibration_bins(confidence, correct, num_bins)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "bin_left": np.arange(num_bins) / num_bins,
            "count": count,
            "confidence": np.where(count > 0, confidence_sum / count, np.nan),
            "accuracy": np.where(count > 0, correct_sum / count, np.nan),
        }


def expected_calibration_error(
    probabilities: ArrayLike, labels: ArrayLike, num_bins: int = 15
) -> float:
    """ECE of `max_k p_k` with `num_bins` equal-width bins (15 in the benchmarks)."""
    confidence, correct = _confidence_and_correct(probabilities, labels)
    return float(
        ops.convert_to_numpy(
            expected_calibration_error_from_bins(
                *calibration_bins(confidence, correct, num_bins)
            )
        )
    )
