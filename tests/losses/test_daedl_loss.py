"""DAEDLLoss: EDL's expected squared error and KL on alpha = exp(z) > 0."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(14)


def daedl_model():
    inputs = keras.Input((4,))
    features = ke.layers.SpectralNormalization(keras.layers.Dense(5, activation="relu"))(inputs)
    logits = keras.layers.Dense(3)(features)
    return keras.Model(inputs, ke.layers.DensityAwareDirichlet()([features, logits]))


class DAEDLLossTest(TestCase):
    def test_against_reference_with_alpha_below_one(self):
        alpha = np.exp(RNG.normal(size=(16, 3))).astype("float32")
        labels = RNG.integers(0, 3, 16)
        expected = ref.daedl_loss(ref.one_hot(labels, 3), alpha.astype("float64"), 0.3)
        self.run_loss_test(
            ke.losses.DAEDLLoss, {"kl_weight": 0.3}, labels, alpha, expected,
            rtol=1e-4, model_fn=daedl_model,
        )

    def test_hand_worked_example(self):
        # alpha = (1, 1), y = 0: (1/2)^2 + (1/2)^2 + 2 (1/4) / 3 = 2/3.
        got = keras.ops.convert_to_numpy(ke.losses.DAEDLLoss()(np.array([0]), np.array([[1.0, 1.0]])))
        self.assertAllClose(got, 2 / 3)

    def test_non_positive_alpha_is_rejected(self):
        with pytest.raises(ValueError, match="alpha > 0"):
            ke.losses.DAEDLLoss()(np.array([0]), np.array([[0.0, 1.0]]))
