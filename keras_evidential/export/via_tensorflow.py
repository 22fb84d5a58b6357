"""Serving exports of a model trained under JAX or PyTorch.

The serving head (class labels as string tensors, the uncertainty outputs)
is a TensorFlow graph, so a model of another backend is saved as `.keras`
and reloaded under TensorFlow in a child process, which writes the export.
The weights travel exactly; the child runs the same exporter a TensorFlow
user calls.

`python -m keras_evidential.export.via_tensorflow REQUEST.json` is the
child's entry point (internal; the exporters call it).
"""

import json
import os
import subprocess
import sys
import tempfile

import keras

# What the child runs, by the name a request gives.
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
            [sys.executable, "-m", __name__, request],
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as f:
        request = json.load(f)
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "The export child needs KERAS_BACKEND=tensorflow. Received: "
            f"keras.backend.backend()={keras.backend.backend()!r}"
        )
    from keras_evidential.export.litert import export_litert
    from keras_evidential.export.onnx import export_onnx
    from keras_evidential.export.serving import export_saved_model
    from keras_evidential.saving import load_model

    exporters = dict(
        saved_model=export_saved_model, onnx=export_onnx, litert=export_litert
    )
    model = load_model(request["model"])
    path = exporters[request["format"]](
        model, request["target"], **request["options"]
    )
    # The last line of the output: the parent returns it.
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
