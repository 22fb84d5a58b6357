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

import math

import numpy as np

# A relative tolerance for "TPR >= tpr": TPR is a ratio of float32 sums in a
# metric, so 19 / 20 may round just below 0.95.
_RATE_TOLERANCE = 1e-6


def _ordered(xp, scores, *weights):
    """Searchsorted positions of every item among the sorted scores, and the
    exclusive cumulative sums of `weights` in that order (length n + 1)."""
    order = xp.argsort(scores)
    sorted_scores = xp.take(scores, order)
    below = xp.searchsorted(sorted_scores, scores, side="left")
    up_to = xp.searchsorted(sorted_scores, scores, side="right")
    sums = []
    for weight in weights:
        cumulative = xp.cumsum(xp.take(weight, order))
        zero = xp.zeros((1,), dtype=cumulative.dtype)
        sums.append(xp.concatenate([zero, cumulative]))
    return below, up_to, sums


def _defined(xp, positives, negatives, value):
    both = xp.logical_and(positives > 0, negatives > 0)
    return xp.where(both, value, math.nan)


def _safe(xp, denominator):
    return xp.where(denominator > 0, denominator, 1)


def roc_auc(scores, positive, negative, xp=np):
    """Area under the ROC curve, ties counting one half.

    Formula:
    ```
    AUROC = sum_i pos_i (N(s < s_i) + N(s = s_i) / 2) / (P N)
    ```

    The weighted Mann-Whitney statistic, equal to the trapezoid under the
    ROC curve with one point per distinct score: scikit-learn's
    `roc_auc_score`.
    """
    below, up_to, (negative_sums,) = _ordered(xp, scores, negative)
    negatives_below = xp.take(negative_sums, below)
    negatives_tied = xp.take(negative_sums, up_to) - negatives_below
    p, n = xp.sum(positive), xp.sum(negative)
    area = xp.sum(positive * (negatives_below + 0.5 * negatives_tied))
    return _defined(xp, p, n, area / _safe(xp, p * n))


def average_precision(scores, positive, negative, xp=np):
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
    below, _, (positive_sums, negative_sums) = _ordered(
        xp, scores, positive, negative
    )
    p, n = xp.sum(positive), xp.sum(negative)
    true_at_or_above = p - xp.take(positive_sums, below)
    all_at_or_above = true_at_or_above + n - xp.take(negative_sums, below)
    precision = true_at_or_above / _safe(xp, all_at_or_above)
    return _defined(xp, p, n, xp.sum(positive * precision) / _safe(xp, p))


def fpr_at_tpr(scores, positive, negative, tpr=0.95, xp=np):
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
    below, _, (positive_sums, negative_sums) = _ordered(
        xp, scores, positive, negative
    )
    p, n = xp.sum(positive), xp.sum(negative)
    true_rate = (p - xp.take(positive_sums, below)) / _safe(xp, p)
    false_rate = (n - xp.take(negative_sums, below)) / _safe(xp, n)
    # Only scores of samples are thresholds, not empty slots or buckets.
    present = (positive + negative) > 0
    reaches = xp.logical_and(present, true_rate >= tpr * (1 - _RATE_TOLERANCE))
    # The lowest present score keeps every positive, so one threshold reaches.
    best = xp.min(xp.where(reaches, false_rate, math.inf))
    return _defined(xp, p, n, best)


def weights_of(labels, sample_weight=None):
    """`(positive, negative)` item weights of binary NumPy labels."""
    labels = np.asarray(labels).astype(bool).reshape(-1)
    weight = (
        np.ones(labels.shape, "float64")
        if sample_weight is None
        else np.asarray(sample_weight, "float64").reshape(-1)
    )
    return np.where(labels, weight, 0.0), np.where(labels, 0.0, weight)
