"""Choosing which named outputs a serving signature returns, where it is
written, and how the serving function calls the model."""

from __future__ import annotations

import os
from typing import Sequence

import keras

from keras_evidential.tensor_types import PathLike
from keras_evidential.validation import check_int


def selected_outputs(
    outputs: Sequence[str] | None, names: Sequence[str]
) -> Sequence[str]:
    """`outputs` checked against the serving outputs `names` (all if None)."""
    if outputs is None:
        return names
    if isinstance(outputs, str):
        outputs = (outputs,)
    selected = tuple(outputs)
    unknown = [name for name in selected if name not in names]
    if not selected or unknown or len(set(selected)) != len(selected):
        raise ValueError(
            f"`outputs` must be distinct names among {names}. "
            f"Received: outputs={outputs!r}"
        )
    return selected


def version_directory(base_dir: PathLike, version: int) -> str:
    """`<base_dir>/<version>`, the new version directory TF Serving watches;
    raises unless `version` is a positive integer not exported yet."""
    version = check_int(version, "version", minimum=1)
    path = os.path.join(os.fspath(base_dir), str(version))
    if os.path.exists(path):
        raise ValueError(
            "The version directory exists already; TF Serving expects a new "
            f"version number for a new model. Received: version={version} "
            f"({path})"
        )
    return path


def call_model(model, inputs):
    """`model` in inference mode on a serving function's positional `inputs`,
    one per model input (packed into the model's input structure)."""
    if len(inputs) == 1:
        inputs = inputs[0]
    else:
        inputs = keras.tree.pack_sequence_as(model.input, list(inputs))
    return model(inputs, training=False)
