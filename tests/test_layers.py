"""Evidence layers, DirichletOutput and UnknownClassHead."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference

LAYERS = {
    "relu": ke.layers.EvidenceReLU,
    "softplus": ke.layers.EvidenceSoftplus,
    "exp": ke.layers.EvidenceExp,
    "elu": ke.layers.EvidenceELU,
}
Z = np.array([[-50.0, -1.0, 0.0, 0.5, 3.0]], "float32")


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_evidence_layer_values_and_shape(name):
    layer = LAYERS[name]()
    out = keras.ops.convert_to_numpy(layer(Z))
    np.testing.assert_allclose(out, reference.EVIDENCE[name](Z.astype("float64")), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 5)) == (None, 5)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_evidence_layer_config_round_trip(name):
    layer = LAYERS[name]()
    config = keras.saving.serialize_keras_object(layer)
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()


def test_layer_arguments_survive_config():
    assert ke.layers.EvidenceExp(clip_value=3.0).get_config()["clip_value"] == 3.0
    restored = ke.layers.EvidenceELU.from_config(ke.layers.EvidenceELU(offset=2.0).get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(np.array([0.0], "float32"))), [2.0])


def test_elu_offset_is_validated():
    with pytest.raises(ValueError, match="offset=0.5"):
        ke.layers.EvidenceELU(offset=0.5)


def test_exp_clip_value_is_validated():
    with pytest.raises(ValueError, match="clip_value=-1"):
        ke.layers.EvidenceExp(clip_value=-1)


@pytest.mark.parametrize("evidence", ["relu", "softplus", "exp", "elu"])
def test_dirichlet_output_is_evidence_plus_one(evidence):
    layer = ke.layers.DirichletOutput(evidence=evidence)
    alpha = keras.ops.convert_to_numpy(layer(Z))
    np.testing.assert_allclose(alpha, reference.EVIDENCE[evidence](Z.astype("float64")) + 1, rtol=1e-5)
    assert np.all(alpha >= 1)


def test_dirichlet_output_accepts_a_layer_and_keeps_its_arguments():
    layer = ke.layers.DirichletOutput(evidence=ke.layers.EvidenceELU(offset=3.0))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(np.zeros((1, 2), "float32"))), [[4.0, 4.0]])
    restored = ke.layers.DirichletOutput.from_config(layer.get_config())
    assert isinstance(restored.evidence, ke.layers.EvidenceELU)
    assert restored.evidence.offset == 3.0


def test_dirichlet_output_rejects_unknown_evidence():
    with pytest.raises(ValueError, match="evidence='sigmoid'"):
        ke.layers.DirichletOutput(evidence="sigmoid")


def test_unknown_class_head_values_and_shape():
    head = ke.layers.UnknownClassHead()
    alpha = np.array([[2.0, 5.0, 1.0], [1.0, 1.0, 1.0]], "float32")
    out = keras.ops.convert_to_numpy(head(alpha))
    np.testing.assert_allclose(out, [[2.0, 5.0, 1.0, 4.0], [1.0, 1.0, 1.0, 4.0]])
    assert head.compute_output_shape((None, 3)) == (None, 4)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(head))
    assert isinstance(restored, ke.layers.UnknownClassHead)


def test_unknown_class_head_needs_known_classes():
    with pytest.raises(ValueError, match="input_shape"):
        ke.layers.UnknownClassHead().build((None, None))


def test_symbolic_shapes_in_a_functional_model():
    inputs = keras.Input((8,))
    alpha = ke.layers.DirichletOutput("softplus")(keras.layers.Dense(4)(inputs))
    outputs = ke.layers.UnknownClassHead()(alpha)
    assert tuple(outputs.shape) == (None, 5)


def test_mixed_precision_alpha_is_float32():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("exp"),
            ke.layers.UnknownClassHead(dtype="float32"),
        ])
        big = np.full((2, 4), 1e4, "float32")
        alpha = model(big)
        assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(alpha)))
    finally:
        keras.config.set_dtype_policy("float32")


def test_compiled_model_saves_and_loads(tmp_path):
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(4),
        ke.layers.DirichletOutput(ke.layers.EvidenceExp(clip_value=5.0)),
        ke.layers.UnknownClassHead(),
    ])
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(risk="digamma", kl_weight=0.3))
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    y = np.arange(16) % 5
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.loss.risk == "digamma"
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loaded.loss.kl_weight)), 0.3)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_dirichlet_output_prior_weight():
    # R-EDL: alpha = e + lambda, and the argument survives the config.
    layer = ke.layers.DirichletOutput("relu", prior_weight=0.1)
    alpha = keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]], "float32")))
    np.testing.assert_allclose(alpha, [[0.1, 2.1]], rtol=1e-6)
    restored = ke.layers.DirichletOutput.from_config(layer.get_config())
    assert restored.prior_weight == 0.1
    assert ke.layers.DirichletOutput().prior_weight == 1.0
    with pytest.raises(ValueError, match="prior_weight"):
        ke.layers.DirichletOutput(prior_weight=0.0)
