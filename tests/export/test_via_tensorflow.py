"""Serving exports of models built under JAX and PyTorch.

A child process builds a small EDL model under the other backend with fixed
weights, records its predictions and runs `keras-evidential export` there
with `--onnx` and `--litert`, which writes the SavedModel, the ONNX and the
LiteRT file from one TensorFlow grandchild that reloads the `.keras` file;
this test, under TensorFlow, serves the three files and compares every
output with the float64 reference computed from the other backend's own
predictions.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_evidential.export.via_tensorflow import export_through_tensorflow
from tests.models import assert_matches
from tests.models import reference_outputs

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["a", "b", "c"]

tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="serves the exports under TensorFlow"
)

BUILD_AND_EXPORT = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    import keras_evidential as ke
    from keras_evidential.export import cli

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 2.0, (32, 6)).astype("float32")
    model = keras.Sequential([
        keras.Input((6,), name="features"),
        keras.layers.Dense(3),
        ke.layers.DirichletOutput(),
    ])
    # Fixed weights instead of training: what travels is the weights.
    model.layers[0].set_weights(
        [rng.normal(0.0, 1.0, (6, 3)).astype("float32"), np.zeros(3, "float32")]
    )
    alpha = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    # A threshold between the two central vacuities, so that rows fall both ways.
    u = np.sort(3.0 / alpha.astype("float64").sum(-1))
    threshold = float((u[15] + u[16]) / 2)
    np.savez(out + "/predicted.npz", x=x, alpha=alpha, threshold=threshold)
    model.save(out + "/model.keras")
    status = cli.main([
        out + "/model.keras", out + "/served", "--class-names", *NAMES,
        "--threshold", repr(threshold),
        "--onnx", out + "/model.onnx", "--litert", out + "/model.tflite",
    ])
    print("exported under", keras.backend.backend(), "status", status)
    """
).replace("NAMES", repr(NAMES))


@pytest.mark.large
@tensorflow_only
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_exports_of_another_backend_serve_its_predictions(backend, tmp_path):
    pytest.importorskip(backend)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    import tensorflow as tf

    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", BUILD_AND_EXPORT, str(tmp_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"exported under {backend} status 0" in result.stdout
    # One TensorFlow process wrote all three files.
    for message in ("SavedModel for TF Serving", "ONNX model", "LiteRT model"):
        assert message in result.stdout

    predicted = np.load(tmp_path / "predicted.npz")
    x = predicted["x"]
    expected = reference_outputs(
        predicted["alpha"], False, NAMES, float(predicted["threshold"])
    )
    # Rows on both sides of the threshold, so that the rule is exercised.
    assert 0 < np.sum(expected["class_index"] == len(NAMES)) < len(x)

    signature = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures[
        "serving_default"
    ]
    served = {k: v.numpy() for k, v in signature(features=tf.constant(x)).items()}
    assert_matches(served, expected, atol=1e-5)

    runner = litert.Interpreter(
        model_path=str(tmp_path / "model.tflite")
    ).get_signature_runner("serving_default")
    assert_matches(runner(features=x), expected, atol=1e-5)

    session = ort.InferenceSession(
        str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    assert_matches(
        dict(zip(names, session.run(names, {"features": x}))), expected, atol=1e-5
    )


# Refused before a child process starts.
def test_input_signature_is_refused_for_the_child(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    options = dict(input_signature=["spec"])
    with pytest.raises(ValueError, match="input_signature="):
        export_through_tensorflow(model, [("onnx", tmp_path / "m.onnx", options)])


def test_unknown_export_format_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="export_format='tflite'"):
        export_through_tensorflow(model, [("tflite", tmp_path / "m", {})])
