"""BetaEDLLoss: the evidential loss of binary and multi-label Beta heads."""

from __future__ import annotations

from typing import Any
from typing import Sequence

import keras
from keras import ops

from keras_evidential.beta import RISKS
from keras_evidential.beta import beta_risk
from keras_evidential.beta import misleading_evidence_kl
from keras_evidential.keras_compat import in_stateless_scope
from keras_evidential.losses.coefficients import kl_weight_variable
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import binary_label_condition
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_number
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes

DEFAULT_MASK_VALUE = -1.0


def beta_edl_loss(
    y_true: Tensor,
    params: Tensor,
    risk: str = "mse",
    kl_weight: float | Tensor = 0.0,
    label_weights: Sequence[float] | None = None,
    mask_value: float | None = DEFAULT_MASK_VALUE,
    validate: bool = False,
) -> Tensor:
    """Per-sample EDL loss of L binary labels under Beta predictions.

    Formula:
    ```
    loss_i = sum_l m_il w_l [risk(y_il, alpha_il, beta_il)
                             + kl_weight KL(Beta(alpha~_il, beta~_il) || Beta(1, 1))]
             / max(1, sum_l m_il)
    m_il = 1 where y_il != mask_value, else 0
    ```

    The mean over the sample's observed labels (a sample with none
    observed contributes 0), so that a sample's loss does not grow with
    the number of labels, as `binary_crossentropy` averages over them. For
    L = 1 and no mask it is `edl_loss` of the K = 2 Dirichlet
    (present, absent). The terms are those of `keras_evidential.beta`.

    Args:
        y_true: 0/1 labels of shape `params.shape[:-1]` (a binary model,
            L = 1, also takes shape `params.shape[:-2]`), `mask_value` where
            a label is missing.
        params: `(alpha, beta)` per label, shape `(..., L, 2)`, each >= 1
            (the output of `BetaOutput`).
        risk: `"mse"` (default), `"log"` or `"digamma"`.
        kl_weight: The KL coefficient (a float or a scalar tensor).
        label_weights: Optional L non-negative weights `w_l` (class
            balance); defaults to 1 for every label.
        mask_value: The label value of a missing label, or None for none.
            Defaults to -1.
        validate: Whether to check the labels (0, 1 or `mask_value`) and
            that `params` is finite and >= 1, in one assert.

    Returns:
        The loss per sample, shape `params.shape[:-2]`.
    """
    params = ops.convert_to_tensor(params)
    y = _labels(y_true, params)
    if validate:
        assert_all(
            binary_label_condition(y, mask_value),
            concentration_condition(
                params,
                message="`y_pred` must hold finite Beta parameters alpha, beta "
                ">= 1 (the output of `BetaOutput`); it may not contain NaN or inf.",
            ),
        )
    y = ops.cast(y, params.dtype)
    if mask_value is None:
        observed = ops.ones_like(y)
    else:
        observed = ops.cast(ops.not_equal(y, mask_value), params.dtype)
    # A masked label's target is set to 0 before the terms: its value is
    # no label, and a value such as -1 would make the KL's alpha~ negative
    # (NaN times a zero mask is still NaN).
    y = y * observed
    terms = beta_risk(y, params, risk) + kl_weight * misleading_evidence_kl(y, params)
    weight = observed
    if label_weights is not None:
        weight = weight * ops.cast(label_weights, params.dtype)
    count = ops.maximum(ops.sum(observed, axis=-1), 1.0)
    return ops.sum(weight * terms, axis=-1) / count


def _labels(y_true, params):
    y_true = ops.convert_to_tensor(y_true)
    # Rank 3 at least: a K = 2 Dirichlet's (batch, 2) would otherwise read
    # as one sample of `batch` labels.
    if len(params.shape) < 3 or params.shape[-1] != 2:
        raise ValueError(
            "`y_pred` must have shape (batch, ..., L, 2): (alpha, beta) per "
            "label, as `BetaOutput` outputs. "
            f"Received: y_pred.shape={tuple(params.shape)}"
        )
    label_rank = len(params.shape) - 1
    if len(y_true.shape) == label_rank - 1 and params.shape[-2] == 1:
        y_true = ops.expand_dims(y_true, -1)
    if len(y_true.shape) != label_rank or y_true.shape[-1] != params.shape[-2]:
        raise ValueError(
            "Expected one 0/1 label per Beta, of shape y_pred.shape[:-1]. "
            f"Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(params.shape)}"
        )
    return y_true


def _checked_label_weights(label_weights):
    if label_weights is None:
        return None
    try:
        values = [float(w) for w in label_weights]
    except (TypeError, ValueError):
        values = None
    if not values or any(not (w >= 0.0 and w < float("inf")) for w in values):
        raise ValueError(
            "`label_weights` must be None or a list of finite numbers >= 0, "
            f"one per label. Received: label_weights={label_weights!r}"
        )
    return values


@keras.saving.register_keras_serializable(package="keras_evidential")
class BetaEDLLoss(DeclaredAttributes, keras.losses.Loss):
    """Evidential loss for binary and multi-label models ending in `BetaOutput`.

    Formula:
    ```
    loss = mean_i [sum_l m_il w_l (risk_il + kl_weight KL_il) / max(1, sum_l m_il)]
    ```

    per label the Bayes risk of a Bernoulli under `Beta(alpha_l, beta_l)`
    and the KL of the misleading evidence to `Beta(1, 1)`, the K = 2 case
    of `EDLLoss` (see `beta_edl_loss`). Labels equal to `mask_value` are
    missing: they are left out of the loss and of the mean's count.
    Sample weights come through Keras (`fit(..., sample_weight=...)`),
    per-label weights through `label_weights`.

    `kl_weight` is a non-trainable `keras.Variable`, so `KLAnnealing` (or
    any `CoefficientSchedule`) anneals it as it does `EDLLoss`'s. Monitor
    the risk, not `val_loss`, when the KL weight changes between epochs.

    Args:
        risk: `"mse"` (default), `"log"` or `"digamma"`.
        kl_weight: Float >= 0, the initial KL coefficient. Defaults to 0.
        label_weights: Optional list of L floats >= 0, one per label.
        mask_value: The value of a missing label (default -1), or None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations. Defaults to
            `keras.backend.floatx()` (float32 also under mixed precision).

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((8,)), keras.layers.Dense(2 * 3),
    ...     keras_evidential.layers.BetaOutput()])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.BetaEDLLoss(kl_weight=0.1))

    One label with `(alpha, beta) = (3, 1)`, present: p = 0.75, the risk
    2 (1 - 0.75)^2 + 2 * 0.75 * 0.25 / 5 = 0.2; the second label is missing
    (-1) and left out:

    >>> loss = keras_evidential.losses.BetaEDLLoss()
    >>> round(float(loss(np.array([[1.0, -1.0]]),
    ...                  np.array([[[3.0, 1.0], [1.0, 9.0]]]))), 6)
    0.2

    Reference:
    - Aguilar, Raducanu, Radeva, "Multi-label out-of-distribution
      detection via evidential learning", 2025, arXiv:2502.18224
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    def __init__(
        self,
        risk: str = "mse",
        kl_weight: float = 0.0,
        label_weights: Sequence[float] | None = None,
        mask_value: float | None = DEFAULT_MASK_VALUE,
        reduction: str | None = "sum_over_batch_size",
        name: str = "beta_edl_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice(risk, "risk", RISKS)
        kl_weight = check_number(kl_weight, "kl_weight", low=0)
        mask_value = check_number(mask_value, "mask_value", allow_none=True)
        if mask_value in (0.0, 1.0):
            raise ValueError(
                "`mask_value` must differ from the labels 0 and 1. "
                f"Received: mask_value={mask_value!r}"
            )
        if in_stateless_scope():
            raise ValueError(
                "BetaEDLLoss holds a variable (kl_weight), which Keras cannot "
                "create inside a training step. Compile with an instance, "
                "loss=BetaEDLLoss(...). Received: the class BetaEDLLoss, "
                "instantiated inside a step"
            )
        self.risk = risk
        self.label_weights = _checked_label_weights(label_weights)
        self.mask_value = mask_value
        self.kl_weight = kl_weight_variable(kl_weight, self.dtype)
        declare_attributes(self, BetaEDLLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        if self.label_weights is not None and len(self.label_weights) != y_pred.shape[-2]:
            raise ValueError(
                f"`label_weights` must hold one weight per label ({y_pred.shape[-2]}). "
                f"Received: label_weights={self.label_weights}"
            )
        return beta_edl_loss(
            y_true, y_pred, self.risk, self.kl_weight, self.label_weights,
            self.mask_value, validate=True,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "risk": self.risk,
                "kl_weight": float(ops.convert_to_numpy(self.kl_weight)),
                "label_weights": self.label_weights,
                "mask_value": self.mask_value,
            }
        )
        return config
