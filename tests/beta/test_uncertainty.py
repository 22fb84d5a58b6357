"""Per-label entropies and mutual information; per-sample Score-Max / Score-Sum."""

import numpy as np
import pytest
from scipy import integrate
from scipy import stats

import keras_evidential as ke
from tests.testing import to_numpy

PARAMS = np.array([[[1.0, 1.0], [3.0, 1.0], [1.5, 9.0]], [[20.0, 2.0], [1.0, 1.0], [2.0, 2.0]]])


def bernoulli_entropy(p):
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def test_mutual_information_is_total_minus_expected_entropy_by_quadrature():
    total, expected = [], []
    for a, b in PARAMS.reshape(-1, 2):
        total.append(bernoulli_entropy(a / (a + b)))
        expected.append(integrate.quad(
            lambda p: bernoulli_entropy(p) * stats.beta.pdf(p, a, b), 0, 1, limit=200
        )[0])
    total, expected = np.reshape(total, (2, 3)), np.reshape(expected, (2, 3))
    np.testing.assert_allclose(to_numpy(ke.beta.total_entropy(PARAMS)), total, rtol=2e-6)
    np.testing.assert_allclose(to_numpy(ke.beta.expected_entropy(PARAMS)), expected, rtol=1e-5)
    np.testing.assert_allclose(
        to_numpy(ke.beta.mutual_information(PARAMS)), total - expected, rtol=1e-4, atol=1e-6
    )


def test_scores_by_hand():
    # Sample 0: evidence (e+, e-) = (0, 0), (2, 0), (0.5, 8); sample 1: (19, 1), (0, 0), (1, 1).
    # Score-Max, both: 2 / (2 + max_l (e+ + e-)) = 2 / 10.5 and 2 / 22.
    np.testing.assert_allclose(to_numpy(ke.beta.score_max(PARAMS)), [2 / 10.5, 2 / 22])
    # Score-Sum, both: 2L / (2L + sum) = 6 / (6 + 10.5) and 6 / (6 + 22).
    np.testing.assert_allclose(to_numpy(ke.beta.score_sum(PARAMS)), [6 / 16.5, 6 / 28])
    # Positive evidence only: 1 / (1 + 2), 1 / (1 + 19); sum: 3 / (3 + 2.5), 3 / (3 + 20).
    np.testing.assert_allclose(to_numpy(ke.beta.score_max(PARAMS, "positive")), [1 / 3, 1 / 20])
    np.testing.assert_allclose(to_numpy(ke.beta.score_sum(PARAMS, "negative")), [3 / 11, 3 / 5])
    np.testing.assert_allclose(
        to_numpy(ke.beta.ood_score(PARAMS, "max")), to_numpy(ke.beta.score_max(PARAMS))
    )


def test_score_max_both_is_the_smallest_vacuity():
    np.testing.assert_allclose(
        to_numpy(ke.beta.score_max(PARAMS)), to_numpy(ke.beta.vacuity(PARAMS)).min(axis=-1),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs, name", [({"evidence": "all"}, "evidence"), ({"reduction": "mean"}, "reduction")]
)
def test_unknown_score_names_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=rf"`{name}` must be one of .*Received: {name}="):
        ke.beta.ood_score(PARAMS, **kwargs)
