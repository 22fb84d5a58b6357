"""Serving exports of an evidential regressor: SavedModel signature and ONNX."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential.export import REGRESSION_OUTPUT_NAMES
from tests import reference_nig as ref

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="serving exports need TensorFlow"
)


def _model(targets=2):
    model = keras.Sequential([
        keras.Input((3,), name="features"),
        keras.layers.Dense(8, activation="tanh"),
        ke.layers.NormalInverseGammaOutput(targets),
        ke.layers.NormalInverseGammaRescaling([5.0] * targets, [2.0] * targets),
    ])
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    return model, x


def _expected(model, x):
    out = np.asarray(model.predict(x, verbose=0), "float64")
    g, nu, a, b = np.split(out, 4, axis=-1)
    return {
        "mean": g, "gamma": g, "nu": nu, "alpha": a, "beta": b,
        "aleatoric_amini": ref.aleatoric_amini(nu, a, b),
        "epistemic_amini": ref.epistemic_amini(nu, a, b),
        "aleatoric_meinert": ref.aleatoric_meinert(nu, a, b),
        "epistemic_meinert": ref.epistemic_meinert(nu, a, b),
    }


def test_saved_model_signature_serves_both_conventions(tmp_path):
    import tensorflow as tf

    model, x = _model()
    path = ke.export.export_saved_model(model, tmp_path / "regressor", version=1)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    got = signature(features=tf.constant(x))
    assert sorted(got) == sorted(REGRESSION_OUTPUT_NAMES)
    for name, want in _expected(model, x).items():
        assert got[name].shape == (6, 2), name
        np.testing.assert_allclose(got[name].numpy(), want, rtol=1e-5, err_msg=name)


def test_outputs_subset_and_bad_names(tmp_path):
    import tensorflow as tf

    model, x = _model(1)
    path = ke.export.export_saved_model(
        model, tmp_path / "m", outputs=("mean", "epistemic_meinert"))
    got = tf.saved_model.load(path).signatures["serving_default"](features=tf.constant(x))
    assert sorted(got) == ["epistemic_meinert", "mean"]
    with pytest.raises(ValueError, match="outputs="):
        ke.export.export_saved_model(model, tmp_path / "n", outputs=("probabilities",))


def test_onnx_matches_keras(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    model, x = _model()
    path = ke.export.export_onnx(model, tmp_path / "regressor.onnx")
    session = ort.InferenceSession(str(path))
    names = [o.name for o in session.get_outputs()]
    values = dict(zip(names, session.run(names, {session.get_inputs()[0].name: x})))
    for name, want in _expected(model, x).items():
        np.testing.assert_allclose(values[name], want, rtol=1e-5, err_msg=name)
