"""Expected calibration error of the expected probability `p_bar`."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.labels import open_set_labels
from keras_evidential.metrics.predictions import check_output_settings
from keras_evidential.metrics.predictions import dirichlet_alpha
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_int


def confidence_and_correct(
    probabilities: Tensor, labels: Tensor
) -> tuple[Tensor, Tensor]:
    """`(max_k p_k, argmax_k p_k == label)`: what a reliability diagram bins."""
    predictions = predict_labels(probabilities, unknown_class=False)
    # `initial`: Keras's TensorFlow `max` asserts on an empty batch without it.
    confidence = ops.max(probabilities, axis=-1, initial=0.0)
    return confidence, predictions == labels


def calibration_bins(
    confidence: Tensor, correct: Tensor, num_bins: int, sample_weight: Tensor = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-bin weighted sums of a reliability diagram.

    Bin `i` holds the confidences in `(i / num_bins, (i + 1) / num_bins]`
    (the first bin also holds 0).

    Args:
        confidence: Predicted probabilities of the predicted class, in [0, 1].
        correct: Whether each prediction is right (bool or 0/1).
        num_bins: Number of equal-width bins.
        sample_weight: Optional weights of `confidence`'s shape.

    Returns:
        `(count, confidence_sum, correct_sum)`, each of shape `(num_bins,)`.
    """
    confidence = ops.cast(ops.reshape(confidence, (-1,)), "float32")
    correct = ops.cast(ops.reshape(correct, (-1,)), "float32")
    if sample_weight is None:
        weight = ops.ones_like(confidence)
    else:
        weight = ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
    index = ops.cast(ops.ceil(confidence * num_bins), "int32") - 1
    index = ops.clip(index, 0, num_bins - 1)
    one_hot = ops.one_hot(index, num_bins, dtype="float32") * weight[:, None]
    # Sums of products, not `matmul`: PyTorch's refuses an empty batch.
    return (
        ops.sum(one_hot, axis=0),
        ops.sum(confidence[:, None] * one_hot, axis=0),
        ops.sum(correct[:, None] * one_hot, axis=0),
    )


def expected_calibration_error_from_bins(
    count: Tensor, confidence_sum: Tensor, correct_sum: Tensor
) -> Tensor:
    """`sum_b |correct_sum_b - confidence_sum_b| / sum_b count_b`.

    Equal to `sum_b (n_b / N) |accuracy_b - confidence_b|`; NaN (undefined)
    for no samples.
    """
    total = ops.sum(count)
    error = ops.divide_no_nan(ops.sum(ops.abs(correct_sum - confidence_sum)), total)
    return ops.where(total > 0, error, float("nan"))


@keras.saving.register_keras_serializable(package="keras_evidential")
class ExpectedCalibrationError(keras.metrics.Metric):
    """Expected calibration error (ECE) of the expected probability `p_bar`.

    Formula:
    ```
    ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|
    confidence_i = max_k p_bar_ik,  p_bar = alpha / S over the K known classes
    ```

    Samples are binned by confidence into `num_bins` equal-width bins
    `(i / B, (i + 1) / B]`. Only samples of known classes take part (an
    unknown sample has no right class in `p_bar`). For an m-EDL model `p_bar`
    is `known_class_probability(p_hat)`, the mean of its known-class
    Dirichlet. Lower is better; 0 is perfectly calibrated; NaN without
    known samples.

    Args:
        num_bins: Integer >= 1, the number of bins. Defaults to 15.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`.
            Defaults to `False`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
        flexible: Whether `y_pred` is F-EDL's packed `[alpha, p, tau]`
            (scored through its mean). Defaults to `False`.

    Labels: integer `y_true` in `[0, K]` (K = unknown, left out) or one-hot;
    `y_pred` is `alpha`.

    Example:

    >>> metric = keras_evidential.metrics.ExpectedCalibrationError(num_bins=10)
    >>> metric.update_state([0, 1], [[3.0, 1.0], [3.0, 1.0]])
    >>> float(metric.result())  # confidence 0.75, accuracy 0.5
    0.25

    Reference:
    - [Guo et al., 2017](https://arxiv.org/abs/1706.04599)
    """

    def __init__(
        self,
        num_bins: int = 15,
        unknown_class: bool = False,
        name: str = "ece",
        dtype: str | None = None,
        flexible: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_bins = check_int(num_bins, "num_bins", minimum=1)
        check_output_settings(self, unknown_class, 1.0, 0.0, flexible)
        self._direction = "down"
        self.bin_counts = self.add_variable(
            shape=(num_bins,), initializer="zeros", dtype=self.dtype, name="bin_counts"
        )
        self.bin_confidence = self.add_variable(
            shape=(num_bins,),
            initializer="zeros",
            dtype=self.dtype,
            name="bin_confidence",
        )
        self.bin_correct = self.add_variable(
            shape=(num_bins,), initializer="zeros", dtype=self.dtype, name="bin_correct"
        )

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_pred = dirichlet_alpha(y_pred, self.flexible)
        k = num_known_classes(y_pred, self.unknown_class)
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        check_concentrations(alpha, "y_pred", 0.0)
        p_bar = dirichlet.expected_probability(alpha)
        known = ops.cast(labels < k, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            if len(sample_weight.shape) > len(known.shape):
                sample_weight = ops.squeeze(sample_weight, axis=-1)
            known = known * sample_weight
        confidence, correct = confidence_and_correct(p_bar, labels)
        count, confidence, hits = calibration_bins(
            confidence, correct, self.num_bins, known
        )
        self.bin_counts.assign_add(ops.cast(count, self.dtype))
        self.bin_confidence.assign_add(ops.cast(confidence, self.dtype))
        self.bin_correct.assign_add(ops.cast(hits, self.dtype))

    def result(self) -> Tensor:
        return expected_calibration_error_from_bins(
            self.bin_counts, self.bin_confidence, self.bin_correct
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_bins": self.num_bins,
                "unknown_class": self.unknown_class,
                "flexible": self.flexible,
            }
        )
        return config
