"""BetaOutput: (alpha, beta) = (evidence(z+) + 1, evidence(z-) + 1) per label."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.testing import TestCase
from tests.testing import to_numpy

Z = np.array([[-50.0, -1.0, 0.0, 0.5, 3.0, 2.0], [2.0, -3.0, 1.0, 0.0, -0.5, 7.0]], "float32")


def expected(z, evidence):
    e = reference.EVIDENCE[evidence](z.astype("float64"))
    half = z.shape[-1] // 2
    return np.stack([e[..., :half] + 1, e[..., half:] + 1], axis=-1)


class BetaOutputTest(TestCase):
    def test_every_evidence_name(self):
        for evidence in sorted(reference.EVIDENCE):
            self.run_layer_test(
                ke.layers.BetaOutput,
                {"evidence": evidence},
                input_data=Z,
                expected_output=expected(Z, evidence),
                expected_output_dtype="float32",
                expected_num_trainable_weights=0,
            )


def test_one_label_is_dirichlet_output_on_the_same_logits():
    # K = 2 Dirichlet over (present, absent) from logits (z+, z-).
    z = Z[:, :2]
    np.testing.assert_allclose(
        to_numpy(ke.layers.BetaOutput("softplus")(z))[:, 0, :],
        to_numpy(ke.layers.DirichletOutput("softplus")(z)),
    )


def test_config_round_trip_keeps_the_evidence_layer():
    layer = ke.layers.BetaOutput(evidence=ke.layers.EvidenceELU(offset=2.0))
    restored = ke.layers.BetaOutput.from_config(layer.get_config())
    assert isinstance(restored.evidence, ke.layers.EvidenceELU)
    assert restored.evidence.offset == 2.0
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    np.testing.assert_allclose(to_numpy(revived(Z)), to_numpy(layer(Z)))


@pytest.mark.parametrize("width", [1, 5])
def test_odd_logits_are_refused(width):
    with pytest.raises(ValueError, match=rf"must be even.*Received: input shape \(2, {width}\)"):
        ke.layers.BetaOutput()(np.zeros((2, width), "float32"))


def test_nan_logits_fail_instead_of_becoming_no_evidence():
    z = Z.copy()
    z[0, 1] = np.nan
    with pytest.raises(ValueError, match="logits that BetaOutput receives must be finite"):
        ke.layers.BetaOutput()(z)


def test_mixed_precision_parameters_are_float32():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(6), ke.layers.BetaOutput("exp")]
        )
        out = model(np.full((2, 4), 3.0, "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.all(np.isfinite(to_numpy(out)))
