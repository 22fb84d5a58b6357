"""Selective prediction against hand-worked examples and a float64 brute-force
reference written here from Geifman et al. (ICLR 2019): accept the samples
whose uncertainty is at most each sample's own, ties together."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential.evaluation import aurc
from keras_evidential.evaluation import excess_aurc
from keras_evidential.evaluation import risk_at_coverage
from keras_evidential.evaluation import risk_coverage_curve
from tests.metrics.data import open_set_data
from tests.metrics.data import result
from tests.testing import _zero_loss


def brute_force(losses, scores, weights):
    """Per sample: coverage and risk of {j : s_j <= s_i}, by direct sums."""
    losses, scores, weights = (np.asarray(a, "float64") for a in (losses, scores, weights))
    accepted = scores[None, :] <= scores[:, None]  # row i: the set of sample i
    covered = accepted @ weights
    return covered / weights.sum(), (accepted @ (weights * losses)) / covered


def reference_aurc(losses, scores, weights):
    _, risk = brute_force(losses, scores, weights)
    return np.sum(weights * risk) / np.sum(weights)


def reference_optimal(errors, weights):
    r = np.sum(weights * errors) / np.sum(weights)
    return r + (1 - r) * np.log(1 - r) if r < 1 else 1.0


def reference_risk_at(losses, scores, weights, coverage):
    covered, risk = brute_force(losses, scores, weights)
    reaching = covered >= coverage - 1e-12
    return risk[reaching][np.argmin(covered[reaching])]


def test_hand_worked_example():
    # Sorted by uncertainty: correct, wrong, correct, wrong.
    errors, scores = [0, 1, 0, 1], [0.1, 0.4, 0.5, 0.9]
    # Risks after 1..4 samples: 0, 1/2, 1/3, 1/2; AURC their mean.
    expected = (0 + 1 / 2 + 1 / 3 + 1 / 2) / 4
    np.testing.assert_allclose(aurc(errors, scores), expected, rtol=1e-12)
    optimum = 0.5 + 0.5 * np.log(0.5)
    np.testing.assert_allclose(excess_aurc(errors, scores), expected - optimum, rtol=1e-12)
    assert risk_at_coverage(errors, scores, 0.5) == 0.5
    assert risk_at_coverage(errors, scores, 0.25) == 0.0
    assert risk_at_coverage(errors, scores, 0.3) == 0.5  # 2 samples needed


def test_ties_are_one_threshold():
    # The middle two tie: accepted together (risk 1/3 at coverage 3/4).
    curve = risk_coverage_curve([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9])
    np.testing.assert_allclose(curve["coverage"], [0.25, 0.75, 1.0])
    np.testing.assert_allclose(curve["risk"], [0.0, 1 / 3, 0.5])
    np.testing.assert_allclose(curve["aurc"], (0 + 2 * (1 / 3) + 0.5) / 4)
    # The order of tied samples does not matter.
    assert aurc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == curve["aurc"]


def test_perfect_ranking_reaches_the_finite_sample_optimum():
    errors = np.r_[np.zeros(90), np.ones(10)]
    scores = np.arange(100.0)
    # sum_{j=1}^{10} j / (90 + j) / 100, the best any ranking does.
    expected = np.sum(np.arange(1, 11) / (90 + np.arange(1, 11))) / 100
    np.testing.assert_allclose(aurc(errors, scores), expected, rtol=1e-12)
    assert 0 <= excess_aurc(errors, scores) < 2e-3  # the closed form is its limit


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    n = 300
    scores = rng.integers(0, 25, n) / 24.0  # many ties
    losses = rng.random(n) < 0.3
    weights = rng.random(n) * (rng.random(n) > 0.1)
    np.testing.assert_allclose(
        aurc(losses, scores, weights), reference_aurc(losses, scores, weights), rtol=1e-10
    )
    np.testing.assert_allclose(
        excess_aurc(losses, scores, weights),
        reference_aurc(losses, scores, weights) - reference_optimal(losses, weights),
        rtol=1e-10,
    )
    for coverage in (0.1, 0.5, 0.9, 1.0):
        np.testing.assert_allclose(
            risk_at_coverage(losses, scores, coverage, weights),
            reference_risk_at(losses, scores, weights, coverage), rtol=1e-10,
        )
    # Real-valued losses (a regressor's squared errors) work the same way.
    squared = rng.normal(size=n) ** 2
    np.testing.assert_allclose(
        aurc(squared, scores, weights), reference_aurc(squared, scores, weights), rtol=1e-10
    )


def test_metrics_equal_numpy_figures_in_evaluate():
    alpha, labels = open_set_data(seed=3, n=400, k=4)
    known = labels < 4
    alpha, labels = alpha[known], labels[known]
    errors = (alpha.argmax(1) != labels).astype("float64")
    metrics = [
        ke.metrics.AURC(score="vacuity"),
        ke.metrics.ExcessAURC(score="mutual_information"),
        ke.metrics.AccuracyAtCoverage(coverage=0.8, score="least_confidence"),
    ]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Identity()])
    model.compile(loss=_zero_loss, metrics=metrics)
    logs = model.evaluate(alpha, labels, batch_size=64, return_dict=True, verbose=0)
    scores = ke.evaluation.dirichlet_uncertainties(alpha)
    np.testing.assert_allclose(
        logs["aurc"], reference_aurc(errors, scores["vacuity"], np.ones_like(errors)),
        rtol=1e-5,
    )
    ones = np.ones_like(errors)
    np.testing.assert_allclose(
        logs["e_aurc"],
        reference_aurc(errors, scores["mutual_information"], ones)
        - reference_optimal(errors, ones),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        logs["accuracy_at_coverage"],
        1 - reference_risk_at(errors, scores["least_confidence"], ones, 0.8), rtol=1e-6,
    )


def test_metric_config_round_trip_and_buckets():
    metric = ke.metrics.AccuracyAtCoverage(coverage=0.7, score="vacuity", num_thresholds=50)
    restored = ke.metrics.AccuracyAtCoverage.from_config(metric.get_config())
    assert (restored.coverage, restored.score, restored.num_thresholds) == (0.7, "vacuity", 50)
    alpha, labels = open_set_data(seed=4, n=200, k=3)
    known = labels < 3
    exact = ke.metrics.AURC(score="vacuity")
    bucketed = ke.metrics.AURC(score="vacuity", num_thresholds=1000)
    for m in (exact, bucketed):
        m.update_state(labels[known], alpha[known])
    errors = (alpha[known].argmax(1) != labels[known]).astype("float64")
    vacuity = ke.evaluation.dirichlet_uncertainties(alpha[known])["vacuity"]
    ones = np.ones_like(errors)
    np.testing.assert_allclose(result(exact), reference_aurc(errors, vacuity, ones), rtol=1e-5)
    # The buckets are ties: the exact figure of the bucket indices.
    buckets = np.minimum(np.floor(vacuity.astype("float32") * 1000), 999)
    np.testing.assert_allclose(
        result(bucketed), reference_aurc(errors, buckets, ones), rtol=1e-5
    )


def test_selective_classification_covers_every_score():
    alpha, labels = open_set_data(seed=5, n=300, k=3)
    known = labels < 3
    figures = ke.evaluation.selective_classification(alpha[known], labels[known])
    expected = set(ke.metrics.UNCERTAINTY_SCORES) | {"alpha0", "differential_entropy"}
    assert set(figures) == expected | {"accuracy"}
    errors = (alpha[known].argmax(1) != labels[known]).astype("float64")
    ones = np.ones_like(errors)
    np.testing.assert_allclose(
        figures["alpha0"]["aurc"],
        reference_aurc(errors, -alpha[known].astype("float64").sum(1), ones), rtol=1e-10,
    )
    # The 100 % coverage accuracy is the accuracy, whatever the score.
    assert figures["vacuity"]["accuracy_at_95"] >= 0


def test_nig_uncertainties():
    y_pred = np.array([[0.0, 2.0, 3.0, 4.0], [1.0, 0.5, 1.5, 1.0]])
    scores = ke.evaluation.nig_uncertainties(y_pred)
    nu, alpha, beta = y_pred[:, 1], y_pred[:, 2], y_pred[:, 3]
    np.testing.assert_allclose(scores["aleatoric_amini"], beta / (alpha - 1), rtol=1e-6)
    np.testing.assert_allclose(scores["epistemic_amini"], beta / (nu * (alpha - 1)), rtol=1e-6)
    np.testing.assert_allclose(
        scores["predictive_variance"], beta * (1 + nu) / (nu * (alpha - 1)), rtol=1e-6
    )


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="one entry per sample"):
        aurc([0, 1], [0.1])
    with pytest.raises(ValueError, match="`uncertainty` must be finite"):
        aurc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="`coverage` must be"):
        risk_at_coverage([0, 1], [0.1, 0.2], coverage=0.0)
    with pytest.raises(ValueError, match="0/1"):
        excess_aurc([0, 0.5], [0.1, 0.2])
    with pytest.raises(ValueError, match="`coverage` must be"):
        ke.metrics.AccuracyAtCoverage(coverage=1.5)


def test_plot_risk_coverage(tmp_path):
    curve = risk_coverage_curve([0, 1, 0, 1], [0.1, 0.4, 0.5, 0.9])
    path = tmp_path / "rc.png"
    figure = ke.evaluation.plot_risk_coverage({"vacuity": curve}, path=str(path))
    assert path.stat().st_size > 0
    line = figure.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata()[1:], curve["coverage"])


def test_for_model_passes_the_heads_prior():
    model = keras.Sequential([
        keras.Input((3,)), keras.layers.Dense(3),
        ke.layers.DirichletOutput(prior_concentration=0.1),
    ])
    metrics = ke.metrics.for_model(model, [ke.metrics.AURC, ke.metrics.AccuracyAtCoverage])
    assert [m.prior_concentration for m in metrics] == [0.1, 0.1]
