"""Non-conformity scores against hand-worked values and float64 references."""

import numpy as np
import pytest
from keras import ops

import keras_evidential as ke
from tests.testing import to_numpy


def _aps_reference(p, u):
    """Romano et al.'s score, by explicit sorting (ties by label index)."""
    out = np.zeros_like(p)
    for i, row in enumerate(p):
        order = sorted(range(len(row)), key=lambda k: (-row[k], k))
        mass = 0.0
        for rank, k in enumerate(order):
            out[i, k] = mass + u[i] * row[k]
            mass += row[k]
    return out


def test_lac_hand_worked():
    s = to_numpy(ke.conformal.lac_scores(np.array([[0.6, 0.3, 0.1]])))
    np.testing.assert_allclose(s, [[0.4, 0.7, 0.9]], atol=1e-7)


def test_aps_hand_worked_with_a_tie():
    # p = (0.3, 0.4, 0.3): label 1 first, then label 0 (tie, lower index), then 2.
    p = np.array([[0.3, 0.4, 0.3]])
    np.testing.assert_allclose(to_numpy(ke.conformal.aps_scores(p)), [[0.7, 0.4, 1.0]])
    np.testing.assert_allclose(
        to_numpy(ke.conformal.aps_scores(p, 0.0)), [[0.4, 0.0, 0.7]], atol=1e-12
    )


def test_aps_against_sorting_reference():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7), size=50)
    u = rng.uniform(size=50)
    got = to_numpy(ke.conformal.aps_scores(p, u[:, None]))
    # JAX computes in float32 unless x64 is enabled.
    tolerance = 1e-12 if got.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(got, _aps_reference(p, u), atol=tolerance)


def test_raps_hand_worked():
    # p = (0.1, 0.6, 0.3): ranks 3, 1, 2; k_reg = 1, lambda = 0.5.
    p = np.array([[0.1, 0.6, 0.3]])
    s = to_numpy(ke.conformal.raps_scores(p, 1.0, penalty=0.5, regularization_rank=1))
    np.testing.assert_allclose(s, [[1.0 + 1.0, 0.6, 0.9 + 0.5]], atol=1e-12)


def test_belief_hand_worked_and_vacuity_aware():
    # S = 10: b = (0.6, 0.1, 0); EDL's lambda = 1.
    s = to_numpy(ke.conformal.belief_scores(np.array([[7.0, 2.0, 1.0]])))
    np.testing.assert_allclose(s, [[0.4, 0.9, 1.0]], atol=1e-7)
    # Same mean (p = 0.5, 0.25, 0.25) with ten times the evidence: less vacuity,
    # so the top label's score drops; LAC cannot tell them apart.
    few, many = np.array([[2.0, 1.0, 1.0]]), np.array([[20.0, 10.0, 10.0]])
    assert to_numpy(ke.conformal.belief_scores(many))[0, 0] < to_numpy(
        ke.conformal.belief_scores(few))[0, 0]


def test_belief_with_r_edl_prior():
    # lambda = 0.5: alpha = (3.5, 0.5), S = 4, b = (0.75, 0).
    s = to_numpy(ke.conformal.belief_scores(np.array([[3.5, 0.5]]), 0.5))
    np.testing.assert_allclose(s, [[0.25, 1.0]], atol=1e-7)


def test_probabilities_from_each_input():
    logits = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(
        to_numpy(ke.conformal.probabilities_from(logits, "logits")),
        np.exp(logits) / np.exp(logits).sum(), rtol=1e-6,
    )
    np.testing.assert_allclose(
        to_numpy(ke.conformal.probabilities_from(np.array([[3.0, 1.0]]), "alpha")),
        [[0.75, 0.25]],
    )
    with pytest.raises(ValueError, match="`inputs` must be one of"):
        ke.conformal.probabilities_from(logits, "log_probs")


def test_label_scores_refuses_belief_without_alpha():
    with pytest.raises(ValueError, match="inputs='probabilities'"):
        ke.conformal.label_scores(np.ones((1, 2)) / 2, score="belief")
    with pytest.raises(ValueError, match="`score` must be one of"):
        ke.conformal.label_scores(np.ones((1, 2)) / 2, score="saps")


def test_scores_in_float32_match_float64():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(5), size=20)
    got = to_numpy(ke.conformal.raps_scores(ops.cast(p, "float32"), 0.5, 0.1, 2))
    want = _aps_reference(p, np.full(20, 0.5)) + 0.1 * np.maximum(
        0, np.argsort(np.argsort(-p, kind="stable"), kind="stable") + 1 - 2)
    np.testing.assert_allclose(got, want, atol=1e-6)
