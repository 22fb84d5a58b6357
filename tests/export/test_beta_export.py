"""Exporting a BetaOutput model: per-label probability and uncertainty served."""

import os

import keras
import numpy as np
import pytest

import keras_evidential as ke

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow"
    ),
]


def test_saved_model_serves_per_label_probability_and_uncertainty(tmp_path):
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5,), name="features"), keras.layers.Dense(6),
        ke.layers.BetaOutput("softplus"),
    ])
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    params = model.predict(x, verbose=0).astype("float64")
    a, b = params[..., 0], params[..., 1]
    path = ke.export.export_saved_model(model, os.fspath(tmp_path / "ml"))
    served = tf.saved_model.load(path).signatures["serving_default"](features=tf.constant(x))
    assert sorted(served) == sorted(ke.export.BETA_OUTPUT_NAMES)
    np.testing.assert_allclose(served["probabilities"].numpy(), a / (a + b), rtol=1e-6)
    np.testing.assert_allclose(served["uncertainty"].numpy(), 2 / (a + b), rtol=1e-6)
    np.testing.assert_allclose(
        served["score_sum"].numpy(), 6 / (6 + (a + b - 2).sum(axis=-1)), rtol=1e-6
    )
    assert served["score_max"].numpy().shape == (4,)


def test_onnx_serves_the_same_per_label_outputs(tmp_path):
    pytest.importorskip("tf2onnx", reason="ONNX export needs: pip install tf2onnx onnx")
    ort = pytest.importorskip("onnxruntime", reason="running ONNX needs onnxruntime")
    from scipy import special

    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((5,), name="features"), keras.layers.Dense(8),
        ke.layers.BetaOutput("softplus"),
    ])
    x = np.random.default_rng(1).normal(size=(6, 5)).astype("float32")
    params = model.predict(x, verbose=0).astype("float64")
    a, b = params[..., 0], params[..., 1]
    s = a + b
    with pytest.raises(ValueError, match="digamma.*Received: outputs="):
        ke.export.export_onnx(model, os.fspath(tmp_path / "mi.onnx"),
                              outputs=["probabilities", "mutual_information"])
    path = ke.export.export_onnx(model, os.fspath(tmp_path / "ml.onnx"))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    # Every serving output but the mutual information (no ONNX digamma).
    names = [n for n in ke.export.BETA_OUTPUT_NAMES if n != "mutual_information"]
    assert sorted(o.name for o in session.get_outputs()) == sorted(names)
    served = dict(zip(names, session.run(names, {"features": x})))
    # Float64 references from the Beta formulas (Aguilar et al., 2025):
    # entropy of the mean Bernoulli minus the expected entropy under the Beta.
    p = a / s
    total = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    expected = -(p * (special.digamma(a + 1) - special.digamma(s + 1))
                 + (1 - p) * (special.digamma(b + 1) - special.digamma(s + 1)))
    references = {
        "probabilities": p, "uncertainty": 2 / s, "mutual_information": total - expected,
        "score_sum": 8 / (8 + (s - 2).sum(axis=-1)), "score_max": (2 / s).min(axis=-1),
        "alpha": a, "beta": b,
    }
    for name in names:
        np.testing.assert_allclose(served[name], references[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)
