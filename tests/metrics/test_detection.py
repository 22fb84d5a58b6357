"""Keras detection metrics: AUPR in/out, misclassification AUPR, FPR95, Brier."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.metrics import roc_curve

import keras_evidential as ke
from tests.metrics.data import daedl_data
from tests.testing import TestCase

RNG = np.random.default_rng(31)


def separable():
    # Known samples (labels 0, 1) are confident, OOD samples (label 2) flat.
    alpha = np.array([[20.0, 1.0], [1.0, 30.0], [1.2, 1.1], [1.0, 1.3], [15.0, 2.0], [1.1, 1.0]], "float32")
    return np.array([0, 1, 2, 2, 0, 2]), alpha


def noisy(n=400):
    labels = RNG.integers(0, 3, n)
    strength = np.where(labels < 2, 30.0, 6.0) * RNG.gamma(2.0, 0.5, n)
    share = RNG.uniform(0.3, 1.0, n)
    alpha = 1.0 + np.stack([strength * share, strength * (1 - share)], -1)
    flip = RNG.random(n) < 0.5
    alpha[flip] = alpha[flip, ::-1]
    return labels, alpha.astype("float32")


class DetectionMetricsTest(TestCase):
    def test_perfect_separation(self):
        labels, alpha = separable()
        for positive in ("known", "unknown"):
            self.run_metric_test(ke.metrics.UnknownClassAUPR, {"positive": positive}, labels, alpha, 1.0)
        self.run_metric_test(ke.metrics.UnknownClassFPR, {}, labels, alpha, 0.0)

    def test_aupr_close_to_average_precision(self):
        labels, alpha = noisy()
        vacuity = 2.0 / alpha.sum(-1)
        for positive, targets, scores in (
            ("known", labels < 2, -vacuity),
            ("unknown", labels == 2, vacuity),
        ):
            metric = ke.metrics.UnknownClassAUPR(positive=positive, num_thresholds=2000)
            metric.update_state(labels, alpha)
            # keras.metrics.AUC interpolates the PR curve between buckets; AP is step-wise.
            self.assertAllClose(float(metric.result()), average_precision_score(targets, scores), atol=0.02)

    def test_misclassification_aupr_correct_positive(self):
        # least_confidence, the default, is 1 - max p_bar: it does not depend
        # on the prior, so R-EDL's alpha needs no prior_concentration (no false error).
        for labels, alpha in (noisy(), redl_noisy()):
            confidence = (alpha / alpha.sum(-1, keepdims=True)).max(-1)
            metric = ke.metrics.MisclassificationAUPR(num_thresholds=2000)
            metric.update_state(labels, alpha)
            expected = misclassification_average_precision(labels, alpha, confidence)
            self.assertAllClose(float(metric.result()), expected, atol=0.02)

    def test_fpr95_close_to_roc_curve(self):
        labels, alpha = noisy()
        confidence = -2.0 / alpha.sum(-1)
        fpr, tpr, _ = roc_curve(labels < 2, confidence, drop_intermediate=False)
        metric = ke.metrics.UnknownClassFPR(num_thresholds=2000)
        metric.update_state(labels, alpha)
        self.assertAllClose(float(metric.result()), fpr[np.argmax(tpr >= 0.95)], atol=0.03)

    def test_brier_score_against_formula(self):
        labels, alpha = noisy(40)
        p = alpha / alpha.sum(-1, keepdims=True)
        known = labels < 2
        expected = np.mean(((np.eye(2)[labels[known]] - p[known]) ** 2).sum(-1))
        self.run_metric_test(ke.metrics.BrierScore, {}, labels, alpha, expected, rtol=1e-5)

    def test_brier_hand_worked(self):
        metric = ke.metrics.BrierScore()
        metric.update_state(np.array([0]), np.array([[3.0, 1.0]]))
        self.assertAllClose(float(metric.result()), 0.125)  # (1/4)^2 * 2

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="positive"):
            ke.metrics.UnknownClassAUPR(positive="ood")
        with pytest.raises(ValueError, match="tpr"):
            ke.metrics.UnknownClassFPR(tpr=1.5)
        with pytest.raises(ValueError, match="score"):
            ke.metrics.MisclassificationAUPR(score="alpha")


# R-EDL's head, K = 2, lambda = 0.1: alpha = e + 0.1, vacuity 0.1 * 2 / S.
# Known samples: S = 5.2 and 0.7 (vacuity 0.0385, 0.2857); unknown samples:
# S = 1.6, 0.4, 0.2 (vacuity 0.125, 0.5, 1). EDL's 2 / S exceeds 1 for all but
# the first, so read with lambda = 1 the scores clip and tie.
REDL_LAMBDA = 0.1
REDL_LABELS = np.array([0, 1, 2, 2, 2])
REDL_ALPHA = np.array([[5.1, 0.1], [0.2, 0.5], [1.1, 0.5], [0.3, 0.1], [0.1, 0.1]], "float32")


def redl_noisy(n=400, prior_concentration=REDL_LAMBDA):
    labels, alpha = noisy(n)
    return labels, (alpha - 1.0 + prior_concentration).astype("float32")


def daedl_noisy(n=400):
    # DAEDL's alpha = exp(z) > 0: many concentrations below 1, S < K.
    return daedl_data(RNG, n)


def average_precision(targets, scores):
    return average_precision_score(np.asarray(targets), np.asarray(scores, "float64"))


def misclassification_average_precision(labels, alpha, confidence):
    # Correct predictions of the known samples are the positives.
    known = labels < 2
    correct = alpha.argmax(-1) == labels
    return average_precision(correct[known], confidence[known])


def fpr_at_tpr(known, confidence, tpr=0.95):
    fpr, rates, _ = roc_curve(known, np.asarray(confidence, "float64"), drop_intermediate=False)
    return fpr[np.argmax(rates >= tpr)]


class PriorWeightDetectionTest(TestCase):
    def test_redl_hand_worked(self):
        # Ranked by lambda K / S the three unknown samples are the vaguest but
        # one (S = 1.6) is surer than the known one with S = 0.7: FPR95 keeps
        # both known samples and accepts that unknown one, 1 of 3.
        init = {"prior_concentration": REDL_LAMBDA}
        self.run_metric_test(ke.metrics.UnknownClassFPR, init, REDL_LABELS, REDL_ALPHA, 1 / 3)
        # AUPR-Out: vacuities 1, 0.5 are unknown, then 0.2857 known, 0.125
        # unknown. Without the middle unknown the separation is perfect.
        separable_rows = [0, 1, 3, 4]
        for positive in ("known", "unknown"):
            self.run_metric_test(
                ke.metrics.UnknownClassAUPR,
                {**init, "positive": positive},
                REDL_LABELS[separable_rows],
                REDL_ALPHA[separable_rows],
                1.0,
            )

    def test_redl_aupr_against_average_precision(self):
        labels, alpha = redl_noisy()
        vacuity = REDL_LAMBDA * 2 / alpha.astype("float64").sum(-1)
        for positive, targets, scores in (
            ("known", labels < 2, -vacuity),
            ("unknown", labels == 2, vacuity),
        ):
            metric = ke.metrics.UnknownClassAUPR(
                positive=positive, num_thresholds=2000, prior_concentration=REDL_LAMBDA
            )
            metric.update_state(labels, alpha)
            self.assertAllClose(float(metric.result()), average_precision(targets, scores), atol=0.02)

    def test_redl_misclassification_aupr_of_vacuity(self):
        labels, alpha = redl_noisy()
        metric = ke.metrics.MisclassificationAUPR(
            score="vacuity", num_thresholds=2000, prior_concentration=REDL_LAMBDA
        )
        metric.update_state(labels, alpha)
        expected = misclassification_average_precision(labels, alpha, alpha.sum(-1))
        self.assertAllClose(float(metric.result()), expected, atol=0.02)

    def test_redl_fpr_against_roc_curve(self):
        labels, alpha = redl_noisy()
        metric = ke.metrics.UnknownClassFPR(num_thresholds=2000, prior_concentration=REDL_LAMBDA)
        metric.update_state(labels, alpha)
        expected = fpr_at_tpr(labels < 2, alpha.astype("float64").sum(-1))
        self.assertAllClose(float(metric.result()), expected, atol=0.03)

    def test_daedl_alpha_below_one(self):
        # alpha in (0, 1) for most unknown samples: K / S is above 1 there.
        labels, alpha = daedl_noisy()
        assert (alpha.sum(-1) < 2).mean() > 0.3
        strength = alpha.astype("float64").sum(-1)
        daedl = {"minimum_alpha": 0.0, "num_thresholds": 2000}
        aupr_in = ke.metrics.UnknownClassAUPR(**daedl)
        aupr_in.update_state(labels, alpha)
        self.assertAllClose(
            float(aupr_in.result()), average_precision(labels < 2, strength), atol=0.02
        )
        fpr = ke.metrics.UnknownClassFPR(**daedl)
        fpr.update_state(labels, alpha)
        self.assertAllClose(float(fpr.result()), fpr_at_tpr(labels < 2, strength), atol=0.03)
        misclassification = ke.metrics.MisclassificationAUPR(score="vacuity", **daedl)
        misclassification.update_state(labels, alpha)
        self.assertAllClose(
            float(misclassification.result()),
            misclassification_average_precision(labels, alpha, strength),
            atol=0.02,
        )

    def test_brier_score_takes_daedl_and_redl_alpha(self):
        # The expected probability alpha / S does not depend on the prior.
        for labels, alpha in (daedl_noisy(40), redl_noisy(40)):
            p = alpha.astype("float64") / alpha.astype("float64").sum(-1, keepdims=True)
            known = labels < 2
            expected = np.mean(((np.eye(2)[labels[known]] - p[known]) ** 2).sum(-1))
            metric = ke.metrics.BrierScore()
            metric.update_state(labels, alpha)
            self.assertAllClose(float(metric.result()), expected, rtol=1e-5)

    def test_alpha_below_the_prior_is_refused_by_name(self):
        # Read with EDL's lambda = 1, R-EDL's alpha would score as clipped K / S.
        for metric in (
            ke.metrics.UnknownClassAUPR(),
            ke.metrics.UnknownClassFPR(),
            ke.metrics.MisclassificationAUPR(score="vacuity"),
        ):
            with pytest.raises(ValueError, match="prior_concentration"):
                metric.update_state(REDL_LABELS, REDL_ALPHA)
        with pytest.raises(ValueError, match="minimum_alpha"):
            ke.metrics.UnknownClassAUPR(prior_concentration=0.5).update_state(REDL_LABELS, REDL_ALPHA)
        with pytest.raises(ValueError, match="alpha > 0"):
            ke.metrics.UnknownClassFPR(minimum_alpha=0.0).update_state([0, 1], [[1.0, 0.0], [1.0, 1.0]])

    def test_prior_in_config(self):
        for cls, init in (
            (ke.metrics.UnknownClassAUPR, {"positive": "unknown"}),
            (ke.metrics.MisclassificationAUPR, {"score": "vacuity"}),
            (ke.metrics.UnknownClassFPR, {"tpr": 0.9}),
        ):
            for prior in ({"prior_concentration": 0.1}, {"minimum_alpha": 0.0}, {}):
                metric = cls(**init, **prior)
                config = metric.get_config()
                self.assertEqual(config["prior_concentration"], prior.get("prior_concentration", 1.0))
                self.assertEqual(config["minimum_alpha"], prior.get("minimum_alpha"))
                restored = cls.from_config(config)
                self.assertEqual(restored.get_config(), config)


@pytest.mark.parametrize("prior_concentration", [0.0, -1.0, float("nan"), "a"])
def test_invalid_prior_concentration_is_named(prior_concentration):
    for cls in (ke.metrics.UnknownClassAUPR, ke.metrics.MisclassificationAUPR, ke.metrics.UnknownClassFPR):
        with pytest.raises(ValueError, match="Received: prior_concentration="):
            cls(prior_concentration=prior_concentration)


@pytest.mark.parametrize("minimum_alpha", [-1.0, float("nan"), float("inf"), "a"])
def test_invalid_minimum_alpha_is_named(minimum_alpha):
    for cls in (ke.metrics.UnknownClassAUPR, ke.metrics.MisclassificationAUPR, ke.metrics.UnknownClassFPR):
        with pytest.raises(ValueError, match="Received: minimum_alpha="):
            cls(minimum_alpha=minimum_alpha)
