"""dirichlet.regularizers (RED), dirichlet_kl, projected_squared_error and prior_concentration."""

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

import keras_evidential as ke
from tests import reference_family as ref
from tests.gradients import value_and_gradient

RNG = np.random.default_rng(5)


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


def test_correct_evidence_regularizer_hand_worked():
    # alpha = (3, 1), y = class 0: u = 2 / 4, log e_y = log 2 -> -0.5 log 2.
    got = numpy(ke.dirichlet.correct_evidence_regularizer(np.array([[1.0, 0.0]]), np.array([[3.0, 1.0]])))
    np.testing.assert_allclose(got, [-0.5 * np.log(2.0)], rtol=1e-6)


def test_correct_evidence_gradient_holds_the_vacuity_constant():
    # d/d alpha_y of -u log(alpha_y - 1) with u constant: -u / e_y = -0.5 / 2.
    y = np.array([[1.0, 0.0]], "float32")
    _, grad = value_and_gradient(
        lambda a: ops.sum(ke.dirichlet.correct_evidence_regularizer(y, a)), np.array([[3.0, 1.0]], "float32")
    )
    np.testing.assert_allclose(numpy(grad), [[-0.25, 0.0]], rtol=1e-6)


def test_correct_evidence_with_exp_evidence_is_minus_vacuity_times_logit():
    # The authors' code: with exp evidence log(e_y) = z_y, so the term is
    # -(K / S) z_y and its gradient in the logits is -(K / S) y, within [-1, 0]
    # (Pandey & Yu, 2023, Theorem 3).
    logits = RNG.uniform(-9.0, 9.0, size=(32, 4)).astype("float32")
    labels = RNG.integers(0, 4, 32)
    y = np.eye(4, dtype="float32")[labels]
    head = ke.layers.DirichletOutput("exp")
    value, grad = value_and_gradient(
        lambda z: ops.sum(ke.dirichlet.correct_evidence_regularizer(y, head(z))), logits
    )
    z = logits.astype("float64")
    vacuity = 4.0 / (np.exp(z) + 1.0).sum(-1)
    np.testing.assert_allclose(float(numpy(value)), -(vacuity * z[np.arange(32), labels]).sum(), rtol=1e-4)
    np.testing.assert_allclose(numpy(grad), -vacuity[:, None] * y, rtol=1e-3, atol=1e-6)
    assert np.abs(numpy(grad)).max() <= 1.0


def test_correct_evidence_zero_evidence_is_finite():
    # ReLU evidence can be exactly 0: the log is guarded, the value finite.
    got = numpy(ke.dirichlet.correct_evidence_regularizer(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])))
    assert np.all(np.isfinite(got))


def test_dirichlet_kl_matches_reference_and_is_zero_at_equality():
    alpha = 0.1 + RNG.gamma(1.0, 3.0, size=(8, 5))
    beta = 0.1 + RNG.gamma(1.0, 3.0, size=(8, 5))
    got = numpy(ke.dirichlet.dirichlet_kl(alpha.astype("float32"), beta.astype("float32")))
    np.testing.assert_allclose(got, ref.kl_dirichlet(alpha.astype("float32").astype("float64"), beta.astype("float32").astype("float64")), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(numpy(ke.dirichlet.dirichlet_kl(alpha, alpha)), 0.0, atol=1e-5)


def test_dirichlet_kl_to_ones_equals_kl_to_uniform():
    alpha = (1.0 + RNG.gamma(1.0, 3.0, size=(6, 4))).astype("float32")
    np.testing.assert_allclose(
        numpy(ke.dirichlet.dirichlet_kl(alpha, 1.0)), numpy(ke.dirichlet.kl_to_uniform(alpha)), rtol=1e-4, atol=1e-5
    )


def test_projected_squared_error_hand_worked():
    got = numpy(ke.dirichlet.projected_squared_error(np.array([[1.0, 0.0]]), np.array([[1.5, 0.5]])))
    np.testing.assert_allclose(got, [0.125])


def test_prior_concentration_in_alpha_and_vacuity():
    alpha = ke.dirichlet.alpha_from_evidence(np.array([[0.0, 0.0]]), prior_concentration=0.1)
    np.testing.assert_allclose(numpy(alpha), [[0.1, 0.1]], rtol=1e-6)
    np.testing.assert_allclose(numpy(ke.dirichlet.vacuity(alpha, prior_concentration=0.1)), [1.0], rtol=1e-6)
    np.testing.assert_allclose(numpy(ke.dirichlet.vacuity(np.array([[3.0, 1.0]]))), [0.5])


@settings(max_examples=20, deadline=None)
@given(hnp.arrays("float32", (3, 4), elements=st.floats(0.015625, 1048576.0, width=32)))
def test_dirichlet_kl_value_and_gradient_finite_over_wide_range(alpha):
    target = np.array([1.0, 101.0, 1.0, 1.0], "float32")
    value, grad = value_and_gradient(lambda a: ops.sum(ke.dirichlet.dirichlet_kl(a, target)), alpha)
    assert np.isfinite(numpy(value)) and np.all(np.isfinite(numpy(grad)))
    expected = ref.kl_dirichlet(alpha.astype("float64"), target.astype("float64")).sum()
    # The direct lgamma form loses digits to cancellation in float32 (see its docstring).
    s = alpha.astype("float64").sum(-1)
    np.testing.assert_allclose(numpy(value), expected, rtol=1e-4, atol=1e-2 + 3e-7 * np.sum(s * np.log(s)))
