"""Pixel-level metrics of dense (per-pixel) Dirichlet outputs: segmentation.

`y_pred` is `alpha` of shape `(batch, ..., K)` (or `K + 1` with m-EDL's
unknown class), `y_true` integer labels of shape `(batch, ...)`: a class in
`[0, K)`, K for an out-of-distribution (OOD) pixel, or `ignore_class` for a
pixel to leave out of every figure (the void label 255 of most segmentation
sets, Keras's meaning in `keras.metrics.MeanIoU(ignore_class=...)`).

Every metric streams: its state has a fixed size whatever the number of
pixels seen.
- `PixelMeanIoU` and `PixelAccuracy` sum a K x K confusion matrix (exact).
- `PixelExpectedCalibrationError` sums the bins of a reliability diagram
  (exact for its bins).
- `PixelOODAUROC`, `PixelOODAUPR` and `PixelOODFPR` rank the pixels by an
  uncertainty score; they keep `num_thresholds` equal-width buckets of the
  score in [0, 1] (default 1000), the pixels inside one bucket counting as
  tied: an approximation of the exact figure (`keras.metrics.AUC`'s). Its
  error is measured in `docs/dense.md` and tested.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.labels import open_set_labels
from keras_evidential.labels import validate_ignore_class
from keras_evidential.metrics.calibration import ExpectedCalibrationError
from keras_evidential.metrics.detection import UnknownClassAUPR
from keras_evidential.metrics.detection import UnknownClassFPR
from keras_evidential.metrics.auc import UnknownClassAUROC
from keras_evidential.metrics.predictions import check_output_settings
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.ranking_metric import DEFAULT_MAX_SAMPLES
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_int

DEFAULT_NUM_THRESHOLDS = 1000


def without_ignored(
    y_true: Tensor,
    y_pred: Tensor,
    sample_weight: Tensor | None,
    ignore_class: int | None,
) -> tuple[Tensor, Tensor | None]:
    """`(labels, weight)`: ignored labels replaced by 0 and weighted 0.

    Args:
        y_true: Integer labels of shape `y_pred.shape[:-1]` (or with a
            trailing axis of 1).
        y_pred: The prediction, shape `(..., width)`.
        sample_weight: None or weights broadcastable to the labels.
        ignore_class: None, or the label of the pixels to leave out.

    Returns:
        The labels, and the weight of each pixel (None where neither
        `sample_weight` nor `ignore_class` is given).
    """
    if ignore_class is None:
        return y_true, sample_weight
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    valid = ops.not_equal(y_true, ops.cast(ignore_class, y_true.dtype))
    weight = ops.cast(valid, "float32")
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, "float32")
        if len(sample_weight.shape) > len(weight.shape):
            sample_weight = ops.squeeze(sample_weight, axis=-1)
        weight = weight * ops.broadcast_to(sample_weight, ops.shape(weight))
    return ops.where(valid, y_true, ops.zeros_like(y_true)), weight


def intersection_over_union(confusion: Tensor) -> Tensor:
    """Per-class IoU of a confusion matrix (rows: labels, columns: predictions).

    Formula:
    ```
    IoU_c = C_cc / (sum_j C_cj + sum_i C_ic - C_cc)
    ```

    NaN for a class that is neither labelled nor predicted (no union).
    """
    true_positives = ops.diagonal(confusion)
    union = ops.sum(confusion, axis=0) + ops.sum(confusion, axis=1) - true_positives
    return ops.where(
        union > 0, ops.divide_no_nan(true_positives, union), float("nan")
    )


def mean_intersection_over_union(confusion: Tensor) -> Tensor:
    """The mean IoU over the classes that have a union (labelled or
    predicted at least once): `keras.metrics.MeanIoU`'s rule. NaN for an
    empty matrix."""
    iou = intersection_over_union(confusion)
    present = ops.logical_not(ops.isnan(iou))
    count = ops.sum(ops.cast(present, confusion.dtype))
    total = ops.sum(ops.where(present, iou, ops.zeros_like(iou)))
    return ops.where(count > 0, ops.divide_no_nan(total, count), float("nan"))


def pixel_accuracy(confusion: Tensor) -> Tensor:
    """`trace(C) / sum(C)`: the share of pixels predicted right; NaN for none."""
    total = ops.sum(confusion)
    return ops.where(
        total > 0,
        ops.divide_no_nan(ops.sum(ops.diagonal(confusion)), total),
        float("nan"),
    )


class PixelConfusionMatrix(keras.metrics.Metric):
    """The streamed K x K confusion matrix of the known-class pixels.

    A pixel counts with its weight at (label, predicted class): the
    prediction is `argmax_k alpha_k` over the K known classes (m-EDL's
    unknown output is left out of it). OOD pixels (label K) have no right
    class and are left out, as are `ignore_class` pixels. Subclasses
    define `figure(confusion)`.

    Args:
        num_classes: Integer >= 2, K, the number of known classes.
        ignore_class: Optional integer, the label of pixels to leave out.
        unknown_class: Whether `y_pred` comes from `UnknownClassHead`
            (K + 1 outputs). Defaults to `False`.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.
    """

    def __init__(
        self,
        num_classes: int,
        ignore_class: int | None = None,
        unknown_class: bool = False,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int(num_classes, "num_classes", minimum=2)
        self.ignore_class = validate_ignore_class(ignore_class)
        check_output_settings(self, unknown_class, 1.0, 0.0, False)
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes), initializer="zeros",
            dtype=self.dtype, name="confusion",
        )

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_pred = ops.convert_to_tensor(y_pred)
        k = num_known_classes(y_pred, self.unknown_class)
        if k != self.num_classes:
            raise ValueError(
                f"`num_classes` is {self.num_classes}, but the prediction has "
                f"{k} known classes. Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        y_true, weight = without_ignored(
            y_true, y_pred, sample_weight, self.ignore_class
        )
        labels = open_set_labels(y_true, y_pred, self.unknown_class)
        alpha = known_alpha(y_pred, self.unknown_class)
        check_concentrations(alpha, "y_pred", 0.0)
        known = labels < k
        weight = ops.cast(known, "float32") if weight is None else (
            ops.cast(known, "float32") * ops.cast(weight, "float32")
        )
        predicted = ops.cast(ops.argmax(alpha, axis=-1), "int32")
        cell = ops.where(known, labels, 0) * k + predicted
        counts = ops.segment_sum(
            ops.reshape(weight, (-1,)), ops.reshape(cell, (-1,)), num_segments=k * k
        )
        self.confusion.assign_add(ops.cast(ops.reshape(counts, (k, k)), self.dtype))

    def figure(self, confusion: Tensor) -> Tensor:
        raise NotImplementedError

    def result(self) -> Tensor:
        return self.figure(ops.convert_to_tensor(self.confusion))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "ignore_class": self.ignore_class,
                "unknown_class": self.unknown_class,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelMeanIoU(PixelConfusionMatrix):
    """Mean intersection over union of the predicted class map.

    Formula:
    ```
    IoU_c = TP_c / (TP_c + FP_c + FN_c),   mIoU = mean over present classes
    ```

    Over the pixels of known classes (OOD and `ignore_class` pixels left
    out), summed over every batch seen; the classes neither labelled nor
    predicted are left out of the mean (`keras.metrics.MeanIoU`'s rule).
    Arguments: see `PixelConfusionMatrix`.

    Example:

    >>> metric = keras_evidential.metrics.PixelMeanIoU(num_classes=2,
    ...                                                ignore_class=255)
    >>> alpha = np.array([[[5.0, 1.0], [1.0, 5.0], [5.0, 1.0], [1.0, 5.0]]])
    >>> metric.update_state(np.array([[0, 1, 1, 255]]), alpha)
    >>> round(float(metric.result()), 4)  # IoU 1/2 and 1/2
    0.5

    Reference:
    - Everingham et al., "The PASCAL Visual Object Classes (VOC)
      Challenge", IJCV 2010
    """

    def __init__(
        self,
        num_classes: int,
        ignore_class: int | None = None,
        unknown_class: bool = False,
        name: str = "pixel_mean_iou",
        dtype: str | None = None,
    ) -> None:
        super().__init__(num_classes, ignore_class, unknown_class, name, dtype)

    def figure(self, confusion: Tensor) -> Tensor:
        return mean_intersection_over_union(confusion)


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelAccuracy(PixelConfusionMatrix):
    """The share of known-class pixels whose predicted class is right.

    Formula:
    ```
    accuracy = sum_c TP_c / (pixels of known classes, not ignored)
    ```

    Arguments: see `PixelConfusionMatrix`.

    Example:

    >>> metric = keras_evidential.metrics.PixelAccuracy(num_classes=2,
    ...                                                 ignore_class=255)
    >>> alpha = np.array([[[5.0, 1.0], [1.0, 5.0], [5.0, 1.0], [1.0, 5.0]]])
    >>> metric.update_state(np.array([[0, 1, 1, 255]]), alpha)
    >>> round(float(metric.result()), 4)
    0.6667

    Reference:
    - Long, Shelhamer, Darrell, "Fully Convolutional Networks for Semantic
      Segmentation", CVPR 2015 (pixel accuracy)
    """

    def __init__(
        self,
        num_classes: int,
        ignore_class: int | None = None,
        unknown_class: bool = False,
        name: str = "pixel_accuracy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(num_classes, ignore_class, unknown_class, name, dtype)

    def figure(self, confusion: Tensor) -> Tensor:
        return pixel_accuracy(confusion)


class _IgnoreClass:
    """`ignore_class` for a metric of this package that takes
    `sample_weight`: ignored pixels get weight 0 (and a valid label)."""

    ignore_class: int | None

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_true, weight = without_ignored(
            y_true, ops.convert_to_tensor(y_pred), sample_weight, self.ignore_class
        )
        # A mixin: the metric class after it in the MRO has the method.
        super().update_state(y_true, y_pred, weight)  # type: ignore[misc]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()  # type: ignore[misc]
        config["ignore_class"] = self.ignore_class
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelExpectedCalibrationError(_IgnoreClass, ExpectedCalibrationError):
    """`ExpectedCalibrationError` over pixels, with `ignore_class`.

    Formula:
    ```
    ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|
    ```
    over the known-class pixels that are not ignored, binned by
    `max_k p_bar_k`. The bins are summed over batches, so it streams.

    Args:
        num_bins: Integer >= 1. Defaults to 15.
        ignore_class: Optional integer, the label of pixels to leave out.
        unknown_class, name, dtype, flexible: see `ExpectedCalibrationError`.

    Example:

    >>> metric = keras_evidential.metrics.PixelExpectedCalibrationError(
    ...     num_bins=10, ignore_class=255)
    >>> metric.update_state(np.array([[0, 1, 255]]), np.full((1, 3, 2), [3.0, 1.0]))
    >>> float(metric.result())  # confidence 0.75, accuracy 0.5
    0.25

    Reference:
    - [Guo et al., 2017](https://arxiv.org/abs/1706.04599)
    """

    def __init__(
        self,
        num_bins: int = 15,
        ignore_class: int | None = None,
        unknown_class: bool = False,
        name: str = "pixel_ece",
        dtype: str | None = None,
        flexible: bool = False,
    ) -> None:
        super().__init__(num_bins, unknown_class, name, dtype, flexible)
        self.ignore_class = validate_ignore_class(ignore_class)


def _pixel_ranking_doc(figure):
    return f"""{figure} of OOD pixels (label K) against known-class pixels.

    The ranking metric of this package (see its docstring for `score`,
    `positive`, `tpr`, `unknown_class`, `prior_concentration`,
    `minimum_alpha`, `flexible`, `max_samples`, `summation_method`) over
    pixels, with `ignore_class`, and bucketed by default:
    `num_thresholds=1000` equal-width buckets of the score in [0, 1], so that
    the state stays 2 x 1000 numbers whatever the number of pixels (pass
    `num_thresholds=None` for the exact figure, which keeps every pixel up to
    `max_samples`). The score names what ranks the pixels (default
    `"vacuity"`)."""


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelOODAUPR(_IgnoreClass, UnknownClassAUPR):
    __doc__ = _pixel_ranking_doc("Area under the precision-recall curve") + """

    OOD pixels are the positives by default (`positive="unknown"`, the
    AUPR of the segmentation anomaly benchmarks); `positive="known"` gives
    AUPR-In.

    Example:

    >>> metric = keras_evidential.metrics.PixelOODAUPR(ignore_class=255)
    >>> alpha = np.array([[[9.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])
    >>> metric.update_state(np.array([[0, 2, 255]]), alpha)
    >>> float(metric.result())
    1.0

    Reference:
    - Blum et al., "The Fishyscapes Benchmark: Measuring Blind Spots in
      Semantic Segmentation", IJCV 2021 (pixel-level AP)
    """

    # Its own name: the inherited one would make `for_model("unknown_...")`
    # pick this pixel metric.
    default_name = "pixel_ood_aupr"

    def __init__(
        self,
        score: str = "vacuity",
        positive: str = "unknown",
        ignore_class: int | None = None,
        unknown_class: bool = False,
        num_thresholds: int | None = DEFAULT_NUM_THRESHOLDS,
        name: str = "pixel_ood_aupr",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(
            score=score,
            positive=positive,
            unknown_class=unknown_class,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
            max_samples=max_samples,
            summation_method=summation_method,
        )
        self.ignore_class = validate_ignore_class(ignore_class)


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelOODAUROC(_IgnoreClass, UnknownClassAUROC):
    __doc__ = _pixel_ranking_doc("Area under the ROC curve") + """

    Example:

    >>> metric = keras_evidential.metrics.PixelOODAUROC(ignore_class=255)
    >>> alpha = np.array([[[9.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])
    >>> metric.update_state(np.array([[0, 2, 255]]), alpha)
    >>> float(metric.result())
    1.0

    Reference:
    - Blum et al., "The Fishyscapes Benchmark", IJCV 2021
    """

    # Its own name: the inherited one would make `for_model("unknown_...")`
    # pick this pixel metric.
    default_name = "pixel_ood_auroc"

    def __init__(
        self,
        score: str = "vacuity",
        ignore_class: int | None = None,
        unknown_class: bool = False,
        num_thresholds: int | None = DEFAULT_NUM_THRESHOLDS,
        name: str = "pixel_ood_auroc",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
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
            summation_method=summation_method,
        )
        self.ignore_class = validate_ignore_class(ignore_class)


@keras.saving.register_keras_serializable(package="keras_evidential")
class PixelOODFPR(_IgnoreClass, UnknownClassFPR):
    __doc__ = _pixel_ranking_doc("False-positive rate at 95 % true-positive rate") + """

    Example:

    >>> metric = keras_evidential.metrics.PixelOODFPR(ignore_class=255)
    >>> alpha = np.array([[[9.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])
    >>> metric.update_state(np.array([[0, 2, 255]]), alpha)
    >>> float(metric.result())
    0.0

    Reference:
    - Blum et al., "The Fishyscapes Benchmark", IJCV 2021 (FPR95)
    """

    # Its own name: the inherited one would make `for_model("unknown_...")`
    # pick this pixel metric.
    default_name = "pixel_ood_fpr"

    def __init__(
        self,
        score: str = "vacuity",
        tpr: float = 0.95,
        ignore_class: int | None = None,
        unknown_class: bool = False,
        num_thresholds: int | None = DEFAULT_NUM_THRESHOLDS,
        name: str = "pixel_ood_fpr",
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(
            score=score,
            tpr=tpr,
            unknown_class=unknown_class,
            num_thresholds=num_thresholds,
            name=name,
            dtype=dtype,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            flexible=flexible,
            max_samples=max_samples,
            summation_method=summation_method,
        )
        self.ignore_class = validate_ignore_class(ignore_class)
