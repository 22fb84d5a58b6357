"""EDLLoss against the float64 reference."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference

RNG = np.random.default_rng(1)


def alpha_batch(n=32, k=4):
    return (1.0 + RNG.gamma(1.0, 4.0, size=(n, k))).astype("float32")


def value(loss, y, pred):
    return float(keras.ops.convert_to_numpy(loss(y, pred)))


@pytest.mark.parametrize("risk", ["mse", "log", "digamma"])
@pytest.mark.parametrize("kl_weight", [0.0, 0.1, 1.0])
def test_loss_matches_reference(risk, kl_weight):
    alpha = alpha_batch()
    labels = RNG.integers(0, 4, len(alpha))
    y = reference.one_hot(labels, 4)
    expected = reference.edl_loss(y, alpha.astype("float64"), risk, kl_weight)
    loss = ke.losses.EDLLoss(risk=risk, kl_weight=kl_weight)
    np.testing.assert_allclose(value(loss, labels, alpha), expected, rtol=1e-5)


def test_integer_column_and_one_hot_labels_agree():
    alpha = alpha_batch()
    labels = RNG.integers(0, 4, len(alpha))
    loss = ke.losses.EDLLoss(kl_weight=0.5)
    sparse = value(loss, labels, alpha)
    np.testing.assert_allclose(value(loss, labels[:, None], alpha), sparse, rtol=1e-6)
    np.testing.assert_allclose(value(loss, reference.one_hot(labels, 4), alpha), sparse, rtol=1e-6)


def test_unknown_class_label_k_with_k_plus_one_outputs():
    alpha = alpha_batch(k=3)
    alpha_plus = np.concatenate([alpha, np.full((len(alpha), 1), 4.0, "float32")], -1)
    labels = RNG.integers(0, 4, len(alpha))  # 3 = unknown
    expected = reference.edl_loss(reference.one_hot(labels, 4), alpha_plus.astype("float64"), "mse", 0.1)
    np.testing.assert_allclose(value(ke.losses.EDLLoss(kl_weight=0.1), labels, alpha_plus), expected, rtol=1e-5)


def test_sample_weight_and_reduction():
    alpha = alpha_batch(n=4)
    labels = np.array([0, 1, 2, 3])
    weights = np.array([1.0, 0.0, 2.0, 0.0])
    per_sample = reference.mse_risk(reference.one_hot(labels, 4), alpha.astype("float64"))
    got = float(keras.ops.convert_to_numpy(ke.losses.EDLLoss()(labels, alpha, sample_weight=weights)))
    np.testing.assert_allclose(got, np.sum(per_sample * weights) / 4, rtol=1e-5)
    summed = ke.losses.EDLLoss(reduction="sum")
    np.testing.assert_allclose(value(summed, labels, alpha), per_sample.sum(), rtol=1e-5)


@pytest.mark.parametrize("evidence", ["relu", "softplus", "exp", "elu"])
def test_from_logits_applies_the_evidence(evidence):
    logits = RNG.normal(0, 3, size=(16, 5)).astype("float32")
    labels = RNG.integers(0, 5, 16)
    alpha = reference.EVIDENCE[evidence](logits.astype("float64")) + 1
    expected = reference.edl_loss(reference.one_hot(labels, 5), alpha, "log", 0.2)
    loss = ke.losses.EDLLoss(risk="log", kl_weight=0.2, from_logits=True, evidence=evidence)
    np.testing.assert_allclose(value(loss, labels, logits), expected, rtol=1e-5)


def test_cross_entropy_stage_equals_keras_categorical_crossentropy():
    logits = RNG.normal(0, 3, size=(16, 5)).astype("float32")
    labels = RNG.integers(0, 5, 16)
    y = reference.one_hot(labels, 5)
    loss = ke.losses.EDLLoss(from_logits=True, stage=1, evidence="elu")
    keras_ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(value(loss, labels, logits), value(keras_ce, y, logits), rtol=1e-6)
    np.testing.assert_allclose(value(loss, labels, logits), reference.softmax_cross_entropy(y, logits), rtol=1e-5)


def test_kl_weight_variable_changes_the_value():
    alpha = alpha_batch()
    labels = RNG.integers(0, 4, len(alpha))
    y = reference.one_hot(labels, 4)
    loss = ke.losses.EDLLoss()
    loss.kl_weight.assign(0.7)
    expected = reference.edl_loss(y, alpha.astype("float64"), "mse", 0.7)
    np.testing.assert_allclose(value(loss, labels, alpha), expected, rtol=1e-5)


def test_config_round_trip_keeps_current_state():
    loss = ke.losses.EDLLoss(risk="digamma", kl_weight=0.25, from_logits=True,
                             evidence=ke.layers.EvidenceELU(offset=2.0), name="tedl")
    loss.kl_weight.assign(0.5)
    loss.stage.assign(1)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, ke.losses.EDLLoss)
    assert restored.risk == "digamma" and restored.from_logits and restored.name == "tedl"
    assert restored.evidence.offset == 2.0
    assert float(keras.ops.convert_to_numpy(restored.kl_weight)) == 0.5
    assert int(keras.ops.convert_to_numpy(restored.stage)) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"risk": "hinge"}, "risk='hinge'"),
        ({"kl_weight": -1.0}, "kl_weight=-1.0"),
        ({"kl_weight": float("nan")}, "kl_weight=nan"),
        ({"stage": 3}, "stage=3"),
        ({"stage": 1}, "from_logits=False"),
        ({"from_logits": True, "evidence": "tanh"}, "evidence='tanh'"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ke.losses.EDLLoss(**kwargs)


def test_wrong_one_hot_width_is_named():
    with pytest.raises(ValueError, match="y_true.shape"):
        ke.losses.EDLLoss()(np.zeros((4, 3)), alpha_batch(n=4, k=5))
