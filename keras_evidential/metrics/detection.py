"""Detection metrics of the evidential benchmark: AUPR, FPR at 95 % TPR, Brier.

Same conventions as the other metrics: `y_pred` is `alpha`, `y_true` integer
labels in `[0, K]` with K marking an out-of-distribution (unknown) sample.
Scores are `keras_evidential.metrics.UNCERTAINTY_SCORES` (in [0, 1], higher
= less certain); where the in-distribution or correct samples are the
positives, the confidence `1 - score` ranks them.

The scores that depend on the head's prior (`"vacuity"`, `"epkl"`) take its
`prior_concentration` (R-EDL's `alpha = e + lambda`: vacuity `lambda K / S`) and
`minimum_alpha` (0 for DAEDL's and F-EDL's `alpha > 0`), as the AUROC metrics
and `keras_evidential.evaluation` do; `alpha` below `minimum_alpha` is refused
there, since its scores would leave [0, 1].

The AUPR and FPR metrics compute the exact estimators of
`keras_evidential.metrics.ranking` (see `RankingMetric`), the same functions
as `keras_evidential.evaluation`; NaN where the figure is undefined (no
sample of one of the two classes).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.deprecation import renamed_argument
from keras_evidential.labels import open_set_labels as class_labels
from keras_evidential.metrics import ranking
from keras_evidential.metrics.predictions import check_output_settings
from keras_evidential.metrics.predictions import dirichlet_alpha
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.ranking_metric import DEFAULT_MAX_SAMPLES
from keras_evidential.metrics.ranking_metric import RankingMetric
from keras_evidential.metrics.ranking_metric import combined_weight
from keras_evidential.metrics.scores import metric_uncertainty
from keras_evidential.metrics.scores import validate_score
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_number


_POSITIVES = ("known", "unknown")


def squared_errors(probabilities: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """`sum_k (y_ik - p_ik)^2` per sample, `y` the one-hot labels; labels
    of the unknown class (`num_classes`) give a value to be masked out."""
    y = ops.one_hot(
        ops.minimum(labels, num_classes - 1), num_classes, dtype=probabilities.dtype
    )
    return ops.sum(ops.square(y - probabilities), axis=-1)


def _uncertainty(metric, y_pred):
    """The metric's score of the known classes' Dirichlet, in [0, 1]; `alpha`
    below the metric's `minimum_alpha` is refused for a prior-dependent score."""
    return metric_uncertainty(metric, known_alpha(y_pred, metric.unknown_class))


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassAUPR(RankingMetric):
    """Area under the precision-recall curve of OOD detection.

    Formula:
    ```
    positive="known":   AUPR({(y_i < K, 1 - score(alpha_i))})   (AUPR-In)
    positive="unknown": AUPR({(y_i = K, score(alpha_i))})       (AUPR-Out)
    ```

    The published EDL benchmarks (I-EDL, R-EDL, DAEDL) report AUPR with the
    in-distribution samples as positives, `positive="known"`. Precision-
    recall, unlike ROC, depends on which class is positive and on the share
    of positives.

    The estimator is the average precision (step-wise, scikit-learn's
    `average_precision_score`); NaN without samples of both kinds.

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"vacuity"` (ranks as `alpha_0`, the total evidence).
        positive: `"known"` (default) or `"unknown"`.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact figure, or a number of
            equal-width buckets of the score for the bucketed approximation.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.

    Example:

    >>> metric = keras_evidential.metrics.UnknownClassAUPR()
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())
    1.0

    Reference:
    - Deng et al., I-EDL, ICML 2023; Chen et al., R-EDL, ICLR 2024 (AUPR-In)
    """

    config_arguments = ("score", "positive")

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        score: str = "vacuity",
        positive: str = "known",
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str = "unknown_aupr",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(
            unknown_class=unknown_class,
            max_samples=max_samples,
            summation_method=summation_method,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
        )
        self.score = validate_score(score)
        self.positive = check_choice(positive, "positive", _POSITIVES)

    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        return ranking.average_precision(scores, positive, negative, xp=xp)

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        uncertainty = _uncertainty(self, y_pred)
        unknown = labels >= k
        if self.positive == "known":
            targets, scores = ops.logical_not(unknown), 1.0 - uncertainty
        else:
            targets, scores = unknown, uncertainty
        return ops.cast(targets, "float32"), scores, ops.ones_like(unknown)


@keras.saving.register_keras_serializable(package="keras_evidential")
class MisclassificationAUPR(RankingMetric):
    """AUPR of the confidence for telling correct from wrong predictions.

    Formula:
    ```
    AUPR({(argmax_k alpha_ik = y_i, 1 - score(alpha_i)) : y_i < K})
    ```

    Correct predictions are the positives, as in the I-EDL / R-EDL tables
    ("misclassification detection"). Unknown samples are left out. The
    estimator is the step-wise average precision; NaN where all (or none)
    of the predictions are correct.

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"least_confidence"` (`1 - max_k p_bar_k`, i.e. the max
            probability).
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact figure, or a number of
            equal-width buckets of the score for the bucketed approximation.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.

    Example:

    >>> metric = keras_evidential.metrics.MisclassificationAUPR()
    >>> metric.update_state([0, 0, 1], [[9.0, 1.0], [1.0, 2.0], [1.0, 9.0]])
    >>> round(float(metric.result()), 4)  # the error is the least confident
    1.0

    Reference:
    - Deng et al., I-EDL, ICML 2023 (Table 1, "Conf." AUPR)
    """

    config_arguments = ("score",)

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        score: str = "least_confidence",
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str = "misclassification_aupr",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(
            unknown_class=unknown_class,
            max_samples=max_samples,
            summation_method=summation_method,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
        )
        self.score = validate_score(score)

    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        return ranking.average_precision(scores, positive, negative, xp=xp)

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        correct = predict_labels(alpha, unknown_class=False) == labels
        confidence = 1.0 - _uncertainty(self, y_pred)
        return ops.cast(correct, "float32"), confidence, labels < k


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassFPR(RankingMetric):
    """False-positive rate on OOD samples at 95 % true-positive rate on known ones.

    Formula:
    ```
    t* = the highest confidence threshold keeping `tpr` of the known samples
    FPR = share of unknown samples with confidence >= t*
    confidence = 1 - score(alpha)
    ```

    "FPR95": how many out-of-distribution samples are still accepted when
    the threshold keeps 95 % of the in-distribution ones; lower is better.
    The thresholds are the distinct confidences (scikit-learn's `roc_curve`,
    `fpr[argmax(tpr >= 0.95)]`); NaN without samples of both kinds.

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"vacuity"`.
        tpr: The true-positive rate in (0, 1]. Defaults to `0.95`.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact figure, or a number of
            equal-width buckets of the score for the bucketed approximation.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.

    Example:

    >>> metric = keras_evidential.metrics.UnknownClassFPR()
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())
    0.0

    Reference:
    - Hendrycks & Gimpel, ICLR 2017; Liang et al., ODIN, ICLR 2018 (FPR at 95 % TPR)
    """

    config_arguments = ("score", "tpr")
    direction = "down"

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        score: str = "vacuity",
        tpr: float = 0.95,
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str = "unknown_fpr95",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(
            unknown_class=unknown_class,
            max_samples=max_samples,
            summation_method=summation_method,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
        )
        self.score = validate_score(score)
        self.tpr = check_number(tpr, "tpr", 0, 1, low_open=True)

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        confidence = 1.0 - _uncertainty(self, y_pred)
        known = labels < k
        return known, confidence, ops.ones_like(known)

    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        return ranking.fpr_at_tpr(scores, positive, negative, self.tpr, xp=xp)


@keras.saving.register_keras_serializable(package="keras_evidential")
class BrierScore(keras.metrics.Mean):
    """Brier score of the expected probability on known samples.

    Formula:
    ```
    Brier = mean_i sum_k (y_ik - p_bar_ik)^2,   p_bar = alpha / S
    ```

    In [0, 2]; lower is better. Samples with the unknown label K are left
    out (they have no right class); NaN without known samples.

    Args:
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`
            (scored through its mean). Defaults to `False`.

    Example:

    >>> metric = keras_evidential.metrics.BrierScore()
    >>> metric.update_state([0], [[3.0, 1.0]])
    >>> float(metric.result())
    0.125

    Reference:
    - Brier, Monthly Weather Review 78 (1950)
    """

    def __init__(
        self,
        unknown_class: bool = False,
        name: str = "brier_score",
        dtype: str | None = None,
        flexible: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        check_output_settings(self, unknown_class, 1.0, 0.0, flexible)
        self._direction = "down"

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_pred = dirichlet_alpha(y_pred, self.flexible)
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        check_concentrations(alpha, "y_pred", 0.0)
        brier = squared_errors(dirichlet.expected_probability(alpha), labels, k)
        weight = combined_weight(labels < k, sample_weight)
        super().update_state(brier, sample_weight=weight)

    def result(self) -> Tensor:
        # Undefined (NaN) without known samples, as in the evaluation.
        return ops.where(self.count > 0, super().result(), float("nan"))

    def get_config(self) -> dict[str, Any]:
        return {
            "unknown_class": self.unknown_class,
            "name": self.name,
            "dtype": self.dtype,
            "flexible": self.flexible,
        }
