"""Mixed precision end to end: float16/bfloat16 layers, float32 alpha and loss."""

import contextlib

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

import keras_evidential as ke
from tests import reference
from tests.strategies import ROWS
from tests.strategies import assert_close
from tests.strategies import evidences
from tests.strategies import logit_batches
from tests.strategies import risks
from tests.strategies import with_unknown_class


MIXED_POLICIES = ["mixed_float16", "mixed_bfloat16"]


@contextlib.contextmanager
def dtype_policy(name):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    batch=logit_batches(),
    evidence=evidences,
    risk=risks,
    unknown=st.booleans(),
)
def test_mixed_precision_loss_is_float32_and_matches_reference(
    policy, batch, evidence, risk, unknown
):
    with dtype_policy(policy):
        _check_mixed_precision_head(batch, evidence, risk, unknown)


def _check_mixed_precision_head(batch, evidence, risk, unknown):
    logits, labels = batch
    compute_dtype = keras.config.dtype_policy().compute_dtype
    # What a Dense layer under the policy hands to the head.
    low = ops.cast(logits, compute_dtype)
    low64 = np.asarray(ops.convert_to_numpy(ops.cast(low, "float32")), np.float64)
    head = ke.layers.DirichletOutput(evidence=evidence)
    unknown_class = ke.layers.UnknownClassHead()
    loss = ke.losses.EDLLoss(risk=risk, kl_weight=1.0)
    alpha = head(low)
    if unknown:
        alpha = unknown_class(alpha)
    assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    value = loss(labels, alpha)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    alpha64 = reference.EVIDENCE[evidence](low64) + 1.0
    if unknown:
        alpha64, labels = with_unknown_class(
            alpha64, labels, True, np.zeros(ROWS, bool)
        )
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha64.shape[-1]), alpha64, risk, 1.0
    )
    assert_close(value, expected, alpha64.shape[-1])


@pytest.mark.parametrize(
    "policy, from_logits", [("mixed_float16", False), ("mixed_bfloat16", True)]
)
def test_mixed_precision_training_is_finite(policy, from_logits):
    with dtype_policy(policy):
        _check_mixed_precision_training(from_logits)


def _check_mixed_precision_training(from_logits):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 8)) * 1e3).astype("float32")
    y = rng.integers(0, 4, size=64)
    outputs = [keras.layers.Dense(3)]
    if from_logits:
        loss = ke.losses.EDLLoss(
            from_logits=True, evidence="elu", kl_weight=1.0, stage=1
        )
    else:
        outputs += [ke.layers.DirichletOutput("softplus"), ke.layers.UnknownClassHead()]
        loss = ke.losses.EDLLoss(kl_weight=1.0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16)] + outputs)
    model.compile(optimizer="adam", loss=loss)
    if from_logits:
        y = y % 3
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    if from_logits:
        loss.stage.assign(2)
        if keras.backend.backend() == "jax":
            model.make_train_function(force=True)
        history.history["loss"] += model.fit(
            x, y, epochs=1, batch_size=16, verbose=0
        ).history["loss"]
    assert np.all(np.isfinite(history.history["loss"]))
    for weight in model.weights:
        assert np.all(np.isfinite(ops.convert_to_numpy(weight)))


def test_a_compiled_medl_model_trains_saves_and_loads(tmp_path):
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
