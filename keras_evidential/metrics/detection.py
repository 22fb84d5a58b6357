"""Detection metrics of the evidential benchmark: AUPR, FPR at 95 % TPR, Brier.

Same conventions as the other metrics: `y_pred` is `alpha`, `y_true` integer
labels in `[0, K]` with K marking an out-of-distribution (unknown) sample.
Scores are `keras_evidential.metrics.UNCERTAINTY_SCORES` (in [0, 1], higher
= less certain); where the in-distribution or correct samples are the
positives, the confidence `1 - score` ranks them.

The scores that depend on the head's prior (`"vacuity"`, `"epkl"`) take its
`prior_weight` (R-EDL's `alpha = e + lambda`: vacuity `lambda K / S`) and
`minimum_alpha` (0 for DAEDL's and F-EDL's `alpha > 0`), as the AUROC metrics
and `keras_evidential.evaluation` do; `alpha` below `minimum_alpha` is refused
there, since the AUC buckets would clip its scores into ties.
"""

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.metrics.auc import _DirichletAUC
from keras_evidential.metrics.auc import _combined_weight
from keras_evidential.labels import open_set_labels as class_labels
from keras_evidential.layers.dirichlet_output import validate_minimum_alpha
from keras_evidential.layers.dirichlet_output import validate_prior_weight
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.scores import metric_uncertainty
from keras_evidential.metrics.scores import validate_score

_POSITIVES = ("known", "unknown")


def _validate_positive(positive):
    if positive not in _POSITIVES:
        raise ValueError(
            f"`positive` must be one of {_POSITIVES}. Received: positive={positive!r}"
        )
    return positive


def _uncertainty(metric, y_pred):
    """The metric's score of the known classes' Dirichlet, in [0, 1]; `alpha`
    below the metric's `minimum_alpha` is refused for a prior-dependent score."""
    return metric_uncertainty(metric, known_alpha(y_pred, metric.unknown_class))


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassAUPR(_DirichletAUC):
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

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"vacuity"` (ranks as `alpha_0`, the total evidence).
        positive: `"known"` (default) or `"unknown"`.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        num_thresholds: Buckets of `keras.metrics.AUC`. Defaults to 200.
        summation_method: As in `keras.metrics.AUC`. Defaults to
            `"interpolation"` (Davis & Goadrich's PR interpolation).
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_weight`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).

    Example:

    >>> metric = keras_evidential.metrics.UnknownClassAUPR()
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())
    1.0

    Reference:
    - Deng et al., I-EDL, ICML 2023; Chen et al., R-EDL, ICLR 2024 (AUPR-In)
    """

    curve_name = "PR"
    config_arguments = ("score", "positive", "prior_weight", "minimum_alpha")

    def __init__(
        self,
        score="vacuity",
        positive="known",
        unknown_class=False,
        num_thresholds=200,
        summation_method="interpolation",
        name="unknown_aupr",
        dtype=None,
        prior_weight=1.0,
        minimum_alpha=None,
    ):
        super().__init__(
            unknown_class, num_thresholds, summation_method, name, dtype,
            prior_weight, minimum_alpha,
        )
        self.score = validate_score(score)
        self.positive = _validate_positive(positive)

    def binary_problem(self, y_true, y_pred):
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
class MisclassificationAUPR(_DirichletAUC):
    """AUPR of the confidence for telling correct from wrong predictions.

    Formula:
    ```
    AUPR({(argmax_k alpha_ik = y_i, 1 - score(alpha_i)) : y_i < K})
    ```

    Correct predictions are the positives, as in the I-EDL / R-EDL tables
    ("misclassification detection"). Unknown samples are left out.

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"least_confidence"` (`1 - max_k p_bar_k`, i.e. the max
            probability).
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        num_thresholds: Buckets of `keras.metrics.AUC`. Defaults to 200.
        summation_method: As in `keras.metrics.AUC`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_weight`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).

    Example:

    >>> metric = keras_evidential.metrics.MisclassificationAUPR()
    >>> metric.update_state([0, 0, 1], [[9.0, 1.0], [1.0, 2.0], [1.0, 9.0]])
    >>> round(float(metric.result()), 4)  # the error is the least confident
    1.0

    Reference:
    - Deng et al., I-EDL, ICML 2023 (Table 1, "Conf." AUPR)
    """

    curve_name = "PR"
    config_arguments = ("score", "prior_weight", "minimum_alpha")

    def __init__(
        self,
        score="least_confidence",
        unknown_class=False,
        num_thresholds=200,
        summation_method="interpolation",
        name="misclassification_aupr",
        dtype=None,
        prior_weight=1.0,
        minimum_alpha=None,
    ):
        super().__init__(
            unknown_class, num_thresholds, summation_method, name, dtype,
            prior_weight, minimum_alpha,
        )
        self.score = validate_score(score)

    def binary_problem(self, y_true, y_pred):
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        correct = predict_labels(alpha, unknown_class=False) == labels
        confidence = 1.0 - _uncertainty(self, y_pred)
        return ops.cast(correct, "float32"), confidence, labels < k


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassFPR(keras.metrics.SpecificityAtSensitivity):
    """False-positive rate on OOD samples at 95 % true-positive rate on known ones.

    Formula:
    ```
    t* = the confidence threshold keeping `tpr` of the known samples
    FPR = share of unknown samples with confidence >= t*
    confidence = 1 - score(alpha)
    ```

    "FPR95": how many out-of-distribution samples are still accepted when
    the threshold keeps 95 % of the in-distribution ones; lower is better.

    Args:
        score: An uncertainty score of `UNCERTAINTY_SCORES`. Defaults to
            `"vacuity"`.
        tpr: The true-positive rate in (0, 1). Defaults to `0.95`.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        num_thresholds: Thresholds of `keras.metrics.SpecificityAtSensitivity`.
            Defaults to 200.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`.
            Defaults to 1 (EDL).
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_weight`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`).

    Example:

    >>> metric = keras_evidential.metrics.UnknownClassFPR()
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())
    0.0

    Reference:
    - Hendrycks & Gimpel, ICLR 2017; Liang et al., ODIN, ICLR 2018 (FPR at 95 % TPR)
    """

    def __init__(
        self,
        score="vacuity",
        tpr=0.95,
        unknown_class=False,
        num_thresholds=200,
        name="unknown_fpr95",
        dtype=None,
        prior_weight=1.0,
        minimum_alpha=None,
    ):
        if not 0 < tpr < 1:
            raise ValueError(f"`tpr` must be in (0, 1). Received: tpr={tpr}")
        super().__init__(
            sensitivity=tpr, num_thresholds=num_thresholds, name=name, dtype=dtype
        )
        self.score = validate_score(score)
        self.tpr = float(tpr)
        self.unknown_class = bool(unknown_class)
        self.prior_weight = validate_prior_weight(prior_weight)
        self.minimum_alpha = validate_minimum_alpha(minimum_alpha)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        confidence = 1.0 - _uncertainty(self, y_pred)
        known = ops.cast(labels < k, "float32")
        super().update_state(
            known,
            confidence,
            sample_weight=_combined_weight(ops.ones_like(known), sample_weight),
        )

    def result(self):
        return 1.0 - super().result()

    def get_config(self):
        return {
            "score": self.score,
            "tpr": self.tpr,
            "unknown_class": self.unknown_class,
            "num_thresholds": self.num_thresholds,
            "name": self.name,
            "dtype": self.dtype,
            "prior_weight": self.prior_weight,
            "minimum_alpha": self.minimum_alpha,
        }


@keras.saving.register_keras_serializable(package="keras_evidential")
class BrierScore(keras.metrics.Mean):
    """Brier score of the expected probability on known samples.

    Formula:
    ```
    Brier = mean_i sum_k (y_ik - p_bar_ik)^2,   p_bar = alpha / S
    ```

    In [0, 2]; lower is better. Samples with the unknown label K are left
    out (they have no right class).

    Args:
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> metric = keras_evidential.metrics.BrierScore()
    >>> metric.update_state([0], [[3.0, 1.0]])
    >>> float(metric.result())
    0.125

    Reference:
    - Brier, Monthly Weather Review 78 (1950)
    """

    def __init__(self, unknown_class=False, name="brier_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.unknown_class = bool(unknown_class)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        k = num_known_classes(y_pred, self.unknown_class)
        labels = class_labels(y_true, y_pred, self.unknown_class)
        p_bar = dirichlet.expected_probability(known_alpha(y_pred, self.unknown_class))
        y = ops.one_hot(ops.minimum(labels, k - 1), k, dtype=p_bar.dtype)
        brier = ops.sum(ops.square(y - p_bar), axis=-1)
        weight = _combined_weight(labels < k, sample_weight)
        super().update_state(brier, sample_weight=weight)

    def get_config(self):
        return {
            "unknown_class": self.unknown_class,
            "name": self.name,
            "dtype": self.dtype,
        }
