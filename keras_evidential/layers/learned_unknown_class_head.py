"""LearnedUnknownClassHead: m-EDL's unknown class with learned extra evidence."""

from __future__ import annotations

from typing import Any
from typing import Sequence

import keras
from keras import ops

from keras_evidential.dirichlet import add_unknown_class
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite


@keras.saving.register_keras_serializable(package="keras_evidential")
class LearnedUnknownClassHead(keras.layers.Layer):
    """m-EDL's unknown class u whose concentration the network can raise.

    Formula:
    ```
    alpha+ = (alpha_1, ..., alpha_K, K + 1 + e_u),   e_u = evidence(z_u) >= 0
    ```

    `UnknownClassHead` fixes `alpha_u = K + 1`, so the network can only
    predict u by withholding evidence from every known class. This variant
    (not in the m-EDL paper) adds evidence for u from one more logit `z_u`,
    so that training samples labelled u can also push `alpha_u` up
    directly. With `e_u = 0` it is exactly `UnknownClassHead`; the
    vacuity-based floor `K + 1` keeps m-EDL's reading of u as the
    uncertainty mass.

    Input: a list `[alpha, z_u]`: concentrations `(..., K)` (the output of
    `DirichletOutput`) and the unknown-class logit `(..., 1)`.
    Output shape: `(..., K + 1)`.

    Args:
        evidence: The evidence function of `z_u`: `"relu"` (default, as the
            rest of an m-EDL model), `"softplus"`, `"exp"`, `"elu"` or an
            `Evidence` layer.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> head = keras_evidential.layers.LearnedUnknownClassHead()
    >>> alpha, z_u = np.array([[1.0, 1.0]]), np.array([[2.0]])
    >>> print(keras.ops.convert_to_numpy(head([alpha, z_u])))  # 2 + 1 + relu(2)
    [[1. 1. 5.]]

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023) (the
      fixed `alpha_u = K + 1` this layer extends)
    """

    def __init__(
        self, evidence: str | evidence_lib.Evidence = "relu", **kwargs: Any
    ) -> None:
        # alpha stays float32 under mixed precision, as in `DirichletOutput`.
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.evidence = evidence_lib.get(evidence, dtype=self.dtype_policy)
        self.supports_masking = True
        # No weights: built when made; shapes are checked in `call` and
        # `compute_output_shape`.
        self._build_at_init()

    def call(self, inputs: Sequence[Tensor]) -> Tensor:
        _check_input_shapes([tuple(t.shape) for t in inputs])
        alpha, logit = inputs
        check_finite(logit, "The unknown-class logit that LearnedUnknownClassHead receives")
        alpha_plus = add_unknown_class(alpha)
        return ops.concatenate(
            [alpha_plus[..., :-1], alpha_plus[..., -1:] + self.evidence(logit)],
            axis=-1,
        )

    def compute_output_shape(self, input_shape: Sequence[Shape]) -> Shape:
        num_classes = _check_input_shapes(input_shape)
        return tuple(input_shape[0][:-1]) + (num_classes + 1,)

    def compute_mask(
        self, inputs: Sequence[Tensor], mask: Sequence[Tensor | None] | None = None
    ) -> Tensor | None:
        return None if mask is None else mask[0]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"evidence": evidence_lib.serialize(self.evidence)}
        )
        return config


def _check_input_shapes(input_shape: Sequence[Shape]) -> int:
    """K, the size of alpha's last axis; raises unless the shapes fit."""
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
        raise ValueError(
            "LearnedUnknownClassHead takes a list [alpha, z_u]. "
            f"Received: input_shape={input_shape}"
        )
    alpha_shape, logit_shape = input_shape
    if alpha_shape[-1] is None or logit_shape[-1] != 1:
        raise ValueError(
            "Expected alpha of shape (..., K) with a known K and z_u of "
            f"shape (..., 1). Received: input_shape={input_shape}"
        )
    return alpha_shape[-1]
