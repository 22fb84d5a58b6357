"""IEDLLoss against the float64 reference of Deng et al. (2023), eq. 5."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(11)


def alpha_model():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), ke.layers.DirichletOutput("softplus")]
    )


class IEDLLossTest(TestCase):
    def test_against_reference(self):
        alpha = (1.0 + RNG.gamma(1.0, 5.0, size=(16, 3))).astype("float32")
        labels = RNG.integers(0, 3, 16)
        expected = ref.iedl_loss(ref.one_hot(labels, 3), alpha.astype("float64"), 0.05, 0.3)
        self.run_loss_test(
            ke.losses.IEDLLoss,
            {"fisher_weight": 0.05, "kl_weight": 0.3},
            labels,
            alpha,
            expected,
            rtol=1e-4,
            model_fn=alpha_model,
        )

    def test_hand_worked_example(self):
        # alpha = (2, 1), y = 0, no log-det, no KL: p = (2/3, 1/3), S = 3;
        # [(1/3)^2 + 2/36] psi1(2) + [(1/3)^2 + 2/36] psi1(1)
        # = (1/6)(pi^2/6 - 1) + (1/6)(pi^2/6) = (pi^2/3 - 1) / 6.
        loss = ke.losses.IEDLLoss(fisher_weight=0.0)
        got = float(keras.ops.convert_to_numpy(loss(np.array([0]), np.array([[2.0, 1.0]]))))
        self.assertAllClose(got, (np.pi**2 / 3 - 1) / 6, rtol=1e-6)

    def test_kl_annealing_schedules_the_kl_weight(self):
        model = alpha_model()
        loss = ke.losses.IEDLLoss(kl_weight=0.0)
        model.compile("adam", loss)
        x = RNG.normal(size=(8, 4)).astype("float32")
        history = model.fit(
            x, RNG.integers(0, 3, 8), epochs=3, verbose=0,
            callbacks=[ke.callbacks.KLAnnealing(increment=0.25)],
        )
        self.assertEqual(history.history["kl_weight"], [0.0, 0.25, 0.5])

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="fisher_weight"):
            ke.losses.IEDLLoss(fisher_weight=-1.0)
        with pytest.raises(ValueError, match="y_pred"):
            ke.losses.IEDLLoss()(np.array([0]), np.array([[0.5, 1.0]]))
