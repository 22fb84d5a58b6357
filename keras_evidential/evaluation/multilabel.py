"""Evaluation of binary and multi-label predictions (NumPy, float64).

Labels are 0/1 arrays of shape `(N, L)`; a `mask_value` (default -1) marks
a missing label, which every per-label figure leaves out. Each figure is one
of `keras_evidential.evaluation.detection`'s estimators (the shared ones of
`keras_evidential.metrics.ranking`) applied label by label; the macro figure
is their mean over the labels where it is defined.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_evidential import beta
from keras_evidential.evaluation.detection import average_precision
from keras_evidential.evaluation.detection import expected_calibration_error
from keras_evidential.evaluation.detection import ood_detection
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_number

DEFAULT_MASK_VALUE = -1


def _per_label(labels, probabilities, mask_value):
    labels = np.asarray(labels, dtype="float64")
    probabilities = np.asarray(probabilities, dtype="float64")
    if labels.ndim != 2 or labels.shape != probabilities.shape:
        raise ValueError(
            "`labels` and `probabilities` must both have shape (N, L). "
            f"Received: labels.shape={labels.shape}, "
            f"probabilities.shape={probabilities.shape}"
        )
    observed = np.ones(labels.shape, bool) if mask_value is None else labels != mask_value
    if not np.all(np.isin(labels[observed], (0.0, 1.0))):
        raise ValueError(
            "`labels` must be 0, 1 or the mask value "
            f"{mask_value}. Received: values {np.unique(labels[observed])[:5]}"
        )
    for l in range(labels.shape[1]):
        keep = observed[:, l]
        yield labels[keep, l].astype(bool), probabilities[keep, l]


def per_label_average_precision(
    labels: ArrayLike,
    probabilities: ArrayLike,
    mask_value: float | None = DEFAULT_MASK_VALUE,
) -> np.ndarray:
    """Average precision of each label's probability, shape `(L,)`; NaN for a
    label with no positive or no negative sample."""
    return np.array(
        [average_precision(y, p) for y, p in _per_label(labels, probabilities, mask_value)]
    )


def mean_average_precision(
    labels: ArrayLike,
    probabilities: ArrayLike,
    mask_value: float | None = DEFAULT_MASK_VALUE,
) -> float:
    """mAP: the mean of `per_label_average_precision` over defined labels."""
    return float(np.nanmean(per_label_average_precision(labels, probabilities, mask_value)))


def per_label_accuracy(
    labels: ArrayLike,
    probabilities: ArrayLike,
    threshold: float = 0.5,
    mask_value: float | None = DEFAULT_MASK_VALUE,
) -> np.ndarray:
    """Share of samples whose label is predicted right (`p >= threshold`
    means present), per label, shape `(L,)`."""
    threshold = check_number(threshold, "threshold", 0, 1)
    return np.array(
        [
            np.mean((p >= threshold) == y) if y.size else np.nan
            for y, p in _per_label(labels, probabilities, mask_value)
        ]
    )


def per_label_calibration_error(
    labels: ArrayLike,
    probabilities: ArrayLike,
    num_bins: int = 15,
    mask_value: float | None = DEFAULT_MASK_VALUE,
) -> np.ndarray:
    """ECE of each label's Bernoulli `(1 - p, p)`, shape `(L,)`.

    The two-outcome case of `expected_calibration_error`: confidence
    `max(p, 1 - p)`, correct where the more probable outcome is the label.
    """
    return np.array(
        [
            expected_calibration_error(np.stack([1.0 - p, p], axis=-1), y.astype(int), num_bins)
            if y.size else np.nan
            for y, p in _per_label(labels, probabilities, mask_value)
        ]
    )


def macro_calibration_error(
    labels: ArrayLike,
    probabilities: ArrayLike,
    num_bins: int = 15,
    mask_value: float | None = DEFAULT_MASK_VALUE,
) -> float:
    """The mean of `per_label_calibration_error` over the labels."""
    return float(
        np.nanmean(per_label_calibration_error(labels, probabilities, num_bins, mask_value))
    )


def beta_ood_scores(
    params: ArrayLike, reduction: str = "sum", evidence: str = "both"
) -> np.ndarray:
    """The named OOD score of Beta parameters `(N, L, 2)` as float64 `(N,)`,
    higher = more likely out of distribution (`keras_evidential.beta.ood_score`)."""
    params = ops.convert_to_tensor(np.asarray(params, dtype="float32"))
    return np.asarray(
        ops.convert_to_numpy(beta.ood_score(params, reduction, evidence)), dtype="float64"
    )


def multilabel_ood_detection(
    in_scores: ArrayLike, out_scores: ArrayLike, tpr: float = 0.95
) -> dict[str, float]:
    """OOD figures of an uncertainty score (higher = more likely OOD).

    Returns `ood_detection`'s dict for the negated score, so that `aupr_out`
    takes the OOD samples as positive (the AUPR of the issue's tables) and
    `fpr95` is the share of OOD samples kept at 95 % TPR on the in-distribution
    ones.
    """
    return ood_detection(-np.asarray(in_scores), -np.asarray(out_scores), tpr)
