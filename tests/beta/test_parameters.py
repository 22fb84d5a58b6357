"""Beta parameters: mean, vacuity, variance against scipy.stats.beta (float64)."""

import numpy as np
import pytest
from scipy import stats

import keras_evidential as ke
from tests.testing import to_numpy

PARAMS = np.array(
    [[[1.0, 1.0], [3.0, 1.0], [1.0, 9.0]], [[2.5, 7.0], [40.0, 1.5], [1.0, 1.0]]]
)


def test_split_and_stack_are_inverse():
    alpha, beta = ke.beta.split_beta(PARAMS)
    np.testing.assert_array_equal(to_numpy(alpha), PARAMS[..., 0])
    np.testing.assert_array_equal(to_numpy(ke.beta.beta_parameters(alpha, beta)), PARAMS)


def test_mean_variance_vacuity_match_scipy():
    a, b = PARAMS[..., 0], PARAMS[..., 1]
    np.testing.assert_allclose(
        to_numpy(ke.beta.expected_probability(PARAMS)), stats.beta.mean(a, b), rtol=2e-6
    )
    np.testing.assert_allclose(
        to_numpy(ke.beta.variance(PARAMS)), stats.beta.var(a, b), rtol=2e-6
    )
    # Vacuity 2 / (alpha + beta): Beta(1, 1) is 1, 40 + 1.5 gives 2 / 41.5.
    np.testing.assert_allclose(to_numpy(ke.beta.vacuity(PARAMS)), 2.0 / (a + b), rtol=2e-6)
    assert to_numpy(ke.beta.vacuity(PARAMS))[0, 0] == 1.0


def test_bernoulli_targets_are_present_then_absent():
    np.testing.assert_array_equal(
        to_numpy(ke.beta.bernoulli_targets(np.array([1.0, 0.0]))), [[1.0, 0.0], [0.0, 1.0]]
    )


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 1)])
def test_wrong_last_axis_is_refused(shape):
    with pytest.raises(ValueError, match=r"\(\.\.\., L, 2\).*Received: params.shape"):
        ke.beta.vacuity(np.ones(shape))
