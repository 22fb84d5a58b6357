"""PriorNetworkLoss: reverse KL to Malinin & Gales's target Dirichlets."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(15)


def alpha_model():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), ke.layers.DirichletOutput("exp")]
    )


class PriorNetworkLossTest(TestCase):
    def test_against_reference_with_ood_label_k(self):
        alpha = (1.0 + RNG.gamma(1.0, 5.0, size=(16, 3))).astype("float32")
        labels = RNG.integers(0, 4, 16)  # 3 = out-of-distribution
        expected = ref.prior_network_loss(labels, alpha.astype("float64"), 20.0)
        self.run_loss_test(
            ke.losses.PriorNetworkLoss, {"target_concentration": 20.0},
            labels, alpha, expected, rtol=1e-4, model_fn=alpha_model,
        )

    def test_hand_worked_examples(self):
        loss = ke.losses.PriorNetworkLoss(target_concentration=100.0)
        # A flat output for an OOD sample matches its flat target exactly.
        self.assertAllClose(keras.ops.convert_to_numpy(loss(np.array([2]), np.array([[1.0, 1.0]]))), 0.0)
        # The target itself for a known sample: KL = 0.
        self.assertAllClose(
            keras.ops.convert_to_numpy(loss(np.array([1]), np.array([[1.0, 101.0]]))), 0.0, atol=1e-4
        )

    def test_one_hot_zero_row_is_ood(self):
        alpha = np.array([[2.0, 3.0], [4.0, 1.5]], "float32")
        loss = ke.losses.PriorNetworkLoss(target_concentration=10.0)
        sparse = keras.ops.convert_to_numpy(loss(np.array([0, 2]), alpha))
        dense = keras.ops.convert_to_numpy(loss(np.array([[1.0, 0.0], [0.0, 0.0]]), alpha))
        self.assertAllClose(sparse, dense, rtol=1e-6)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="target_concentration"):
            ke.losses.PriorNetworkLoss(target_concentration=0.0)
        with pytest.raises(ValueError, match="y_true"):
            ke.losses.PriorNetworkLoss()(np.array([3]), np.array([[1.0, 1.0]]))
