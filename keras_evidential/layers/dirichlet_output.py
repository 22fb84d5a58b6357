"""DirichletOutput: the last layer of an evidential classifier."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.deprecation import renamed_argument
from keras_evidential.deprecation import renamed_attribute
from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_number


def full_precision_dtype(dtype: str | None) -> str | None:
    """The dtype to compute alpha in: the variable dtype of a mixed policy.

    `S = sum(alpha)` overflows float16 (max 65504) for ordinary logits, so, as
    Keras recommends for a model's last activation, alpha stays in float32.
    """
    if dtype is not None:
        return dtype
    policy = keras.config.dtype_policy()
    if policy.compute_dtype != policy.variable_dtype:
        return policy.variable_dtype
    return None


@keras.saving.register_keras_serializable(package="keras_evidential")
class DirichletOutput(keras.layers.Layer):
    """Turns logits into Dirichlet concentration parameters.

    Formula:
    ```
    alpha = evidence(z) + prior_concentration      (prior_concentration = 1: EDL)
    ```

    Put it after the last `Dense(K)` layer; the model then outputs `alpha`, the
    input that `EDLLoss` (with `from_logits=False`), the metrics and the export
    helpers expect. Under a mixed-precision policy it computes in float32
    (the policy's variable dtype) unless `dtype` is given, because the
    Dirichlet strength overflows float16.

    Args:
        evidence: The evidence function: `"relu"` (default, the original EDL),
            `"softplus"`, `"exp"` (clipped), `"elu"` (TEDL), or an `Evidence`
            layer such as `EvidenceELU(offset=1.0)`.
        prior_concentration: Positive float, the constant added to the evidence:
            1 (default) is EDL's `alpha = e + 1`; R-EDL and Re-EDL (Chen et
            al., 2024) use a smaller `lambda` (0.1 on MNIST). Then `alpha >=
            prior_concentration`, the vacuity is `prior_concentration * K / S`
            (`dirichlet.vacuity(alpha, prior_concentration)`) and the model is
            trained with `RelaxedEDLLoss(prior_concentration=...)`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)),
    ...     keras.layers.Dense(32, activation="relu"),
    ...     keras.layers.Dense(10),
    ...     keras_evidential.layers.DirichletOutput(evidence="relu"),
    ... ])
    >>> alpha = keras.ops.convert_to_numpy(model(np.zeros((2, 784))))
    >>> alpha.shape
    (2, 10)
    >>> print(alpha[0])  # no evidence (zero logits): alpha = 1
    [1. 1. 1. 1. 1. 1. 1. 1. 1. 1.]

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    - Chen et al., R-EDL, ICLR 2024 (the prior weight)
    """
    # Renamed in 1.0: a concentration of the prior, not a loss weight.
    prior_weight = renamed_attribute("prior_weight", "prior_concentration")


    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        evidence: str | evidence_lib.Evidence = "relu",
        prior_concentration: float = 1.0,
        **kwargs: Any,
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.evidence = evidence_lib.get(evidence, dtype=self.dtype_policy)
        self.prior_concentration = validate_prior_concentration(prior_concentration)
        self.supports_masking = True
        self._build_at_init()

    def call(self, inputs: Tensor) -> Tensor:
        check_finite(inputs, "The logits that DirichletOutput receives")
        return alpha_from_evidence(self.evidence(inputs), self.prior_concentration)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "evidence": evidence_lib.serialize(self.evidence),
                "prior_concentration": self.prior_concentration,
            }
        )
        return config


def validate_prior_concentration(prior_concentration: float) -> float:
    """Returns `prior_concentration` as a float; raises unless it is finite and > 0."""
    return check_number(prior_concentration, "prior_concentration", low=0, low_open=True)


def validate_minimum_alpha(minimum_alpha: float | None) -> float | None:
    """Returns `minimum_alpha` as a float (or None); raises unless it is
    None or finite and >= 0.

    The smallest concentration a head outputs: None stands for its prior
    weight (`alpha = e + lambda >= lambda`), 0 for `alpha > 0` only (DAEDL's
    and F-EDL's `alpha = exp(z)`).
    """
    return check_number(minimum_alpha, "minimum_alpha", low=0, allow_none=True)
