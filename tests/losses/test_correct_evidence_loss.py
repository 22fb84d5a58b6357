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


def test_deprecated_name_warns_and_works():
    import warnings

    with pytest.warns(DeprecationWarning, match="CorrectEvidenceLoss"):
        old = ke.losses.REDLoss(correct_evidence_weight=0.5)
    assert isinstance(old, ke.losses.CorrectEvidenceLoss)
    y, alpha = np.array([0, 1]), np.array([[3.0, 1.0], [1.5, 2.5]], "float32")
    new = ke.losses.CorrectEvidenceLoss(correct_evidence_weight=0.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(old(y, alpha)),
                               keras.ops.convert_to_numpy(new(y, alpha)), rtol=1e-6)
    # A config saved before 1.0 names the old class; it loads, with a warning.
    config = {"module": "keras_evidential.losses.red_loss", "class_name": "REDLoss",
              "config": new.get_config(), "registered_name": "keras_evidential>REDLoss"}
    with pytest.warns(DeprecationWarning):
        loaded = keras.saving.deserialize_keras_object(config)
    assert isinstance(loaded, ke.losses.CorrectEvidenceLoss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ke.losses.CorrectEvidenceLoss()  # the new name does not warn


def test_function_matches_the_class():
    y, alpha = np.array([0, 1]), np.array([[3.0, 1.0], [1.5, 2.5]], "float32")
    per_sample = ke.losses.correct_evidence_loss(y, alpha, "log", 0.2, 0.5)
    loss = ke.losses.CorrectEvidenceLoss(risk="log", kl_weight=0.2, correct_evidence_weight=0.5)
    np.testing.assert_allclose(np.mean(keras.ops.convert_to_numpy(per_sample)),
                               keras.ops.convert_to_numpy(loss(y, alpha)), rtol=1e-6)
