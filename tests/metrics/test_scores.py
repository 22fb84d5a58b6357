"""Uncertainty scores in [0, 1] against SciPy, divided by their maxima."""

import numpy as np
import pytest
from keras import ops
from scipy import special
from scipy import stats

from keras_evidential.metrics.scores import UNCERTAINTY_SCORES
from keras_evidential.metrics.scores import checked_uncertainty_score
from keras_evidential.metrics.scores import uncertainty_score

RNG = np.random.default_rng(4)
K = 4
ALPHA = 1.0 + RNG.gamma(0.7, 6.0, size=(64, K))
ALPHA[0] = 1.0  # no evidence at all


def _references(alpha):
    s = alpha.sum(1)
    p_bar = alpha / s[:, None]
    total = stats.entropy(p_bar, axis=1)
    expected = -(p_bar * (special.digamma(alpha + 1) - special.digamma(s + 1)[:, None])).sum(1)
    return {
        "vacuity": K / s,
        "epkl": (K - 1) / s,
        "least_confidence": 1 - p_bar.max(1),
        "total_entropy": total / np.log(K),
        "expected_entropy": expected / np.log(K),
        "mutual_information": (total - expected) / np.log(K),
    }


@pytest.mark.parametrize("score", sorted(_references(ALPHA)))
def test_score_matches_reference(score):
    got = ops.convert_to_numpy(uncertainty_score(ALPHA, score))
    np.testing.assert_allclose(got, _references(ALPHA)[score], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("score", sorted(UNCERTAINTY_SCORES))
def test_every_score_lies_in_zero_one(score):
    got = ops.convert_to_numpy(uncertainty_score(ALPHA, score))
    assert np.all((got >= 0) & (got <= 1)), score


def test_unknown_score_is_named():
    with pytest.raises(ValueError, match="Received: score='entropy'"):
        uncertainty_score(ALPHA, "entropy")


def test_vacuity_score_with_prior_concentration():
    # R-EDL's vacuity lambda K / S, in (0, 1] for alpha >= lambda.
    alpha = np.array([[2.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]])
    got = ops.convert_to_numpy(uncertainty_score(alpha, "vacuity", prior_concentration=0.1))
    np.testing.assert_allclose(got, [0.4 / 2.4, 1.0], rtol=1e-6)


def test_epkl_score_with_prior_concentration():
    # R-EDL's alpha >= lambda: (K - 1) / S reaches (K - 1) / (lambda K) > 1;
    # lambda (K - 1) / S stays in (0, (K - 1) / K].
    alpha = np.array([[2.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]])
    got = ops.convert_to_numpy(uncertainty_score(alpha, "epkl", prior_concentration=0.1))
    np.testing.assert_allclose(got, [0.3 / 2.4, 0.75], rtol=1e-6)


def test_prior_dependent_scores_of_positive_alpha():
    # DAEDL's alpha > 0 (minimum_alpha=0, lambda = 1): K / S = 2 / 0.7 > 1;
    # the scores of alpha + 1 are K / (S + K) and (K - 1) / (S + K).
    alpha = np.array([[0.5, 0.2], [3.0, 0.05]])
    strength = alpha.sum(1)
    for score, numerator in (("vacuity", 2.0), ("epkl", 1.0)):
        got = ops.convert_to_numpy(uncertainty_score(alpha, score, minimum_alpha=0.0))
        np.testing.assert_allclose(got, numerator / (strength + 2.0), rtol=1e-5)
    # A prior-free score ignores both.
    np.testing.assert_allclose(
        ops.convert_to_numpy(uncertainty_score(alpha, "least_confidence", 0.1, 0.0)),
        1 - alpha.max(1) / strength,
        rtol=1e-5,
    )


def test_alpha_below_the_bound_is_refused_for_prior_dependent_scores_only():
    alpha = np.array([[0.5, 0.2], [3.0, 0.05]], "float32")
    with pytest.raises(ValueError, match=r"alpha >= 1 .*minimum_alpha=0"):
        checked_uncertainty_score(alpha, "vacuity")
    with pytest.raises(ValueError, match=r"alpha > 0 .*min=0"):
        checked_uncertainty_score(np.array([[0.0, 1.0]], "float32"), "epkl", 1.0, 0.0)
    got = checked_uncertainty_score(alpha, "least_confidence")
    np.testing.assert_allclose(ops.convert_to_numpy(got), 1 - alpha.max(1) / alpha.sum(1), rtol=1e-6)
