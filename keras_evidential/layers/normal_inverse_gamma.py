"""The output layers of an evidential regressor: NIG parameters and target units."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.nig import concat_nig
from keras_evidential.nig import nig_from_outputs
from keras_evidential.nig import split_nig
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_int
from keras_evidential.validation import check_number


@keras.saving.register_keras_serializable(package="keras_evidential")
class NormalInverseGammaOutput(keras.layers.Layer):
    """Maps features to Normal-Inverse-Gamma parameters, for `units` targets.

    Formula:
    ```
    z = inputs @ kernel + bias                     # (..., 4 * units)
    gamma = z_gamma
    nu    = softplus(z_nu) + epsilon
    alpha = softplus(z_alpha) + 1 + epsilon
    beta  = softplus(z_beta) + epsilon
    output = concat([gamma, nu, alpha, beta], axis=-1)
    ```

    A dense projection of the last axis, so any input rank works: a
    `(batch, features)` input gives `(batch, 4 * units)`, a pixel-wise
    `(batch, H, W, channels)` input gives `(batch, H, W, 4 * units)`. The
    output holds, for target `t`, `gamma` at index `t`, `nu` at `units + t`,
    `alpha` at `2 units + t` and `beta` at `3 units + t` (Amini et al.'s
    layout); `keras_evidential.nig.split_nig` splits it. Under a
    mixed-precision policy the kernel runs in float16 but the constraints
    and the output are float32 (the policy's variable dtype), since `nu` and
    `beta` leave float16's range.

    Args:
        units: Positive integer, the number of regression targets.
        epsilon: Float > 0, the floor added to `nu`, `beta` and `alpha - 1`,
            so that the loss is finite for any finite input. Defaults to
            `1e-6`.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: As for `keras.layers.Dense`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((8,)),
    ...     keras.layers.Dense(64, activation="relu"),
    ...     keras_evidential.layers.NormalInverseGammaOutput(units=1),
    ... ])
    >>> model.output_shape
    (None, 4)

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600)
    - [Meinert, Gawlikowski & Lavin, 2023](https://arxiv.org/abs/2205.10060)
    """

    def __init__(
        self,
        units: int = 1,
        epsilon: float = 1e-6,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        **kwargs: Any,
    ) -> None:
        projection_dtype = kwargs.pop("dtype", None)
        super().__init__(dtype=full_precision_dtype(projection_dtype), **kwargs)
        self.units = check_int(units, "units", minimum=1)
        # A finite bound: epsilon = inf gave infinite outputs.
        self.epsilon = check_number(epsilon, "epsilon", low=0, low_open=True)
        # The projection computes in the global policy (float16 under mixed
        # precision); this layer's own dtype is float32 there.
        self.projection = keras.layers.Dense(
            4 * units,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            dtype=projection_dtype,
            name="projection",
        )
        self.supports_masking = True

    def build(self, input_shape: Shape) -> None:
        self.projection.build(input_shape)

    def call(self, inputs: Tensor) -> Tensor:
        check_finite(inputs, "The features that NormalInverseGammaOutput receives")
        z = ops.cast(self.projection(inputs), self.compute_dtype)
        return nig_from_outputs(z, self.epsilon)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (4 * self.units,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "epsilon": self.epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.projection.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.projection.bias_initializer
                ),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.projection.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(
                    self.projection.bias_regularizer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class NormalInverseGammaRescaling(keras.layers.Layer):
    """Maps NIG parameters of a standardised target back to the target's units.

    Formula:
    ```
    y = mean + std * y_standardised   =>
    gamma -> mean + std * gamma,  beta -> std^2 * beta,  nu, alpha unchanged
    ```

    Under this map the Student-t predictive moves to `loc = mean + std
    gamma`, `scale = std w_St`, the same degrees of freedom; `E[sigma^2]`
    and `Var[mu]` scale by `std^2`, `w_St` by `std`, and `1 / sqrt(nu)` is
    unchanged. Train a model on `(y - mean) / std`, then append this layer
    (no weights) so that predictions, uncertainties and the exported
    signature are in the target's units:

    ```python
    mean, std = y_train.mean(0), y_train.std(0)
    model.fit(x_train, (y_train - mean) / std, ...)
    serving = keras.Sequential([model, NormalInverseGammaRescaling(mean, std)])
    ```

    Args:
        mean: Float or list of floats (one per target), the target's mean.
        std: Float or list of floats > 0, the target's standard deviation.
        **kwargs: Base layer keyword arguments.

    Example:

    >>> layer = keras_evidential.layers.NormalInverseGammaRescaling(10.0, 2.0)
    >>> keras.ops.convert_to_numpy(
    ...     layer(np.array([[1.0, 3.0, 2.0, 0.5]])))  # gamma, nu, alpha, beta
    array([[12.,  3.,  2.,  2.]], dtype=float32)

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600) (the
      standardised UCI protocol of Hernández-Lobato & Adams, 2015)
    """

    def __init__(
        self, mean: ArrayLike | float = 0.0, std: ArrayLike | float = 1.0, **kwargs: Any
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.mean = _float_list(mean, "mean")
        self.std = _float_list(std, "std")
        if len(self.mean) != len(self.std):
            raise ValueError(
                "`mean` and `std` must have one entry per target. Received: "
                f"mean={mean!r}, std={std!r}"
            )
        if not all(s > 0 for s in self.std):
            raise ValueError(f"`std` must be > 0. Received: std={std!r}")
        self.supports_masking = True
        # No weights: built at once, as Keras's own stateless layers are.
        self._build_at_init()

    def call(self, inputs: Tensor) -> Tensor:
        inputs = ops.cast(inputs, self.compute_dtype)
        gamma, nu, alpha, beta = split_nig(inputs)
        if gamma.shape[-1] is not None and len(self.mean) not in (1, gamma.shape[-1]):
            raise ValueError(
                f"`mean` and `std` have {len(self.mean)} entries but the input "
                f"has {gamma.shape[-1]} targets. Received: input shape "
                f"{tuple(inputs.shape)}"
            )
        mean = ops.convert_to_tensor(self.mean, self.compute_dtype)
        std = ops.convert_to_tensor(self.std, self.compute_dtype)
        return concat_nig(mean + std * gamma, nu, alpha, ops.square(std) * beta)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"mean": self.mean, "std": self.std})
        return config


def _float_list(value, argument):
    try:
        values = [float(v) for v in np.asarray(value, dtype="float64").reshape(-1)]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{argument}` must be a float or a list of floats. "
            f"Received: {argument}={value!r}"
        ) from error
    if not values or not all(v == v and abs(v) != float("inf") for v in values):
        raise ValueError(
            f"`{argument}` must hold finite floats. Received: {argument}={value!r}"
        )
    return values
