"""RelaxedEDLLoss (R-EDL) and its Re-EDL preset against Chen et al.'s eqs. 12 and 16."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(12)
LAMBDA = 0.1


def alpha_model():
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("softplus", prior_weight=LAMBDA),
        ]
    )


def alpha_batch():
    return (LAMBDA + RNG.gamma(1.0, 5.0, size=(16, 3))).astype("float32")


class RelaxedEDLLossTest(TestCase):
    def test_r_edl_against_reference(self):
        alpha, labels = alpha_batch(), RNG.integers(0, 3, 16)
        expected = ref.relaxed_edl_loss(ref.one_hot(labels, 3), alpha.astype("float64"), LAMBDA, 0.4)
        self.run_loss_test(
            ke.losses.RelaxedEDLLoss,
            {"prior_weight": LAMBDA, "kl_weight": 0.4},
            labels, alpha, expected, rtol=1e-4, model_fn=alpha_model,
        )

    def test_re_edl_against_reference(self):
        alpha, labels = alpha_batch(), RNG.integers(0, 3, 16)
        expected = ref.relaxed_edl_loss(ref.one_hot(labels, 3), alpha.astype("float64"), LAMBDA)
        self.run_loss_test(
            ke.losses.RelaxedEDLLoss,
            {"prior_weight": LAMBDA, "kl": False},
            labels, alpha, expected, rtol=1e-5, model_fn=alpha_model,
        )

    def test_re_edl_is_the_no_kl_preset(self):
        loss = ke.losses.RelaxedEDLLoss.re_edl(0.1)
        self.assertFalse(loss.kl)
        self.assertIsNone(loss.kl_weight)
        config = loss.get_config()
        self.assertEqual((config["prior_weight"], config["kl"]), (0.1, False))

    def test_hand_worked_example(self):
        # lambda = 0.5, alpha = (1.5, 0.5): p = (0.75, 0.25), y = 0:
        # 0.25^2 + 0.25^2 = 0.125.
        got = keras.ops.convert_to_numpy(
            ke.losses.RelaxedEDLLoss.re_edl(0.5)(np.array([0]), np.array([[1.5, 0.5]]))
        )
        self.assertAllClose(got, 0.125)

    def test_kl_with_prior_weight_one_is_edl_kl(self):
        alpha = (1.0 + RNG.gamma(1.0, 3.0, size=(8, 4))).astype("float32")
        labels = RNG.integers(0, 4, 8)
        y = ref.one_hot(labels, 4)
        r_edl = ke.losses.RelaxedEDLLoss(prior_weight=1.0, kl_weight=1.0)
        expected = np.mean(
            ((y - alpha / alpha.sum(-1, keepdims=True)) ** 2).sum(-1)
            + ref.kl_to_uniform(y + (1 - y) * alpha.astype("float64"))
        )
        self.assertAllClose(keras.ops.convert_to_numpy(r_edl(labels, alpha)), expected, rtol=1e-4)

    def test_alpha_below_prior_weight_is_rejected(self):
        with pytest.raises(ValueError, match="alpha >= 0.5"):
            ke.losses.RelaxedEDLLoss(prior_weight=0.5)(np.array([0]), np.array([[0.2, 1.0]]))
        with pytest.raises(ValueError, match="prior_weight"):
            ke.losses.RelaxedEDLLoss(prior_weight=0.0)
