"""The serving outputs of an evidential regressor (a model ending in NIG parameters)."""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Sequence

import keras
from keras import ops

from keras_evidential import nig
from keras_evidential.export.outputs import call_model
from keras_evidential.export.outputs import selected_outputs
from keras_evidential.layers.normal_inverse_gamma import NormalInverseGammaOutput
from keras_evidential.layers.normal_inverse_gamma import NormalInverseGammaRescaling
from keras_evidential.model_kind import output_layer
from keras_evidential.tensor_types import Tensor


REGRESSION_OUTPUT_NAMES = (
    "mean",
    "aleatoric_amini",
    "epistemic_amini",
    "aleatoric_meinert",
    "epistemic_meinert",
    "gamma",
    "nu",
    "alpha",
    "beta",
)
NIG_LAYERS = (NormalInverseGammaOutput, NormalInverseGammaRescaling)


def is_regression_model(model: keras.Model) -> bool:
    """Whether the model's output layer (inside nested models too) is
    `NormalInverseGammaOutput` or `NormalInverseGammaRescaling`."""
    return isinstance(output_layer(model), NIG_LAYERS)


def regression_outputs(y_pred: Tensor) -> dict[str, Tensor]:
    """The numeric serving outputs of a batch of NIG predictions, each `(batch, T)`.

    Formula:
    ```
    mean              = gamma
    aleatoric_amini   = beta / (alpha - 1)            # E[sigma^2], a variance
    epistemic_amini   = beta / (nu (alpha - 1))       # Var[mu], a variance
    aleatoric_meinert = sqrt(beta (1 + nu) / (alpha nu))   # w_St, target units
    epistemic_meinert = 1 / sqrt(nu)
    ```
    plus the four parameters `gamma`, `nu`, `alpha`, `beta`.
    """
    if keras.backend.standardize_dtype(y_pred.dtype) in ("float16", "bfloat16"):
        y_pred = ops.cast(y_pred, "float32")
    params = nig.split_nig(y_pred)
    values = {name: fn(*params[1:]) for name, fn in nig.UNCERTAINTIES.items()}
    values["mean"] = params.gamma
    values.update(params._asdict())
    return values


def regression_serving_function(
    model: keras.Model, input_signature: Any, outputs: Sequence[str] | None = None
) -> tuple[Callable[..., dict[str, Tensor]], Any]:
    """`(serve, input_signature)` for a model ending in NIG parameters."""
    selected = selected_outputs(outputs, REGRESSION_OUTPUT_NAMES)

    def serve(*inputs):
        values = regression_outputs(call_model(model, inputs))
        return {name: values[name] for name in selected}

    return serve, input_signature
