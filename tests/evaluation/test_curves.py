"""Evaluation curves and figures against NumPy, scikit-learn and hand-worked values."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keras_evidential import evaluation
from keras_evidential.evaluation.curves import alpha_from_outputs
from tests.evaluation.helpers import synthetic_alpha


def test_accuracy_vs_threshold_matches_numpy():
    alpha, labels = synthetic_alpha(1)
    k = 3
    thresholds = [0.1, 0.3, 0.6, 1.0]
    curve = evaluation.accuracy_vs_threshold(alpha, labels, thresholds)
    vacuity = k / alpha.sum(1)
    argmax = alpha.argmax(1)
    known = labels < k
    for i, t in enumerate(thresholds):
        kept = vacuity <= t
        right = known & kept & (argmax == labels)
        assert curve["coverage"][i] == pytest.approx(kept.mean())
        assert curve["rejection_rate"][i] == pytest.approx(1 - kept.mean())
        assert curve["known_accuracy"][i] == pytest.approx(right.sum() / known.sum())
        assert curve["selective_accuracy"][i] == pytest.approx(right.sum() / kept.sum())
        assert curve["unknown_recall"][i] == pytest.approx(
            (~known & ~kept).sum() / (~known).sum()
        )
        if (~kept).any():
            assert curve["unknown_precision"][i] == pytest.approx(
                (~known & ~kept).sum() / (~kept).sum()
            )
        else:
            assert np.isnan(curve["unknown_precision"][i])


def test_curves_are_monotone_where_theory_says_so():
    alpha, labels = synthetic_alpha(2, n=1500)
    curve = evaluation.accuracy_vs_threshold(alpha, labels)
    assert np.all(np.diff(curve["threshold"]) > 0)
    assert np.all(np.diff(curve["coverage"]) >= 0)
    assert np.all(np.diff(curve["known_accuracy"]) >= 0)
    assert np.all(np.diff(curve["unknown_recall"]) <= 0)
    assert curve["known_accuracy"][0] == 0.0  # vacuity > 0: all rejected
    assert curve["unknown_recall"][0] == 1.0


def test_selective_accuracy_falls_when_uncertainty_ranks_errors():
    # Constructed: the right predictions have strength 100 + i, the wrong
    # ones strength below 11, so every threshold keeps right samples first.
    right = np.array([[90.0 + i, 10.0] for i in range(20)])
    wrong = np.array([[2.0 + i / 4, 1.0 + i / 8] for i in range(20)])
    alpha = np.concatenate([right, wrong]).astype("float32")
    labels = np.array([0] * 20 + [1] * 20)
    thresholds = np.linspace(0.005, 1.0, 60)
    curve = evaluation.accuracy_vs_threshold(alpha, labels, thresholds)
    values = curve["selective_accuracy"]
    finite = np.isfinite(values)
    assert np.all(np.diff(values[finite]) <= 1e-12)
    assert values[finite][0] == 1.0 and values[-1] == 0.5


def test_roc_auc_hand_worked_example():
    # Positive-negative pairs ranked correctly: (0.35 > 0.1), (0.8 > 0.1),
    # (0.8 > 0.4); wrongly: (0.35 < 0.4). AUC = 3 / 4.
    assert evaluation.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert np.isnan(evaluation.roc_auc([1, 1], [0.2, 0.3]))


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=500)
    scores = np.round(rng.normal(size=500) + labels, 1)  # many ties
    assert evaluation.roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert evaluation.roc_auc([0, 1, 0, 1], [0.5] * 4) == pytest.approx(0.5)


def test_exact_auc_vs_threshold_by_hand():
    # Rows (label, p_bar_1, vacuity 2 / S) with alpha = S * (1 - p, p).
    rows = [(0, 0.2, 0.1), (1, 0.9, 0.1), (0, 0.625, 0.5), (1, 0.375, 0.5),
            (0, 0.55, 0.8), (1, 0.45, 0.8)]  # fmt: skip
    labels = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    strength = 2.0 / np.array([r[2] for r in rows])
    alpha = np.stack([(1 - p) * strength, p * strength], axis=1)
    curve = evaluation.auc_vs_threshold(alpha, labels, thresholds=(0.1, 0.5, 0.8))
    # u <= 0.1: {(0, 0.2), (1, 0.9)} -> 1. u <= 0.5 adds (0, 0.625), (1, 0.375):
    # positives {0.9, 0.375} vs negatives {0.2, 0.625}: 3 of 4 pairs right.
    # All: positives {0.9, 0.375, 0.45} vs negatives {0.2, 0.625, 0.55}: 5 of 9.
    np.testing.assert_allclose(curve["auc"], [1.0, 0.75, 5 / 9])
    np.testing.assert_allclose(curve["coverage"], [2 / 6, 4 / 6, 1.0])
    np.testing.assert_array_equal(curve["kept"], [2, 4, 6])


def test_auc_vs_threshold_matches_sklearn_and_rises_as_threshold_falls():
    rng = np.random.default_rng(3)
    n = 3000
    labels = rng.integers(0, 2, n)
    alpha = 1.0 + rng.gamma(0.6, 2.0, (n, 2))
    alpha[np.arange(n), labels] += rng.gamma(0.8, 8.0, n)
    thresholds = [0.15, 0.3, 0.6, 1.0]
    curve = evaluation.auc_vs_threshold(alpha, labels, thresholds)
    bucketed = evaluation.auc_vs_threshold(alpha, labels, thresholds, num_thresholds=2000)
    vacuity = 2 / alpha.sum(1)
    score = alpha[:, 1] / alpha.sum(1)
    for i, t in enumerate(thresholds):
        kept = vacuity <= t
        assert curve["kept"][i] == bucketed["kept"][i] == kept.sum()
        expected = roc_auc_score(labels[kept], score[kept])
        assert curve["auc"][i] == pytest.approx(expected, abs=1e-6)
        # `keras.metrics.AUC`'s bucketed estimate, as the training metric.
        assert bucketed["auc"][i] == pytest.approx(expected, abs=2e-3)
    assert np.all(np.diff(curve["auc"]) < 0)
    assert np.all(np.diff(curve["coverage"]) > 0) and curve["coverage"][-1] == 1


def test_uncertainty_distribution_matches_numpy_histogram():
    alpha, labels = synthetic_alpha(4)
    dist = evaluation.uncertainty_distribution(alpha, labels, bins=10)
    vacuity = 3 / alpha.sum(1)
    known = labels < 3
    right = known & (alpha.argmax(1) == labels)
    edges = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(
        dist["correct"], np.histogram(vacuity[right], edges)[0]
    )
    np.testing.assert_array_equal(
        dist["misclassified"], np.histogram(vacuity[known & ~right], edges)[0]
    )
    np.testing.assert_array_equal(
        dist["unknown"], np.histogram(vacuity[~known], edges)[0]
    )
    assert sum(dist[g].sum() for g in ("correct", "misclassified", "unknown")) == (
        len(labels)
    )


def test_uncertainty_metrics_nan_where_undefined_and_binary_auc():
    alpha, labels = synthetic_alpha(5, unknown_share=0.0)
    figures = evaluation.uncertainty_metrics(alpha, labels)
    assert np.isnan(figures["unknown_recall"])
    assert np.isnan(figures["unknown_auroc"])
    assert "roc_auc" not in figures
    assert figures["known_accuracy"] == pytest.approx(
        (alpha.argmax(1) == labels).mean()
    )
    assert figures["mean_vacuity"] == pytest.approx((3 / alpha.sum(1)).mean(), rel=1e-5)
    binary = alpha[:, :2]
    binary_labels = np.minimum(labels, 1)
    figures = evaluation.uncertainty_metrics(binary, binary_labels)
    assert figures["roc_auc"] == pytest.approx(
        roc_auc_score(binary_labels, binary[:, 1] / binary.sum(1)), abs=2e-3
    )


def test_uncertainty_measures_unknown_class():
    alpha, _ = synthetic_alpha(6, n=50)
    alpha_plus = np.concatenate([alpha, np.full((50, 1), 4.0, "float32")], 1)
    measures = evaluation.uncertainty_measures(alpha_plus, unknown_class=True)
    s = alpha.sum(1)
    np.testing.assert_allclose(measures["vacuity"], 3 / s, rtol=1e-6)
    np.testing.assert_allclose(measures["unknown_probability"], 4 / (s + 4), rtol=1e-6)



def test_alpha_from_logits_applies_the_evidence():
    rng = np.random.default_rng(14)
    logits = rng.normal(scale=3.0, size=(200, 2)).astype("float32")
    labels = rng.integers(0, 2, 200)
    with pytest.raises(ValueError, match="evidence='elu'"):
        evaluation.uncertainty_metrics(logits, labels)
    # ELU evidence with offset 1: alpha = elu(z) + 2.
    elu = np.where(logits > 0, logits, np.expm1(logits))
    np.testing.assert_allclose(alpha_from_outputs(logits, evidence="elu"), elu + 2.0, rtol=1e-6)


# R-EDL, K = 2, prior weight lambda = 0.1 (alpha = e + 0.1), labels 2 = unknown.
# Vacuities lambda K / S = 0.2 / S: 0.2/2.2, 0.2/1.2, 0.2/0.6, 0.2/1.4
# = 0.0909, 0.1667, 0.3333, 0.1429; argmax 0, 0 (tie), 1, 0.
REDL_ALPHA = np.array([[2.1, 0.1], [0.6, 0.6], [0.1, 0.5], [1.1, 0.3]], "float32")
REDL_LABELS = np.array([0, 2, 1, 1])


def test_prior_concentration_accuracy_vs_threshold_by_hand():
    curve = evaluation.accuracy_vs_threshold(
        REDL_ALPHA, REDL_LABELS, thresholds=(0.1, 0.15, 0.5), prior_concentration=0.1
    )
    # t = 0.1 keeps row 0: predictions (0, u, u, u). t = 0.15 keeps rows 0, 3:
    # (0, u, u, 0). t = 0.5 keeps all: (0, 0, 1, 0).
    np.testing.assert_allclose(curve["coverage"], [1 / 4, 2 / 4, 1.0])
    np.testing.assert_allclose(curve["rejection_rate"], [3 / 4, 2 / 4, 0.0])
    np.testing.assert_allclose(curve["known_accuracy"], [1 / 3, 1 / 3, 2 / 3])
    np.testing.assert_allclose(curve["selective_accuracy"], [1.0, 1 / 2, 2 / 4])
    np.testing.assert_allclose(curve["unknown_recall"], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(curve["unknown_precision"], [1 / 3, 1 / 2, np.nan])


def test_prior_concentration_measures_and_metrics():
    vacuity = 0.2 / np.array([2.2, 1.2, 0.6, 1.4])
    measures = evaluation.uncertainty_measures(REDL_ALPHA, prior_concentration=0.1)
    np.testing.assert_allclose(measures["vacuity"], vacuity, rtol=1e-6)
    np.testing.assert_allclose(measures["strength"], [2.2, 1.2, 0.6, 1.4], rtol=1e-6)
    figures = evaluation.uncertainty_metrics(
        REDL_ALPHA, REDL_LABELS, threshold=0.15, prior_concentration=0.1
    )
    assert figures["mean_vacuity"] == pytest.approx(vacuity.mean(), rel=1e-6)
    assert figures["known_accuracy"] == pytest.approx(1 / 3)
    assert figures["unknown_precision"] == pytest.approx(1 / 2)
    # The unknown row 1 (0.1667) ranks below row 2 (0.3333), above 0 and 3.
    assert figures["unknown_auroc"] == pytest.approx(2 / 3, abs=1e-3)
    dist = evaluation.uncertainty_distribution(
        REDL_ALPHA, REDL_LABELS, bins=10, prior_concentration=0.1
    )
    # Right: rows 0 (0.09), 2 (0.33); wrong: row 3 (0.14); unknown: row 1 (0.17).
    np.testing.assert_array_equal(np.flatnonzero(dist["correct"]), [0, 3])
    np.testing.assert_array_equal(np.flatnonzero(dist["misclassified"]), [1])
    np.testing.assert_array_equal(np.flatnonzero(dist["unknown"]), [1])
    curve = evaluation.auc_vs_threshold(
        REDL_ALPHA, REDL_LABELS, thresholds=(0.1, 0.15, 0.5), prior_concentration=0.1
    )
    np.testing.assert_array_equal(curve["kept"], [1, 2, 3])


def test_alpha_below_the_prior_concentration_is_refused_by_name():
    with pytest.raises(ValueError, match=r"prior_concentration.*Received: min\(alpha\)=0\.1"):
        evaluation.accuracy_vs_threshold(REDL_ALPHA, REDL_LABELS)
    with pytest.raises(ValueError, match=r"Received: min\(alpha\)=0\.1"):
        evaluation.uncertainty_metrics(REDL_ALPHA, REDL_LABELS, prior_concentration=0.5)
    with pytest.raises(ValueError, match="Received: prior_concentration=0"):
        evaluation.uncertainty_measures(REDL_ALPHA, prior_concentration=0)
    with pytest.raises(ValueError, match="Received: minimum_alpha=-1"):
        evaluation.uncertainty_measures(REDL_ALPHA, minimum_alpha=-1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_alpha_is_refused(bad):
    alpha = REDL_ALPHA.copy()
    alpha[1, 0] = bad
    with pytest.raises(ValueError, match="finite"):
        evaluation.accuracy_vs_threshold(alpha, REDL_LABELS, prior_concentration=0.1)


def test_minimum_alpha_zero_takes_positive_alpha_only():
    # DAEDL's alpha = exp(z) > 0, prior weight 1: vacuity K / S.
    alpha = np.array([[3.0, 0.05], [0.5, 0.2]], "float32")
    measures = evaluation.uncertainty_measures(alpha, minimum_alpha=0.0)
    np.testing.assert_allclose(measures["vacuity"], [2 / 3.05, 2 / 0.7], rtol=1e-6)
    curve = evaluation.accuracy_vs_threshold(
        alpha, [0, 1], thresholds=(0.9,), minimum_alpha=0.0
    )
    np.testing.assert_allclose(curve["known_accuracy"], [1 / 2])
    with pytest.raises(ValueError, match=r"alpha > 0.*Received: min\(alpha\)=0\.0"):
        evaluation.accuracy_vs_threshold(
            np.array([[1.0, 0.0], [1.0, 1.0]]), [0, 1], minimum_alpha=0.0
        )


def test_vacuity_aurocs_of_daedl_alpha_rank_every_sample():
    # DAEDL's alpha = exp(z) > 0 with S < K = 2 on the unknown rows: K / S is
    # above 1 there, so bucketed K / S would tie them. Known rows S = 3.05,
    # 1.5 (the second wrong); unknown rows S = 0.7, 1.8, 0.3. Ranked by -S
    # the unknown rows are vaguer than both known ones but for 1.8 > 1.5:
    # AUROC 5/6 (K / S clipped at 1 would tie all but S = 3.05: 0.75); the
    # wrong row is the vaguer known one: AUROC 1.
    alpha = np.array(
        [[3.0, 0.05], [0.5, 1.0], [0.5, 0.2], [0.9, 0.9], [0.1, 0.2]], "float32"
    )
    labels = np.array([0, 0, 2, 2, 2])
    figures = evaluation.uncertainty_metrics(
        alpha, labels, minimum_alpha=0.0, num_thresholds=2000
    )
    np.testing.assert_allclose(figures["unknown_auroc"], 5 / 6, atol=2e-3)
    np.testing.assert_allclose(figures["misclassification_auroc"], 1.0, atol=2e-3)


def test_unknown_probability_of_the_learned_head_includes_its_evidence():
    """Before: (K + 1) / S+ for every head, 0.2308 for alpha+ = (5, 1, 7)
    instead of p_hat_u = 7 / 13 (the learned head's alpha_u = K + 1 + e_u)."""
    from keras_evidential import evaluation

    measures = evaluation.uncertainty_measures(np.array([[5.0, 1.0, 7.0], [2.0, 3.0, 3.0]]),
                                               unknown_class=True)
    np.testing.assert_allclose(measures["unknown_probability"], [7 / 13, 3 / 8], rtol=1e-6)
