"""BetaOutput: the last layer of a binary or multi-label evidential model."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.beta import beta_parameters
from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite


@keras.saving.register_keras_serializable(package="keras_evidential")
class BetaOutput(keras.layers.Layer):
    """Turns 2L logits into the Beta parameters of L binary labels.

    Formula:
    ```
    e+_l = evidence(z_l),  e-_l = evidence(z_{L + l})     l = 1..L
    alpha_l = e+_l + 1,    beta_l = e-_l + 1
    output[..., l, :] = (alpha_l, beta_l)
    ```

    Input contract: the logits of a `Dense(2 * L)` layer, shape
    `(..., 2 L)`: the first L are the positive (label present) logits, the
    last L the negative (label absent) ones. The output has shape
    `(..., L, 2)`, `(alpha, beta)` per label: `Beta(alpha_l, beta_l)` is the
    distribution of label l's probability, and each row is the K = 2
    Dirichlet over (present, absent), so for L = 1 this head is
    `DirichletOutput` on the logits `(z+, z-)`. Train it with
    `BetaEDLLoss`; read it with `keras_evidential.beta`
    (`expected_probability`, `vacuity`, `score_sum`, ...). Under a
    mixed-precision policy it computes in float32 unless `dtype` is given,
    as `DirichletOutput` does.

    Args:
        evidence: The evidence function: `"relu"` (default), `"softplus"`,
            `"exp"` (clipped), `"elu"`, or an `Evidence` layer.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)),
    ...     keras.layers.Dense(32, activation="relu"),
    ...     keras.layers.Dense(2 * 10),
    ...     keras_evidential.layers.BetaOutput(evidence="softplus"),
    ... ])
    >>> params = model(np.zeros((2, 784)))
    >>> tuple(params.shape)
    (2, 10, 2)
    >>> print(keras.ops.convert_to_numpy(
    ...     keras_evidential.beta.vacuity(params))[0, :3].round(4))
    [0.5906 0.5906 0.5906]

    Reference:
    - Aguilar, Raducanu, Radeva, "Multi-label out-of-distribution
      detection via evidential learning", 2025, arXiv:2502.18224
    - Sensoy, Kaplan, Kandemir, NeurIPS 2018 (evidence and alpha = e + 1)
    """

    def __init__(
        self, evidence: str | evidence_lib.Evidence = "relu", **kwargs: Any
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.evidence = evidence_lib.get(evidence, dtype=self.dtype_policy)
        self._build_at_init()

    def call(self, inputs: Tensor) -> Tensor:
        num_labels = _num_labels(inputs.shape)
        check_finite(inputs, "The logits that BetaOutput receives")
        evidence = self.evidence(inputs)
        return beta_parameters(
            alpha_from_evidence(evidence[..., :num_labels]),
            alpha_from_evidence(evidence[..., num_labels:]),
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (_num_labels(input_shape), 2)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["evidence"] = evidence_lib.serialize(self.evidence)
        return config


def _num_labels(shape):
    width = shape[-1]
    if width is None or width < 2 or width % 2:
        raise ValueError(
            "BetaOutput takes 2 L logits (positive then negative, from "
            "Dense(2 * L)): the last axis must be even and >= 2. "
            f"Received: input shape {tuple(shape)}"
        )
    return width // 2
