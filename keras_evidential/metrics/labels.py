"""Labels and predictions of evidential classifiers, with an unknown class.

The convention shared by every metric, curve and report of this package:

- `y_pred` is the model output `alpha`. With `unknown_head=False` it has K
  columns (a `DirichletOutput` model, EDL); with `unknown_head=True` it has
  K + 1, the last being m-EDL's unknown class u (an `UnknownClassHead`
  model).
- `y_true` holds integer labels in `[0, K]` (shape `alpha.shape[:-1]`, or with
  a trailing axis of 1) where the label K marks a sample of an unknown class,
  in both cases. One-hot labels of `alpha`'s width also work; an all-zero
  row marks an unknown sample (as in m-EDL's reference code).
- A prediction is an integer in `[0, K]`, K meaning "unknown". Without a
  threshold, an EDL model predicts `argmax_k alpha_k` and never "unknown",
  an m-EDL model `argmax` over its K + 1 outputs. With an uncertainty
  threshold `t`, either model predicts `argmax` over the K known classes
  and "unknown" where the vacuity `K / S` of the known-class Dirichlet
  exceeds `t` (a sample with vacuity `<= t` is kept); for an m-EDL model this
  is its `p_bar` with EDL's rule (Nagahama, 2023, Fig. 3b).
"""

from keras import ops

from keras_evidential.dirichlet import vacuity


def num_known_classes(y_pred, unknown_head):
    """K, the number of known classes of a model output."""
    width = y_pred.shape[-1]
    if width is None:
        raise ValueError(
            "The prediction's last axis must hold a known number of classes. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    k = width - 1 if unknown_head else width
    if k < 2:
        raise ValueError(
            "Expected at least 2 known classes (plus the unknown class when "
            f"unknown_head=True). Received: y_pred.shape={tuple(y_pred.shape)}"
            f", unknown_head={unknown_head}"
        )
    return k


def known_alpha(y_pred, unknown_head):
    """The concentrations of the K known classes.

    m-EDL's `alpha_u = K + 1` is a constant, so the known-class Dirichlet
    carries all of an m-EDL output's information: its vacuity ranks samples
    exactly as `p_hat_u` does.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    return y_pred[..., :-1] if unknown_head else y_pred


def class_labels(y_true, y_pred, unknown_head):
    """Integer labels in `[0, K]` (K = unknown) from integer or one-hot labels.

    Integer labels above K also count as unknown.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    k = num_known_classes(y_pred, unknown_head)
    width = y_pred.shape[-1]
    pred_rank = len(y_pred.shape)
    true_rank = len(y_true.shape)
    if true_rank == pred_rank and y_true.shape[-1] == width:
        labels = ops.argmax(y_true, axis=-1)
        no_class = ops.sum(ops.cast(y_true, "float32"), axis=-1) <= 0
        labels = ops.where(no_class, k, labels)
    elif true_rank == pred_rank and y_true.shape[-1] == 1:
        labels = ops.squeeze(y_true, axis=-1)
    elif true_rank == pred_rank - 1:
        labels = y_true
    else:
        raise ValueError(
            "Expected integer labels of shape y_pred.shape[:-1] or one-hot "
            f"labels of shape y_pred.shape. Received: y_true.shape="
            f"{tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    return ops.minimum(ops.cast(labels, "int32"), k)


def validate_threshold(threshold):
    """Returns `threshold` as a float (or None); raises on other values."""
    if threshold is None:
        return None
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not value >= 0:
        raise ValueError(
            "`threshold` must be None or a number >= 0 (a vacuity in (0, 1]). "
            f"Received: threshold={threshold!r}"
        )
    return value


def predict_labels(y_pred, unknown_head, threshold=None):
    """Predicted labels in `[0, K]`, K meaning "unknown" (see module doc).

    Args:
        y_pred: `alpha`, shape `(..., K)` or `(..., K + 1)`.
        unknown_head: Whether `y_pred`'s last column is m-EDL's class u.
        threshold: None, or a vacuity threshold: samples whose vacuity
            `K / S` exceeds it are predicted "unknown".
    """
    y_pred = ops.convert_to_tensor(y_pred)
    k = num_known_classes(y_pred, unknown_head)
    alpha = known_alpha(y_pred, unknown_head)
    if threshold is None:
        source = y_pred if unknown_head else alpha
        return ops.cast(ops.argmax(source, axis=-1), "int32")
    labels = ops.cast(ops.argmax(alpha, axis=-1), "int32")
    rejected = vacuity(alpha) > ops.cast(threshold, alpha.dtype)
    return ops.where(rejected, k, labels)
