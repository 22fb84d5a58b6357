"""Losses of evidential regressors: DER and Meinert et al.'s variants."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import nig
from keras_evidential.losses.coefficients import coefficient_variable
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_number
from keras_evidential.validation import declare_attributes
from keras_evidential.validation import finite_condition
from keras_evidential.validation import nig_condition


REGULARIZERS = ("amini", "meinert")


def _check_target_and_parameters(y_true, nu, alpha, beta):
    """One assert: a finite target, then valid NIG parameters. The target
    first: a NaN target would otherwise be reported as a bad model output
    one step later, once it has poisoned the weights."""
    assert_all(
        finite_condition(y_true, "y_true (the regression target)"),
        nig_condition(nu, alpha, beta),
    )


def evidential_regression_loss(
    y_true: Tensor,
    y_pred: Tensor,
    regularizer_weight: float = 0.01,
    regularizer: str = "amini",
    p: float = 1.0,
    validate: bool = False,
) -> Tensor:
    """Per-element DER loss: the NIG NLL plus the weighted evidence regulariser.

    Formula:
    ```
    loss = -log St(y | gamma, w_St, 2 alpha) + weight * R
    R = |y - gamma| (2 nu + alpha)              # regularizer="amini"
    R = |(y - gamma) / w_St|^p (2 nu + alpha)   # regularizer="meinert"
    ```

    Args:
        y_true: Targets, shape `(..., T)`.
        y_pred: NIG parameters in the NIG layout, shape `(..., 4T)`.
        regularizer_weight: lambda, a float or scalar tensor.
        regularizer: `"amini"` or `"meinert"`.
        p: The exponent of Meinert's regulariser.
        validate: Whether to check that `nu, beta > 0`, `alpha > 1` and all
            are finite (see `keras_evidential.validation`).

    Returns:
        The loss per target, shape `(..., T)`.
    """
    gamma, nu, alpha, beta = nig.split_nig(y_pred)
    y_true = _targets_like(y_true, gamma)
    if validate:
        _check_target_and_parameters(y_true, nu, alpha, beta)
    nll = nig.nig_nll(y_true, gamma, nu, alpha, beta)
    if regularizer == "amini":
        penalty = nig.amini_regularizer(y_true, gamma, nu, alpha)
    else:
        penalty = nig.meinert_regularizer(y_true, gamma, nu, alpha, beta, p)
    return nll + regularizer_weight * penalty


def _targets_like(y_true, gamma):
    """`y_true` cast to `gamma`'s dtype, after checking it holds one value per target."""
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(gamma.shape) - 1:
        # Keras hands a single target as `(batch,)` when the data has no axis
        # for it; a single-target NIG output is `(batch, 4)`.
        y_true = ops.expand_dims(y_true, -1)
    if len(y_true.shape) != len(gamma.shape) or (
        y_true.shape[-1] is not None and y_true.shape[-1] != gamma.shape[-1]
    ):
        raise ValueError(
            "`y_true` must hold one value per target: shape (..., T) for a "
            "prediction of shape (..., 4T). Received: y_true with shape "
            f"{tuple(y_true.shape)} and y_pred with {gamma.shape[-1]} targets"
        )
    return ops.cast(y_true, gamma.dtype)


class _NIGLoss(DeclaredAttributes, keras.losses.Loss):
    """What the NIG losses share: the weight variable, the float32 cast and the config."""

    def __init__(
        self,
        regularizer_weight: float,
        reduction: str | None,
        name: str,
        dtype: str | None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        # A variable, so that a callback can schedule it inside the compiled
        # step (like `EDLLoss.kl_weight`).
        self.regularizer_weight = coefficient_variable(
            regularizer_weight, "regularizer_weight", self.dtype
        )

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # The four parameters must agree in dtype; under mixed precision a
        # float16 output is scored in float32.
        y_pred = ops.cast(y_pred, self.dtype)
        return ops.mean(self.elementwise(y_true, y_pred), axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["regularizer_weight"] = float(
            ops.convert_to_numpy(self.regularizer_weight)
        )
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class EvidentialRegressionLoss(_NIGLoss):
    """Deep evidential regression: NIG negative log-likelihood plus evidence regulariser.

    Formula:
    ```
    loss = mean_{i,t} [ -log St(y | gamma, w_St, 2 alpha)
                        + regularizer_weight * R ]
    w_St = sqrt(beta (1 + nu) / (alpha nu))
    R = |y - gamma| (2 nu + alpha)              # regularizer="amini"
    R = |(y - gamma) / w_St|^p (2 nu + alpha)   # regularizer="meinert"
    ```

    The model outputs NIG parameters (its last layer is
    `NormalInverseGammaOutput(units=T)`, shape `(..., 4T)`), and `y_true` has
    shape `(..., T)` (or `(batch,)` for one target). The loss is the mean over
    targets of each sample, then reduced over the batch.

    `regularizer_weight` is held in a non-trainable `keras.Variable`, so a
    callback can change it during `fit` (on JAX, rebuild the train function
    after assigning, as `KLAnnealing` does).

    Args:
        regularizer_weight: Float >= 0, lambda. Defaults to `0.01`, the value
            of both papers' cubic example.
        regularizer: `"amini"` (Amini et al. 2020, Eq. 9; default) or
            `"meinert"` (Meinert et al. 2023, Eq. 11: the residual in units of
            the Student-t width, so that noisy regions do not raise the
            epistemic uncertainty).
        p: Float > 0, the exponent of Meinert's regulariser. Defaults to `1`.
        reduction: Type of reduction to apply to the loss. Defaults to
            `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations. Defaults to
            `keras.backend.floatx()` (float32 also under mixed precision).

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((1,)),
    ...     keras.layers.Dense(64, activation="relu"),
    ...     keras_evidential.layers.NormalInverseGammaOutput(units=1),
    ... ])
    >>> model.compile(
    ...     optimizer="adam",
    ...     loss=keras_evidential.losses.EvidentialRegressionLoss(0.01))

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600)
    - [Meinert, Gawlikowski & Lavin, 2023](https://arxiv.org/abs/2205.10060)
    """

    def __init__(
        self,
        regularizer_weight: float = 0.01,
        regularizer: str = "amini",
        p: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "evidential_regression_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(regularizer_weight, reduction, name, dtype)
        check_choice(regularizer, "regularizer", REGULARIZERS)
        check_number(p, "p", low=0, low_open=True)
        if regularizer == "amini" and p != 1:
            raise ValueError(
                "The exponent `p` belongs to Meinert's regulariser; Amini's is "
                f"linear. Received: regularizer='amini', p={p!r}"
            )
        self.regularizer = regularizer
        self.p = float(p)
        declare_attributes(self, EvidentialRegressionLoss)

    def elementwise(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return evidential_regression_loss(
            y_true, y_pred, self.regularizer_weight, self.regularizer, self.p,
            validate=True,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"regularizer": self.regularizer, "p": self.p})
        return config


def meinert_regression_loss(
    y_true: Tensor,
    y_pred: Tensor,
    regularizer_weight: float = 0.01,
    validate: bool = False,
) -> Tensor:
    """Per-element loss of Meinert et al.'s alternative (their eq. 12).

    Formula:
    ```
    loss = log sigma^2 + (1 + regularizer_weight nu) (y - gamma)^2 / sigma^2
    sigma^2 = beta / nu
    ```

    Args:
        y_true: Targets, shape `(..., T)`.
        y_pred: NIG parameters `[gamma, nu, alpha, beta]`, shape `(..., 4T)`.
        regularizer_weight: lambda.
        validate: Whether to check the target and the parameters.

    Returns:
        The loss per target, shape `(..., T)`.

    Reference:
    - [Meinert, Gawlikowski & Lavin, 2023](https://arxiv.org/abs/2205.10060)
    """
    gamma, nu, alpha, beta = nig.split_nig(y_pred)
    y_true = _targets_like(y_true, gamma)
    if validate:
        _check_target_and_parameters(y_true, nu, alpha, beta)
    return nig.meinert_alternative_loss(y_true, gamma, nu, beta, regularizer_weight)


@keras.saving.register_keras_serializable(package="keras_evidential")
class MeinertRegressionLoss(_NIGLoss):
    """Meinert et al.'s alternative loss: a Gaussian NLL with `nu` as epistemic proxy.

    Formula:
    ```
    loss = mean_{i,t} [ log sigma^2 + (1 + regularizer_weight nu) (y - gamma)^2 / sigma^2 ]
    sigma^2 = beta / nu
    ```

    Meinert et al. (2023), Eq. 12: the mean-variance estimation of Nix &
    Weigend with the variance written as `beta / nu` and the residual
    penalised in proportion to `nu` (their Eq. 11 with `p = 2`). `alpha` is
    not used; the predictive is `N(gamma, beta / nu)`, the aleatoric
    uncertainty `sqrt(beta / nu)` and the epistemic one `1 / sqrt(nu)`. The
    model ends in `NormalInverseGammaOutput` as for
    `EvidentialRegressionLoss`.

    Args:
        regularizer_weight: Float >= 0, lambda. Defaults to `0.01`
            (Meinert et al. use 2 on their cubic example).
        reduction: Type of reduction to apply to the loss. Defaults to
            `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations. Defaults to
            `keras.backend.floatx()`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((1,)),
    ...     keras.layers.Dense(64, activation="relu"),
    ...     keras_evidential.layers.NormalInverseGammaOutput(units=1),
    ... ])
    >>> model.compile(
    ...     optimizer="adam",
    ...     loss=keras_evidential.losses.MeinertRegressionLoss(2.0))

    Reference:
    - [Meinert, Gawlikowski & Lavin, 2023](https://arxiv.org/abs/2205.10060)
    """

    def __init__(
        self,
        regularizer_weight: float = 0.01,
        reduction: str | None = "sum_over_batch_size",
        name: str = "meinert_regression_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(regularizer_weight, reduction, name, dtype)
        declare_attributes(self, MeinertRegressionLoss)

    def elementwise(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return meinert_regression_loss(
            y_true, y_pred, self.regularizer_weight, validate=True
        )
