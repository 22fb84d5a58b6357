"""The serving outputs of a binary or multi-label model ending in `BetaOutput`."""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Sequence

import keras
from keras import ops

from keras_evidential import beta
from keras_evidential.export.outputs import selected_outputs
from keras_evidential.layers.beta_output import BetaOutput
from keras_evidential.model_kind import output_layer
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations

BETA_OUTPUT_NAMES = (
    "probabilities",
    "uncertainty",
    "mutual_information",
    "score_sum",
    "score_max",
    "alpha",
    "beta",
)
# tf2onnx has no converter for TensorFlow's Digamma op, which the mutual
# information needs: it would write an ONNX file that no runtime loads.
ONNX_UNSUPPORTED_OUTPUTS = ("mutual_information",)


def is_beta_model(model: keras.Model) -> bool:
    """Whether the model's output layer (inside nested models too) is `BetaOutput`."""
    return isinstance(output_layer(model), BetaOutput)


def beta_onnx_outputs(outputs: Sequence[str] | None) -> Sequence[str]:
    """The Beta serving outputs to put in an ONNX graph: all but
    `ONNX_UNSUPPORTED_OUTPUTS` where `outputs` is None; a named unsupported
    one is refused."""
    if outputs is None:
        return tuple(n for n in BETA_OUTPUT_NAMES if n not in ONNX_UNSUPPORTED_OUTPUTS)
    selected = selected_outputs(outputs, BETA_OUTPUT_NAMES)
    refused = [name for name in selected if name in ONNX_UNSUPPORTED_OUTPUTS]
    if refused:
        raise ValueError(
            f"`outputs` cannot include {refused} in an ONNX export: the mutual "
            "information needs the digamma function, which tf2onnx does not "
            "convert. Serve it from a SavedModel (`export_saved_model`), or "
            "compute it from the exported `alpha` and `beta` with "
            f"`keras_evidential.beta.mutual_information`. Received: outputs={outputs!r}"
        )
    return selected


def beta_outputs(params: Tensor) -> dict[str, Tensor]:
    """The numeric serving outputs of a batch of Beta parameters `(batch, L, 2)`.

    Formula:
    ```
    probabilities      = alpha / (alpha + beta)      # (batch, L)
    uncertainty        = 2 / (alpha + beta)          # vacuity, (batch, L)
    mutual_information = per label, (batch, L)
    score_sum, score_max                             # per sample, (batch,)
    ```
    plus `alpha` and `beta`, each `(batch, L)`.
    """
    if keras.backend.standardize_dtype(params.dtype) in ("float16", "bfloat16"):
        params = ops.cast(params, "float32")
    alpha, beta_ = beta.split_beta(params)
    return {
        "probabilities": beta.expected_probability(params),
        "uncertainty": beta.vacuity(params),
        "mutual_information": beta.mutual_information(params),
        "score_sum": beta.score_sum(params),
        "score_max": beta.score_max(params),
        "alpha": alpha,
        "beta": beta_,
    }


def beta_serving_function(
    model: keras.Model, input_signature: Any, outputs: Sequence[str] | None = None
) -> tuple[Callable[..., dict[str, Tensor]], Any]:
    """`(serve, input_signature)` for a model ending in `BetaOutput`."""
    selected = selected_outputs(outputs, BETA_OUTPUT_NAMES)

    def serve(*inputs):
        if len(inputs) == 1:
            inputs = inputs[0]
        else:
            inputs = keras.tree.pack_sequence_as(model.input, list(inputs))
        params = model(inputs, training=False)
        check_concentrations(params, "the model's Beta parameters")
        values = beta_outputs(params)
        return {name: values[name] for name in selected}

    return serve, input_signature
