"""The AUROC metrics against scikit-learn and hand-worked rankings."""

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keras_evidential import metrics
from tests.testing import TestCase
from tests.metrics.data import daedl_data
from tests.metrics.data import open_set_data as _data
from tests.metrics.data import result as _result



class AUCMetricTest(TestCase):
    """Few samples whose scores fall in distinct buckets: the bucketed AUC of
    `keras.metrics.AUC` is then the exact (Mann-Whitney) AUC."""

    def test_thresholded_auc(self):
        # p_bar_1 = 0.9, 0.2, 0.7, 0.4 (strength 10) and two vacuous rows
        # (strength 2, vacuity 1) that the threshold 0.5 drops.
        p = np.array([0.9, 0.2, 0.7, 0.4, 0.8, 0.3])
        s = np.array([10.0, 10.0, 10.0, 10.0, 2.0 / 0.999, 2.0 / 0.999])
        alpha = np.stack([(1 - p) * s, p * s], axis=1).astype("float32")
        alpha = np.maximum(alpha, 1.0)
        labels = np.array([1, 0, 0, 1, 0, 1])
        kept = 2 / alpha.sum(1) <= 0.5
        # Kept: positives {0.9, 0.4}, negatives {0.2, 0.7}: 3 of 4 pairs.
        assert roc_auc_score(labels[kept], (alpha[:, 1] / alpha.sum(1))[kept]) == 0.75
        self.run_metric_test(
            metrics.ThresholdedAUC,
            {"threshold": 0.5, "num_thresholds": 1000},
            labels, alpha, 0.75, atol=1e-3,
        )

    def test_misclassification_auroc(self):
        # K = 2; errors (rows 1, 3) have the larger vacuity except row 4.
        alpha = np.array([[9.0, 1.0], [1.0, 2.0], [1.0, 7.0], [2.0, 1.5], [1.2, 1.0], [1.0, 5.0]], "float32")
        labels = np.array([0, 0, 1, 1, 0, 1])
        wrong = alpha.argmax(1) != labels
        expected = roc_auc_score(wrong, 2 / alpha.sum(1))
        self.run_metric_test(
            metrics.MisclassificationAUROC,
            {"score": "vacuity", "num_thresholds": 1000},
            labels, alpha, expected, atol=1e-3,
        )

    def test_unknown_class_auroc(self):
        alpha = np.array([[9.0, 1.0], [1.0, 1.5], [1.0, 7.0], [2.0, 1.5], [1.2, 1.0], [1.0, 5.0]], "float32")
        labels = np.array([0, 2, 1, 2, 2, 1])  # 2 = unknown
        expected = roc_auc_score(labels == 2, 2 / alpha.sum(1))
        self.run_metric_test(
            metrics.UnknownClassAUROC,
            {"score": "vacuity", "num_thresholds": 1000},
            labels, alpha, expected, atol=1e-3,
        )

    def test_thresholded_auc_with_prior_concentration(self):
        # lambda = 0.1: vacuities 0.2 / S. Rows 0-3 have S = 2 (u = 0.1), rows
        # 4-5 S = 0.5 (u = 0.4); the threshold 0.3 keeps rows 0-3. EDL's
        # K / S (1 and 4) would keep none.
        p = np.array([0.9, 0.2, 0.7, 0.4, 0.8, 0.3])
        s = np.array([2.0, 2.0, 2.0, 2.0, 0.5, 0.5])
        alpha = np.stack([(1 - p) * s, p * s], axis=1).astype("float32")
        labels = np.array([1, 0, 0, 1, 0, 1])
        # Kept: positives {0.9, 0.4}, negatives {0.2, 0.7}: 3 of 4 pairs.
        self.run_metric_test(
            metrics.ThresholdedAUC,
            {"threshold": 0.3, "prior_concentration": 0.1, "num_thresholds": 1000},
            labels, alpha, 0.75, atol=1e-3,
        )

    def test_unknown_class_auroc_with_prior_concentration(self):
        # R-EDL (lambda = 0.1) alpha with S < K: K / S lies in (1, 10], beyond
        # the buckets of `keras.metrics.AUC`; lambda K / S lies in (0, 1].
        alpha = np.array(
            [[1.5, 0.1], [0.2, 0.3], [0.1, 1.9], [0.4, 0.3], [0.2, 0.1], [0.1, 0.9]],
            "float32",
        )
        labels = np.array([0, 2, 1, 2, 2, 1])
        expected = roc_auc_score(labels == 2, 0.2 / alpha.sum(1))
        assert expected == 1.0
        self.run_metric_test(
            metrics.UnknownClassAUROC,
            {"score": "vacuity", "prior_concentration": 0.1, "num_thresholds": 1000},
            labels, alpha, expected, atol=1e-3,
        )
        self.run_metric_test(
            metrics.MisclassificationAUROC,
            {"score": "vacuity", "prior_concentration": 0.1, "num_thresholds": 1000},
            np.array([0, 0, 1, 1, 0, 1]), alpha,
            roc_auc_score([0, 1, 0, 1, 0, 0], 0.2 / alpha.sum(1)), atol=1e-3,
        )


@pytest.mark.parametrize("unknown_class", [False, True])
def test_misclassification_auroc_matches_sklearn(unknown_class):
    alpha, labels = _data(4, n=3000, unknown_class=unknown_class)
    known_alpha = alpha[:, :4]
    known = labels < 4
    wrong = (known_alpha.argmax(1) != labels)[known]
    for score, values in (
        ("vacuity", 4 / known_alpha.sum(1)),
        (
            "least_confidence",
            1 - (known_alpha / known_alpha.sum(1, keepdims=True)).max(1),
        ),
    ):
        expected = roc_auc_score(wrong, values[known])
        metric = metrics.MisclassificationAUROC(
            score=score, unknown_class=unknown_class, num_thresholds=1000
        )
        for batch in np.array_split(np.arange(len(labels)), 5):
            metric.update_state(labels[batch], alpha[batch])
        assert _result(metric) == pytest.approx(expected, abs=3e-3), score


def test_unknown_auroc_matches_sklearn_for_every_score():
    from scipy import special
    from scipy import stats

    alpha, labels = _data(5, n=3000)
    unknown = labels == 4
    s = alpha.sum(1)
    p_bar = alpha / s[:, None]
    total = stats.entropy(p_bar, axis=1)
    expected_h = -(
        p_bar * (special.digamma(alpha + 1) - special.digamma(s + 1)[:, None])
    ).sum(1)
    references = {
        "vacuity": 4 / s,
        "epkl": 3 / s,
        "total_entropy": total,
        "expected_entropy": expected_h,
        "mutual_information": total - expected_h,
    }
    for score, values in references.items():
        metric = metrics.UnknownClassAUROC(score=score, num_thresholds=1000)
        metric.update_state(labels, alpha)
        assert _result(metric) == pytest.approx(
            roc_auc_score(unknown, values), abs=3e-3
        ), score


def test_thresholded_auc_matches_sklearn_on_kept_samples():
    rng = np.random.default_rng(6)
    n = 4000
    labels = rng.integers(0, 2, n)
    alpha = 1.0 + rng.gamma(0.6, 2.0, (n, 2))
    # Confident samples (large evidence) tend to be right.
    alpha[np.arange(n), labels] += rng.gamma(0.8, 8.0, n)
    vacuity = 2 / alpha.sum(1)
    p_positive = alpha[:, 1] / alpha.sum(1)
    aucs = []
    for threshold in (None, 0.5, 0.2):
        kept = np.ones(n, bool) if threshold is None else vacuity <= threshold
        expected = roc_auc_score(labels[kept], p_positive[kept])
        metric = metrics.ThresholdedAUC(threshold=threshold, num_thresholds=1000)
        for batch in np.array_split(np.arange(n), 4):
            metric.update_state(labels[batch], alpha[batch].astype("float32"))
        assert _result(metric) == pytest.approx(expected, abs=3e-3)
        aucs.append(expected)
    # The construction makes low-uncertainty samples easier.
    assert aucs[0] < aucs[1] < aucs[2]
    # The negative class as positive mirrors the AUC.
    mirrored = metrics.ThresholdedAUC(positive_class=0, num_thresholds=1000)
    mirrored.update_state(labels, alpha.astype("float32"))
    assert _result(mirrored) == pytest.approx(
        roc_auc_score(labels == 0, alpha[:, 0] / alpha.sum(1)), abs=3e-3
    )


def test_auc_metrics_reset():
    alpha, labels = _data(7)
    metric = metrics.UnknownClassAUROC()
    metric.update_state(labels, alpha)
    first = _result(metric)
    metric.reset_state()
    assert np.isnan(_result(metric))  # no samples: undefined
    metric.update_state(labels, alpha)
    assert _result(metric) == pytest.approx(first)


def test_thresholded_auc_serializes():
    metric = metrics.ThresholdedAUC(threshold=0.4, positive_class=0, num_thresholds=500)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(metric)
    )
    assert restored.get_config() == metric.get_config()
    assert restored.threshold == 0.4 and restored.num_thresholds == 500



def test_invalid_arguments_name_the_argument():
    with pytest.raises(ValueError, match="Received: score='nope'"):
        metrics.UnknownClassAUROC(score="nope")
    with pytest.raises(ValueError, match="Received: positive_class=2"):
        metrics.ThresholdedAUC(positive_class=2)
    with pytest.raises(ValueError, match="binary task"):
        metrics.ThresholdedAUC().update_state(np.array([0]), np.ones((1, 3), "float32"))


def test_invalid_prior_concentration_is_named():
    with pytest.raises(ValueError, match="Received: prior_concentration=0"):
        metrics.ThresholdedAUC(prior_concentration=0)
    with pytest.raises(ValueError, match="Received: prior_concentration=-1"):
        metrics.UnknownClassAUROC(prior_concentration=-1)


# R-EDL's alpha = e + 0.1 read with EDL's prior_concentration=1: K / S is above 1 for
# every row, so the AUC buckets would clip the scores into one tie (AUROC 0.5).
_REDL_ALPHA = np.array([[5.1, 0.1], [0.2, 0.5], [1.1, 0.5], [0.3, 0.1]], "float32")


def test_scored_auroc_refuses_alpha_below_the_prior_by_name():
    for metric in (
        metrics.UnknownClassAUROC(),
        metrics.MisclassificationAUROC(score="vacuity"),
        metrics.UnknownClassAUROC(score="epkl"),
    ):
        with pytest.raises(ValueError, match="prior_concentration"):
            metric.update_state(np.array([0, 1, 2, 2]), _REDL_ALPHA)
    with pytest.raises(ValueError, match="alpha > 0"):
        metrics.UnknownClassAUROC(minimum_alpha=0.0).update_state(
            np.array([0, 2]), np.array([[1.0, 0.0], [1.0, 1.0]], "float32")
        )


def test_scored_auroc_of_daedl_alpha_below_one_matches_sklearn():
    # DAEDL's alpha = exp(z) > 0: S < K for many unknown samples. With
    # minimum_alpha=0 the vacuity is ranked as K / (S + K), i.e. as -S.
    labels, alpha = daedl_data(np.random.default_rng(5), n=2000)
    strength = alpha.astype("float64").sum(1)
    assert (strength < 2).mean() > 0.3
    metric = metrics.UnknownClassAUROC(minimum_alpha=0.0, num_thresholds=2000)
    metric.update_state(labels, alpha)
    assert _result(metric) == pytest.approx(
        roc_auc_score(labels == 2, -strength), abs=3e-3
    )
    known = labels < 2
    wrong = (alpha.argmax(1) != labels)[known]
    metric = metrics.MisclassificationAUROC(minimum_alpha=0.0, num_thresholds=2000)
    metric.update_state(labels, alpha)
    assert _result(metric) == pytest.approx(
        roc_auc_score(wrong, -strength[known]), abs=3e-3
    )


@pytest.mark.parametrize(
    "cls", [metrics.UnknownClassAUROC, metrics.MisclassificationAUROC]
)
def test_scored_auroc_prior_in_config(cls):
    for prior in ({"prior_concentration": 0.1}, {"minimum_alpha": 0.0}, {}):
        metric = cls(score="epkl", **prior)
        config = metric.get_config()
        assert config["prior_concentration"] == prior.get("prior_concentration", 1.0)
        assert config["minimum_alpha"] == prior.get("minimum_alpha")
        assert cls.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="Received: minimum_alpha=-1"):
        cls(minimum_alpha=-1.0)
