"""Accuracy for known classes and for the unknown class, with or without an
uncertainty threshold (m-EDL's measures, Nagahama 2023).

Every metric here is a ratio of two weighted counts of `open_set_counts`,
accumulated over batches. See `keras_evidential.metrics.predictions` for the
label and prediction convention (label K = unknown).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.labels import open_set_labels
from keras_evidential.metrics.predictions import check_output_settings
from keras_evidential.metrics.predictions import dirichlet_alpha
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.predictions import validate_threshold
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations


def open_set_counts(
    labels: Tensor, predictions: Tensor, num_known: int, sample_weight: Tensor = None
) -> dict[str, Tensor]:
    """Weighted counts behind the open-set metrics.

    Args:
        labels: Integer labels in `[0, K]`, K = unknown.
        predictions: Integer predictions in `[0, K]`, K = "unknown".
        num_known: K.
        sample_weight: Optional weights of `labels`' shape (or with a
            trailing axis of 1). Defaults to 1.

    Returns:
        A dict of scalars: `total`; `known` and `unknown`, the true known and
        unknown samples; `accepted` and `rejected`, those predicted as a known
        class and as "unknown"; `known_correct`, known samples predicted as
        their own class; `unknown_correct`, unknown samples predicted
        "unknown".
    """
    if sample_weight is None:
        weight = ops.ones(ops.shape(labels), dtype="float32")
    else:
        weight = ops.cast(sample_weight, "float32")
        if len(weight.shape) > len(labels.shape):
            weight = ops.squeeze(weight, axis=-1)
        weight = ops.broadcast_to(weight, ops.shape(labels))

    def count(mask):
        return ops.sum(ops.where(mask, weight, ops.zeros_like(weight)))

    known = labels < num_known
    rejected = predictions >= num_known
    unknown = ops.logical_not(known)
    return {
        "total": ops.sum(weight),
        "known": count(known),
        "unknown": count(unknown),
        "accepted": count(ops.logical_not(rejected)),
        "rejected": count(rejected),
        "known_correct": count(ops.logical_and(known, predictions == labels)),
        "unknown_correct": count(ops.logical_and(unknown, rejected)),
    }


class OpenSetRate(keras.metrics.Metric):
    """Base class: `numerator / denominator` of two `open_set_counts`.

    Subclasses name the two counts in `numerator` and `denominator`, their
    `default_name`, and whether a higher rate is better (`direction`). The
    result is NaN (undefined) while the denominator is 0, as in
    `keras_evidential.evaluation`.
    """

    numerator: str | None = None
    denominator: str | None = None
    default_name: str | None = None
    direction = "up"

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        unknown_class: bool = False,
        threshold: float | None = None,
        prior_concentration: float = 1.0,
        name: str | None = None,
        dtype: str | None = None,
        minimum_alpha: float | None = None,
        flexible: bool = False,
    ) -> None:
        super().__init__(name=name or self.default_name, dtype=dtype)
        check_output_settings(
            self, unknown_class, prior_concentration, minimum_alpha, flexible
        )
        self.threshold = validate_threshold(threshold)
        self._direction = self.direction
        self.hits = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="hits"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_pred = dirichlet_alpha(y_pred, self.flexible)
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        if self.threshold is not None:
            # The vacuity compared with the threshold is `lambda K / S`:
            # alpha below the head's prior means the metric has the wrong
            # prior (R-EDL's alpha read with EDL's lambda = 1 rejects all).
            minimum = self.prior_concentration
            if self.minimum_alpha is not None:
                minimum = self.minimum_alpha
            check_concentrations(
                known_alpha(y_pred, self.unknown_class),
                "y_pred",
                minimum,
                message=(
                    f"`y_pred` must hold finite Dirichlet concentrations "
                    f">= {minimum:g} (the metric's prior_concentration="
                    f"{self.prior_concentration:g}, minimum_alpha="
                    f"{self.minimum_alpha!r}) for the vacuity threshold. For "
                    "R-EDL's alpha = e + lambda pass prior_concentration=lambda, for "
                    "alpha that is only > 0 (DAEDL, F-EDL) minimum_alpha=0; "
                    "keras_evidential.metrics.for_model(model, ...) reads "
                    "both from the model."
                ),
            )
        predictions = predict_labels(
            y_pred, self.unknown_class, self.threshold, self.prior_concentration
        )
        counts = open_set_counts(
            labels,
            predictions,
            num_known_classes(y_pred, self.unknown_class),
            sample_weight,
        )
        # The subclasses name the counts; the base class's None fails here.
        hits = counts[self.numerator]  # type: ignore[index]
        total = counts[self.denominator]  # type: ignore[index]
        self.hits.assign_add(ops.cast(hits, self.dtype))
        self.count.assign_add(ops.cast(total, self.dtype))

    def result(self) -> Tensor:
        rate = ops.divide_no_nan(self.hits, self.count)
        return ops.where(self.count > 0, rate, float("nan"))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "unknown_class": self.unknown_class,
                "threshold": self.threshold,
                "prior_concentration": self.prior_concentration,
                "minimum_alpha": self.minimum_alpha,
                "flexible": self.flexible,
            }
        )
        return config


_COMMON_ARGS = """
    Args:
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`: K + 1
            columns, the last one m-EDL's unknown class u. Defaults to
            `False` (K columns, an EDL model).
        threshold: None (default) or a vacuity threshold in [0, 1]. With
            None, m-EDL predicts `argmax` over K + 1 classes and EDL never
            predicts "unknown". With a threshold, a sample whose vacuity
            `K / S` exceeds it is predicted "unknown" (m-EDL models use the
            vacuity of their K known classes, i.e. their `p_bar`).
        prior_concentration: R-EDL's prior weight `lambda` of the head
            (`DirichletOutput(prior_concentration=lambda)`, `alpha = e + lambda`):
            the vacuity compared with `threshold` is `lambda K / S`.
            Defaults to 1 (EDL). With a threshold, `alpha` below it is
            refused (a wrong prior would reject every sample).
        name: Optional name of the metric. Defaults to the class's
            `default_name` (e.g. `"known_accuracy"`).
        dtype: Optional dtype of the metric's result.
        minimum_alpha: The smallest `alpha` of the head: None (default)
            means `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`.
            Defaults to `False`.

    Labels: integer `y_true` in `[0, K]` where K marks a sample of an unknown
    class (with K or K + 1 outputs alike), or one-hot rows of `y_pred`'s width
    (an all-zero row is unknown). `y_pred` is the model's `alpha`.
"""


@keras.saving.register_keras_serializable(package="keras_evidential")
class KnownClassAccuracy(OpenSetRate):
    __doc__ = (
        """m-EDL's accuracy for k: known samples predicted as their class.

    Formula:
    ```
    known_accuracy = #{y < K and pred = y} / #{y < K}
    ```

    Predicting "unknown" for a known sample counts as wrong; unknown samples
    are left out. Without unknown samples or a threshold this is the
    ordinary accuracy.
    """
        + _COMMON_ARGS
        + """
    Example:

    m-EDL outputs (K = 2, alpha_u = 3); predictions by argmax: 0, 0, u.

    >>> metric = keras_evidential.metrics.KnownClassAccuracy(unknown_class=True)
    >>> metric.update_state(
    ...     [0, 1, 2], [[9.0, 1.0, 3.0], [5.0, 1.0, 3.0], [1.0, 1.0, 3.0]])
    >>> float(metric.result())  # one of the two known samples is right
    0.5

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """
    )

    numerator = "known_correct"
    denominator = "known"
    default_name = "known_accuracy"


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassRecall(OpenSetRate):
    __doc__ = (
        """m-EDL's accuracy for u: unknown samples predicted "unknown".

    Formula:
    ```
    unknown_recall = #{y = K and pred = K} / #{y = K}
    ```

    The recall of the unknown class. (m-EDL's reference code reports, for
    EDL, the precision of rejection instead: see `UnknownClassPrecision`.)
    """
        + _COMMON_ARGS
        + """
    Example:

    >>> metric = keras_evidential.metrics.UnknownClassRecall(threshold=0.5)
    >>> metric.update_state([0, 2], [[9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())  # the unknown sample has vacuity 1 > 0.5
    1.0

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """
    )

    numerator = "unknown_correct"
    denominator = "unknown"
    default_name = "unknown_recall"


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassPrecision(OpenSetRate):
    __doc__ = (
        """Precision of "unknown" predictions: how many are truly unknown.

    Formula:
    ```
    unknown_precision = #{y = K and pred = K} / #{pred = K}
    ```

    What m-EDL's reference code reports as EDL's accuracy for u at a
    threshold (the accuracy on the rejected samples).
    """
        + _COMMON_ARGS
        + """
    Example:

    >>> metric = keras_evidential.metrics.UnknownClassPrecision(threshold=0.5)
    >>> metric.update_state([0, 1, 2], [[9.0, 1.0], [1.0, 1.5], [1.0, 1.0]])
    >>> float(metric.result())  # vacuities 0.2, 0.8, 1: two rejected, one unknown
    0.5

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """
    )

    numerator = "unknown_correct"
    denominator = "rejected"
    default_name = "unknown_precision"


@keras.saving.register_keras_serializable(package="keras_evidential")
class SelectiveAccuracy(OpenSetRate):
    __doc__ = (
        """Accuracy on the samples kept: EDL's accuracy at a threshold.

    Formula:
    ```
    selective_accuracy = #{pred < K and pred = y} / #{pred < K}
    ```

    The accuracy of the predictions the model commits to (vacuity `<= t`);
    a kept sample of an unknown class counts as wrong. This is the EDL curve
    of m-EDL's Fig. 3 (computed as in its reference code): it rises as the
    threshold falls when uncertainty is informative.
    """
        + _COMMON_ARGS
        + """
    Example:

    >>> metric = keras_evidential.metrics.SelectiveAccuracy(threshold=0.3)
    >>> metric.update_state([0, 1, 1], [[9.0, 1.0], [9.0, 1.0], [1.0, 1.0]])
    >>> float(metric.result())  # vacuities 0.2, 0.2, 1: of two kept, one right
    0.5

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """
    )

    numerator = "known_correct"
    denominator = "accepted"
    default_name = "selective_accuracy"


@keras.saving.register_keras_serializable(package="keras_evidential")
class RejectionRate(OpenSetRate):
    __doc__ = (
        """Share of samples predicted "unknown" (rejected).

    Formula:
    ```
    rejection_rate = #{pred = K} / #{all}
    ```
    """
        + _COMMON_ARGS
        + """
    Example:

    >>> metric = keras_evidential.metrics.RejectionRate(threshold=0.3)
    >>> metric.update_state([0, 1, 1], [[9.0, 1.0], [9.0, 1.0], [1.0, 1.0]])
    >>> round(float(metric.result()), 4)  # one of three has vacuity 1 > 0.3
    0.3333

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """
    )

    numerator = "rejected"
    denominator = "total"
    default_name = "rejection_rate"
    direction = "down"
