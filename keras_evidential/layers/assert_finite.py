"""AssertFinite: an identity layer that refuses NaN and inf in its input."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite


@keras.saving.register_keras_serializable(package="keras_evidential")
class AssertFinite(keras.layers.Layer):
    """Passes its input through unchanged, failing the step on NaN or inf.

    Put it right after the model's input to catch bad features where they
    enter. A NaN feature need not reach the loss: TensorFlow's oneDNN CPU
    kernels compute ReLU(NaN) = 0 in a hidden layer, so the loss stays finite
    while the NaN gradient turns the first layer's weights into NaN, and the
    model then answers every input with alpha ~ 1. How the failure surfaces
    on each backend, and the global switch, are those of every value check
    (`keras_evidential.validation`); under TensorFlow XLA assert ops are
    dropped, so there use `keras_evidential.callbacks.FiniteWeightsCheck`.

    Formula:
    ```
    output = inputs    # an error if any entry is NaN or +-inf
    ```

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> layer = keras_evidential.layers.AssertFinite()
    >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, 2.0]]))).tolist()
    [[1.0, 2.0]]
    >>> try:
    ...     layer(np.array([[1.0, np.nan]]))
    ... except ValueError as error:
    ...     print("must be finite" in str(error))
    True

    Reference:
    - `docs/core.md`, "NaN in the features"
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Tensor) -> Tensor:
        for tensor in keras.tree.flatten(inputs):
            if "float" in keras.backend.standardize_dtype(tensor.dtype):
                check_finite(tensor, f"The input of AssertFinite {self.name!r}")
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape
