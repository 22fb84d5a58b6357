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
            ke.layers.DirichletOutput("softplus", prior_concentration=LAMBDA),
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
            {"prior_concentration": LAMBDA, "kl_weight": 0.4},
            labels, alpha, expected, rtol=1e-4, model_fn=alpha_model,
        )

    def test_re_edl_against_reference(self):
        alpha, labels = alpha_batch(), RNG.integers(0, 3, 16)
        expected = ref.relaxed_edl_loss(ref.one_hot(labels, 3), alpha.astype("float64"), LAMBDA)
        self.run_loss_test(
            ke.losses.RelaxedEDLLoss,
            {"prior_concentration": LAMBDA, "kl_weight": None},
            labels, alpha, expected, rtol=1e-5, model_fn=alpha_model,
        )

    def test_re_edl_is_the_no_kl_preset(self):
        loss = ke.losses.RelaxedEDLLoss.re_edl(0.1)
        self.assertFalse(loss.kl)
        self.assertIsNone(loss.kl_weight)
        config = loss.get_config()
        self.assertEqual((config["prior_concentration"], config["kl_weight"]), (0.1, None))

    def test_re_edl_refuses_a_kl_weight(self):
        """Before: `re_edl(kl_weight=0.5)` dropped the weight silently."""
        for kwargs in ({"kl_weight": 0.5}, {"kl": True}):
            with self.assertRaisesRegex(ValueError, "Re-EDL has no KL term"):
                ke.losses.RelaxedEDLLoss.re_edl(0.1, **kwargs)

    def test_deprecated_kl_argument_warns_and_works(self):
        with self.assertWarnsRegex(DeprecationWarning, "kl_weight=None"):
            loss = ke.losses.RelaxedEDLLoss(0.1, kl=False)
        self.assertIsNone(loss.kl_weight)
        with self.assertWarns(DeprecationWarning):
            self.assertTrue(ke.losses.RelaxedEDLLoss(0.1, kl=True, kl_weight=0.3).kl)
        with self.assertRaisesRegex(ValueError, "kl="):
            with self.assertWarns(DeprecationWarning):
                ke.losses.RelaxedEDLLoss(0.1, kl="False")
        # A config saved before 1.0 ("kl": False, "kl_weight": 0.0) loads.
        with self.assertWarns(DeprecationWarning):
            old = ke.losses.RelaxedEDLLoss.from_config(
                {"prior_concentration": 0.1, "kl": False, "kl_weight": 0.0, "name": "re_edl_loss",
                 "reduction": "sum_over_batch_size", "dtype": None})
        self.assertIsNone(old.kl_weight)

    def test_float64_loss_accepts_a_float32_head_at_the_prior(self):
        """Before: alpha from a float32 ReLU head at exactly lambda = 0.7
        (float32(0.7) < 0.7) was refused by a float64 loss."""
        alpha = keras.ops.convert_to_numpy(
            ke.layers.DirichletOutput("relu", prior_concentration=0.7)(np.array([[-1.0, 2.0]], "float32"))
        )
        self.assertEqual(alpha[0, 0], np.float32(0.7))
        loss = ke.losses.RelaxedEDLLoss(prior_concentration=0.7, dtype="float64")
        expected = ref.relaxed_edl_loss(ref.one_hot(np.array([1]), 2), alpha.astype("float64"), 0.7)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(loss(np.array([1]), alpha.astype("float64"))), expected, rtol=1e-6)

    def test_hand_worked_example(self):
        # lambda = 0.5, alpha = (1.5, 0.5): p = (0.75, 0.25), y = 0:
        # 0.25^2 + 0.25^2 = 0.125.
        got = keras.ops.convert_to_numpy(
            ke.losses.RelaxedEDLLoss.re_edl(0.5)(np.array([0]), np.array([[1.5, 0.5]]))
        )
        self.assertAllClose(got, 0.125)

    def test_kl_with_prior_concentration_one_is_edl_kl(self):
        alpha = (1.0 + RNG.gamma(1.0, 3.0, size=(8, 4))).astype("float32")
        labels = RNG.integers(0, 4, 8)
        y = ref.one_hot(labels, 4)
        r_edl = ke.losses.RelaxedEDLLoss(prior_concentration=1.0, kl_weight=1.0)
        expected = np.mean(
            ((y - alpha / alpha.sum(-1, keepdims=True)) ** 2).sum(-1)
            + ref.kl_to_uniform(y + (1 - y) * alpha.astype("float64"))
        )
        self.assertAllClose(keras.ops.convert_to_numpy(r_edl(labels, alpha)), expected, rtol=1e-4)

    def test_alpha_below_prior_concentration_is_rejected(self):
        with pytest.raises(ValueError, match="alpha >= 0.5"):
            ke.losses.RelaxedEDLLoss(prior_concentration=0.5)(np.array([0]), np.array([[0.2, 1.0]]))
        with pytest.raises(ValueError, match="prior_concentration"):
            ke.losses.RelaxedEDLLoss(prior_concentration=0.0)
