"""The Bayes risks and their closed-form gradients against float64 references."""

import numpy as np
import pytest
from keras import ops

from keras_evidential import dirichlet
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from tests import reference
from tests.gradients import central_differences
from tests.gradients import value_and_gradient
from tests.strategies import ATOL
from tests.strategies import RTOL
from tests.strategies import SETTINGS
from tests.strategies import alpha_batches
from tests.strategies import assert_close
from tests.strategies import gradient_case

RNG = np.random.default_rng(0)


def np_(x):
    return ops.convert_to_numpy(x)


def random_alpha(n=16, k=5):
    return (1.0 + RNG.gamma(1.0, 5.0, size=(n, k))).astype("float32")


def test_risks_hand_worked():
    y = np.array([[1.0, 0.0]], "float32")
    alpha = np.array([[3.0, 1.0]], "float32")
    # (1 - .75)^2 + (0 - .25)^2 + 2 * (.75 * .25) / 5 = 0.2
    np.testing.assert_allclose(np_(dirichlet.sum_of_squares_risk(y, alpha)), [0.2], rtol=1e-6)
    np.testing.assert_allclose(np_(dirichlet.log_risk(y, alpha)), [np.log(4 / 3)], rtol=1e-6)
    # digamma(4) - digamma(3) = 1 / 3
    np.testing.assert_allclose(np_(dirichlet.digamma_risk(y, alpha)), [1 / 3], rtol=1e-5)


@pytest.mark.parametrize("risk", ["mse", "log", "digamma"])
def test_risks_match_reference(risk):
    alpha = random_alpha(k=7)
    y = reference.one_hot(RNG.integers(0, 7, len(alpha)), 7).astype("float32")
    got = np_(dirichlet.RISKS[risk](y, alpha))
    np.testing.assert_allclose(got, reference.RISKS[risk](y, alpha.astype("float64")), rtol=1e-5)


@pytest.mark.parametrize("name", ["relu", "softplus", "exp", "elu"])
@pytest.mark.parametrize("risk", ["mse", "log", "digamma"])
def test_gradients_are_finite(name, risk):
    logits = RNG.normal(0.0, 20.0, size=(32, 4)).astype("float32")
    y = reference.one_hot(RNG.integers(0, 4, 32), 4).astype("float32")

    def loss(z):
        alpha = dirichlet.alpha_from_evidence(getattr(dirichlet, f"{name}_evidence")(z))
        return ops.mean(dirichlet.RISKS[risk](y, alpha) + dirichlet.misleading_evidence_kl(y, alpha))

    _, grad = value_and_gradient(loss, logits)
    assert np.all(np.isfinite(np_(grad)))


@SETTINGS
@given(batch=alpha_batches(), soft=st.booleans())
def test_digamma_risk_gradients_match_scipy(batch, soft):
    alpha, alpha64, y, y64 = gradient_case(batch, soft)
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
    alpha, alpha64, y, y64 = gradient_case(batch, soft)
    k = alpha.shape[-1]
    n = len(alpha)

    value, grad = value_and_gradient(
        lambda a: ops.mean(dirichlet.sum_of_squares_risk(y, a)), alpha
    )
    assert_close(value, reference.mse_risk(y64, alpha64).mean(), k)
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
