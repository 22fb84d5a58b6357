"""PosteriorNetworkLoss: the Bayesian loss of Posterior Network (Charpentier
et al., NeurIPS 2020): uncertainty-aware cross-entropy minus an entropy bonus."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.dirichlet import differential_entropy
from keras_evidential.dirichlet import digamma_risk
from keras_evidential.labels import one_hot_targets
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import check_number
from keras_evidential.validation import Condition
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes

# The paper's weight of the entropy term (section 3; its code's `regr`).
DEFAULT_ENTROPY_WEIGHT = 1e-5


def posterior_network_loss(
    y_true: Tensor,
    alpha: Tensor,
    entropy_weight: float = DEFAULT_ENTROPY_WEIGHT,
    validate: bool = False,
) -> Tensor:
    """Per-sample Posterior Network loss: the expected cross-entropy under
    `Dir(alpha)` minus the weighted entropy of `Dir(alpha)`.

    Formula:
    ```
    UCE_i = E_{p ~ Dir(alpha_i)}[-sum_c y_ic log p_c]
          = sum_c y_ic (digamma(alpha_0i) - digamma(alpha_ic))
    loss_i = UCE_i - entropy_weight * H(Dir(alpha_i))
    ```

    Args:
        y_true: Integer labels of shape `alpha.shape[:-1]` or one-hot labels
            of shape `alpha.shape`.
        alpha: Dirichlet concentrations, shape `(..., K)`, every entry >= 1
            (`PosteriorNetworkOutput`'s `1 + N_c q(z | c)`).
        entropy_weight: The entropy coefficient (the paper's 1e-5).
        validate: Whether to check the labels and that `alpha` is finite and
            >= 1, in one assert.

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.

    Reference:
    - Charpentier, Zügner & Günnemann, "Posterior Network: Uncertainty
      Estimation without OOD Samples via Density-Based Pseudo-Counts",
      NeurIPS 2020, eq. 7 and appendix A.2 (eq. 10 prints the UCE with the
      opposite sign; its code, and `E[-log p_c]`, have the one above)
    - Biloš, Charpentier & Günnemann, "Uncertainty on Asynchronous Time
      Event Prediction", NeurIPS 2019 (the UCE loss)
    """
    conditions: list[Condition | None] = []
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha))
    return digamma_risk(y, alpha) - entropy_weight * differential_entropy(alpha)


@keras.saving.register_keras_serializable(package="keras_evidential")
class PosteriorNetworkLoss(DeclaredAttributes, keras.losses.Loss):
    """Uncertainty-aware cross-entropy with Posterior Network's entropy bonus.

    Formula:
    ```
    loss = mean_i [sum_c y_ic (digamma(alpha_0i) - digamma(alpha_ic))
                   - entropy_weight * H(Dir(alpha_i))]
    ```

    The expected cross-entropy of a categorical `p ~ Dir(alpha)` (the UCE,
    EDL's `"digamma"` risk) minus a small multiple of the Dirichlet's
    differential entropy, which favours smooth Dirichlets (Charpentier et al.,
    eq. 7). For `PosteriorNetworkOutput`'s `alpha = 1 + N_c q(z | c)`; any
    `alpha >= 1` is accepted. The paper sums over the batch; Keras's mean
    differs by a constant factor, which Adam's step ignores.

    Args:
        entropy_weight: Finite float >= 0, the entropy coefficient. Defaults
            to `1e-5`, the paper's.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations.

    Example:

    >>> loss = keras_evidential.losses.PosteriorNetworkLoss(entropy_weight=0.0)
    >>> # digamma(4) - digamma(3) = 1 / 3
    >>> round(float(loss(np.array([0]), np.array([[3.0, 1.0]]))), 4)
    0.3333

    Reference:
    - Charpentier, Zügner & Günnemann, "Posterior Network: Uncertainty
      Estimation without OOD Samples via Density-Based Pseudo-Counts",
      NeurIPS 2020, eq. 7 and appendix A.2
    """

    def __init__(
        self,
        entropy_weight: float = DEFAULT_ENTROPY_WEIGHT,
        reduction: str | None = "sum_over_batch_size",
        name: str = "posterior_network_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.entropy_weight = check_number(entropy_weight, "entropy_weight", low=0)
        declare_attributes(self, PosteriorNetworkLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return posterior_network_loss(
            y_true, y_pred, self.entropy_weight, validate=True
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["entropy_weight"] = self.entropy_weight
        return config
