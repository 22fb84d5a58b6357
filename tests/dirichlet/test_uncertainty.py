"""Uncertainty measures against NumPy/SciPy references and hand-worked values."""

import numpy as np
import pytest
from keras import ops
from scipy import special
from scipy import stats

from keras_evidential import dirichlet
from tests.gradients import value_and_gradient
from tests.reference import float64_tolerance


def _alphas(seed=0, n=64, k=5):
    rng = np.random.default_rng(seed)
    # Mix of flat, sharp and conflicting Dirichlets.
    alpha = 1.0 + rng.gamma(0.7, 8.0, size=(n, k))
    alpha[:4] = 1.0
    alpha[4, 0] = 500.0
    return alpha


def _np(x):
    return ops.convert_to_numpy(x)


def test_total_entropy_matches_scipy():
    alpha = _alphas()
    p_bar = alpha / alpha.sum(-1, keepdims=True)
    expected = stats.entropy(p_bar, axis=-1)
    np.testing.assert_allclose(
        _np(dirichlet.total_entropy(alpha)), expected, rtol=float64_tolerance(1e-10)
    )


def test_total_entropy_of_flat_dirichlet_is_log_k():
    np.testing.assert_allclose(
        _np(dirichlet.total_entropy(np.ones((1, 7)))), [np.log(7)], rtol=float64_tolerance(1e-12)
    )


def test_expected_entropy_matches_monte_carlo():
    rng = np.random.default_rng(1)
    for alpha in ([1.0, 1.0, 1.0], [2.0, 5.0, 1.5, 1.0], [30.0, 2.0]):
        draws = rng.dirichlet(alpha, size=400_000)
        draws = np.clip(draws, 1e-300, 1.0)
        monte_carlo = -(draws * np.log(draws)).sum(-1).mean()
        value = _np(dirichlet.expected_entropy(np.array([alpha])))[0]
        assert value == pytest.approx(monte_carlo, abs=3e-3)


def test_expected_entropy_matches_digamma_formula():
    alpha = _alphas(2)
    s = alpha.sum(-1, keepdims=True)
    expected = -(alpha / s * (special.digamma(alpha + 1) - special.digamma(s + 1))).sum(
        -1
    )
    np.testing.assert_allclose(
        _np(dirichlet.expected_entropy(alpha)), expected, rtol=float64_tolerance(1e-10)
    )


def test_mutual_information_is_total_minus_expected_and_nonnegative():
    alpha = _alphas(3)
    p_bar = alpha / alpha.sum(-1, keepdims=True)
    s = alpha.sum(-1, keepdims=True)
    total = stats.entropy(p_bar, axis=-1)
    expected_h = -(p_bar * (special.digamma(alpha + 1) - special.digamma(s + 1))).sum(
        -1
    )
    value = _np(dirichlet.mutual_information(alpha))
    np.testing.assert_allclose(value, total - expected_h, rtol=float64_tolerance(1e-9), atol=float64_tolerance(1e-12))
    assert (value >= -float64_tolerance(1e-12)).all()
    # A flat Dirichlet of K classes: MI = log K - (psi(K + 1) - psi(2)).
    np.testing.assert_allclose(
        _np(dirichlet.mutual_information(np.ones((1, 4)))),
        [np.log(4) - (special.digamma(5) - special.digamma(2))],
        rtol=float64_tolerance(1e-12),
    )


def test_epkl_matches_its_definition_as_expected_kl():
    # E_{p,q ~ Dir}[KL(p || q)] = sum_k E[p_k log p_k] - E[p_k] E[log q_k],
    # from the Dirichlet moments E[p_k log p_k] and E[log q_k].
    alpha = _alphas(4)
    s = alpha.sum(-1, keepdims=True)
    e_p_log_p = alpha / s * (special.digamma(alpha + 1) - special.digamma(s + 1))
    e_log_q = special.digamma(alpha) - special.digamma(s)
    expected = (e_p_log_p - alpha / s * e_log_q).sum(-1)
    np.testing.assert_allclose(
        _np(dirichlet.expected_pairwise_kl(alpha)), expected, rtol=float64_tolerance(1e-9)
    )


def test_epkl_monte_carlo():
    rng = np.random.default_rng(5)
    alpha = np.array([3.0, 1.5, 2.0])
    p = rng.dirichlet(alpha, size=400_000)
    q = rng.dirichlet(alpha, size=400_000)
    monte_carlo = (p * (np.log(p) - np.log(q))).sum(-1).mean()
    assert _np(dirichlet.expected_pairwise_kl(alpha[None]))[0] == pytest.approx(
        monte_carlo, rel=2e-2
    )


def test_differential_entropy_matches_scipy():
    alpha = _alphas(6, n=16)
    expected = [stats.dirichlet(a).entropy() for a in alpha]
    np.testing.assert_allclose(
        _np(dirichlet.differential_entropy(alpha)),
        expected,
        # In float32, lgamma(S) - sum lgamma(alpha) cancels terms of ~3e3
        # for the row with alpha = 500: 5e-4 absolute.
        rtol=float64_tolerance(1e-9, float32=1e-4),
        atol=float64_tolerance(1e-9, float32=1e-4),
    )
    # Uniform on the 2-simplex: log of its area 1 / (K - 1)! = 1/2.
    assert _np(dirichlet.differential_entropy(np.ones((1, 3))))[0] == (
        pytest.approx(np.log(0.5), rel=float64_tolerance(1e-6))
    )


def _dissonance_reference(b):
    """Josang's dissonance, written out with explicit loops."""
    total = 0.0
    for k in range(len(b)):
        others = [j for j in range(len(b)) if j != k]
        denominator = sum(b[j] for j in others)
        if denominator == 0:
            continue
        numerator = 0.0
        for j in others:
            pair = b[j] + b[k]
            balance = 0.0 if pair == 0 else 1 - abs(b[j] - b[k]) / pair
            numerator += b[j] * balance
        total += b[k] * numerator / denominator
    return total


@pytest.mark.parametrize(
    "alpha, expected",
    [
        # e = (2, 2, 0), S = 7: b = (2/7, 2/7, 0); two balanced classes give
        # 2/7 each, the empty one 0.
        ([3.0, 3.0, 1.0], 4.0 / 7.0),
        # e = (3, 1), S = 6: b = (1/2, 1/6), Bal = 1 - (1/3) / (2/3) = 1/2;
        # 1/2 * 1/2 + 1/6 * 1/2 = 1/3 (for K = 2, 2 min(b1, b2)).
        ([4.0, 2.0], 1.0 / 3.0),
        # No evidence at all: every belief is 0 (0/0 taken as 0).
        ([1.0, 1.0, 1.0, 1.0], 0.0),
        # All evidence on one class: no conflict.
        ([9.0, 1.0, 1.0], 0.0),
        # e = (2, 2, 2), S = 9: b_k = 2/9, every Bal = 1: 3 * 2/9 = 2/3.
        ([3.0, 3.0, 3.0], 2.0 / 3.0),
    ],
)
def test_dissonance_hand_worked(alpha, expected):
    value = _np(dirichlet.dissonance(np.array([alpha])))[0]
    assert value == pytest.approx(expected, abs=1e-12)


def test_dissonance_matches_loop_reference():
    alpha = _alphas(7, n=32, k=4)
    alpha[10, 1:] = 1.0
    alpha[11, 2] = 1.0
    b = (alpha - 1) / alpha.sum(-1, keepdims=True)
    expected = [_dissonance_reference(row) for row in b]
    np.testing.assert_allclose(
        _np(dirichlet.dissonance(alpha)), expected, rtol=float64_tolerance(1e-10), atol=float64_tolerance(1e-12)
    )


def test_dissonance_gradient_finite_where_beliefs_vanish():
    alpha = np.array([[1.0, 1.0, 1.0], [5.0, 1.0, 1.0], [3.0, 3.0, 1.0]], "float32")
    _, gradient = value_and_gradient(lambda a: ops.sum(dirichlet.dissonance(a)), alpha)
    gradient = _np(gradient)
    assert np.isfinite(gradient).all()
    assert np.abs(gradient[2]).sum() > 0


def test_measures_keep_batch_axes():
    alpha = _alphas(8, n=6, k=3).reshape(2, 3, 3)
    for fn in (
        dirichlet.total_entropy,
        dirichlet.expected_entropy,
        dirichlet.mutual_information,
        dirichlet.expected_pairwise_kl,
        dirichlet.differential_entropy,
        dirichlet.dissonance,
    ):
        assert tuple(fn(alpha).shape) == (2, 3)


def test_dissonance_uses_the_prior_concentration():
    """Before: beliefs were (alpha - 1) / S whatever the prior, so R-EDL's
    alpha = (0.3, 0.3) at lambda = 0.1 had negative beliefs and dissonance 0.
    By hand: b = e / S = (0.2, 0.2) / 0.6 = (1/3, 1/3), Bal = 1, so
    diss = 2 * (1/3) = 2/3; alpha = (2.1, 2.1): b = 2 / 4.2 each, diss = 4 / 4.2."""
    from keras import ops

    import keras_evidential as ke

    got = ops.convert_to_numpy(
        ke.dirichlet.dissonance(np.array([[0.3, 0.3], [2.1, 2.1]]), prior_concentration=0.1)
    )
    np.testing.assert_allclose(got, [2 / 3, 4 / 4.2], rtol=1e-6)
    beliefs = ops.convert_to_numpy(ke.dirichlet.belief(np.array([[0.3, 0.5]]), 0.1))
    np.testing.assert_allclose(beliefs, [[0.2 / 0.8, 0.4 / 0.8]], rtol=1e-6)
