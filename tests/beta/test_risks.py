"""Beta risks and KL against float64 integrals over p ~ Beta(alpha, beta)."""

import numpy as np
import pytest
from scipy import integrate
from scipy import stats

import keras_evidential as ke
from tests.testing import to_numpy

PARAMS = np.array([[[1.0, 1.0], [3.0, 1.0], [1.5, 9.0], [12.0, 4.0]]])
Y = np.array([[1.0, 0.0, 1.0, 0.0]])


def expectation(fn, a, b):
    """E[fn(p)] for p ~ Beta(a, b), by quadrature (the risk's definition)."""
    return integrate.quad(lambda p: fn(p) * stats.beta.pdf(p, a, b), 0, 1, limit=200)[0]


def reference_risk(risk, y, a, b):
    if risk == "mse":  # sum of squares over both outcomes (present, absent)
        return expectation(lambda p: (y - p) ** 2 + ((1 - y) - (1 - p)) ** 2, a, b)
    if risk == "log":  # -log of the marginal likelihood of y
        return -np.log(expectation(lambda p: p**y * (1 - p) ** (1 - y), a, b))
    # Expected cross-entropy -E[y log p + (1 - y) log(1 - p)].
    return expectation(lambda p: -(y * np.log(p) + (1 - y) * np.log1p(-p)), a, b)


@pytest.mark.parametrize("risk", ["mse", "log", "digamma"])
def test_risk_is_the_expected_loss_of_the_bernoulli(risk):
    expected = [
        reference_risk(risk, y, a, b)
        for y, (a, b) in zip(Y[0], PARAMS[0])
    ]
    np.testing.assert_allclose(
        to_numpy(ke.beta.beta_risk(Y, PARAMS, risk))[0], expected, rtol=1e-6
    )


def test_kl_removes_the_true_outcome_and_is_minus_the_entropy():
    # KL(Beta || Beta(1, 1)) = -H(Beta) since the uniform density is 1;
    # the true outcome's evidence is removed first: y = 1 keeps beta only.
    expected = []
    for y, (a, b) in zip(Y[0], PARAMS[0]):
        a_t, b_t = (1.0, b) if y == 1 else (a, 1.0)
        expected.append(-stats.beta(a_t, b_t).entropy())
    np.testing.assert_allclose(
        to_numpy(ke.beta.misleading_evidence_kl(Y, PARAMS))[0], expected, rtol=1e-6, atol=1e-9
    )
