"""Reading Keras labels (integer or one-hot): the package's one convention.

- Losses train on labels in `[0, n)` for a prediction with n outputs: for an
  m-EDL model (K + 1 outputs, ending in `UnknownClassHead`) the label K is
  the unknown class; a K-output EDL model has no output for unknown samples,
  so the label K is an error there (`one_hot_targets`).
- Metrics, curves and reports evaluate open-set data: labels in `[0, K]`,
  K marking a sample of an unknown class, for EDL and m-EDL models alike
  (`open_set_labels`). One-hot rows of the prediction's width also work; an
  all-zero row marks an unknown sample (as in m-EDL's reference code).
- A label outside these ranges (negative, or above K) is an error
  everywhere, never clipped: it is a data bug, and clipping would count it
  as "unknown".
- Dense (per-pixel) labels may mark pixels to leave out with an
  `ignore_class` (255 in most segmentation sets), with Keras's meaning
  (`keras.losses.SparseCategoricalCrossentropy(ignore_class=...)`): an
  ignored pixel adds nothing to the loss, its gradient or the metrics, and
  is not counted in the mean (`ignored_labels`, `mask_ignored`).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_evidential.keras_compat import set_loss_mask
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import assert_all
from keras_evidential.validation import check_int
from keras_evidential.validation import check_labels
from keras_evidential.validation import label_condition
from keras_evidential.validation import one_hot_condition
from keras_evidential.validation import Condition


def one_hot_targets(
    y_true: Tensor,
    y_pred: Tensor,
    conditions: list[Condition | None] | None = None,
    checked: bool = False,
) -> Tensor:
    """One-hot targets of `y_pred`'s width from integer or one-hot labels.

    Which form `y_true` has is read from the static shapes: the same rank as
    `y_pred` with the same last dimension means one-hot; one rank less, or a
    trailing axis of size 1, means integer class indices. With K + 1 outputs
    (m-EDL) the index K is the unknown class. Integer labels outside
    `[0, K)` raise an error (see `keras_evidential.validation`); where
    `conditions` is a list, the label condition is appended to it instead,
    for the caller's one combined assert (`validation.assert_all`); with
    `checked=True` the caller has already checked these labels.
    """
    num_classes = y_pred.shape[-1]
    if num_classes is None or num_classes < 2:
        raise ValueError(
            "The prediction's last axis must hold a known number of classes "
            f">= 2. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    pred_rank = len(y_pred.shape)
    if pred_rank < 2:
        raise ValueError(
            "The prediction must have shape (batch, ..., K): one row of K "
            "class outputs per sample. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    true_rank = len(y_true.shape)
    if true_rank == pred_rank and y_true.shape[-1] == num_classes:
        y = ops.cast(y_true, y_pred.dtype)
        if checked:
            return y
        if conditions is None:
            assert_all(one_hot_condition(y))
        else:
            conditions.append(one_hot_condition(y))
        return y
    if true_rank == pred_rank and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif true_rank != pred_rank - 1:
        raise ValueError(
            "Expected integer labels of shape y_pred.shape[:-1] or one-hot "
            f"labels of shape y_pred.shape (last axis {num_classes}). "
            f"Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    # `one_hot` silently maps an out-of-range index to a row of zeros.
    if checked:
        pass
    elif conditions is None:
        check_labels(y_true, num_classes)
    else:
        condition = label_condition(y_true, num_classes)
        conditions.append(condition)
        if condition is not None:
            # The caller asserts after this one-hot, which eager PyTorch
            # would refuse for an out-of-range label before the assert could
            # name it: clipped here, the assert still fails on it.
            y_true = ops.clip(y_true, 0, num_classes - 1)
    return ops.one_hot(ops.cast(y_true, "int32"), num_classes, dtype=y_pred.dtype)


def num_known_classes(y_pred: Tensor, unknown_class: bool) -> int:
    """K, the number of known classes of a model output."""
    width = y_pred.shape[-1]
    if width is None:
        raise ValueError(
            "The prediction's last axis must hold a known number of classes. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    k = width - 1 if unknown_class else width
    if k < 2:
        raise ValueError(
            "Expected at least 2 known classes (plus the unknown class when "
            f"unknown_class=True). Received: y_pred.shape={tuple(y_pred.shape)}"
            f", unknown_class={unknown_class}"
        )
    return k


def open_set_labels(y_true: Tensor, y_pred: Tensor, unknown_class: bool) -> Tensor:
    """Integer labels in `[0, K]` (K = unknown) from integer or one-hot labels.

    Args:
        y_true: Integer labels of shape `y_pred.shape[:-1]` (or with a
            trailing axis of 1), or one-hot rows of `y_pred`'s width.
        y_pred: `alpha`, shape `(..., K)` or `(..., K + 1)`.
        unknown_class: Whether `y_pred`'s last column is m-EDL's class u.

    Returns:
        int32 labels of shape `y_pred.shape[:-1]`.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    k = num_known_classes(y_pred, unknown_class)
    width = y_pred.shape[-1]
    pred_rank = len(y_pred.shape)
    true_rank = len(y_true.shape)
    if true_rank == pred_rank and y_true.shape[-1] == width:
        labels = ops.argmax(y_true, axis=-1)
        no_class = ops.sum(ops.cast(y_true, "float32"), axis=-1) <= 0
        return ops.cast(ops.where(no_class, k, labels), "int32")
    if true_rank == pred_rank and y_true.shape[-1] == 1:
        labels = ops.squeeze(y_true, axis=-1)
    elif true_rank == pred_rank - 1:
        labels = y_true
    else:
        raise ValueError(
            "Expected integer labels of shape y_pred.shape[:-1] or one-hot "
            f"labels of shape y_pred.shape. Received: y_true.shape="
            f"{tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    check_labels(
        labels,
        k + 1,
        f"Open-set labels must lie in [0, {k}] for a model with {k} known "
        f"classes: 0..{k - 1} for the known classes and {k} for a sample of "
        "an unknown class.",
    )
    return ops.cast(labels, "int32")


def validate_ignore_class(ignore_class: int | None) -> int | None:
    """`ignore_class` as an int, or None; raises for anything else."""
    if ignore_class is None:
        return None
    return check_int(ignore_class, "ignore_class")


def ignored_labels(
    y_true: Tensor, y_pred: Tensor, ignore_class: int | None
) -> tuple[Tensor, Tensor | None]:
    """Integer labels with the ignored ones replaced, and the valid mask.

    Args:
        y_true: Integer labels of shape `y_pred.shape[:-1]` (or with a
            trailing axis of 1).
        y_pred: The prediction, shape `(..., K)`.
        ignore_class: None, or the label of the pixels to leave out.

    Returns:
        `(labels, valid)`: `y_true` unchanged and `None` where
        `ignore_class` is None; else the labels of shape `y_pred.shape[:-1]`
        with every `ignore_class` replaced by 0 (a valid class, so that the
        label check still refuses every other out-of-range label and the
        loss stays finite there) and the bool mask of the other pixels.
    """
    if ignore_class is None:
        return y_true, None
    y_true = ops.convert_to_tensor(y_true)
    pred_rank, true_rank = len(y_pred.shape), len(y_true.shape)
    if true_rank == pred_rank and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif true_rank != pred_rank - 1:
        raise ValueError(
            "`ignore_class` needs integer labels of shape y_pred.shape[:-1] "
            "(one-hot labels have no ignore value: give such pixels a "
            f"sample_weight of 0). Received: y_true.shape={tuple(y_true.shape)}"
            f", y_pred.shape={tuple(y_pred.shape)}, ignore_class={ignore_class}"
        )
    valid = ops.not_equal(y_true, ops.cast(ignore_class, y_true.dtype))
    return ops.where(valid, y_true, ops.zeros_like(y_true)), valid


def mask_ignored(losses: Tensor, valid: Tensor | None) -> Tensor:
    """Per-element `losses` with the ignored elements zeroed and masked.

    Keras's loss reduction reads the mask: `"sum_over_batch_size"` becomes
    the mean over the valid elements. A batch with no valid element gives 0.
    `valid=None` (no `ignore_class`) returns `losses` unchanged.
    """
    if valid is None:
        return losses
    losses = ops.where(valid, losses, ops.zeros_like(losses))
    set_loss_mask(losses, valid)
    return losses


def class_balanced_weights(
    labels: ArrayLike, num_classes: int, ignore_class: int | None = None
) -> np.ndarray:
    """Median-frequency class weights of dense integer labels (NumPy).

    Formula:
    ```
    f_c = (pixels of class c) / (pixels of the images where c appears)
    w_c = median_c(f_c) / f_c
    ```

    Rare classes get weights above 1, frequent ones below; a class that
    never appears gets weight 0 (it has no pixel to weigh). Pass the weights
    to `fit` as a per-pixel `sample_weight` with `pixel_sample_weights`.

    Args:
        labels: Integer labels, shape `(images, ...)`.
        num_classes: K, the number of classes.
        ignore_class: Optional label of pixels to leave out.

    Returns:
        float64 weights of shape `(num_classes,)`.

    Example:

    >>> labels = np.array([[0, 0, 0, 1], [0, 0, 1, 255]])
    >>> keras_evidential.labels.class_balanced_weights(labels, 2, ignore_class=255)
    array([0.7 , 1.75])

    (f_0 = 5 / 7 and f_1 = 2 / 7 over the 7 valid pixels, median 1 / 2.)

    Reference:
    - Eigen & Fergus, "Predicting Depth, Surface Normals and Semantic Labels
      with a Common Multi-Scale Convolutional Architecture", ICCV 2015
    """
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    labels = np.asarray(labels)
    images = labels.reshape(labels.shape[0], -1)
    valid = np.ones(images.shape, bool) if ignore_class is None else (
        images != validate_ignore_class(ignore_class)
    )
    if np.any(images[valid] < 0) or np.any(images[valid] >= num_classes):
        raise ValueError(
            f"`labels` must be class indices in [0, {num_classes})"
            f"{'' if ignore_class is None else f' or ignore_class={ignore_class}'}."
            f" Received: labels with min={images[valid].min()}, "
            f"max={images[valid].max()}"
        )
    counts = np.zeros((images.shape[0], num_classes))
    for row, (image, keep) in enumerate(zip(images, valid)):
        counts[row] = np.bincount(image[keep], minlength=num_classes)
    present = counts > 0
    pixels_where_present = np.sum(counts, axis=1) @ present
    frequency = np.divide(
        counts.sum(axis=0), pixels_where_present,
        out=np.zeros(num_classes), where=pixels_where_present > 0,
    )
    seen = frequency > 0
    return np.where(seen, np.median(frequency[seen]) / np.where(seen, frequency, 1), 0.0)


def pixel_sample_weights(
    labels: ArrayLike, class_weights: ArrayLike, ignore_class: int | None = None
) -> np.ndarray:
    """The per-pixel `sample_weight` of dense labels: `class_weights[label]`,
    0 at `ignore_class` (NumPy, for `fit(..., sample_weight=...)`).

    Example:

    >>> keras_evidential.labels.pixel_sample_weights(
    ...     np.array([[0, 1, 255]]), np.array([0.5, 2.0]), ignore_class=255)
    array([[0.5, 2. , 0. ]])
    """
    labels = np.asarray(labels)
    class_weights = np.asarray(class_weights, "float64")
    valid = np.ones(labels.shape, bool) if ignore_class is None else (
        labels != validate_ignore_class(ignore_class)
    )
    return np.where(valid, class_weights[np.where(valid, labels, 0)], 0.0)
