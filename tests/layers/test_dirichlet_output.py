"""DirichletOutput: alpha = evidence(logits) + 1."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.testing import TestCase

Z = np.array([[-50.0, -1.0, 0.0, 0.5, 3.0], [2.0, -3.0, 1.0, 0.0, -0.5]], "float32")


class DirichletOutputTest(TestCase):
    def test_every_evidence_name(self):
        for evidence in sorted(reference.EVIDENCE):
            self.run_layer_test(
                ke.layers.DirichletOutput,
                {"evidence": evidence},
                input_data=Z,
                expected_output=reference.EVIDENCE[evidence](Z.astype("float64")) + 1,
                expected_output_dtype="float32",
                expected_num_trainable_weights=0,
                supports_masking=True,
            )

    def test_an_evidence_layer_with_arguments(self):
        self.run_layer_test(
            ke.layers.DirichletOutput,
            {"evidence": ke.layers.EvidenceELU(offset=3.0)},
            input_data=np.zeros((2, 3), "float32"),
            expected_output=np.full((2, 3), 4.0),
            expected_num_trainable_weights=0,
        )


def test_alpha_is_at_least_one():
    for evidence in sorted(reference.EVIDENCE):
        alpha = keras.ops.convert_to_numpy(ke.layers.DirichletOutput(evidence)(Z))
        assert np.all(alpha >= 1), evidence


def test_dirichlet_output_keeps_an_evidence_layer_through_its_config():
    layer = ke.layers.DirichletOutput(evidence=ke.layers.EvidenceELU(offset=3.0))
    restored = ke.layers.DirichletOutput.from_config(layer.get_config())
    assert isinstance(restored.evidence, ke.layers.EvidenceELU)
    assert restored.evidence.offset == 3.0


@pytest.mark.parametrize("evidence", ["sigmoid", "ReLu6", ""])
def test_unknown_evidence_name(evidence):
    with pytest.raises(ValueError, match=rf"Received: evidence={evidence!r}"):
        ke.layers.DirichletOutput(evidence=evidence)


def test_mixed_precision_alpha_is_float32_and_finite():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("exp"),
        ])
        # Logits far beyond float16's range of exp.
        alpha = model(np.full((2, 4), 1e4, "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(alpha)))


def test_a_subclass_with_weights_gets_built():
    """Issue 16, section 5: `self.built = True` in `__init__` skipped `build`."""

    class Tempered(ke.layers.DirichletOutput):
        def build(self, input_shape):
            self.temperature = self.add_weight(shape=(), initializer="ones")

        def call(self, inputs):
            return super().call(inputs / self.temperature)

    layer = Tempered("softplus")
    alpha = keras.ops.convert_to_numpy(layer(Z))
    assert layer.built and len(layer.trainable_weights) == 1
    np.testing.assert_allclose(
        alpha, reference.EVIDENCE["softplus"](Z.astype("float64")) + 1, rtol=1e-5
    )


def test_dirichlet_output_prior_concentration():
    # R-EDL: alpha = e + lambda, and the argument survives the config.
    layer = ke.layers.DirichletOutput("relu", prior_concentration=0.1)
    alpha = keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]], "float32")))
    np.testing.assert_allclose(alpha, [[0.1, 2.1]], rtol=1e-6)
    restored = ke.layers.DirichletOutput.from_config(layer.get_config())
    assert restored.prior_concentration == 0.1
    assert ke.layers.DirichletOutput().prior_concentration == 1.0
    with pytest.raises(ValueError, match="prior_concentration"):
        ke.layers.DirichletOutput(prior_concentration=0.0)
