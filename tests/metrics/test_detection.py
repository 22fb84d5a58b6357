"""Keras detection metrics: AUPR in/out, misclassification AUPR, FPR95, Brier."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.metrics import roc_curve

import keras_evidential as ke
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
        labels, alpha = noisy()
        known = labels < 2
        correct = alpha.argmax(-1) == labels
        confidence = (alpha / alpha.sum(-1, keepdims=True)).max(-1)
        metric = ke.metrics.MisclassificationAUPR(num_thresholds=2000)
        metric.update_state(labels, alpha)
        expected = average_precision_score(correct[known], confidence[known])
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
