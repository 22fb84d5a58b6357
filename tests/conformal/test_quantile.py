"""The split-conformal quantile: hand-worked order statistics and the band."""

import math

import numpy as np
import pytest

import keras_evidential as ke


def test_the_kth_smallest_score():
    # n = 9, alpha = 0.2: k = ceil(10 * 0.8) = 8, the 8th smallest of 1..9.
    scores = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0]
    assert ke.conformal.conformal_quantile(scores, 0.2) == 8.0


def test_exact_rational_rank_where_floating_point_would_round_up():
    # (9 + 1)(1 - 0.7) = 3 exactly; in floating point 3.0000000000000004.
    assert math.ceil(10 * (1 - 0.7)) == 4
    assert ke.conformal.conformal_rank(9, 0.7) == 3
    assert ke.conformal.conformal_quantile(np.arange(1.0, 10.0), 0.7) == 3.0


def test_ties_count_every_repeated_score():
    # k = ceil(6 * 0.5) = 3: the sorted scores are 0.1, 0.5, 0.5, 0.5, 0.9.
    assert ke.conformal.conformal_quantile([0.5, 0.9, 0.5, 0.1, 0.5], 0.5) == 0.5


def test_too_few_scores_give_an_infinite_threshold():
    # n = 8, alpha = 0.1: k = ceil(8.1) = 9 > 8.
    assert ke.conformal.conformal_quantile(np.ones(8), 0.1) == math.inf
    assert ke.conformal.conformal_quantile([], 0.5) == math.inf


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, "0.1", True])
def test_alpha_is_checked(alpha):
    with pytest.raises(ValueError, match="`alpha` must be a number in"):
        ke.conformal.conformal_quantile([1.0, 2.0], alpha)


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="`scores` must be finite"):
        ke.conformal.conformal_quantile([1.0, np.nan], 0.1)


def test_coverage_band():
    low, high = ke.conformal.coverage_band(19, 0.1)
    assert low == pytest.approx(0.9) and high == pytest.approx(0.95)
