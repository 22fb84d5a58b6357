"""evaluation.detection against scikit-learn and SciPy."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve

import keras_evidential as ke

RNG = np.random.default_rng(41)


@pytest.mark.parametrize("seed", range(4))
def test_average_precision_and_fpr_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(300) < 0.4
    scores = np.round(rng.normal(size=300) + labels, 1)  # with ties
    assert ke.evaluation.average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    assert ke.evaluation.fpr_at_tpr(labels, scores) == pytest.approx(fpr[np.argmax(tpr >= 0.95)])


def test_ood_detection_orientation():
    in_scores, out_scores = RNG.normal(1.0, 1.0, 200), RNG.normal(0.0, 1.0, 150)
    figures = ke.evaluation.ood_detection(in_scores, out_scores)
    labels = np.r_[np.ones(200), np.zeros(150)]
    scores = np.r_[in_scores, out_scores]
    assert figures["aupr_in"] == pytest.approx(average_precision_score(labels, scores))
    assert figures["aupr_out"] == pytest.approx(average_precision_score(1 - labels, -scores))
    assert figures["auroc"] == pytest.approx(roc_auc_score(labels, scores))


def test_misclassification_detection():
    correct = RNG.random(100) < 0.8
    confidence = RNG.random(100) + correct
    figures = ke.evaluation.misclassification_detection(correct, confidence)
    assert figures["aupr"] == pytest.approx(average_precision_score(correct, confidence))
    assert figures["auroc"] == pytest.approx(roc_auc_score(correct, confidence))


def test_confidence_scores_against_scipy():
    alpha = 0.5 + RNG.gamma(1.0, 3.0, size=(5, 4))
    scores = ke.evaluation.confidence_scores(alpha)
    a = alpha.astype("float32").astype("float64")
    s = a.sum(-1)
    np.testing.assert_allclose(scores["alpha0"], s, rtol=1e-6)
    np.testing.assert_allclose(scores["max_probability"], (a / s[:, None]).max(-1), rtol=1e-6)
    np.testing.assert_allclose(scores["differential_entropy"], [-stats.dirichlet(r).entropy() for r in a], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scores["vacuity"], -4 / s, rtol=1e-6)
    assert set(scores) == set(ke.evaluation.CONFIDENCE_SCORES)


def test_brier_and_ece_hand_worked():
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 1, 1])
    expected_brier = np.mean([0.02, 0.72, 0.18])
    assert ke.evaluation.brier_score(p, labels) == pytest.approx(expected_brier)
    # 2 bins: (0, .5], (.5, 1]; all three confidences (.9, .6, .7) in bin 2:
    # accuracy 2/3, confidence 2.2/3 -> ECE = |2 - 2.2| / 3.
    assert ke.evaluation.expected_calibration_error(p, labels, num_bins=2) == pytest.approx(0.2 / 3, rel=1e-5)
    bins = ke.evaluation.reliability_bins(p, labels, num_bins=2)
    assert bins["count"].tolist() == [0.0, 3.0]


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        ke.evaluation.average_precision([1, 0], [0.1])
    with pytest.raises(ValueError, match="finite"):
        ke.evaluation.fpr_at_tpr([1, 0], [np.nan, 0.1])
    with pytest.raises(ValueError, match="labels"):
        ke.evaluation.brier_score(np.array([[0.5, 0.5]]), np.array([2]))
