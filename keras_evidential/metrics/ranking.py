"""The ranking figures of a binary detection problem: AUROC, AP, FPR at TPR.

One definition of each figure, shared by the Keras metrics (on `keras.ops`
tensors, inside a compiled step) and `keras_evidential.evaluation` (on NumPy
arrays, in float64): every function takes the array namespace `xp`
(`numpy` or `keras.ops`, whose functions used here have the same names and
meaning), so both compute the same estimator with the same tie rule.

Input: one entry per *item* with a `score` (higher = more positive) and the
item's `positive` and `negative` weights. An item is a sample (positive
weight `w` if its label is 1, negative weight `w` otherwise), or a bucket of
tied samples (the bucketed approximation, `num_thresholds`), or an unused
slot of a metric's buffer (both weights 0, which changes nothing). Equal
scores are one threshold: the estimators are those of scikit-learn on the
same weighted samples, ties included.

Each figure is NaN (undefined) unless both classes have weight > 0: there is
nothing to detect, or nothing to confuse it with.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Tensor


# A relative tolerance for "TPR >= tpr": TPR is a ratio of float32 sums in a
# metric, so 19 / 20 may round just below 0.95.
_RATE_TOLERANCE = 1e-6


def _segment_sum(xp, values, segments, num_segments):
    if xp is np:
        return np.bincount(segments, weights=values, minlength=num_segments)
    return xp.segment_sum(values, segments, num_segments=num_segments)


def _ordered(xp, scores, positive, negative):
    """The items sorted by score, with the weights below and tied with each.

    Returns `(positive, negative, below, tied)` in ascending score order:
    `below[w]` and `tied[w]` hold, for each of the two weights `w`, the
    total weight of the items scoring strictly below and exactly equal to
    each item. Tie groups are found by sorting only (no `searchsorted`,
    which XLA lowers to an n-by-n comparison).
    """
    order = xp.argsort(scores)
    sorted_scores = xp.take(scores, order)
    n = sorted_scores.shape[0]
    new_value = sorted_scores[1:] != sorted_scores[:-1]
    starts = xp.concatenate([xp.ones((1,), dtype="bool"), new_value])
    group = xp.cumsum(xp.where(starts, 1, 0)) - 1
    weights = (xp.take(positive, order), xp.take(negative, order))
    below, tied = [], []
    for weight in weights:
        per_group = _segment_sum(xp, weight, group, n)
        cumulative = xp.cumsum(per_group)
        tied.append(xp.take(per_group, group))
        below.append(xp.take(cumulative - per_group, group))
    return weights, below, tied


def _defined(xp, positives, negatives, value):
    both = xp.logical_and(positives > 0, negatives > 0)
    return xp.where(both, value, math.nan)


def _safe(xp, denominator):
    return xp.where(denominator > 0, denominator, 1)


def roc_auc(scores: Tensor, positive: Tensor, negative: Tensor, xp: Any = np) -> Tensor:
    """Area under the ROC curve, ties counting one half.

    Formula:
    ```
    AUROC = sum_i pos_i (N(s < s_i) + N(s = s_i) / 2) / (P N)
    ```

    The weighted Mann-Whitney statistic, equal to the trapezoid under the
    ROC curve with one point per distinct score: scikit-learn's
    `roc_auc_score`.
    """
    (positive, negative), below, tied = _ordered(xp, scores, positive, negative)
    p, n = xp.sum(positive), xp.sum(negative)
    area = xp.sum(positive * (below[1] + 0.5 * tied[1]))
    return _defined(xp, p, n, area / _safe(xp, p * n))


def average_precision(
    scores: Tensor, positive: Tensor, negative: Tensor, xp: Any = np
) -> Tensor:
    """Average precision: the step-function area under the PR curve.

    Formula:
    ```
    AP = sum_t (R_t - R_{t-1}) P_t = sum_i pos_i precision(s_i) / P
    precision(t) = TP(s >= t) / (TP(s >= t) + FP(s >= t))
    ```

    One threshold per distinct score, no interpolation: scikit-learn's
    `average_precision_score` (not the trapezoid `auc(recall, precision)`,
    which is optimistic with ties).
    """
    (positive, negative), below, _ = _ordered(xp, scores, positive, negative)
    p, n = xp.sum(positive), xp.sum(negative)
    true_at_or_above = p - below[0]
    all_at_or_above = true_at_or_above + n - below[1]
    precision = true_at_or_above / _safe(xp, all_at_or_above)
    return _defined(xp, p, n, xp.sum(positive * precision) / _safe(xp, p))


def fpr_at_tpr(
    scores: Tensor, positive: Tensor, negative: Tensor, tpr: float = 0.95, xp: Any = np
) -> Tensor:
    """False-positive rate at the highest threshold whose TPR reaches `tpr`.

    Formula:
    ```
    t* = max {t in scores : TP(s >= t) / P >= tpr}
    FPR = FP(s >= t*) / N
    ```

    Samples scoring at or above the threshold are predicted positive; the
    thresholds are the distinct scores: `roc_curve`'s `fpr[argmax(tpr >=
    0.95)]` in scikit-learn.
    """
    (positive, negative), below, _ = _ordered(xp, scores, positive, negative)
    p, n = xp.sum(positive), xp.sum(negative)
    true_rate = (p - below[0]) / _safe(xp, p)
    false_rate = (n - below[1]) / _safe(xp, n)
    # Only scores of samples are thresholds, not empty slots or buckets.
    present = (positive + negative) > 0
    reaches = xp.logical_and(present, true_rate >= tpr * (1 - _RATE_TOLERANCE))
    # The lowest present score keeps every positive, so one threshold reaches.
    best = xp.min(xp.where(reaches, false_rate, math.inf))
    return _defined(xp, p, n, best)


def weights_of(
    labels: ArrayLike, sample_weight: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`(positive, negative)` item weights of binary NumPy labels."""
    labels = np.asarray(labels).astype(bool).reshape(-1)
    weight = (
        np.ones(labels.shape, "float64")
        if sample_weight is None
        else np.asarray(sample_weight, "float64").reshape(-1)
    )
    return np.where(labels, weight, 0.0), np.where(labels, 0.0, weight)
