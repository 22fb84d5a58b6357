"""The evidence layers (ReLU, softplus, exp, ELU) against the float64 reference."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.testing import TestCase

LAYERS = {
    "relu": ke.layers.EvidenceReLU,
    "softplus": ke.layers.EvidenceSoftplus,
    "exp": ke.layers.EvidenceExp,
    "elu": ke.layers.EvidenceELU,
}
Z = np.array([[-50.0, -1.0, 0.0, 0.5, 3.0]], "float32")


class EvidenceLayerTest(TestCase):
    def _check(self, name, init_kwargs, expected):
        self.run_layer_test(
            LAYERS[name],
            init_kwargs,
            input_data=Z,
            expected_output=expected,
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=0,
            supports_masking=True,
        )

    def test_relu(self):
        self._check("relu", {}, reference.EVIDENCE["relu"](Z.astype("float64")))

    def test_softplus(self):
        self._check("softplus", {}, reference.EVIDENCE["softplus"](Z.astype("float64")))

    def test_exp_with_its_clip_value(self):
        self._check("exp", {}, reference.EVIDENCE["exp"](Z.astype("float64")))
        self._check("exp", {"clip_value": 2.0}, np.exp(np.clip(Z, -2.0, 2.0)))

    def test_elu_with_its_offset(self):
        self._check("elu", {}, reference.EVIDENCE["elu"](Z.astype("float64")))
        elu = np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0.0)))
        self._check("elu", {"offset": 2.0}, elu + 2.0)


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


@pytest.mark.parametrize(
    "layer, kwargs, received",
    [
        (ke.layers.EvidenceExp, {"clip_value": 0.0}, "clip_value=0.0"),
        (ke.layers.EvidenceExp, {"clip_value": -1}, "clip_value=-1"),
        (ke.layers.EvidenceELU, {"offset": 0.5}, "offset=0.5"),
    ],
)
def test_invalid_evidence_arguments(layer, kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        layer(**kwargs)


EXP_HEADS = {
    "EvidenceExp": lambda clip_value: ke.layers.EvidenceExp(clip_value=clip_value),
    "DensityAwareDirichlet": lambda clip_value: ke.layers.DensityAwareDirichlet(clip_value=clip_value),
    "FlexibleDirichletOutput": lambda clip_value: ke.layers.FlexibleDirichletOutput(3, clip_value=clip_value),
}


@pytest.mark.parametrize("head", sorted(EXP_HEADS))
@pytest.mark.parametrize("bad", [0.0, -1, float("nan"), float("inf"), "10", None, True])
def test_exp_heads_refuse_a_bad_clip_value(head, bad):
    # An infinite clip lets exp overflow to alpha = inf; a string or None
    # failed with a TypeError that named nothing.
    with pytest.raises(ValueError, match=f"Received: clip_value={bad!r}"):
        EXP_HEADS[head](bad)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_subclass_with_weights_gets_built(name):
    """Issue 16, section 5: `self.built = True` in `__init__` skipped `build`."""

    class Scaled(LAYERS[name]):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

        def call(self, inputs):
            return self.scale * super().call(inputs)

    layer = Scaled()
    assert not layer.built
    out = keras.ops.convert_to_numpy(layer(Z))
    assert layer.built and len(layer.trainable_weights) == 1
    np.testing.assert_allclose(
        out, reference.EVIDENCE[name](Z.astype("float64")), rtol=1e-5, atol=1e-6
    )
