"""The Dirichlet math against hand-worked values and the float64 reference."""

import numpy as np
import pytest
from keras import ops

from keras_evidential import dirichlet
from tests import reference
from tests.gradients import value_and_gradient

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


def test_kl_hand_worked():
    # KL(Dir(1, 1) || Dir(1, 1)) = 0
    np.testing.assert_allclose(np_(dirichlet.kl_to_uniform(np.ones((1, 2), "float32"))), [0.0], atol=1e-6)
    # KL(Dir(2, 1) || Dir(1, 1)) = lgamma(3) - lgamma(2) - lgamma(2) - lgamma(1)
    #   + (2 - 1) (digamma(2) - digamma(3)) = log 2 - 1/2
    got = np_(dirichlet.kl_to_uniform(np.array([[2.0, 1.0]], "float32")))
    np.testing.assert_allclose(got, [np.log(2.0) - 0.5], rtol=1e-5)


def test_kl_matches_reference_and_is_nonnegative():
    alpha = random_alpha(k=10)
    got = np_(dirichlet.kl_to_uniform(alpha))
    np.testing.assert_allclose(got, reference.kl_to_uniform(alpha.astype("float64")), rtol=1e-4, atol=1e-4)
    assert np.all(got >= -1e-5)


def test_misleading_alpha_removes_target_evidence():
    y = np.array([[0.0, 1.0, 0.0]], "float32")
    alpha = np.array([[4.0, 9.0, 2.0]], "float32")
    np.testing.assert_allclose(np_(dirichlet.misleading_alpha(y, alpha)), [[4.0, 1.0, 2.0]])
    np.testing.assert_allclose(
        np_(dirichlet.misleading_evidence_kl(y, alpha)),
        reference.kl_to_uniform(np.array([[4.0, 1.0, 2.0]])),
        rtol=1e-5,
    )


@pytest.mark.parametrize("name", ["relu", "softplus", "exp", "elu"])
def test_evidence_functions_match_reference(name):
    z = np.linspace(-30, 30, 61).astype("float32")
    fn = getattr(dirichlet, f"{name}_evidence")
    got = np_(fn(z))
    np.testing.assert_allclose(got, reference.EVIDENCE[name](z.astype("float64")), rtol=1e-5, atol=1e-6)
    assert np.all(got >= 0)


def test_exp_evidence_is_clipped():
    got = np_(dirichlet.exp_evidence(np.array([200.0, -200.0], "float32"), clip_value=10.0))
    np.testing.assert_allclose(got, np.exp([10.0, -10.0]), rtol=1e-6)


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
