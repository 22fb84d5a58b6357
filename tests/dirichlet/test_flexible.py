"""dirichlet.flexible against the flexible Dirichlet's mixture form."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

import keras_evidential as ke
from tests import reference_family as ref
from tests.gradients import value_and_gradient


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


@st.composite
def flexible_parameters(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    alpha = draw(hnp.arrays("float64", (n, k), elements=st.floats(1e-3, 1e5)))
    logits = draw(hnp.arrays("float64", (n, k), elements=st.floats(-8, 8)))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    tau = draw(hnp.arrays("float64", (n, 1), elements=st.floats(1e-3, 1e4)))
    return alpha.astype("float32"), p.astype("float32"), tau.astype("float32")


def test_hand_worked_example():
    # alpha = (1, 1), p = (1/2, 1/2), tau = 1: the mixture of Dir(2, 1) and
    # Dir(1, 2): mean 1/2 each; E[pi_1^2] = (1/2)(2*3/12) + (1/2)(1*2/12) = 1/3,
    # so Var = 1/3 - 1/4 = 1/12.
    alpha, p, tau = np.ones((1, 2)), np.full((1, 2), 0.5), np.ones((1, 1))
    np.testing.assert_allclose(numpy(ke.dirichlet.flexible_expected_probability(alpha, p, tau)), [[0.5, 0.5]])
    np.testing.assert_allclose(numpy(ke.dirichlet.flexible_variance(alpha, p, tau)), [[1 / 12, 1 / 12]], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(flexible_parameters())
def test_moments_match_mixture(params):
    alpha, p, tau = params
    mean, variance = ref.flexible_moments(*(t.astype("float64") for t in params))
    np.testing.assert_allclose(numpy(ke.dirichlet.flexible_expected_probability(alpha, p, tau)), mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(numpy(ke.dirichlet.flexible_variance(alpha, p, tau)), variance, rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(
        numpy(ke.dirichlet.flexible_epistemic_uncertainty(alpha, p, tau)), variance.sum(-1), rtol=1e-3, atol=1e-7
    )
    np.testing.assert_allclose(
        numpy(ke.dirichlet.flexible_total_uncertainty(alpha, p, tau)), 1 - (mean**2).sum(-1), rtol=1e-4, atol=1e-6
    )


@settings(max_examples=20, deadline=None)
@given(flexible_parameters())
def test_squared_error_gradient_is_finite(params):
    alpha, p, tau = params
    y = np.eye(alpha.shape[1], dtype="float32")[np.zeros(len(alpha), int)]
    _, grad = value_and_gradient(
        lambda a: ops.sum(ke.dirichlet.flexible_expected_squared_error(y, a, p, tau)), alpha
    )
    assert np.all(np.isfinite(numpy(grad)))


def test_equivalent_alpha_has_the_same_mean():
    alpha, p, tau = np.array([[2.0, 1.0, 3.0]]), np.array([[0.2, 0.5, 0.3]]), np.array([[4.0]])
    equivalent = numpy(ke.dirichlet.flexible_equivalent_alpha(alpha, p, tau))
    np.testing.assert_allclose(equivalent, [[2.8, 3.0, 4.2]])
    np.testing.assert_allclose(
        equivalent / equivalent.sum(), numpy(ke.dirichlet.flexible_expected_probability(alpha, p, tau))
    )


def test_split_checks_the_packed_width():
    alpha, p, tau = ke.dirichlet.split_flexible_parameters(np.arange(7.0)[None])
    assert numpy(alpha).tolist() == [[0, 1, 2]] and numpy(p).tolist() == [[3, 4, 5]] and numpy(tau).tolist() == [[6]]
    with pytest.raises(ValueError, match="odd"):
        ke.dirichlet.split_flexible_parameters(np.zeros((1, 6)))


def test_variance_is_finite_for_large_evidence():
    # F-EDL's alpha = exp(logits): alpha_0 above ~1.8e19 (logits past ~42)
    # overflows (alpha_0 + tau)^2 in float32. The reference is the float64
    # closed form of Appendix A.1 written with the mean m = E[pi].
    alpha = np.array([[3e21, 2e20, 1.0], [5e19, 4e19, 7.0]])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    tau = np.array([[2.0], [3e19]])
    total = alpha.sum(-1, keepdims=True) + tau
    mean = (alpha + tau * p) / total
    expected = mean * (1 - mean) / (total + 1) + (tau / total) * (tau / (total + 1)) * p * (1 - p)
    got = numpy(ke.dirichlet.flexible_variance(*(t.astype("float32") for t in (alpha, p, tau))))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-30)  # 1e-43 underflows
