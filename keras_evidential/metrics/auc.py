"""ROC AUC metrics of evidential classifiers.

Each metric turns `alpha` into a binary label, a score and a 0/1 weight
selecting the samples it covers, and computes the exact ROC AUC of
`keras_evidential.metrics.ranking` over all samples seen (see
`RankingMetric`; `num_thresholds` gives the bucketed approximation).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.deprecation import renamed_argument
from keras_evidential.labels import open_set_labels
from keras_evidential.metrics import ranking
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.predictions import validate_threshold
from keras_evidential.metrics.ranking_metric import DEFAULT_MAX_SAMPLES
from keras_evidential.metrics.ranking_metric import RankingMetric
from keras_evidential.metrics.scores import metric_uncertainty
from keras_evidential.metrics.scores import validate_score
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_concentrations


class _ROCMetric(RankingMetric):
    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        return ranking.roc_auc(scores, positive, negative, xp=xp)


class _ScoredAUROC(_ROCMetric):
    """The ROC AUC of an uncertainty score; subclasses set `default_name`."""

    default_name: str | None = None
    config_arguments: tuple[str, ...] = ("score",)

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        score: str = "vacuity",
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str | None = None,
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
            name=name or self.default_name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
        )
        self.score = validate_score(score)


@keras.saving.register_keras_serializable(package="keras_evidential")
class ThresholdedAUC(_ROCMetric):
    """ROC AUC on the samples whose uncertainty is at most a threshold (TEDL).

    Formula:
    ```
    AUC_t = ROC-AUC({(y_i, p_bar_i[positive_class]) : u_i <= t})
    ```

    For a binary task (K = 2): the ROC AUC of the expected probability of
    the positive class, computed only on the samples whose vacuity
    `u = lambda K / S` (`lambda = prior_concentration`, 1 for EDL) is at most
    `threshold`. If the uncertainty is informative, the
    AUC rises as the threshold falls (TEDL, Fig. 3); with `threshold=None`
    it is the ROC AUC on all samples. Samples with the unknown label (2) are
    left out.

    Args:
        threshold: None or a vacuity threshold in (0, 1]. Defaults to None.
        positive_class: 0 or 1, the class whose probability ranks the
            samples. Defaults to 1.
        unknown_class: Whether `y_pred` has m-EDL's unknown class as a third
            column (it is ignored). Defaults to `False`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact AUC, or a number of
            equal-width buckets of the score for the bucketed approximation.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`), which scales the vacuity. Defaults to 1.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.

    Labels: integer `y_true` in {0, 1} (or one-hot of `y_pred`'s width);
    `y_pred` is `alpha`.

    Example:

    >>> metric = keras_evidential.metrics.ThresholdedAUC(threshold=0.5)
    >>> metric.update_state(
    ...     [1, 0, 1, 0], [[1.0, 9.0], [8.0, 2.0], [3.0, 7.0], [1.0, 1.0]])
    >>> round(float(metric.result()), 4)  # the last sample (vacuity 1) is left out
    1.0

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    config_arguments = ("threshold", "positive_class")

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        threshold: float | None = None,
        positive_class: int = 1,
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str = "thresholded_auc",
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
        self.threshold = validate_threshold(threshold)
        self.positive_class = check_choice(positive_class, "positive_class", (0, 1))

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        if num_known_classes(y_pred, self.unknown_class) != 2:
            raise ValueError(
                "ThresholdedAUC needs a binary task (2 known classes). "
                f"Received: y_pred.shape={tuple(y_pred.shape)}, "
                f"unknown_class={self.unknown_class}"
            )
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        scores = dirichlet.expected_probability(alpha)[..., self.positive_class]
        mask = labels < 2
        if self.threshold is not None:
            # The vacuity compared with the threshold needs the head's prior.
            minimum = self.prior_concentration
            if self.minimum_alpha is not None:
                minimum = self.minimum_alpha
            check_concentrations(alpha, "y_pred", minimum)
            vacuity = dirichlet.vacuity(alpha, self.prior_concentration)
            kept = vacuity <= ops.cast(self.threshold, alpha.dtype)
            mask = ops.logical_and(mask, kept)
        return ops.cast(labels == self.positive_class, "float32"), scores, mask


@keras.saving.register_keras_serializable(package="keras_evidential")
class MisclassificationAUROC(_ScoredAUROC):
    """AUROC of an uncertainty score for detecting misclassified samples.

    Formula:
    ```
    AUROC({(argmax_k alpha_ik != y_i, score(alpha_i)) : y_i < K})
    ```

    Among the samples of known classes, how well the score ranks the
    misclassified ones (positives) above the correct ones: 1 is perfect,
    0.5 chance. The prediction is `argmax` over the K known classes (also for
    m-EDL models, whose unknown-class output is left aside).

    Args:
        score: The uncertainty score, one of
            `keras_evidential.metrics.UNCERTAINTY_SCORES`: `"vacuity"`
            (default), `"epkl"`, `"dissonance"`, `"least_confidence"`
            (`1 - max p_bar`), `"total_entropy"`, `"expected_entropy"`,
            `"mutual_information"` (entropies divided by `log K`).
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`; its
            known-class part is scored. Defaults to `False`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact AUROC, or a number of
            equal-width buckets of the score for the bucketed approximation.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`,
            in [0, 1]. Defaults to 1.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`). `alpha` below it is
            refused for `"vacuity"` and `"epkl"`.
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.
        name: Optional name of the metric. Defaults to
            `"misclassification_auroc"`.
        dtype: Optional dtype of the metric's result.

    Labels: integer `y_true` in `[0, K]` (K = unknown; such samples are left
    out) or one-hot; `y_pred` is `alpha`.

    Example:

    >>> metric = keras_evidential.metrics.MisclassificationAUROC(score="vacuity")
    >>> metric.update_state([0, 0, 1], [[9.0, 1.0], [1.0, 2.0], [1.0, 9.0]])
    >>> round(float(metric.result()), 4)  # the error has the largest vacuity
    1.0

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    default_name = "misclassification_auroc"

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = num_known_classes(y_pred, self.unknown_class)
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        predictions = predict_labels(alpha, unknown_class=False)
        wrong = ops.cast(predictions != labels, "float32")
        return wrong, metric_uncertainty(self, alpha), labels < k


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassAUROC(_ScoredAUROC):
    """AUROC of an uncertainty score for detecting unknown-class samples.

    Formula:
    ```
    AUROC({(y_i = K, score(alpha_i))})
    ```

    How well the score ranks samples of unknown classes (out-of-distribution,
    positives) above samples of the known classes: 1 is perfect, 0.5 chance.
    For an m-EDL model the known-class part is scored: its vacuity orders
    samples exactly as `p_hat_u` does.

    Args:
        score: The uncertainty score, one of
            `keras_evidential.metrics.UNCERTAINTY_SCORES` (see
            `MisclassificationAUROC`). Defaults to `"vacuity"`.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
            Defaults to `False`.
        max_samples: The most samples the exact metric holds (see
            `RankingMetric`). Defaults to 65,536.
        num_thresholds: None (default) for the exact AUROC, or a number of
            equal-width buckets of the score for the bucketed approximation.
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`,
            in [0, 1]. Defaults to 1.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`). `alpha` below it is
            refused for `"vacuity"` and `"epkl"`.
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.
        name: Optional name of the metric. Defaults to `"unknown_auroc"`.
        dtype: Optional dtype of the metric's result.

    Labels: integer `y_true` in `[0, K]`, K = unknown, or one-hot (an
    all-zero row is unknown); `y_pred` is `alpha`.

    Example:

    >>> metric = keras_evidential.metrics.UnknownClassAUROC(score="vacuity")
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())
    1.0

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """

    default_name = "unknown_auroc"

    def binary_problem(
        self, y_true: Tensor, y_pred: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = num_known_classes(y_pred, self.unknown_class)
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        unknown = labels >= k
        return (
            ops.cast(unknown, "float32"),
            metric_uncertainty(self, alpha),
            ops.ones_like(unknown),
        )
