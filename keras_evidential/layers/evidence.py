"""Evidence layers: logits in, non-negative evidence out."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.dirichlet import evidence as evidence_fns
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite_number
from keras_evidential.validation import check_number


def validate_clip_value(clip_value: float) -> float:
    """Returns `clip_value` as a float; raises unless it is a finite number > 0.

    The logit clip of every `exp` evidence head: an infinite clip lets `exp`
    overflow to an infinite concentration.
    """
    return check_finite_number(clip_value, "clip_value", positive=True)


class Evidence(keras.layers.Layer):
    """Base class of the evidence layers: an elementwise map `z -> e >= 0`.

    Subclasses implement `call`; shapes are unchanged.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self._build_at_init()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        # Explicit, so that a layer built with a DTypePolicy object (as
        # `DirichletOutput` and `EDLLoss` do) still serializes.
        return super().get_config()


@keras.saving.register_keras_serializable(package="keras_evidential")
class EvidenceReLU(Evidence):
    """ReLU evidence, the original EDL choice.

    Formula:
    ```
    e = max(z, 0)
    ```

    Its gradient is zero for negative logits, so an output unit whose logits
    all turn negative stops learning ("dying ReLU"); see `EvidenceELU`.

    Example:

    >>> layer = keras_evidential.layers.EvidenceReLU()
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]]))))
    [[0. 2.]]

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    def call(self, inputs: Tensor) -> Tensor:
        return evidence_fns.relu_evidence(inputs)


@keras.saving.register_keras_serializable(package="keras_evidential")
class EvidenceSoftplus(Evidence):
    """Softplus evidence.

    Formula:
    ```
    e = log(1 + exp(z))
    ```

    Example:

    >>> layer = keras_evidential.layers.EvidenceSoftplus()
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[0.0]]))))  # log 2
    [[0.6931472]]

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    def call(self, inputs: Tensor) -> Tensor:
        return evidence_fns.softplus_evidence(inputs)


@keras.saving.register_keras_serializable(package="keras_evidential")
class EvidenceExp(Evidence):
    """Exponential evidence on clipped logits.

    Formula:
    ```
    e = exp(clip(z, -clip_value, clip_value))
    ```

    Args:
        clip_value: Finite float > 0. Logits are clipped to
            `[-clip_value, clip_value]` before `exp`, because `exp` overflows
            float32 at z ~ 88 and float16 at z ~ 11. Defaults to `10.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> layer = keras_evidential.layers.EvidenceExp(clip_value=3.0)
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[0.0, 2.0, 100.0]]))))
    [[ 1.        7.389056 20.085537]]

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    def __init__(self, clip_value: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clip_value = validate_clip_value(clip_value)

    def call(self, inputs: Tensor) -> Tensor:
        return evidence_fns.exp_evidence(inputs, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"clip_value": self.clip_value})
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class EvidenceELU(Evidence):
    """ELU evidence with an offset, TEDL's choice.

    Formula:
    ```
    e = elu(z) + offset = (z if z > 0 else exp(z) - 1) + offset
    ```

    ELU's range is (-1, inf) and its gradient is positive everywhere, so unlike
    ReLU evidence no output unit can die. The default `offset=1` makes the
    evidence strictly positive, `e > 0`, the smallest offset that keeps it
    non-negative for every logit (TEDL writes the evidence as ELU shifted into
    the positive range; the offset is a parameter so that other shifts can be
    compared).

    Args:
        offset: Float >= 1. Added to `elu(z)`. Defaults to `1.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> layer = keras_evidential.layers.EvidenceELU()
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[-50.0, 0.0, 2.0]]))))
    [[0. 1. 3.]]

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(self, offset: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # offset >= 1 keeps the evidence elu(z) + offset non-negative.
        self.offset = check_number(offset, "offset", low=1)

    def call(self, inputs: Tensor) -> Tensor:
        return evidence_fns.elu_evidence(inputs, self.offset)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"offset": self.offset})
        return config


EVIDENCE_LAYERS = {
    "relu": EvidenceReLU,
    "softplus": EvidenceSoftplus,
    "exp": EvidenceExp,
    "elu": EvidenceELU,
}


def serialize(evidence: Evidence) -> dict[str, Any]:
    """The config of an evidence layer held by another object.

    Without the `build_config` that Keras adds once the layer has been
    called: evidence layers have no weights, so their config must not change
    with use (a model's config would differ before and after `fit`).
    """
    config = keras.saving.serialize_keras_object(evidence)
    config.pop("build_config", None)
    return config


def get(identifier: Any, dtype: str | None = None) -> Evidence:
    """Returns a new evidence layer from a short name, a config or a layer.

    Args:
        identifier: One of `"relu"`, `"softplus"`, `"exp"`, `"elu"`, an
            `Evidence` layer instance, or a serialized layer config.
        dtype: Optional dtype policy for the returned layer. A layer instance
            is cloned with this dtype so that it computes in the caller's
            precision instead of casting to its own.
    """
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in EVIDENCE_LAYERS:
            raise ValueError(
                "Unknown evidence function. Expected one of "
                f"{sorted(EVIDENCE_LAYERS)} or an Evidence layer. "
                f"Received: evidence={identifier!r}"
            )
        return EVIDENCE_LAYERS[key](dtype=dtype)
    if isinstance(identifier, dict):
        identifier = keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, Evidence):
        if dtype is None:
            return identifier
        config = identifier.get_config()
        config["dtype"] = dtype
        return identifier.__class__.from_config(config)
    raise ValueError(
        "Expected `evidence` to be a name among "
        f"{sorted(EVIDENCE_LAYERS)} or an Evidence layer. "
        f"Received: evidence={identifier!r}"
    )
