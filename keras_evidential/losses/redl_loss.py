"""RelaxedEDLLoss: R-EDL (Chen et al., ICLR 2024) and its Re-EDL preset."""

from __future__ import annotations

import warnings
from typing import Any

import keras
from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.deprecation import renamed_attribute
from keras_evidential.dirichlet import dirichlet_kl
from keras_evidential.dirichlet import misleading_alpha
from keras_evidential.dirichlet import projected_squared_error
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import validate_ignore_class
from keras_evidential.layers.dirichlet_output import validate_prior_concentration
from keras_evidential.losses.coefficients import kl_weight_variable
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import Condition
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import assert_all
from keras_evidential.validation import check_bool
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes


@renamed_argument("prior_weight", "prior_concentration")
def relaxed_edl_loss(
    y_true: Tensor,
    alpha: Tensor,
    prior_concentration: float = 0.1,
    kl_weight: float | Tensor | None = None,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample R-EDL loss; `kl_weight=None` is Re-EDL (no KL term).

    Formula:
    ```
    loss_i = sum_j (y_ij - alpha_ij / S_i)^2
             + kl_weight * KL(Dir(lambda y_i + (1 - y_i) alpha_i) || Dir(lambda))
    ```

    Args:
        y_true: Integer labels of shape `alpha.shape[:-1]` or one-hot labels.
        alpha: Concentrations `evidence + prior_concentration`, shape `(..., K)`.
        prior_concentration: R-EDL's `lambda` (0.1 for MNIST in the paper).
        kl_weight: None (Re-EDL) or the KL coefficient.
        validate: Whether to check that `alpha` is finite and >= `lambda`.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `edl_loss`).
    """
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha, minimum=prior_concentration))
    risk = projected_squared_error(y, alpha)
    if kl_weight is None:
        return mask_ignored(risk, valid)
    target = misleading_alpha(y, alpha, prior_concentration)
    return mask_ignored(
        risk + kl_weight * dirichlet_kl(target, prior_concentration), valid
    )


@keras.saving.register_keras_serializable(package="keras_evidential")
class RelaxedEDLLoss(DeclaredAttributes, keras.losses.Loss):
    """R-EDL: EDL with a free prior weight and without the variance term.

    Formula:
    ```
    alpha = e + lambda,   p = alpha / S,   u = lambda K / S
    loss = mean_i [sum_j (y_ij - p_ij)^2
                   + kl_weight * KL(Dir(lambda y_i + (1 - y_i) alpha_i) || Dir(lambda))]
    ```

    The model must output `alpha = e + lambda`:
    `DirichletOutput(evidence="softplus", prior_concentration=lambda)` with the same
    `lambda` as here. Compared with `EDLLoss`, the constant 1 (the number of
    classes times the base rate) becomes the hyperparameter `lambda`, the
    variance term of the sum-of-squares risk is dropped and the KL
    regulariser pulls towards `Dir(lambda)`. `kl_weight` is a non-trainable
    variable that `KLAnnealing` schedules (the paper anneals
    `min(1, t / 10)`).

    Re-EDL (Chen et al., TPAMI 2025) is R-EDL without the KL term:
    `RelaxedEDLLoss.re_edl(prior_concentration=0.1)`, i.e. `kl_weight=None`.

    Args:
        prior_concentration: Positive float, `lambda`. Defaults to `0.1`, the paper's
            MNIST value (0.8 for CIFAR-10).
        kl_weight: Float >= 0, the initial KL coefficient (R-EDL; a
            schedule such as `KLAnnealing` changes it), or None for no KL
            term at all (Re-EDL; the loss then has no `kl_weight` variable).
            Defaults to `0.0`.
        kl: Deprecated (warns; removed in 2.0): `kl=False` is
            `kl_weight=None`.
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy`. Defaults to None.
        reduction: Type of reduction. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)), keras.layers.Dense(10),
    ...     keras_evidential.layers.DirichletOutput("softplus", prior_concentration=0.1)])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.RelaxedEDLLoss.re_edl(0.1))
    >>> loss = keras_evidential.losses.RelaxedEDLLoss.re_edl(prior_concentration=0.5)
    >>> float(loss(np.array([0]), np.array([[1.5, 0.5]])))
    0.125

    Reference:
    - Chen, Gao, Xu, "R-EDL: Relaxing Nonessential Settings of Evidential
      Deep Learning", ICLR 2024; Re-EDL, IEEE TPAMI 2025, eqs. 10-16
    """
    # Renamed in 1.0: a concentration of the prior, not a loss weight.
    prior_weight = renamed_attribute("prior_weight", "prior_concentration")


    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        prior_concentration: float = 0.1,
        kl_weight: float | None = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "relaxed_edl_loss",
        dtype: str | None = None,
        kl: bool | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.prior_concentration = validate_prior_concentration(prior_concentration)
        self.ignore_class = validate_ignore_class(ignore_class)
        if kl is not None:
            warnings.warn(
                "`RelaxedEDLLoss(kl=...)` is deprecated and will be removed in "
                "2.0: pass kl_weight=None for no KL term (Re-EDL).",
                DeprecationWarning,
                stacklevel=2,
            )
            if not check_bool(kl, "kl"):
                if kl_weight not in (None, 0, 0.0):
                    raise ValueError(
                        "`kl=False` has no KL term, so `kl_weight` would be "
                        f"ignored. Received: kl=False, kl_weight={kl_weight!r}"
                    )
                kl_weight = None
        self.kl_weight = (
            None if kl_weight is None else kl_weight_variable(kl_weight, self.dtype)
        )
        declare_attributes(self, RelaxedEDLLoss)

    @classmethod
    @renamed_argument("prior_weight", "prior_concentration")
    def re_edl(cls, prior_concentration: float = 0.1, **kwargs: Any) -> RelaxedEDLLoss:
        """Re-EDL: R-EDL's risk and prior weight, without the KL term."""
        for argument in ("kl_weight", "kl"):
            if argument in kwargs:
                raise ValueError(
                    "Re-EDL has no KL term; use RelaxedEDLLoss(kl_weight=...) "
                    f"for R-EDL. Received: {argument}={kwargs[argument]!r}"
                )
        kwargs.setdefault("name", "re_edl_loss")
        return cls(prior_concentration=prior_concentration, kl_weight=None, **kwargs)

    @property
    def kl(self) -> bool:
        """Whether the loss has the KL term (R-EDL) or not (Re-EDL)."""
        return self.kl_weight is not None

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return relaxed_edl_loss(
            y_true, y_pred, self.prior_concentration, self.kl_weight, validate=True,
            ignore_class=self.ignore_class,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "prior_concentration": self.prior_concentration,
                "kl_weight": (
                    float(ops.convert_to_numpy(self.kl_weight)) if self.kl else None
                ),
                "ignore_class": self.ignore_class,
            }
        )
        return config
