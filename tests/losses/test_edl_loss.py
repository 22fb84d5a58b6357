"""EDLLoss against the float64 reference (tests/reference.py)."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from keras import ops

import keras_evidential as ke
from tests import reference
from tests.gradients import value_and_gradient
from tests.strategies import ROWS
from tests.strategies import SETTINGS
from tests.strategies import alpha_batches
from tests.strategies import assert_close
from tests.strategies import assert_finite
from tests.strategies import evidences
from tests.strategies import kl_weights
from tests.strategies import logit_batches
from tests.strategies import risks
from tests.strategies import with_unknown_class
from tests.testing import TestCase
from tests.testing import compiled

RNG = np.random.default_rng(1)


def alpha_batch(n=32, k=4):
    return (1.0 + RNG.gamma(1.0, 4.0, size=(n, k))).astype("float32")


def value(loss, y, pred):
    return float(keras.ops.convert_to_numpy(loss(y, pred)))



def alpha_model(k):
    return lambda: keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(k), ke.layers.DirichletOutput("softplus")]
    )


def logits_model(k):
    return lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(k)])


class EDLLossTest(TestCase):
    """Value, config, compiled step, XLA, mixed precision and a `fit` each."""

    def test_every_risk_on_alpha(self):
        alpha = alpha_batch(n=8, k=4)
        labels = np.array([0, 1, 2, 3, 3, 2, 1, 0])
        y = reference.one_hot(labels, 4)
        for risk in ("mse", "log", "digamma"):
            self.run_loss_test(
                ke.losses.EDLLoss,
                {"risk": risk, "kl_weight": 0.3},
                labels,
                alpha,
                reference.edl_loss(y, alpha.astype("float64"), risk, 0.3),
                model_fn=alpha_model(4),
            )

    def test_from_logits_with_every_evidence(self):
        logits = RNG.normal(0, 3, size=(8, 5)).astype("float32")
        labels = np.arange(8) % 5
        y = reference.one_hot(labels, 5)
        for evidence in sorted(reference.EVIDENCE):
            alpha = reference.EVIDENCE[evidence](logits.astype("float64")) + 1
            self.run_loss_test(
                ke.losses.EDLLoss,
                {"risk": "digamma", "kl_weight": 0.2, "from_logits": True, "evidence": evidence},
                labels,
                logits,
                reference.edl_loss(y, alpha, "digamma", 0.2),
                # One `fit` (TEDL's ELU) is enough: the evidence layers'
                # gradients are the same code for every loss.
                model_fn=logits_model(5) if evidence == "elu" else None,
            )

    def test_log_risk_from_logits_trains(self):
        logits = RNG.normal(0, 3, size=(8, 5)).astype("float32")
        labels = np.arange(8) % 5
        alpha = reference.EVIDENCE["elu"](logits.astype("float64")) + 1
        self.run_loss_test(
            ke.losses.EDLLoss,
            {"risk": "log", "kl_weight": 0.2, "from_logits": True, "evidence": "elu"},
            labels,
            logits,
            reference.edl_loss(reference.one_hot(labels, 5), alpha, "log", 0.2),
            model_fn=logits_model(5),
        )

    def test_cross_entropy_stage(self):
        logits = RNG.normal(0, 3, size=(8, 3)).astype("float32")
        labels = np.arange(8) % 3
        self.run_loss_test(
            ke.losses.EDLLoss,
            {"from_logits": True, "evidence": "elu", "stage": 1},
            labels,
            logits,
            reference.softmax_cross_entropy(reference.one_hot(labels, 3), logits.astype("float64")),
            model_fn=logits_model(3),
        )

    def test_unknown_class_and_sample_weight(self):
        alpha = alpha_batch(n=6, k=3)
        alpha_plus = np.concatenate([alpha, np.full((6, 1), 4.0, "float32")], -1)
        labels = np.array([0, 3, 1, 3, 2, 0])  # 3 = unknown
        weights = np.array([1.0, 0.5, 0.0, 2.0, 1.0, 1.0])
        per_sample = reference.mse_risk(
            reference.one_hot(labels, 4), alpha_plus.astype("float64")
        ) + 0.1 * reference.kl_to_uniform(
            reference.one_hot(labels, 4) + (1 - reference.one_hot(labels, 4)) * alpha_plus
        )
        self.run_loss_test(
            ke.losses.EDLLoss,
            {"kl_weight": 0.1},
            labels,
            alpha_plus,
            np.sum(per_sample * weights) / 6,
            sample_weight=weights,
        )


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


LOSSES = [
    ke.losses.EDLLoss(),
    ke.losses.EDLLoss(risk="log", kl_weight=0.3, name="log_loss"),
    ke.losses.EDLLoss(
        risk="digamma",
        kl_weight=1.0,
        from_logits=True,
        evidence=ke.layers.EvidenceELU(offset=2.0),
        stage=1,
    ),
    ke.losses.EDLLoss(from_logits=True, evidence="softplus", kl_weight=0.2),
    ke.losses.EDLLoss(from_logits=True, evidence=ke.layers.EvidenceExp(clip_value=4.0)),
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_loss_round_trips_with_its_variables(loss):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert type(restored) is ke.losses.EDLLoss
    assert restored.get_config() == loss.get_config()

    y = np.array([0, 2, 1, 1])
    raw = np.random.default_rng(1).normal(0, 2, (4, 3)).astype("float32")
    if not loss.from_logits:
        raw = np.abs(raw) + 1  # alpha
    loss_value = float(restored(y, raw))
    onehot = reference.one_hot(y, 3)
    z = raw.astype(np.float64)
    config = loss.get_config()
    if config["stage"] == 1:
        expected = reference.softmax_cross_entropy(onehot, z)
    else:
        alpha = z
        if config["from_logits"]:
            evidence = config["evidence"]["config"]
            if "clip_value" in evidence:
                clip = evidence["clip_value"]
                alpha = np.exp(np.clip(z, -clip, clip)) + 1
            else:
                name = config["evidence"]["class_name"][len("Evidence") :]
                alpha = reference.EVIDENCE[name.lower()](z) + 1
        expected = reference.edl_loss(
            onehot, alpha, config["risk"], config["kl_weight"]
        )
    assert loss_value == pytest.approx(expected, rel=1e-5)


def test_loss_variables_set_during_training_round_trip():
    loss = ke.losses.EDLLoss(from_logits=True, evidence="elu", stage=1)
    loss.kl_weight.assign(0.7)  # as KLAnnealing and TwoStageFit do
    loss.stage.assign(2)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert float(restored.kl_weight.numpy()) == pytest.approx(0.7)
    assert int(restored.stage.numpy()) == 2


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


@pytest.mark.parametrize("kl_weight", [-0.1, float("nan"), float("inf"), "0.1x", None])
def test_invalid_kl_weight(kl_weight):
    with pytest.raises(ValueError, match=r"Received: kl_weight="):
        ke.losses.EDLLoss(kl_weight=kl_weight)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"risk": "hinge"}, "risk='hinge'"),
        ({"stage": 3}, "stage=3"),
        ({"stage": 1}, "stage=1, from_logits=False"),
    ],
)
def test_invalid_loss_arguments(kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        ke.losses.EDLLoss(**kwargs)


@pytest.mark.parametrize("evidence", ["sigmoid", "ReLu6", ""])
def test_unknown_evidence_name(evidence):
    with pytest.raises(ValueError, match=rf"Received: evidence={evidence!r}"):
        ke.losses.EDLLoss(from_logits=True, evidence=evidence)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_prediction_of_the_wrong_rank(shape):
    y_pred = np.full(shape[:1], 2.0, np.float32)  # rank 1: no class axis
    labels = np.zeros(shape, np.int64)
    with pytest.raises(ValueError, match=r"y_pred.shape=\(\d+,\)"):
        ke.losses.EDLLoss()(labels, y_pred)


@pytest.mark.parametrize(
    "value, message",
    [(0.5, r"alpha >= 1.*min=0.5"), (np.nan, "finite"), (np.inf, "finite")],
)
def test_invalid_alpha_names_y_pred(value, message):
    alpha = np.array([[2.0, 1.0, 3.0], [1.0, 5.0, 1.0]], np.float32)
    alpha[1, 1] = value
    with pytest.raises(ValueError, match=rf"`y_pred` .*{message}"):
        ke.losses.EDLLoss()(np.array([0, 1]), alpha)



@pytest.mark.parametrize("k", [10, 100])
def test_loss_is_never_negative_and_the_compiled_forms_agree(k):
    """Issue 16, section 5: `edl_loss(y, a, "mse", 1.0)` with a = (1e4, 1, ...,
    1), label 0 was -8.3e-7 in graph mode (K = 10), +4.9e-6 eagerly and
    +5.8e-6 under XLA; exact: the risk alone (alpha_tilde = 1, KL = 0)."""
    alpha = np.ones((1, k), "float32")
    alpha[0, 0] = 1e4
    labels = np.array([0])
    expected = reference.edl_loss(reference.one_hot(labels, k), alpha.astype("float64"), "mse", 1.0)
    loss = ke.losses.EDLLoss(kl_weight=1.0)
    call = lambda y, a: loss(y, a)
    forms = {"eager": call, "compiled": compiled(call)}
    if keras.backend.backend() == "tensorflow":
        forms["xla"] = compiled(call, jit_compile=True)
    for form, fn in forms.items():
        value = float(ops.convert_to_numpy(fn(ops.convert_to_tensor(labels), ops.convert_to_tensor(alpha))))
        assert value >= 0.0, form
        assert abs(value - expected) <= 1e-6, (form, value, expected)


@SETTINGS
@given(
    batch=alpha_batches(),
    risk=risks,
    kl_weight=kl_weights,
    unknown=st.booleans(),
    unknown_labels=hnp.arrays(np.bool_, (ROWS,)),
)
def test_loss_on_alpha_matches_float64_reference(
    batch, risk, kl_weight, unknown, unknown_labels
):
    alpha, labels = batch
    alpha, labels = with_unknown_class(alpha, labels, unknown, unknown_labels)
    loss = ke.losses.EDLLoss(risk=risk, kl_weight=kl_weight)
    value, grad = value_and_gradient(lambda a: loss(labels, a), alpha)
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha.shape[-1]),
        alpha.astype(np.float64),
        risk,
        kl_weight,
    )
    assert_close(value, expected, alpha.shape[-1])
    assert_finite(grad)


@SETTINGS
@given(
    batch=logit_batches(),
    evidence=evidences,
    risk=risks,
    kl_weight=kl_weights,
    unknown=st.booleans(),
    unknown_labels=hnp.arrays(np.bool_, (ROWS,)),
)
def test_model_head_on_extreme_logits_matches_reference(
    batch, evidence, risk, kl_weight, unknown, unknown_labels
):
    """DirichletOutput (+ UnknownClassHead) and EDLLoss, through the logits."""
    logits, labels = batch
    head = ke.layers.DirichletOutput(evidence=evidence)
    unknown_class = ke.layers.UnknownClassHead()
    loss = ke.losses.EDLLoss(risk=risk, kl_weight=kl_weight)
    alpha64 = reference.EVIDENCE[evidence](logits.astype(np.float64)) + 1.0
    alpha64, labels = with_unknown_class(alpha64, labels, unknown, unknown_labels)

    def forward(z):
        alpha = head(z)
        if unknown:
            alpha = unknown_class(alpha)
        return loss(labels, alpha)

    value, grad = value_and_gradient(forward, logits)
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha64.shape[-1]), alpha64, risk, kl_weight
    )
    assert_close(value, expected, alpha64.shape[-1])
    assert_finite(grad)


@SETTINGS
@given(
    batch=logit_batches(),
    evidence=evidences,
    risk=risks,
    stage=st.sampled_from([1, 2]),
)
def test_both_stages_finite_on_extreme_logits(batch, evidence, risk, stage):
    """Neither the active nor the inactive stage may poison the gradient."""
    logits, labels = batch
    loss = ke.losses.EDLLoss(
        risk=risk, kl_weight=1.0, from_logits=True, evidence=evidence, stage=stage
    )
    value, grad = value_and_gradient(lambda z: loss(labels, z), logits)
    y = reference.one_hot(labels, logits.shape[-1])
    z64 = logits.astype(np.float64)
    if stage == 1:
        expected = reference.softmax_cross_entropy(y, z64)
    else:
        alpha64 = reference.EVIDENCE[evidence](z64) + 1.0
        expected = reference.edl_loss(y, alpha64, risk, 1.0)
    # Cross-entropy of a 1e4 logit gap is ~1e4: float32 gives 1e-3 absolute.
    scale = max(1.0, abs(expected))
    assert_close(value / scale, expected / scale, logits.shape[-1])
    assert_finite(grad)


# Relu evidence of two logits of 3e38 overflows S to inf, and the log risk
# `log S - log alpha_y` to inf - inf = NaN, while softmax cross-entropy of the
# same logits is log(2).
OVERFLOWING_LOGITS = np.array([[3e38, 3e38, 0.0]], np.float32)


def test_stage_one_gradient_ignores_a_nan_edl_branch():
    labels = np.array([0])
    edl = ke.losses.EDLLoss(risk="log", from_logits=True, stage=2)
    assert not np.isfinite(ops.convert_to_numpy(edl(labels, OVERFLOWING_LOGITS)))
    cross_entropy = ke.losses.EDLLoss(risk="log", from_logits=True, stage=1)
    value, grad = value_and_gradient(lambda z: cross_entropy(labels, z), OVERFLOWING_LOGITS)
    np.testing.assert_allclose(ops.convert_to_numpy(value), np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), [[-0.5, 0.5, 0.0]], atol=1e-6
    )


def test_compiled_stage_one_step_ignores_a_nan_edl_branch():
    """The same inside `fit`'s compiled step, where both branches are traced."""
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(3, use_bias=False, kernel_initializer="identity"),
        ]
    )
    loss = ke.losses.EDLLoss(risk="log", from_logits=True, stage=1)
    model.compile(optimizer=keras.optimizers.SGD(1e-40), loss=loss)
    history = model.fit(OVERFLOWING_LOGITS, np.array([0]), epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [np.log(2.0)], rtol=1e-6)
    assert_finite(*model.weights)
