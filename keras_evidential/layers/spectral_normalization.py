"""SpectralNormalization: `W / sigma(W)` as a reparametrisation, on every backend."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_int


# Guards the power iteration's norms and sigma against an all-zero kernel.
EPSILON = 1e-12


def spectral_norm_estimate(
    matrix: Tensor, vector_u: Tensor, power_iterations: int
) -> tuple[Tensor, Tensor]:
    """`(sigma, u)`: the power-iteration estimate of a matrix's largest singular value.

    Formula:
    ```
    repeat power_iterations times:
        v = normalize(u W^T),  u = normalize(v W)
    sigma = v W u^T      (u, v held constant: the gradient flows through W)
    ```

    Args:
        matrix: `(n, m)` tensor `W`.
        vector_u: `(1, m)` tensor, the previous estimate of the right
            singular vector.
        power_iterations: Integer >= 1.

    Returns:
        `sigma`, a scalar tensor, and the new `u`, `(1, m)`.
    """

    def normalize(x):
        return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x)), EPSILON))

    u = vector_u
    for _ in range(power_iterations):
        v = normalize(ops.matmul(u, ops.transpose(matrix)))
        u = normalize(ops.matmul(v, matrix))
    u, v = ops.stop_gradient(u), ops.stop_gradient(v)
    sigma = ops.sum(ops.matmul(v, matrix) * u)
    return ops.maximum(sigma, EPSILON), u


@keras.saving.register_keras_serializable(package="keras_evidential")
class SpectralNormalization(keras.layers.Wrapper):
    """Wraps a layer so that its kernel is used divided by its spectral norm.

    Formula:
    ```
    W_used = W / sigma(W),  sigma(W) = v W u^T   (power iteration, u stored)
    ```

    A drop-in for `keras.layers.SpectralNormalization` that behaves the same
    on TensorFlow, JAX and PyTorch, and the same in training and inference,
    as Miyato et al. define it and as `torch.nn.utils.spectral_norm` (which
    DAEDL's and F-EDL's official code use) does: the stored kernel `W` is the
    trainable parameter, the gradient flows through `W / sigma(W)`, and every
    call, training or not, uses the normalised kernel. Keras's wrapper instead
    overwrites the stored kernel with `W / sigma(W)` in each training call
    (Keras 3.15): on JAX that write is dropped, so `predict` uses the raw
    kernel while training used the normalised one; on TensorFlow and PyTorch
    it makes training a projected gradient step (measured in docs/methods.md,
    "Spectral normalisation").

    Only training calls update the stored `u`; inference runs the same power
    iteration from it without storing, so `predict` is a deterministic
    function of the weights (and exports as one). The wrapped layer's own
    losses and state updates (a moving statistic it assigns in training)
    reach the model as if it were unwrapped.

    Args:
        layer: A `keras.layers.Layer` with a `kernel` (`Dense`, `Conv2D`,
            ...) or `embeddings` (`Embedding`) weight. A `(..., m)` kernel is
            normalised as the `(prod(...), m)` matrix.
        power_iterations: Integer >= 1, power-iteration steps per call.
            Defaults to `1`.
        **kwargs: Base wrapper keyword arguments, such as `name`.

    Example:

    >>> dense = keras_evidential.layers.SpectralNormalization(
    ...     keras.layers.Dense(3, kernel_initializer="ones"), power_iterations=20)
    >>> y = dense(np.ones((1, 2)))  # kernel ones(2, 3): spectral norm sqrt(6)
    >>> np.round(keras.ops.convert_to_numpy(y), 4)
    array([[0.8165, 0.8165, 0.8165]], dtype=float32)

    Reference:
    - Miyato et al., "Spectral Normalization for Generative Adversarial
      Networks", ICLR 2018, Algorithm 1
    """

    def __init__(
        self, layer: keras.layers.Layer, power_iterations: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(layer, **kwargs)
        self.power_iterations = check_int(power_iterations, "power_iterations", minimum=1)

    def build(self, input_shape: Shape) -> None:
        super().build(input_shape)
        for name in ("kernel", "embeddings"):
            kernel = getattr(self.layer, name, None)
            if isinstance(kernel, keras.Variable):
                break
        else:
            raise ValueError(
                "SpectralNormalization wraps a layer with a `kernel` or "
                "`embeddings` weight. "
                f"Received: layer={type(self.layer).__name__}"
            )
        self.kernel = kernel
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=kernel.dtype,
        )

    def normalized_kernel(self) -> tuple[Tensor, Tensor]:
        """`(W / sigma(W), new u)` from the current weights."""
        kernel = ops.convert_to_tensor(self.kernel)
        # float32 even under mixed precision: EPSILON and the sums of squares
        # underflow or overflow in float16.
        full = ops.cast(kernel, "float32")
        sigma, vector_u = spectral_norm_estimate(
            ops.reshape(full, (-1, kernel.shape[-1])),
            ops.cast(self.vector_u, "float32"),
            self.power_iterations,
        )
        return ops.cast(full / sigma, kernel.dtype), vector_u

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        kernel, vector_u = self.normalized_kernel()
        if training:
            self.vector_u.assign(ops.cast(vector_u, self.vector_u.dtype))
        # The wrapped layer reads its kernel through a scope that maps it to
        # the normalised tensor, so the gradient flows into the stored W.
        # The scope must map every weight of the layer: under JAX's stateless
        # training step the current values live only in the enclosing scope.
        others = [v for v in self.layer.weights if v is not self.kernel]
        scope = keras.StatelessScope([(v, v.value) for v in others] + [(self.kernel, kernel)], collect_losses=True)
        entry = {id(v): scope.get_current_value(v) for v in others}
        with scope:
            outputs = self.layer(inputs)
        # The scope holds what the wrapped layer assigned (moving statistics,
        # counters); carry those writes out to the stored variables.
        for variable in others:
            value = scope.get_current_value(variable)
            if value is not entry[id(variable)]:
                variable.assign(value)
        for loss in scope.losses:
            self.add_loss(loss)
        # The wrapped layer keeps its own dtype policy; the wrapper's decides.
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
