"""ROC AUC metrics of evidential classifiers, built on `keras.metrics.AUC`.

Each metric turns `alpha` into a binary label, a score in [0, 1] and a
0/1 weight selecting the samples it covers, then accumulates them in
`keras.metrics.AUC` (ROC curve, `num_thresholds` evenly spaced buckets).
"""

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.labels import open_set_labels
from keras_evidential.layers.dirichlet_output import validate_minimum_alpha
from keras_evidential.layers.dirichlet_output import validate_prior_weight
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.predictions import validate_threshold
from keras_evidential.metrics.scores import metric_uncertainty
from keras_evidential.metrics.scores import validate_score

# Arguments of `keras.metrics.AUC` that these metrics fix: their configs
# leave them out so that `from_config` can call their constructors.
_FIXED_AUC_ARGUMENTS = (
    "curve",
    "multi_label",
    "num_labels",
    "label_weights",
    "from_logits",
    "thresholds",
)


def _combined_weight(mask, sample_weight):
    weight = ops.cast(mask, "float32")
    if sample_weight is None:
        return weight
    sample_weight = ops.cast(sample_weight, "float32")
    if len(sample_weight.shape) > len(weight.shape):
        sample_weight = ops.squeeze(sample_weight, axis=-1)
    return weight * sample_weight


class _DirichletAUC(keras.metrics.AUC):
    """`keras.metrics.AUC` on (label, score, weight) derived from `alpha`.

    Subclasses set the curve and name, in `config_arguments`, their own
    constructor arguments, kept as attributes of the same names, that their
    configs hold besides `keras.metrics.AUC`'s. Of the prior arguments,
    `prior_weight` scales the vacuity (R-EDL) and `minimum_alpha` bounds the
    concentrations (see `uncertainty_score`).
    """

    curve_name = "ROC"
    config_arguments = ()

    def __init__(
        self,
        unknown_class=False,
        num_thresholds=200,
        summation_method="interpolation",
        name=None,
        dtype=None,
        prior_weight=1.0,
        minimum_alpha=None,
    ):
        super().__init__(
            num_thresholds=num_thresholds,
            curve=self.curve_name,
            summation_method=summation_method,
            name=name,
            dtype=dtype,
        )
        self.unknown_class = bool(unknown_class)
        self.prior_weight = validate_prior_weight(prior_weight)
        self.minimum_alpha = validate_minimum_alpha(minimum_alpha)

    def binary_problem(self, y_true, y_pred):
        """Returns `(binary_labels, scores in [0, 1], 0/1 mask)`."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        targets, scores, mask = self.binary_problem(y_true, y_pred)
        super().update_state(
            targets, scores, sample_weight=_combined_weight(mask, sample_weight)
        )

    def get_config(self):
        config = super().get_config()
        for key in _FIXED_AUC_ARGUMENTS:
            config.pop(key, None)
        config["unknown_class"] = self.unknown_class
        for key in self.config_arguments:
            config[key] = getattr(self, key)
        return config


class _ScoredAUROC(_DirichletAUC):
    """The ROC AUC of an uncertainty score; subclasses set `default_name`."""

    default_name = None
    config_arguments = ("score", "prior_weight", "minimum_alpha")

    def __init__(
        self,
        score="vacuity",
        unknown_class=False,
        num_thresholds=200,
        summation_method="interpolation",
        name=None,
        dtype=None,
        prior_weight=1.0,
        minimum_alpha=None,
    ):
        super().__init__(
            unknown_class,
            num_thresholds,
            summation_method,
            name or self.default_name,
            dtype,
            prior_weight,
            minimum_alpha,
        )
        self.score = validate_score(score)


@keras.saving.register_keras_serializable(package="keras_evidential")
class ThresholdedAUC(_DirichletAUC):
    """ROC AUC on the samples whose uncertainty is at most a threshold (TEDL).

    Formula:
    ```
    AUC_t = ROC-AUC({(y_i, p_bar_i[positive_class]) : u_i <= t})
    ```

    For a binary task (K = 2): the ROC AUC of the expected probability of
    the positive class, computed only on the samples whose vacuity
    `u = lambda K / S` (`lambda = prior_weight`, 1 for EDL) is at most
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
        num_thresholds: Number of buckets of `keras.metrics.AUC`. Defaults to
            200; more buckets approximate the exact AUC more closely.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`), which scales the vacuity. Defaults to 1.
        summation_method: As in `keras.metrics.AUC`. Defaults to
            `"interpolation"`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.

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

    config_arguments = ("threshold", "positive_class", "prior_weight")

    def __init__(
        self,
        threshold=None,
        positive_class=1,
        unknown_class=False,
        num_thresholds=200,
        summation_method="interpolation",
        name="thresholded_auc",
        dtype=None,
        prior_weight=1.0,
    ):
        super().__init__(
            unknown_class, num_thresholds, summation_method, name, dtype, prior_weight
        )
        if positive_class not in (0, 1):
            raise ValueError(
                "`positive_class` must be 0 or 1 (a binary task). "
                f"Received: positive_class={positive_class!r}"
            )
        self.threshold = validate_threshold(threshold)
        self.positive_class = int(positive_class)

    def binary_problem(self, y_true, y_pred):
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
            vacuity = dirichlet.vacuity(alpha, self.prior_weight)
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
        num_thresholds: Number of buckets of `keras.metrics.AUC`. Defaults to
            200.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`,
            which keeps it in the buckets' range [0, 1]. Defaults to 1.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_weight`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`). `alpha` below it is
            refused for `"vacuity"` and `"epkl"`.
        summation_method: As in `keras.metrics.AUC`. Defaults to
            `"interpolation"`.
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

    def binary_problem(self, y_true, y_pred):
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
        num_thresholds: Number of buckets of `keras.metrics.AUC`. Defaults to
            200.
        prior_weight: R-EDL's prior weight `lambda` of the head
            (`alpha = e + lambda`): the `"vacuity"` score is `lambda K / S`,
            which keeps it in the buckets' range [0, 1]. Defaults to 1.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_weight`; 0 means `alpha > 0` (DAEDL's
            `DensityAwareDirichlet`, F-EDL), whose vacuity is ranked as
            `K / (S + K)` (see `uncertainty_score`). `alpha` below it is
            refused for `"vacuity"` and `"epkl"`.
        summation_method: As in `keras.metrics.AUC`. Defaults to
            `"interpolation"`.
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

    def binary_problem(self, y_true, y_pred):
        k = num_known_classes(y_pred, self.unknown_class)
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        unknown = labels >= k
        return (
            ops.cast(unknown, "float32"),
            metric_uncertainty(self, alpha),
            ops.ones_like(unknown),
        )
