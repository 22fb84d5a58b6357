"""Predictions of evidential classifiers, with an unknown class.

The convention shared by every metric, curve and report of this package:

- `y_pred` is the model output `alpha`. With `unknown_class=False` it has K
  columns (a `DirichletOutput` model, EDL); with `unknown_class=True` it has
  K + 1, the last being m-EDL's unknown class u (an `UnknownClassHead`
  model).
- `y_true` holds integer labels in `[0, K]` where the label K marks a sample
  of an unknown class, in both cases (see `keras_evidential.labels`).
- A prediction is an integer in `[0, K]`, K meaning "unknown". Without a
  threshold, an EDL model predicts `argmax_k alpha_k` and never "unknown",
  an m-EDL model `argmax` over its K + 1 outputs. With an uncertainty
  threshold `t`, either model predicts `argmax` over the K known classes
  and "unknown" where the vacuity `K / S` of the known-class Dirichlet
  exceeds `t` (a sample with vacuity `<= t` is kept); for an m-EDL model this
  is its `p_bar` with EDL's rule (Nagahama, 2023, Fig. 3b). A head with
  R-EDL's prior weight `lambda` (`DirichletOutput(prior_concentration=lambda)`,
  `alpha = e + lambda`) has the vacuity `lambda K / S`: pass `prior_concentration`.
- F-EDL's `FlexibleDirichletOutput` packs `[alpha, p, tau]`; with
  `flexible=True` it is read as the Dirichlet with the same mean, `alpha +
  tau p`, exactly as `keras_evidential.model_kind` and the evaluation read it.

`keras_evidential.metrics.for_model` reads these settings from a model.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.dirichlet import vacuity
from keras_evidential.labels import num_known_classes  # noqa: F401 (re-exported)
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_bool
from keras_evidential.validation import check_number


@renamed_argument("prior_weight", "prior_concentration")
def check_output_settings(
    metric: keras.metrics.Metric,
    unknown_class: bool,
    prior_concentration: float,
    minimum_alpha: float | None,
    flexible: bool,
) -> None:
    """Sets a metric's output settings as attributes, after checking them
    by the package's one rule for constructor arguments."""
    metric.unknown_class = check_bool(unknown_class, "unknown_class")
    metric.prior_concentration = check_number(
        prior_concentration, "prior_concentration", low=0, low_open=True
    )
    metric.minimum_alpha = check_number(
        minimum_alpha, "minimum_alpha", low=0, allow_none=True
    )
    metric.flexible = check_bool(flexible, "flexible")
    if metric.flexible and metric.unknown_class:
        raise ValueError(
            "F-EDL's packed output has no unknown class: `flexible=True` "
            "needs `unknown_class=False`. Received: unknown_class=True"
        )


def dirichlet_alpha(y_pred: Tensor, flexible: bool = False) -> Tensor:
    """The Dirichlet `alpha` of a model output (float32 or wider).

    `keras_evidential.ModelKind.to_alpha`, the one definition: float16 is
    widened (S overflows it) and F-EDL's packed `[alpha, p, tau]` becomes
    `alpha + tau p`.
    """
    # Imported here: `model_kind` imports the losses, which import the
    # label convention of this package.
    from keras_evidential.model_kind import ModelKind

    kind = ModelKind(
        "alpha", False, 0, minimum_alpha=0.0 if flexible else 1.0,
        flexible=flexible,
    )
    return kind.to_alpha(y_pred)




def known_alpha(y_pred: Tensor, unknown_class: bool) -> Tensor:
    """The concentrations of the K known classes.

    With `UnknownClassHead`, m-EDL's `alpha_u = K + 1` is a constant, so the
    known-class Dirichlet carries all of the output's information and its
    vacuity ranks samples exactly as `p_hat_u` does. With
    `LearnedUnknownClassHead` (`alpha_u = K + 1 + e_u`) it does not: the
    known classes' scores leave `e_u` out, and
    `evaluation.uncertainty_measures(...)["unknown_probability"]` is
    `p_hat_u` itself.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    return y_pred[..., :-1] if unknown_class else y_pred


def validate_threshold(threshold: float | None) -> float | None:
    """Returns `threshold` as a float (or None); raises unless it is None or
    a number in [0, 1], the one rule for vacuity thresholds (the vacuity
    `lambda K / S` lies in (0, 1] for `alpha >= lambda`; 0 rejects all)."""
    return check_number(threshold, "threshold", 0, 1, allow_none=True)


@renamed_argument("prior_weight", "prior_concentration")
def predict_labels(
    y_pred: Tensor,
    unknown_class: bool,
    threshold: float | None = None,
    prior_concentration: float = 1.0,
) -> Tensor:
    """Predicted labels in `[0, K]`, K meaning "unknown" (see module doc).

    Args:
        y_pred: `alpha`, shape `(..., K)` or `(..., K + 1)`.
        unknown_class: Whether `y_pred`'s last column is m-EDL's class u.
        threshold: None, or a vacuity threshold: samples whose vacuity
            `prior_concentration K / S` exceeds it are predicted "unknown".
        prior_concentration: The prior weight `lambda` of the head (`alpha = e +
            lambda`); 1 (default) is EDL's.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    k = num_known_classes(y_pred, unknown_class)
    alpha = known_alpha(y_pred, unknown_class)
    if threshold is None:
        source = y_pred if unknown_class else alpha
        return ops.cast(ops.argmax(source, axis=-1), "int32")
    labels = ops.cast(ops.argmax(alpha, axis=-1), "int32")
    rejected = vacuity(alpha, prior_concentration) > ops.cast(threshold, alpha.dtype)
    return ops.where(rejected, k, labels)
