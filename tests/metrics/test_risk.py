"""BayesRisk: EDLLoss's risk without the KL term, against the float64 reference."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.testing import TestCase

RNG = np.random.default_rng(3)
ALPHA = (1.0 + RNG.gamma(1.0, 4.0, size=(8, 4))).astype("float32")
LABELS = np.array([0, 1, 2, 3, 3, 2, 1, 0])


class BayesRiskTest(TestCase):
    def test_every_risk(self):
        y = reference.one_hot(LABELS, 4)
        for risk in sorted(reference.RISKS):
            self.run_metric_test(
                ke.metrics.BayesRisk,
                {"risk": risk},
                LABELS,
                ALPHA,
                reference.RISKS[risk](y, ALPHA.astype("float64")).mean(),
            )

    def test_sample_weight(self):
        weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 0.5, 1.0, 2.0])
        per_sample = reference.mse_risk(reference.one_hot(LABELS, 4), ALPHA.astype("float64"))
        self.run_metric_test(
            ke.metrics.BayesRisk,
            {},
            LABELS,
            ALPHA,
            np.sum(per_sample * weights) / np.sum(weights),
            sample_weight=weights,
        )


def test_is_the_loss_without_its_kl_term():
    loss = ke.losses.EDLLoss(kl_weight=0.0)
    metric = ke.metrics.BayesRisk()
    metric.update_state(LABELS, ALPHA)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(metric.result()),
        keras.ops.convert_to_numpy(loss(LABELS, ALPHA)),
        rtol=1e-6,
    )


def test_monitored_as_val_risk_and_lower_is_better():
    metric = ke.metrics.BayesRisk()
    assert metric.name == "risk"
    assert metric._direction == "down"


def test_invalid_risk_is_named():
    with pytest.raises(ValueError, match="Received: risk='hinge'"):
        ke.metrics.BayesRisk(risk="hinge")
