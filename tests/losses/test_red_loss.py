"""REDLoss: EDL plus Pandey & Yu's correct-evidence regulariser."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(13)


def alpha_model():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), ke.layers.DirichletOutput("exp")]
    )


class REDLossTest(TestCase):
    def test_against_reference(self):
        alpha = (1.0 + RNG.gamma(1.0, 5.0, size=(16, 3))).astype("float32")
        labels = RNG.integers(0, 3, 16)
        expected = ref.red_loss(ref.one_hot(labels, 3), alpha.astype("float64"), "log", 0.2, 0.5)
        self.run_loss_test(
            ke.losses.REDLoss,
            {"risk": "log", "kl_weight": 0.2, "correct_evidence_weight": 0.5},
            labels, alpha, expected, rtol=1e-4, model_fn=alpha_model,
        )

    def test_hand_worked_example(self):
        # alpha = (3, 1), y = 0: log risk log(4/3) = 0.2877; u = 1/2, log e_y = log 2.
        got = keras.ops.convert_to_numpy(ke.losses.REDLoss(risk="log")(np.array([0]), np.array([[3.0, 1.0]])))
        self.assertAllClose(got, np.log(4 / 3) - 0.5 * np.log(2.0), rtol=1e-6)

    def test_needs_alpha(self):
        with pytest.raises(ValueError, match="from_logits"):
            ke.losses.REDLoss(from_logits=True)
