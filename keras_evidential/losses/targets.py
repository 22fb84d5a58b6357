"""Turning Keras labels (integer or one-hot) into one-hot targets."""

from keras import ops

from keras_evidential.losses.validation import check_labels


def one_hot_targets(y_true, y_pred):
    """One-hot targets of `y_pred`'s width from integer or one-hot labels.

    Which form `y_true` has is read from the static shapes: the same rank as
    `y_pred` with the same last dimension means one-hot; one rank less, or a
    trailing axis of size 1, means integer class indices. With K + 1 outputs
    (m-EDL) the index K is the unknown class. Integer labels outside
    `[0, K)` raise an error (see `keras_evidential.losses.validation`).
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
        return ops.cast(y_true, y_pred.dtype)
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
    check_labels(y_true, num_classes)
    return ops.one_hot(ops.cast(y_true, "int32"), num_classes, dtype=y_pred.dtype)
