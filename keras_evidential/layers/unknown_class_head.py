"""UnknownClassHead: m-EDL's explicit unknown class."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.dirichlet import add_unknown_class
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor


@keras.saving.register_keras_serializable(package="keras_evidential")
class UnknownClassHead(keras.layers.Layer):
    """Appends m-EDL's unknown class u to a K-class Dirichlet.

    Formula:
    ```
    alpha+ = (alpha_1, ..., alpha_K, K + 1)
    ```

    The vacuity of the K-class Dirichlet, `K / S`, read as the belief in an
    extra class u gives `alpha_u = K + 1`. The mean of `alpha+` assigns K + 1
    probabilities that sum to 1, and `argmax` predicts "unknown" (index K)
    without any uncertainty threshold. Train with `EDLLoss`, labelling
    samples of unknown classes with index K.

    Input shape: `(..., K)` concentrations (the output of `DirichletOutput`).
    Output shape: `(..., K + 1)`.

    Example:

    >>> head = keras_evidential.layers.UnknownClassHead()
    >>> print(keras.ops.convert_to_numpy(head(np.array([[1.0, 1.0]]))))  # K + 1 = 3
    [[1. 1. 3.]]

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    """

    def __init__(self, **kwargs: Any) -> None:
        # Like `DirichletOutput`: casting alpha back to float16 would overflow
        # the strength and undo the float32 head under mixed precision.
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.supports_masking = True
        # No weights: built when made (the shape is checked where it is
        # known, in `compute_output_shape` and `call`).
        self._build_at_init()

    def call(self, inputs: Tensor) -> Tensor:
        _check_alpha_shape(inputs.shape)
        return add_unknown_class(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        num_classes = _check_alpha_shape(input_shape)
        return tuple(input_shape[:-1]) + (num_classes + 1,)


def _check_alpha_shape(input_shape: Shape) -> int:
    """K, the size of the last axis; raises unless it is known."""
    if len(input_shape) < 2:
        raise ValueError(
            "UnknownClassHead needs inputs of shape (batch, ..., K). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    if input_shape[-1] is None:
        raise ValueError(
            "UnknownClassHead needs a known number of classes in the last "
            f"axis of its input. Received: input_shape={tuple(input_shape)}"
        )
    return input_shape[-1]
