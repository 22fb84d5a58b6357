"""FEDLLoss: the objective of flexible-Dirichlet EDL (Yoon & Kim, NeurIPS 2025)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.dirichlet import flexible_expected_squared_error
from keras_evidential.dirichlet import split_flexible_parameters
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import validate_ignore_class
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes
from keras_evidential.validation import Condition


_PARAMETER_ERROR = (
    "`y_pred` must hold the packed flexible Dirichlet parameters "
    "[alpha (K), p (K), tau (1)] of `FlexibleDirichletOutput`, with finite "
    "alpha > 0 and tau >= 0; it may not contain NaN or inf."
)


def fedl_loss(
    y_true: Tensor,
    y_pred: Tensor,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample F-EDL loss on `FlexibleDirichletOutput`'s packed output.

    Formula:
    ```
    loss_i = E_{pi ~ FD(alpha_i, p_i, tau_i)} ||y_i - pi||^2 + ||y_i - p_i||^2
    ```

    Args:
        y_true: Integer labels in `[0, K)` or one-hot rows of width K.
        y_pred: `[alpha (K), p (K), tau (1)]`, shape `(..., 2K + 1)`.
        validate: Whether to check the labels and the parameters (alpha > 0,
            tau >= 0, finite), in one assert.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `edl_loss`): their loss is 0 and masked.

    Returns:
        The loss per sample, shape `y_pred.shape[:-1]`.

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Flexible Evidential Deep
      Learning", NeurIPS 2025, section 3.2
    """
    alpha, p, tau = split_flexible_parameters(y_pred)
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, y_pred, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        _check_parameters(conditions, alpha, tau)
    return mask_ignored(
        flexible_expected_squared_error(y, alpha, p, tau)
        + ops.sum(ops.square(y - p), axis=-1),
        valid,
    )


def _check_parameters(conditions, alpha, tau):
    """One assert for the labels (in F-EDL's terms) and the parameters."""
    k = alpha.shape[-1]
    if conditions[0] is not None and conditions[0].argument == "y_true":
        # The usual label message would speak of K outputs, while a model
        # ending in DirichletOutput(2K + 1) gives the loss a "K" that is no
        # class count at all.
        conditions[0] = conditions[0]._replace(message=(
            f"FEDLLoss reads FlexibleDirichletOutput's packed [alpha, p, "
            f"tau] (2K + 1 = {2 * k + 1} columns, so K = {k} classes) and "
            f"needs labels in [0, {k}). A model ending in DirichletOutput "
            "outputs alpha alone: train it with EDLLoss, or end it in "
            "FlexibleDirichletOutput(K)."
        ))
    # tau = 0 is allowed: FD(alpha, p, 0) = Dir(alpha), and the head gives
    # it once softplus of the dispersion logit underflows (below ~-104 in
    # float32). Checked in one pass with alpha (> 0): tau = 0 counts as 1.
    assert_all(*conditions, concentration_condition(
        ops.concatenate([alpha, ops.where(tau == 0.0, 1.0, tau)], axis=-1),
        minimum=0.0,
        message=_PARAMETER_ERROR,
    ))


@keras.saving.register_keras_serializable(package="keras_evidential")
class FEDLLoss(DeclaredAttributes, keras.losses.Loss):
    """Expected squared error under the flexible Dirichlet, plus a Brier term on `p`.

    Formula:
    ```
    loss = mean_i [E_{pi ~ FD(alpha_i, p_i, tau_i)} ||y_i - pi||^2 + ||y_i - p_i||^2]
    E ||y - pi||^2 = sum_k (y_k - E[pi_k])^2 + Var[pi_k]
    ```

    `y_pred` is the packed output `[alpha (K), p (K), tau (1)]` of
    `FlexibleDirichletOutput`; integer labels index the K classes; `tau = 0`
    gives the Dirichlet limit `FD(alpha, p, 0) = Dir(alpha)`. The FD
    moments are in closed form (`dirichlet.flexible_variance`), so no
    sampling is needed; the second term keeps the allocation `p` from
    degenerating.

    Args:
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss, its gradient and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy` (255 in most
            segmentation sets). Needs integer labels. Defaults to None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations.

    Example:

    >>> loss = keras_evidential.losses.FEDLLoss()
    >>> params = np.array([[1.0, 1.0, 0.5, 0.5, 1.0]])  # alpha, p, tau
    >>> round(float(loss(np.array([0]), params)), 4)
    1.1667

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Flexible Evidential Deep
      Learning", NeurIPS 2025, section 3.2 and Appendix A.1
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "fedl_loss",
        dtype: str | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.ignore_class = validate_ignore_class(ignore_class)
        declare_attributes(self, FEDLLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return fedl_loss(
            y_true, y_pred, validate=True, ignore_class=self.ignore_class
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["ignore_class"] = self.ignore_class
        return config
