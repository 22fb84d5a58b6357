"""Numerical robustness: property-based tests against a float64 reference.

Over logits in [-1e4, 1e4], concentrations alpha in [1, 1e8] and K in
{2, 3, 10, 100}, for every evidence function and risk, with and without the
m-EDL unknown class: the loss and its gradient are finite, and the float32
loss matches the float64 NumPy/SciPy reference (tests/reference.py) within

    |loss - reference| <= ATOL * K + RTOL * |reference|,   RTOL = ATOL = 1e-5

with K the number of outputs: the KL divergence is a difference of K terms
of size ~log(S), so float32 leaves an absolute error that grows with K even
where the KL is 0 (measured worst cases: 3.4e-4 at K = 100 where the KL is
~1e3, 5.7e-6 at K = 10 where it is 0, on JAX). The references are evaluated on the same
float32-rounded inputs, so the tolerance measures the float32 computation,
not the rounding of its inputs. Backend-neutral: runs under any
KERAS_BACKEND.
"""

import contextlib

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from keras import ops
from scipy import special

import keras_evidential as ke
from keras_evidential import dirichlet
from tests import reference
from tests.gradients import central_differences
from tests.gradients import value_and_gradient

RTOL = 1e-5
ATOL = 1e-5
# A fixed batch size keeps the shapes few: JAX compiles every op per shape.
ROWS = 3
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)

num_classes = st.sampled_from([2, 3, 10, 100])
evidences = st.sampled_from(sorted(reference.EVIDENCE))
risks = st.sampled_from(sorted(reference.RISKS))
kl_weights = st.sampled_from([0.0, 0.1, 1.0])


def _assert_close(actual, expected, k):
    actual = np.asarray(ops.convert_to_numpy(actual), dtype=np.float64)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL * k)


def _assert_finite(*tensors):
    for tensor in tensors:
        value = np.asarray(ops.convert_to_numpy(tensor))
        assert np.all(np.isfinite(value)), value


@st.composite
def alpha_batches(draw, low=1.0, high=1e8):
    """float32 concentrations, log-uniform in [low, high], with exact 1s."""
    k = draw(num_classes)
    n = ROWS
    log_alpha = draw(
        hnp.arrays(
            np.float64,
            (n, k),
            elements=st.floats(np.log(low), np.log(high)),
        )
    )
    alpha = np.exp(log_alpha)
    # Exactly 1 (no evidence) is the boundary the KL's alpha_tilde always hits.
    ones = draw(hnp.arrays(np.bool_, (n, k)))
    alpha = np.where(ones, 1.0, alpha)
    alpha = np.clip(alpha.astype(np.float32), low, high)
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return alpha, labels


@st.composite
def logit_batches(draw):
    k = draw(num_classes)
    n = ROWS
    logits = draw(
        hnp.arrays(
            np.float32,
            (n, k),
            elements=st.floats(-1e4, 1e4, width=32),
        )
    )
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return logits, labels


def _with_unknown_class(alpha, labels, unknown, unknown_labels):
    """Appends alpha_u = K + 1 and relabels some samples as class u."""
    if not unknown:
        return alpha, labels
    k = alpha.shape[-1]
    alpha = np.concatenate([alpha, np.full_like(alpha[:, :1], k + 1)], axis=-1)
    labels = np.where(unknown_labels, k, labels)
    return alpha, labels


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
    alpha, labels = _with_unknown_class(alpha, labels, unknown, unknown_labels)
    loss = ke.losses.EDLLoss(risk=risk, kl_weight=kl_weight)
    value, grad = value_and_gradient(lambda a: loss(labels, a), alpha)
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha.shape[-1]),
        alpha.astype(np.float64),
        risk,
        kl_weight,
    )
    _assert_close(value, expected, alpha.shape[-1])
    _assert_finite(grad)


@SETTINGS
@given(batch=alpha_batches())
def test_kl_and_its_gradient_match_scipy(batch):
    alpha, _ = batch
    alpha64 = alpha.astype(np.float64)
    value, grad = value_and_gradient(lambda a: ops.mean(dirichlet.kl_to_uniform(a)), alpha)
    _assert_close(value, reference.kl_to_uniform(alpha64).mean(), alpha.shape[-1])
    expected = reference.kl_to_uniform_gradient(alpha64) / len(alpha)
    # Both terms are ~1 and cancel to ~1/alpha: float32 leaves ~1e-6 absolute.
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), expected, rtol=1e-4, atol=1e-5
    )


def _gradient_case(batch, soft):
    """`alpha`, one-hot targets (smoothed if `soft`): float32 and float64."""
    alpha, labels = batch
    k = alpha.shape[-1]
    y = reference.one_hot(labels, k)
    if soft:
        # Label smoothing: a closed-form gradient must not assume one-hot.
        y = 0.9 * y + 0.1 / k
    y = y.astype(np.float32)
    return alpha, alpha.astype(np.float64), y, y.astype(np.float64)


@SETTINGS
@given(batch=alpha_batches(), soft=st.booleans())
def test_digamma_risk_gradients_match_scipy(batch, soft):
    alpha, alpha64, y, y64 = _gradient_case(batch, soft)
    k = alpha.shape[-1]
    s = alpha64.sum(-1, keepdims=True)
    n = len(alpha)

    value, grad = value_and_gradient(
        lambda a: ops.mean(dirichlet.digamma_risk(y, a)), alpha
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(value),
        reference.digamma_risk(y64, alpha64).mean(),
        rtol=RTOL,
        atol=ATOL * k,
    )
    # d/dalpha_j = (sum_i y_i) psi'(S) - y_j psi'(alpha_j)
    expected = (
        y64.sum(-1, keepdims=True) * special.polygamma(1, s)
        - y64 * special.polygamma(1, alpha64)
    ) / n
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), expected, rtol=1e-4, atol=1e-6
    )
    # d/dy_j = psi(S) - psi(alpha_j)
    _, grad_y = value_and_gradient(
        lambda t: ops.mean(dirichlet.digamma_risk(t, alpha)), y
    )
    expected_y = (special.digamma(s) - special.digamma(alpha64)) / n
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad_y), expected_y, rtol=1e-5, atol=1e-5
    )


@SETTINGS
@given(batch=alpha_batches(), soft=st.booleans())
def test_sum_of_squares_risk_gradients_match_finite_differences(batch, soft):
    """The closed-form gradients against the float64 reference, differenced."""
    alpha, alpha64, y, y64 = _gradient_case(batch, soft)
    k = alpha.shape[-1]
    n = len(alpha)

    value, grad = value_and_gradient(
        lambda a: ops.mean(dirichlet.sum_of_squares_risk(y, a)), alpha
    )
    _assert_close(value, reference.mse_risk(y64, alpha64).mean(), k)
    expected = central_differences(
        lambda a: reference.mse_risk(y64, a), alpha64
    ) / n
    # Terms of size 2 / S cancel: float32 leaves ~1e-7 / S absolute.
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), expected, rtol=1e-4, atol=1e-7
    )
    _, grad_y = value_and_gradient(
        lambda t: ops.mean(dirichlet.sum_of_squares_risk(t, alpha)), y
    )
    expected_y = central_differences(
        lambda t: reference.mse_risk(t, alpha64), y64
    ) / n
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad_y), expected_y, rtol=1e-4, atol=1e-6
    )


def test_gamma_terms_match_scipy():
    """digamma, trigamma and x digamma(x) - lgamma(x) - x over [1e-3, 1e9]."""
    from keras_evidential.dirichlet import special as ke_special

    x = np.exp(np.linspace(np.log(1e-3), np.log(1e9), 5000)).astype(np.float32)
    x = np.concatenate([x, [1.0, 2.0, 4.0, 5.0, 8.0]]).astype(np.float32)
    x64 = x.astype(np.float64)
    terms = ke_special.gamma_terms(x)
    digamma = special.digamma(x64)
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.digamma), digamma, rtol=5e-7, atol=1e-6
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.trigamma),
        special.polygamma(1, x64),
        rtol=5e-7,
    )
    # ~log(x) / 2 in size, where x digamma(x) and lgamma(x) are ~x log(x).
    h = x64 * digamma - special.gammaln(x64) - x64
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.x_digamma_minus_lgamma), h, rtol=1e-6, atol=1e-6
    )


@SETTINGS
@given(batch=alpha_batches(), soft=st.booleans())
def test_misleading_evidence_kl_gradients_match_scipy(batch, soft):
    """Both closed-form gradients, through alpha_tilde = y + (1 - y) alpha."""
    alpha, alpha64, y, y64 = _gradient_case(batch, soft)
    k = alpha.shape[-1]
    n = len(alpha)
    alpha_tilde = y64 + (1 - y64) * alpha64
    d_alpha_tilde = reference.kl_to_uniform_gradient(alpha_tilde) / n

    value, grad = value_and_gradient(
        lambda a: ops.mean(dirichlet.misleading_evidence_kl(y, a)), alpha
    )
    _assert_close(value, reference.kl_to_uniform(alpha_tilde).mean(), k)
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), (1 - y64) * d_alpha_tilde, rtol=1e-4, atol=1e-5
    )
    _, grad_y = value_and_gradient(
        lambda t: ops.mean(dirichlet.misleading_evidence_kl(t, alpha)), y
    )
    # d alpha_tilde / dy = 1 - alpha, up to 1e8: compare relative to that.
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad_y),
        (1 - alpha64) * d_alpha_tilde,
        rtol=1e-4,
        atol=1e-5 * np.abs(1 - alpha64).max(),
    )


def test_kl_is_accurate_where_lgamma_cancels():
    """At alpha = 1e8 the textbook formula's lgamma terms are ~1.7e9."""
    alpha = np.array([[1e8, 1e8, 1.0], [1e4, 3e7, 2.0]], np.float32)
    expected = reference.kl_to_uniform(alpha.astype(np.float64))
    _assert_close(dirichlet.kl_to_uniform(alpha), expected, 3)


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
    alpha64, labels = _with_unknown_class(alpha64, labels, unknown, unknown_labels)

    def forward(z):
        alpha = head(z)
        if unknown:
            alpha = unknown_class(alpha)
        return loss(labels, alpha)

    value, grad = value_and_gradient(forward, logits)
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha64.shape[-1]), alpha64, risk, kl_weight
    )
    _assert_close(value, expected, alpha64.shape[-1])
    _assert_finite(grad)


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
    _assert_close(value / scale, expected / scale, logits.shape[-1])
    _assert_finite(grad)


# Relu evidence of two logits of 3e38 overflows S to inf, and the log risk
# `log S - log alpha_y` to inf - inf = NaN, while softmax cross-entropy of the
# same logits is log(2). (The fused kernel, which sums in float64, does not
# overflow, so these tests use the keras.ops form.)
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
    _assert_finite(*model.weights)


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
        alpha64, labels = _with_unknown_class(
            alpha64, labels, True, np.zeros(ROWS, bool)
        )
    expected = reference.edl_loss(
        reference.one_hot(labels, alpha64.shape[-1]), alpha64, risk, 1.0
    )
    _assert_close(value, expected, alpha64.shape[-1])


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
