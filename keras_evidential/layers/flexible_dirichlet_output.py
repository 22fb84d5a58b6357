"""FlexibleDirichletOutput: F-EDL's head (Yoon & Kim, NeurIPS 2025)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.dirichlet import exp_evidence
from keras_evidential.dirichlet.evidence import LOWEST_LOGIT
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.layers.evidence import validate_clip_value
from keras_evidential.layers.spectral_normalization import SpectralNormalization
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_bool
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_int


@keras.saving.register_keras_serializable(package="keras_evidential")
class FlexibleDirichletOutput(keras.layers.Layer):
    """Predicts the flexible Dirichlet `FD(alpha, p, tau)` from features.

    Formula:
    ```
    alpha = exp(clip(W_1 f, -10, clip_value))   (K values > 0)
    p     = softmax(W_2 f)         (K values on the simplex)
    tau   = softplus(W_3 f)        (1 value >= 0)
    output = concat([alpha, p, tau])   shape (..., 2K + 1)
    ```

    Three dense heads on the penultimate features `f`. The single packed
    output keeps a model ending in this layer compatible with
    `model.compile(loss=FEDLLoss())`; `dirichlet.split_flexible_parameters`
    unpacks it, `dirichlet.flexible_expected_probability` gives the
    prediction `E[pi] = (alpha + tau p) / (alpha_0 + tau)` and
    `dirichlet.flexible_epistemic_uncertainty` the paper's uncertainty;
    `dirichlet.flexible_equivalent_alpha` (`alpha + tau p`) gives a Dirichlet
    with the same mean for the `alpha`-based metrics.

    Args:
        num_classes: Integer >= 2, K.
        spectral_normalization: Whether to wrap the `alpha` head in
            `keras_evidential.layers.SpectralNormalization`, as the paper does
            (it also normalises the feature extractor). Defaults to `True`.
        clip_value: Finite float > 0, the logit clip before `exp`, only to
            keep `alpha` finite (the paper's `exp` has none). Defaults to
            `50.0`: a clip at 10 left the class units past it without
            gradient, saturated at `exp(10)` for every input (measured:
            docs/methods.md).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
    ...     keras_evidential.layers.FlexibleDirichletOutput(10)])
    >>> model.compile("adam", keras_evidential.losses.FEDLLoss())
    >>> tuple(model(np.zeros((2, 784))).shape)
    (2, 21)

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Flexible Evidential Deep
      Learning", NeurIPS 2025, section 3.1
    """

    def __init__(
        self,
        num_classes: int,
        spectral_normalization: bool = True,
        clip_value: float = 50.0,
        **kwargs: Any,
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.num_classes = check_int(num_classes, "num_classes", minimum=2)
        self.spectral_normalization = check_bool(
            spectral_normalization, "spectral_normalization"
        )
        self.clip_value = validate_clip_value(clip_value)
        alpha_head = keras.layers.Dense(num_classes, dtype=self.dtype_policy)
        if self.spectral_normalization:
            alpha_head = SpectralNormalization(alpha_head, dtype=self.dtype_policy)
        self.alpha_head = alpha_head
        self.allocation_head = keras.layers.Dense(num_classes, dtype=self.dtype_policy)
        self.dispersion_head = keras.layers.Dense(1, dtype=self.dtype_policy)

    def build(self, input_shape: Shape) -> None:
        if input_shape[-1] is None:
            raise ValueError(
                "FlexibleDirichletOutput needs a known feature dimension. "
                f"Received: input_shape={input_shape}"
            )
        for head in (self.alpha_head, self.allocation_head, self.dispersion_head):
            head.build(input_shape)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        check_finite(inputs, "The features that FlexibleDirichletOutput receives")
        alpha = exp_evidence(
            self.alpha_head(inputs, training=training),
            self.clip_value,
            min_value=LOWEST_LOGIT,
        )
        p = ops.softmax(self.allocation_head(inputs), axis=-1)
        tau = ops.softplus(self.dispersion_head(inputs))
        return ops.concatenate([alpha, p, tau], axis=-1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (2 * self.num_classes + 1,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "spectral_normalization": self.spectral_normalization,
                "clip_value": self.clip_value,
            }
        )
        return config
