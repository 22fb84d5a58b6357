"""IEDLLoss: Fisher-information-based EDL (Deng et al., ICML 2023)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.dirichlet import fisher_sum_of_squares_risk
from keras_evidential.dirichlet import log_fisher_determinant
from keras_evidential.dirichlet import misleading_evidence_kl
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import validate_ignore_class
from keras_evidential.losses.coefficients import kl_weight_variable
from keras_evidential.losses.coefficients import validate_coefficient
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes
from keras_evidential.validation import Condition


def iedl_loss(
    y_true: Tensor,
    alpha: Tensor,
    fisher_weight: float = 0.005,
    kl_weight: float = 0.0,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample I-EDL loss.

    Formula:
    ```
    loss_i = L_I-MSE(y_i, alpha_i) - fisher_weight * log |I(alpha_i)|
             + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))
    ```

    Args:
        y_true: Integer labels of shape `alpha.shape[:-1]` or one-hot labels.
        alpha: Dirichlet concentrations `(..., K)`, every entry >= 1.
        fisher_weight: I-EDL's lambda_1 (0.005 for MNIST in the paper).
        kl_weight: The KL coefficient (annealed `min(1, t / T)` in the paper).
        validate: Whether to check that `alpha` is finite and >= 1.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `edl_loss`): their loss is 0 and masked.

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.
    """
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha))
    return mask_ignored(
        fisher_sum_of_squares_risk(y, alpha)
        - fisher_weight * log_fisher_determinant(alpha)
        + kl_weight * misleading_evidence_kl(y, alpha),
        valid,
    )


@keras.saving.register_keras_serializable(package="keras_evidential")
class IEDLLoss(DeclaredAttributes, keras.losses.Loss):
    """I-EDL: the Fisher-information-weighted evidential loss.

    Formula:
    ```
    loss = mean_i [sum_j ((y_ij - p_ij)^2 + p_ij (1 - p_ij) / (S_i + 1)) psi1(alpha_ij)
                   - fisher_weight * log |I(alpha_i)|
                   + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))]
    ```

    with `p = alpha / S`, `psi1` the trigamma function, `I(alpha)` the Fisher
    information of `Dir(alpha)` and `alpha_tilde = y + (1 - y) alpha`. The
    Fisher weights make low-evidence classes count more; the log-determinant
    keeps the evidence from growing without bound. The model outputs
    `alpha` (`DirichletOutput`; the paper uses softplus evidence).
    `kl_weight` is a non-trainable variable that `KLAnnealing` schedules.

    Args:
        fisher_weight: Float >= 0, the coefficient of `-log |I(alpha)|`.
            Defaults to `0.005`, the paper's MNIST value (0.01 FMNIST, 0.05
            CIFAR-10).
        kl_weight: Float >= 0, the initial KL coefficient. Defaults to `0.0`.
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss, its gradient and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy` (255 in most
            segmentation sets). Needs integer labels. Defaults to None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations (float32 also under
            mixed precision).

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)), keras.layers.Dense(10),
    ...     keras_evidential.layers.DirichletOutput(evidence="softplus")])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.IEDLLoss(fisher_weight=0.005))
    >>> loss = keras_evidential.losses.IEDLLoss(fisher_weight=0.0)
    >>> round(float(loss(np.array([0]), np.array([[2.0, 1.0]]))), 4)
    0.3816

    Reference:
    - Deng, Chen, Yu, Liu, Heng, "Uncertainty Estimation by Fisher
      Information-based Evidential Deep Learning", ICML 2023, eq. 5
    """

    def __init__(
        self,
        fisher_weight: float = 0.005,
        kl_weight: float = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "iedl_loss",
        dtype: str | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fisher_weight = validate_coefficient(fisher_weight, "fisher_weight")
        self.kl_weight = kl_weight_variable(kl_weight, self.dtype)
        self.ignore_class = validate_ignore_class(ignore_class)
        declare_attributes(self, IEDLLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return iedl_loss(
            y_true, y_pred, self.fisher_weight, self.kl_weight, validate=True,
            ignore_class=self.ignore_class,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "fisher_weight": self.fisher_weight,
                "kl_weight": float(ops.convert_to_numpy(self.kl_weight)),
                "ignore_class": self.ignore_class,
            }
        )
        return config
