"""The fused EDL loss kernel (keras_evidential.native) against the float64
reference, and when `EDLLoss` uses it. TensorFlow only."""

import warnings

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import keras_evidential as ke
from keras_evidential import native
from tests import reference
from tests.gradients import central_differences
from tests.test_numerics import SETTINGS
from tests.test_numerics import alpha_batches

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the fused kernel is a TensorFlow op",
)

OP_TYPE = "KerasEvidentialEdlLoss"


@pytest.fixture(scope="module")
def tf():
    import tensorflow as tf

    if native.load() is None:
        pytest.skip(
            "the kernel did not build (no C++ compiler?); "
            "`python -m keras_evidential.native` shows why"
        )
    return tf


def _reference_loss(y, alpha, risk, kl_weight):
    """Per-sample float64 loss: REFERENCE.md's risk plus the weighted KL."""
    alpha_tilde = y + (1 - y) * alpha
    return reference.RISKS[risk](y, alpha) + kl_weight * reference.kl_to_uniform(
        alpha_tilde
    )


@SETTINGS
@given(
    batch=alpha_batches(),
    risk=st.sampled_from(sorted(reference.RISKS)),
    kl_weight=st.sampled_from([0.0, 0.1, 1.0]),
    soft=st.booleans(),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_value_and_every_gradient_match_the_reference(
    tf, batch, risk, kl_weight, soft, dtype
):
    alpha, labels = batch
    k = alpha.shape[-1]
    y = reference.one_hot(labels, k)
    if soft:  # label smoothing: nothing may assume one-hot targets
        y = 0.9 * y + 0.1 / k
    y = y.astype(dtype)
    alpha = alpha.astype(dtype)
    y64, alpha64 = y.astype(np.float64), alpha.astype(np.float64)
    y_t, alpha_t = tf.constant(y), tf.constant(alpha)
    weight_t = tf.constant(kl_weight, dtype)
    with tf.GradientTape() as tape:
        tape.watch([y_t, alpha_t, weight_t])
        loss = native.edl_loss(y_t, alpha_t, weight_t, risk, validate=True)
        total = tf.reduce_sum(loss)
    d_y, d_alpha, d_weight = tape.gradient(total, [y_t, alpha_t, weight_t])

    expected = _reference_loss(y64, alpha64, risk, kl_weight)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5, atol=1e-5 * k)
    # The risks are O(log S): central differences of the float64 reference
    # are accurate. The KL holds lgamma terms up to ~1e9 whose differences
    # round off, and it moves with y (alpha - 1) times faster than with
    # alpha: its part is the chain rule through alpha_tilde, with the
    # reference's dKL/dalpha_tilde (SciPy's trigamma).
    alpha_tilde = y64 + (1 - y64) * alpha64
    d_kl = reference.kl_to_uniform_gradient(alpha_tilde)
    risk_fn = reference.RISKS[risk]
    expected_d_alpha = central_differences(
        lambda a: risk_fn(y64, a), alpha64
    ) + kl_weight * (1 - y64) * d_kl
    # Terms of size 2 / S cancel in the mse risk: ~1e-7 / S absolute.
    np.testing.assert_allclose(d_alpha.numpy(), expected_d_alpha, rtol=1e-4, atol=1e-7)
    expected_d_y = central_differences(
        lambda t: risk_fn(t, alpha64), y64
    ) + kl_weight * (1 - alpha64) * d_kl
    np.testing.assert_allclose(d_y.numpy(), expected_d_y, rtol=1e-4, atol=1e-5)
    kl = reference.kl_to_uniform(alpha_tilde).sum()
    np.testing.assert_allclose(d_weight.numpy(), kl, rtol=1e-5, atol=1e-5 * k)


def test_hand_worked_example(tf):
    """K = 2, alpha = (3, 1), label 0: S = 4, p = (3/4, 1/4).

    mse risk = (1/4)^2 + (1/4)^2 + (3/16 + 3/16) / 5 = 1/8 + 3/40 = 0.2;
    alpha_tilde = (1, 1), the uniform Dirichlet, so the KL is 0 whatever its
    weight, and so is its gradient.
    """
    y = tf.constant([[1.0, 0.0]])
    alpha = tf.constant([[3.0, 1.0]])
    loss = native.edl_loss(y, alpha, tf.constant(5.0), "mse")
    np.testing.assert_allclose(loss.numpy(), [0.2], rtol=1e-6)


def _op_types(tf, fn, jit_compile, *args):
    graph = tf.function(fn, jit_compile=jit_compile).get_concrete_function(*args).graph
    return {op.type for op in graph.get_operations()}


def test_edl_loss_runs_the_kernel_in_graph_mode_only_without_xla(tf):
    loss = ke.losses.EDLLoss(kl_weight=0.1)
    labels = tf.constant([0, 1])
    alpha = tf.constant([[2.0, 1.0, 3.0], [1.0, 5.0, 1.0]])
    assert OP_TYPE in _op_types(tf, loss, False, labels, alpha)
    assert OP_TYPE not in _op_types(tf, loss, True, labels, alpha)
    half = ke.losses.EDLLoss(kl_weight=0.1, dtype="float16")
    assert OP_TYPE not in _op_types(tf, half, False, labels, alpha)
    # Under XLA the keras.ops form gives the same value.
    expected = reference.edl_loss(
        reference.one_hot([0, 1], 3), alpha.numpy().astype(np.float64), "mse", 0.1
    )
    got = tf.function(loss, jit_compile=True)(labels, alpha)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_set_enabled_names_a_bad_value():
    with pytest.raises(ValueError, match=r"Received: enabled='yes'"):
        native.set_enabled("yes")


@pytest.mark.parametrize("how", ["set_enabled", "environment"])
def test_the_kernel_can_be_switched_off(tf, monkeypatch, how):
    if how == "set_enabled":
        native.set_enabled(False)
    else:
        monkeypatch.setenv(native.SWITCH_VARIABLE, "0")
    try:
        loss = ke.losses.EDLLoss()
        args = (tf.constant([0]), tf.constant([[2.0, 1.0]]))
        assert OP_TYPE not in _op_types(tf, loss, False, *args)
    finally:
        native.set_enabled(None)
        monkeypatch.delenv(native.SWITCH_VARIABLE, raising=False)
    assert OP_TYPE in _op_types(tf, ke.losses.EDLLoss(), False, *args)


def test_fit_with_the_kernel_learns_and_matches_keras_ops(tf):
    """Same data, weights and steps: the two paths train identically."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")

    def train(fused):
        native.set_enabled(fused)
        try:
            keras.utils.set_random_seed(1)
            model = keras.Sequential(
                [keras.Input((8,)), keras.layers.Dense(3), ke.layers.DirichletOutput()]
            )
            model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.1))
            history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
            return history.history["loss"], model.get_weights()
        finally:
            native.set_enabled(None)

    fused_loss, fused_weights = train(True)
    ops_loss, ops_weights = train(False)
    assert fused_loss[-1] < fused_loss[0]
    np.testing.assert_allclose(fused_loss, ops_loss, rtol=1e-4)
    for a, b in zip(fused_weights, ops_weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_invalid_alpha_fails_the_graph_step_with_the_named_argument(tf):
    loss = tf.function(ke.losses.EDLLoss())
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`y_pred`.*min=0\.5"):
        loss(tf.constant([0, 1]), tf.constant([[2.0, 1.0], [0.5, 3.0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`y_pred`.*max=nan"):
        loss(tf.constant([0, 1]), tf.constant([[2.0, 1.0], [np.nan, 3.0]]))


def test_a_failed_build_warns_once_and_falls_back(tf, monkeypatch, tmp_path):
    # A fresh process's state, with a compiler that always fails.
    monkeypatch.setattr(native, "_library", None)
    monkeypatch.setattr(native, "_failed", set())
    monkeypatch.setenv(native.CACHE_VARIABLE, str(tmp_path))
    monkeypatch.setenv("CXX", "false")
    with pytest.warns(RuntimeWarning, match="could not build.*keras.ops"):
        assert native.load() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = ke.losses.EDLLoss()
        args = (tf.constant([0]), tf.constant([[2.0, 1.0]]))
        assert OP_TYPE not in _op_types(tf, loss, False, *args)
    assert not list(tmp_path.glob("*.so"))
