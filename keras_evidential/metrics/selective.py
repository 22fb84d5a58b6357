"""Selective prediction: risk-coverage, AURC, E-AURC and accuracy at a coverage.

A selective classifier answers the samples it is most certain about and
abstains on the rest. Ranked by an uncertainty score (higher = less
certain), accepting every sample scoring at most `t` gives the coverage
`phi(t)` (share accepted) and the selective risk `r(t)` (mean loss of the
accepted samples, the error rate for the 0/1 loss). Equal scores are one
threshold: tied samples are accepted or rejected together, so no figure
depends on the order of ties.

One definition of each figure, shared by the metrics (`keras.ops`, in a
compiled step) and `keras_evidential.evaluation.selective` (NumPy, float64),
as in `keras_evidential.metrics.ranking`: each estimator takes the array
namespace `xp`, the scores and each item's `loss` and `weight` (an item is a
sample, or an unused slot of a metric's buffer with weight 0).

Reference:
- Geifman, Uziel, El-Yaniv, "Bias-Reduced Uncertainty Estimation for Deep
  Neural Classifiers", ICLR 2019 (AURC, E-AURC)
- El-Yaniv, Wiener, "On the Foundations of Noise-free Selective
  Classification", JMLR 2010 (the risk-coverage curve)
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from keras_evidential.metrics import ranking
from keras_evidential.metrics.auc import MisclassificationAUROC
from keras_evidential.metrics.auc import _ScoredAUROC
from keras_evidential.metrics.ranking_metric import DEFAULT_MAX_SAMPLES
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_number

# Coverage is a ratio of float32 sums in a metric: 9 / 10 may round below 0.9.
_COVERAGE_TOLERANCE = 1e-6


def risk_coverage(
    scores: Tensor, losses: Tensor, weights: Tensor, xp: Any = np
) -> tuple[Tensor, Tensor, Tensor]:
    """Each item's coverage and selective risk at its own score as threshold.

    Formula:
    ```
    phi_i = sum_j w_j [s_j <= s_i] / sum_j w_j
    r_i   = sum_j w_j l_j [s_j <= s_i] / sum_j w_j [s_j <= s_i]
    ```

    Returns `(weights, coverage, risk)`, in ascending score order.
    """
    (loss, weight), below, tied = ranking._ordered(xp, scores, losses * weights, weights)
    accepted = below[1] + tied[1]
    total = xp.sum(weight)
    coverage = accepted / ranking._safe(xp, total)
    risk = (below[0] + tied[0]) / ranking._safe(xp, accepted)
    return weight, coverage, risk


def aurc(
    scores: Tensor, losses: Tensor, weights: Tensor, xp: Any = np
) -> Tensor:
    """Area under the risk-coverage curve, one step per sample.

    Formula:
    ```
    AURC = sum_i w_i r(s_i) / sum_i w_i
    ```

    Without ties and weights, Geifman et al.'s `(1 / n) sum_{k=1}^n r_k`, the
    mean of the risks after accepting the `k` most certain samples; tied
    samples share the risk of their common threshold. NaN without samples.
    """
    weight, _, risk = risk_coverage(scores, losses, weights, xp)
    total = xp.sum(weight)
    value = xp.sum(weight * risk) / ranking._safe(xp, total)
    return xp.where(total > 0, value, math.nan)


def optimal_aurc(losses: Tensor, weights: Tensor, xp: Any = np) -> Tensor:
    """Geifman et al.'s AURC of the perfect ranking of 0/1 losses.

    Formula:
    ```
    AURC* = r + (1 - r) log(1 - r),   r = the error rate
    ```
    (with `0 log 0 = 0`): the integral of the risk-coverage curve that
    accepts every correct sample first.
    """
    total = xp.sum(weights)
    rate = xp.sum(losses * weights) / ranking._safe(xp, total)
    correct = 1.0 - rate
    log_correct = xp.log(xp.where(correct > 0, correct, 1.0))
    return xp.where(total > 0, rate + correct * log_correct, math.nan)


def excess_aurc(
    scores: Tensor, losses: Tensor, weights: Tensor, xp: Any = np
) -> Tensor:
    """E-AURC = AURC - AURC*, 0 for a score that ranks every error last.

    Geifman et al.'s normalisation: AURC depends on the error rate, E-AURC
    only on the ranking. Defined for 0/1 losses.
    """
    return aurc(scores, losses, weights, xp) - optimal_aurc(losses, weights, xp)


def risk_at_coverage(
    scores: Tensor,
    losses: Tensor,
    weights: Tensor,
    coverage: float = 0.9,
    xp: Any = np,
) -> Tensor:
    """The selective risk at the lowest threshold whose coverage reaches `coverage`.

    Formula:
    ```
    t* = min {t in scores : phi(t) >= coverage},   risk = r(t*)
    ```

    Ties can make the coverage at `t*` exceed `coverage`. NaN without samples.
    """
    weight, covered, risk = risk_coverage(scores, losses, weights, xp)
    present = weight > 0
    reaches = xp.logical_and(present, covered >= coverage * (1 - _COVERAGE_TOLERANCE))
    smallest = xp.min(xp.where(reaches, covered, math.inf))
    at_threshold = xp.logical_and(reaches, covered == smallest)
    value = xp.max(xp.where(at_threshold, risk, -math.inf))
    return xp.where(xp.sum(weight) > 0, value, math.nan)


def validate_coverage(coverage: float) -> float:
    """Returns `coverage` as a float; raises unless it lies in (0, 1]."""
    return check_number(coverage, "coverage", 0, 1, low_open=True)


class _SelectiveMetric(_ScoredAUROC):
    """A selective-prediction figure of the misclassifications, ranked by a score.

    The samples and scores of `MisclassificationAUROC`: the buffer's
    positive weight is the weight of a misclassified sample, the negative
    weight that of a correct one.
    """

    binary_problem = MisclassificationAUROC.binary_problem

    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        # A bucket's positive weight is the weight of its errors: its loss is
        # their share.
        weights = positive + negative
        return self.estimate(scores, positive / ranking._safe(xp, weights), weights, xp)


@keras.saving.register_keras_serializable(package="keras_evidential")
class AURC(_SelectiveMetric):
    """Area under the risk-coverage curve of the 0/1 loss (lower is better).

    Formula:
    ```
    AURC = sum_i w_i r(s_i) / sum_i w_i,
    r(t) = errors among {s <= t} / samples among {s <= t}
    ```

    Args:
        score: The uncertainty score ranking the samples, one of
            `keras_evidential.metrics.UNCERTAINTY_SCORES`:
            `"vacuity"` (default), `"least_confidence"` (`1 - max p_bar`),
            `"epkl"`, `"dissonance"`, `"total_entropy"`,
            `"expected_entropy"`, `"mutual_information"`.
        unknown_class, max_samples, num_thresholds, prior_concentration,
        minimum_alpha, flexible, name, dtype: As for
            `keras_evidential.metrics.MisclassificationAUROC`.

    Labels: integer `y_true` in `[0, K]` (K = unknown; such samples are left
    out) or one-hot; `y_pred` is `alpha`. The prediction is `argmax` over the
    K known classes.

    Example:

    >>> metric = keras_evidential.metrics.AURC(score="vacuity")
    >>> metric.update_state([0, 1, 1], [[9.0, 1.0], [5.0, 1.0], [1.0, 2.0]])
    >>> round(float(metric.result()), 4)  # risks 0, 1/2, 1/3 as accepted
    0.2778

    Reference:
    - Geifman, Uziel, El-Yaniv, ICLR 2019
    """

    default_name = "aurc"
    direction = "down"

    def estimate(
        self, scores: Tensor, losses: Tensor, weights: Tensor, xp: Any
    ) -> Tensor:
        return aurc(scores, losses, weights, xp)


@keras.saving.register_keras_serializable(package="keras_evidential")
class ExcessAURC(_SelectiveMetric):
    """E-AURC: the AURC above that of a perfect ranking (lower is better).

    Formula:
    ```
    E-AURC = AURC - (r + (1 - r) log(1 - r)),   r = the error rate
    ```

    Args:
        score: The uncertainty score ranking the samples, one of
            `keras_evidential.metrics.UNCERTAINTY_SCORES`:
            `"vacuity"` (default), `"least_confidence"` (`1 - max p_bar`),
            `"epkl"`, `"dissonance"`, `"total_entropy"`,
            `"expected_entropy"`, `"mutual_information"`.
        unknown_class, max_samples, num_thresholds, prior_concentration,
        minimum_alpha, flexible, name, dtype: As for
            `keras_evidential.metrics.MisclassificationAUROC`.

    Labels: integer `y_true` in `[0, K]` (K = unknown; such samples are left
    out) or one-hot; `y_pred` is `alpha`. The prediction is `argmax` over the
    K known classes.

    Example:

    >>> metric = keras_evidential.metrics.ExcessAURC(score="vacuity")
    >>> metric.update_state([0, 1, 1], [[9.0, 1.0], [5.0, 1.0], [1.0, 2.0]])
    >>> round(float(metric.result()), 4)  # 0.2778 - (1/3 + 2/3 log(2/3))
    0.2148

    Reference:
    - Geifman, Uziel, El-Yaniv, ICLR 2019
    """

    default_name = "e_aurc"
    direction = "down"

    def estimate(
        self, scores: Tensor, losses: Tensor, weights: Tensor, xp: Any
    ) -> Tensor:
        return excess_aurc(scores, losses, weights, xp)


@keras.saving.register_keras_serializable(package="keras_evidential")
class AccuracyAtCoverage(_SelectiveMetric):
    """Accuracy on the most certain samples that make up `coverage` of the data.

    Formula:
    ```
    1 - r(t*),   t* = min {t : share of samples with s <= t >= coverage}
    ```

    Args:
        coverage: The share of samples answered, in (0, 1]. Defaults to
            0.9.
        score: The uncertainty score ranking the samples, one of
            `keras_evidential.metrics.UNCERTAINTY_SCORES`:
            `"vacuity"` (default), `"least_confidence"` (`1 - max p_bar`),
            `"epkl"`, `"dissonance"`, `"total_entropy"`,
            `"expected_entropy"`, `"mutual_information"`.
        unknown_class, max_samples, num_thresholds, prior_concentration,
        minimum_alpha, flexible, name, dtype: As for
            `keras_evidential.metrics.MisclassificationAUROC`.

    Labels: integer `y_true` in `[0, K]` (K = unknown; such samples are left
    out) or one-hot; `y_pred` is `alpha`. The prediction is `argmax` over the
    K known classes.

    Example:

    >>> metric = keras_evidential.metrics.AccuracyAtCoverage(
    ...     coverage=0.5, score="vacuity")
    >>> metric.update_state(
    ...     [0, 1, 1, 0], [[9.0, 1.0], [5.0, 1.0], [1.0, 2.0], [2.0, 1.0]])
    >>> float(metric.result())  # the two most certain: one right, one wrong
    0.5

    Reference:
    - El-Yaniv, Wiener, JMLR 2010
    """

    default_name = "accuracy_at_coverage"
    config_arguments = ("score", "coverage")

    # Every argument by name: `metrics.for_model` passes the model's settings
    # to the arguments it finds in the signature.
    def __init__(
        self,
        coverage: float = 0.9,
        score: str = "vacuity",
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
    ) -> None:
        super().__init__(
            score=score,
            unknown_class=unknown_class,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
            max_samples=max_samples,
        )
        self.coverage = validate_coverage(coverage)

    def estimate(
        self, scores: Tensor, losses: Tensor, weights: Tensor, xp: Any
    ) -> Tensor:
        return 1.0 - risk_at_coverage(scores, losses, weights, self.coverage, xp)
