"""Serving exports of a model trained under JAX or PyTorch.

The serving head (class labels as string tensors, the uncertainty outputs)
is a TensorFlow graph, so a model of another backend is saved as `.keras`
and reloaded under TensorFlow in a child process, which writes the exports.
The weights travel exactly; the child runs the same exporters a TensorFlow
user calls, all the requested formats in one process (its start, the
TensorFlow import, costs seconds).

The child runs `python -m keras_evidential.export.tensorflow_child
REQUEST.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any
from typing import Callable
from typing import Sequence

import keras

from keras_evidential.tensor_types import PathLike

# The child process's module, and the formats it writes.
CHILD = "keras_evidential.export.tensorflow_child"
FORMATS = ("saved_model", "onnx", "litert")
# The last lines of the child's error output shown in the parent's error.
ERROR_LINES = 20


def export_from_any_backend(
    export_format: str,
    write: Callable[..., Any],
    model: keras.Model,
    target: PathLike,
    options: dict[str, Any],
) -> Any:
    """One exporter's dispatch on the backend.

    Under TensorFlow, `write(model, target, **options)` exports in this
    process; under JAX or PyTorch a TensorFlow child process does (see
    `export_through_tensorflow`).

    Args:
        export_format: One of `FORMATS`.
        write: The exporter's TensorFlow implementation.
        model: The Keras model.
        target: The exporter's output path.
        options: The exporter's keyword arguments.

    Returns:
        The path written.
    """
    if keras.backend.backend() == "tensorflow":
        return write(model, target, **options)
    return export_through_tensorflow(model, [(export_format, target, options)])[0]


def export_through_tensorflow(
    model: keras.Model, exports: Sequence[tuple[str, PathLike, dict[str, Any]]]
) -> list[str]:
    """Writes several exports of `model` from one TensorFlow child process.

    Args:
        model: A Keras model of the current (non-TensorFlow) backend whose
            classes the child can import: this package's, Keras's, or ones
            registered with `keras.saving.register_keras_serializable` in a
            module on the child's path.
        exports: A list of `(export_format, target, options)`: one of
            `FORMATS`, the exporter's output path (for `"saved_model"` the
            base directory) and its keyword arguments, JSON-serializable.

    Returns:
        The paths written, one per export.
    """
    requests: list[dict[str, Any]] = []
    for export_format, target, options in exports:
        if export_format not in FORMATS:
            raise ValueError(
                f"`export_format` must be one of {FORMATS}. "
                f"Received: export_format={export_format!r}"
            )
        if options.get("input_signature") is not None:
            raise ValueError(
                "`input_signature` is a TensorFlow-backend option: under "
                f"{keras.backend.backend()!r} the exported inputs are read from "
                "the model, which must be a functional or Sequential model. "
                f"Received: input_signature={options['input_signature']!r}"
            )
        options = {k: v for k, v in options.items() if k != "input_signature"}
        requests.append(
            dict(format=export_format, target=os.fspath(target), options=options)
        )
    with tempfile.TemporaryDirectory(prefix="keras_evidential_export_") as work:
        model_path = os.path.join(work, "model.keras")
        model.save(model_path)
        request = os.path.join(work, "request.json")
        with open(request, "w") as f:
            json.dump(dict(model=model_path, exports=requests), f, default=_plain)
        result = subprocess.run(
            [sys.executable, "-m", CHILD, request],
            env=_tensorflow_environment(),
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-ERROR_LINES:])
        formats = ", ".join(r["format"] for r in requests)
        raise ValueError(
            f"The {formats} export of this {keras.backend.backend()} "
            "model, reloaded under TensorFlow in a child process, failed:\n"
            f"{tail}"
        )
    # The child prints the paths last, one a line.
    return result.stdout.strip().splitlines()[-len(requests):]


def _plain(value):
    # NumPy scalars (a threshold computed with NumPy) as Python numbers.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(
        "Export options must be numbers, strings or lists of them. "
        f"Received: {value!r} of type {type(value).__name__}"
    )


def _tensorflow_environment():
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The child imports this very copy of the package, installed or not.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    return env
