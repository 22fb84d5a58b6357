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
"""

from keras import ops

from keras_evidential.validation import assert_all
from keras_evidential.validation import check_labels
from keras_evidential.validation import label_condition
from keras_evidential.validation import one_hot_condition


def one_hot_targets(y_true, y_pred, conditions=None, checked=False):
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


def num_known_classes(y_pred, unknown_class):
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


def open_set_labels(y_true, y_pred, unknown_class):
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
