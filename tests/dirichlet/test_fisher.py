"""dirichlet.fisher against the explicit Fisher matrix of Dir(alpha)."""

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops
from scipy.special import polygamma

import keras_evidential as ke
from tests import reference_family as ref
from tests.gradients import value_and_gradient

ALPHAS = hnp.arrays(
    "float64",
    st.tuples(st.integers(1, 4), st.integers(2, 6)),
    elements=st.floats(1.0, 1e6),
)


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


def test_hand_worked_log_determinant():
    # K = 2, alpha = (1, 1): psi1(1) = pi^2 / 6, psi1(2) = pi^2 / 6 - 1;
    # |I| = psi1(1)^2 - 2 psi1(1) psi1(2) = psi1(1) (2 - psi1(1)).
    t1 = np.pi**2 / 6
    expected = np.log(t1 * (2 - t1))
    got = numpy(ke.dirichlet.log_fisher_determinant(np.array([[1.0, 1.0]], "float32")))
    np.testing.assert_allclose(got, [expected], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(ALPHAS)
def test_log_determinant_matches_slogdet_over_wide_range(alpha):
    got = numpy(ke.dirichlet.log_fisher_determinant(alpha.astype("float32")))
    expected = ref.log_fisher_determinant(alpha.astype("float32").astype("float64"))
    # float32 inputs; the determinant's terms are sums of logs of ~1/alpha.
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-4)


@settings(max_examples=25, deadline=None)
@given(ALPHAS)
def test_log_determinant_gradient_is_finite(alpha):
    alpha = alpha.astype("float32")
    _, grad = value_and_gradient(
        lambda a: ops.sum(ke.dirichlet.log_fisher_determinant(a)), alpha
    )
    assert np.all(np.isfinite(numpy(grad)))


def test_trigamma_matches_scipy():
    x = np.geomspace(1e-3, 1e8, 50).astype("float32")
    np.testing.assert_allclose(
        numpy(ke.dirichlet.trigamma(x)), polygamma(1, x.astype("float64")), rtol=1e-6
    )


@settings(max_examples=30, deadline=None)
@given(ALPHAS, st.data())
def test_fisher_risk_matches_reference(alpha, data):
    labels = data.draw(hnp.arrays("int64", alpha.shape[0], elements=st.integers(0, alpha.shape[1] - 1)))
    y = ref.one_hot(labels, alpha.shape[1])
    alpha = alpha.astype("float32")
    got = numpy(ke.dirichlet.fisher_sum_of_squares_risk(y.astype("float32"), alpha))
    np.testing.assert_allclose(got, ref.fisher_mse(y, alpha.astype("float64")), rtol=1e-4, atol=1e-7)
    _, grad = value_and_gradient(
        lambda a: ops.sum(ke.dirichlet.fisher_sum_of_squares_risk(y.astype("float32"), a)), alpha
    )
    assert np.all(np.isfinite(numpy(grad)))
