"""Serving exports of models trained under JAX and PyTorch.

A child process trains a small EDL model under the other backend, records
its predictions and exports the SavedModel and the ONNX or LiteRT file (each
through a TensorFlow grandchild that reloads the `.keras` file); this test,
under TensorFlow, serves the three files and compares every output with the
float64 reference computed from the training backend's own predictions.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.models import assert_matches
from tests.models import reference_outputs

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["a", "b", "c"]
THRESHOLD = 0.5

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow", reason="serves the exports under TensorFlow"
    ),
]

TRAIN_AND_EXPORT = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    import keras_evidential as ke

    out = sys.argv[1]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 2.0, (48, 6)).astype("float32")
    y = np.arange(48) % 3
    model = keras.Sequential([
        keras.Input((6,), name="features"),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(3),
        ke.layers.DirichletOutput(),
    ])
    model.compile(keras.optimizers.Adam(1e-2), ke.losses.EDLLoss(kl_weight=0.1))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    alpha = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    np.savez(out + "/predicted.npz", x=x, alpha=alpha)
    options = dict(class_names=NAMES, threshold=THRESHOLD)
    ke.export.export_saved_model(model, out + "/served", **options)
    if "onnx" in sys.argv[2:]:
        ke.export.export_onnx(model, out + "/model.onnx", **options)
    if "litert" in sys.argv[2:]:
        ke.export.export_litert(model, out + "/model.tflite", **options)
    print("trained and exported under", keras.backend.backend())
    """
).replace("NAMES", repr(NAMES)).replace("THRESHOLD", repr(THRESHOLD))


# Each export starts a TensorFlow process (about 10 s of CPU): both backends
# export the SavedModel, and between them ONNX and LiteRT.
@pytest.mark.parametrize("backend, extra", [("jax", "litert"), ("torch", "onnx")])
def test_exports_of_another_backend_serve_its_predictions(backend, extra, tmp_path):
    pytest.importorskip(backend)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    import tensorflow as tf

    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", TRAIN_AND_EXPORT, str(tmp_path), extra],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"trained and exported under {backend}" in result.stdout

    predicted = np.load(tmp_path / "predicted.npz")
    x = predicted["x"]
    expected = reference_outputs(predicted["alpha"], False, NAMES, THRESHOLD)
    # Rows on both sides of the threshold, so that the rule is exercised.
    assert 0 < np.sum(expected["class_index"] == len(NAMES)) < len(x)

    signature = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures[
        "serving_default"
    ]
    served = {k: v.numpy() for k, v in signature(features=tf.constant(x)).items()}
    assert_matches(served, expected, atol=1e-5)

    if extra == "litert":
        runner = litert.Interpreter(
            model_path=str(tmp_path / "model.tflite")
        ).get_signature_runner("serving_default")
        assert_matches(runner(features=x), expected, atol=1e-5)
        return
    session = ort.InferenceSession(
        str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    assert_matches(
        dict(zip(names, session.run(names, {"features": x}))), expected, atol=1e-5
    )

