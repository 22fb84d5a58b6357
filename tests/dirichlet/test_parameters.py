"""Dirichlet parameters (strength, expectation, belief, vacuity, m-EDL's u)
against hand-worked values."""

import numpy as np
from keras import ops

from keras_evidential import dirichlet
from tests.reference import float64_tolerance

RNG = np.random.default_rng(0)


def np_(x):
    return ops.convert_to_numpy(x)


def random_alpha(n=16, k=5):
    return (1.0 + RNG.gamma(1.0, 5.0, size=(n, k))).astype("float32")


def test_hand_worked_two_class_dirichlet():
    alpha = np.array([[3.0, 1.0]], "float32")  # S = 4
    np.testing.assert_allclose(np_(dirichlet.strength(alpha)), [4.0])
    np.testing.assert_allclose(np_(dirichlet.expected_probability(alpha)), [[0.75, 0.25]])
    np.testing.assert_allclose(np_(dirichlet.belief(alpha)), [[0.5, 0.0]])
    np.testing.assert_allclose(np_(dirichlet.vacuity(alpha)), [0.5])


def test_belief_and_vacuity_sum_to_one():
    alpha = random_alpha()
    total = np_(dirichlet.belief(alpha)).sum(-1) + np_(dirichlet.vacuity(alpha))
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)


def test_unknown_class_extension_hand_worked():
    # K = 2, alpha = (1, 1): alpha_u = K + 1 = 3, S+ = 5.
    alpha_plus = np_(dirichlet.add_unknown_class(np.array([[1.0, 1.0]], "float32")))
    np.testing.assert_allclose(alpha_plus, [[1.0, 1.0, 3.0]])
    p_hat = np_(dirichlet.expected_probability(alpha_plus))
    np.testing.assert_allclose(p_hat, [[0.2, 0.2, 0.6]], rtol=1e-6)
    # p_hat_u is the vacuity of the extended Dirichlet, (K + 1) / S+.
    np.testing.assert_allclose(np_(dirichlet.vacuity(alpha_plus)), [0.6], rtol=1e-6)


def test_unknown_class_probabilities_sum_to_one_and_map_back():
    alpha = random_alpha(k=10)
    p_hat = np_(dirichlet.expected_probability(dirichlet.add_unknown_class(alpha)))
    np.testing.assert_allclose(p_hat.sum(-1), 1.0, rtol=1e-6)
    s = alpha.sum(-1, keepdims=True)
    np.testing.assert_allclose(p_hat[:, -1:], 11.0 / (s + 11.0), rtol=1e-6)
    # Mapping back recovers EDL's K-class expectation alpha / S.
    p_bar = np_(dirichlet.known_class_probability(p_hat))
    np.testing.assert_allclose(p_bar, alpha / s, rtol=1e-5)


def test_known_class_probability_paper_example():
    # m-EDL paper: p_hat = (50%, 30%, 20%) gives p_bar = (62.5%, 37.5%).
    p_bar = np_(dirichlet.known_class_probability(np.array([[0.5, 0.3, 0.2]], "float32")))
    np.testing.assert_allclose(p_bar, [[0.625, 0.375]], rtol=1e-6)


def test_unknown_class_mapping_hand_worked():
    # Nagahama's example: p_hat = (0.5, 0.3, 0.2). alpha_u = K + 1 = 3 and
    # p_hat_u = 3 / S+ = 0.2 give S+ = 15, so alpha = (7.5, 4.5).
    alpha = np.array([[7.5, 4.5]])
    alpha_plus = np_(dirichlet.add_unknown_class(alpha))
    np.testing.assert_allclose(alpha_plus, [[7.5, 4.5, 3.0]])
    p_hat = np_(dirichlet.expected_probability(alpha_plus))
    np.testing.assert_allclose(p_hat, [[0.5, 0.3, 0.2]], rtol=float64_tolerance(1e-12))
    np.testing.assert_allclose(np_(dirichlet.vacuity(alpha_plus)), [0.2], rtol=float64_tolerance(1e-12))
    p_bar = np_(dirichlet.known_class_probability(p_hat))
    np.testing.assert_allclose(p_bar, [[0.625, 0.375]], rtol=float64_tolerance(1e-12))
    np.testing.assert_allclose(
        p_bar, np_(dirichlet.expected_probability(alpha)), rtol=float64_tolerance(1e-12)
    )


def test_unknown_probability_equals_vacuity_rank():
    # p_hat_u = (K + 1) / (S + K + 1) is decreasing in S, as is K / S.
    alpha = random_alpha(n=64).astype("float64")
    p_hat_u = np_(dirichlet.vacuity(dirichlet.add_unknown_class(alpha)))
    k = alpha.shape[-1]
    s = alpha.sum(-1)
    np.testing.assert_allclose(p_hat_u, (k + 1) / (s + k + 1), rtol=float64_tolerance(1e-12))
    order = np.argsort(np_(dirichlet.vacuity(alpha)), kind="stable")
    assert (np.diff(p_hat_u[order]) >= 0).all()
