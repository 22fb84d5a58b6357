"""DAEDLLoss: the training loss of density-aware EDL (Yoon & Kim, ICML 2024)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import validate_ignore_class
from keras_evidential.losses.coefficients import kl_weight_variable
from keras_evidential.losses.edl_loss import edl_terms
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes
from keras_evidential.validation import Condition


def daedl_loss(
    y_true: Tensor,
    alpha: Tensor,
    kl_weight: float = 0.0,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample DAEDL loss: EDL's expected squared error and KL for
    `alpha = exp(z) > 0`.

    Formula:
    ```
    loss_i = E_{pi ~ Dir(alpha_i)} ||y_i - pi||^2
             + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))
    ```

    Args:
        y_true: Integer or one-hot labels.
        alpha: Concentrations `exp(z)`, shape `(..., K)`, every entry > 0.
        kl_weight: The KL coefficient.
        validate: Whether to check the labels and that `alpha` is finite and
            > 0, in one assert.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `edl_loss`): their loss is 0 and masked.

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Density Aware Evidential Deep
      Learning", ICML 2024, eq. 2
    """
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha, minimum=0.0))
    return mask_ignored(edl_terms(y, alpha, "mse", kl_weight), valid)


@keras.saving.register_keras_serializable(package="keras_evidential")
class DAEDLLoss(DeclaredAttributes, keras.losses.Loss):
    """EDL's expected squared error and KL for `alpha = exp(z)` (DAEDL).

    Formula:
    ```
    loss = mean_i [E_{pi ~ Dir(alpha_i)} ||y_i - pi||^2
                   + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))]
    alpha = exp(z)   (no "+ 1"; alpha > 0)
    ```

    The same two terms as `EDLLoss(risk="mse")` (Yoon & Kim, eq. 2), for
    DAEDL's concentrations `alpha = exp(logits)`, which may lie below 1 (its
    mean is then softmax(logits)). The model ends in `DensityAwareDirichlet`;
    at test time that layer scales the logits by the fitted feature density.
    `kl_weight` is a non-trainable variable that `KLAnnealing` schedules.

    Args:
        kl_weight: Float >= 0, the initial KL coefficient. Defaults to `0.0`.
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss, its gradient and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy` (255 in most
            segmentation sets). Needs integer labels. Defaults to None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations.

    Example:

    >>> loss = keras_evidential.losses.DAEDLLoss()
    >>> round(float(loss(np.array([0]), np.array([[1.0, 1.0]]))), 4)
    0.6667

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Density Aware Evidential Deep
      Learning", ICML 2024, eq. 2 and section 3.2
    """

    def __init__(
        self,
        kl_weight: float = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "daedl_loss",
        dtype: str | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.kl_weight = kl_weight_variable(kl_weight, self.dtype)
        self.ignore_class = validate_ignore_class(ignore_class)
        declare_attributes(self, DAEDLLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return daedl_loss(
            y_true, y_pred, self.kl_weight, validate=True,
            ignore_class=self.ignore_class,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["kl_weight"] = float(ops.convert_to_numpy(self.kl_weight))
        config["ignore_class"] = self.ignore_class
        return config
