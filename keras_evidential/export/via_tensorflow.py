"""Serving exports of a model trained under JAX or PyTorch.

The serving head (class labels as string tensors, the uncertainty outputs)
is a TensorFlow graph, so a model of another backend is saved as `.keras`
and reloaded under TensorFlow in a child process, which writes the export.
The weights travel exactly; the child runs the same exporter a TensorFlow
user calls.

The child runs `python -m keras_evidential.export.tensorflow_child
REQUEST.json`.
"""

import json
import os
import subprocess
import sys
import tempfile

import keras

# The child process's module, and the formats it writes.
CHILD = "keras_evidential.export.tensorflow_child"
FORMATS = ("saved_model", "onnx", "litert")
# The last lines of the child's error output shown in the parent's error.
ERROR_LINES = 20


def export_through_tensorflow(model, export_format, target, options):
    """Writes `export_format` of `model` from a TensorFlow child process.

    Args:
        model: A Keras model of the current (non-TensorFlow) backend whose
            classes the child can import: this package's, Keras's, or ones
            registered with `keras.saving.register_keras_serializable` in a
            module on the child's path.
        export_format: One of `FORMATS`.
        target: The exporter's output path (for `"saved_model"` the base
            directory).
        options: The exporter's keyword arguments, JSON-serializable.

    Returns:
        What the exporter returns (the path written).
    """
    if options.get("input_signature") is not None:
        raise ValueError(
            "`input_signature` is a TensorFlow-backend option: under "
            f"{keras.backend.backend()!r} the exported inputs are read from the "
            "model, which must be a functional or Sequential model. Received: "
            f"input_signature={options['input_signature']!r}"
        )
    options = {k: v for k, v in options.items() if k != "input_signature"}
    with tempfile.TemporaryDirectory(prefix="keras_evidential_export_") as work:
        model_path = os.path.join(work, "model.keras")
        model.save(model_path)
        request = os.path.join(work, "request.json")
        with open(request, "w") as f:
            json.dump(
                dict(
                    format=export_format,
                    model=model_path,
                    target=os.fspath(target),
                    options=options,
                ),
                f,
                default=_plain,
            )
        result = subprocess.run(
            [sys.executable, "-m", CHILD, request],
            env=_tensorflow_environment(),
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-ERROR_LINES:])
        raise ValueError(
            f"The {export_format} export of this {keras.backend.backend()} "
            "model, reloaded under TensorFlow in a child process, failed:\n"
            f"{tail}"
        )
    return result.stdout.strip().splitlines()[-1]


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
