"""PriorNetworkLoss: the reverse-KL loss of Prior Networks (Malinin & Gales, 2019)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.dirichlet import dirichlet_kl
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import validate_ignore_class
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_labels
from keras_evidential.validation import check_number
from keras_evidential.validation import declare_attributes


def prior_network_targets(
    y_true: Tensor, alpha: Tensor, target_concentration: float
) -> Tensor:
    """Target concentrations: `1 + target_concentration * y`, flat `Dir(1)` for label K.

    `y_true` holds integer labels in `[0, K]` (K = out-of-distribution, as
    m-EDL's unknown class) or one-hot rows of width K (an all-zero row is
    out-of-distribution).
    """
    k = alpha.shape[-1]
    if k is None or len(alpha.shape) < 2:
        raise ValueError(
            "The prediction must have shape (batch, ..., K) with a known K. "
            f"Received: y_pred.shape={tuple(alpha.shape)}"
        )
    if len(y_true.shape) == len(alpha.shape) and y_true.shape[-1] == k:
        y = ops.cast(y_true, alpha.dtype)
    else:
        if len(y_true.shape) == len(alpha.shape) and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        if len(y_true.shape) != len(alpha.shape) - 1:
            raise ValueError(
                "Expected integer labels of shape y_pred.shape[:-1] (label K = "
                "out-of-distribution) or one-hot labels of shape y_pred.shape. "
                f"Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(alpha.shape)}"
            )
        check_labels(
            y_true, k + 1,
            f"Prior Networks' labels must lie in [0, {k}] for a model with {k} "
            f"classes: 0..{k - 1} for in-distribution samples and {k} for an "
            "out-of-distribution sample (whose target is the flat Dir(1)).",
        )
        y = ops.one_hot(ops.cast(y_true, "int32"), k + 1, dtype=alpha.dtype)[..., :k]
    return 1.0 + ops.cast(target_concentration, alpha.dtype) * y


def prior_network_loss(
    y_true: Tensor,
    alpha: Tensor,
    target_concentration: float = 100.0,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample reverse-KL loss of Prior Networks.

    Formula:
    ```
    loss_i = KL(Dir(alpha_i) || Dir(beta_i))
    beta_i = 1 + target_concentration * onehot(y_i)   (flat Dir(1) for label K)
    ```

    Args:
        y_true: Integer labels in `[0, K]` (K: out-of-distribution) or
            one-hot rows (an all-zero row: out-of-distribution).
        alpha: Concentrations, shape `(..., K)`, every entry > 0.
        target_concentration: The evidence the target puts on the true class.
        validate: Whether to check that `alpha` is finite and > 0.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `keras_evidential.losses.edl_loss`): their loss
            is 0 and masked.

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.

    Reference:
    - Malinin & Gales, "Reverse KL-Divergence Training of Prior Networks",
      NeurIPS 2019
    """
    if validate:
        check_concentrations(alpha, minimum=0.0)
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    return mask_ignored(
        dirichlet_kl(alpha, prior_network_targets(y_true, alpha, target_concentration)),
        valid,
    )


@keras.saving.register_keras_serializable(package="keras_evidential")
class PriorNetworkLoss(DeclaredAttributes, keras.losses.Loss):
    """Reverse KL to a target Dirichlet: sharp for known classes, flat for OOD.

    Formula:
    ```
    loss = mean_i KL(Dir(alpha_i) || Dir(beta_i))
    beta_i = 1 + target_concentration * onehot(y_i)   (in-distribution, y_i < K)
    beta_i = 1                                        (out-of-distribution, y_i = K)
    ```

    Prior Networks learn to output a sharp Dirichlet at the right class for
    in-distribution inputs and the flat Dirichlet for out-of-distribution
    inputs, so they are trained with OOD data, labelled K exactly as m-EDL's
    unknown class. The reverse direction `KL(model || target)` (instead of
    the forward KL of Malinin & Gales, 2018) is zero-forcing, which the 2019
    paper shows avoids a multi-modal target in the presence of data
    uncertainty. The model outputs `alpha` with K columns (e.g.
    `DirichletOutput(evidence="exp")`).

    Args:
        target_concentration: Float > 0, the evidence the target puts on the
            true class. Defaults to `100.0` (the paper's value).
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss, its gradient and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy` (255 in most
            segmentation sets). Needs integer labels. Defaults to None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations.

    Example:

    >>> loss = keras_evidential.losses.PriorNetworkLoss(target_concentration=100.0)
    >>> float(loss(np.array([2]), np.array([[1.0, 1.0]])))  # OOD, flat output
    0.0

    Reference:
    - Malinin & Gales, "Reverse KL-Divergence Training of Prior Networks:
      Improved Uncertainty and Adversarial Robustness", NeurIPS 2019
    - Malinin & Gales, "Predictive Uncertainty Estimation via Prior
      Networks", NeurIPS 2018
    """

    def __init__(
        self,
        target_concentration: float = 100.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "prior_network_loss",
        dtype: str | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.target_concentration = check_number(
            target_concentration, "target_concentration", low=0, low_open=True
        )
        self.ignore_class = validate_ignore_class(ignore_class)
        declare_attributes(self, PriorNetworkLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return prior_network_loss(
            y_true, y_pred, self.target_concentration, validate=True,
            ignore_class=self.ignore_class,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_concentration"] = self.target_concentration
        config["ignore_class"] = self.ignore_class
        return config
