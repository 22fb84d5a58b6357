"""PosteriorNetworkLoss: the expected cross-entropy under Dir(alpha) minus the
weighted Dirichlet entropy, against scipy in float64 and by hand."""

import keras
import numpy as np
import pytest
from scipy import special
from scipy import stats

import keras_evidential as ke
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(7)


def reference_loss(labels, alpha, entropy_weight):
    """Charpentier et al., eq. 7 and appendix A.2 (UCE sign as E[-log p_y])."""
    alpha = alpha.astype("float64")
    s = alpha.sum(-1)
    uce = special.digamma(s) - special.digamma(alpha[np.arange(len(alpha)), labels])
    entropy = np.array([stats.dirichlet(a).entropy() for a in alpha])
    return uce - entropy_weight * entropy


class PosteriorNetworkLossTest(TestCase):
    def test_against_scipy(self):
        alpha = (1 + np.exp(RNG.normal(1, 2, (16, 3)))).astype("float32")
        labels = RNG.integers(0, 3, 16)
        expected = reference_loss(labels, alpha, 0.1).mean()
        self.run_loss_test(
            ke.losses.PosteriorNetworkLoss, {"entropy_weight": 0.1}, labels, alpha, expected, rtol=1e-4,
        )

    def test_hand_worked_example(self):
        # alpha = (3, 1), y = 0:  UCE = psi(4) - psi(3) = 1/3;
        # H(Dir(3, 1)) = log B(3, 1) + (4 - 2) psi(4) - 2 psi(3) = log(1/3) + 2/3.
        loss = ke.losses.PosteriorNetworkLoss(entropy_weight=0.5)
        got = to_numpy(loss(np.array([0]), np.array([[3.0, 1.0]])))
        self.assertAllClose(got, 1 / 3 - 0.5 * (np.log(1 / 3) + 2 / 3), rtol=1e-6)

    def test_uce_is_the_expected_cross_entropy(self):
        # Monte Carlo E[-log p_y] under Dir(alpha): the sign the paper's eq. 10 flips.
        alpha = np.array([[4.0, 2.0, 1.5]])
        samples = RNG.dirichlet(alpha[0], 400_000)
        monte_carlo = -np.log(samples[:, 1]).mean()
        got = to_numpy(ke.losses.posterior_network_loss(np.array([1]), alpha, entropy_weight=0.0))
        self.assertAllClose(got, [monte_carlo], rtol=5e-3)

    def test_one_hot_labels_equal_integer_labels(self):
        alpha = (1 + RNG.exponential(5, (6, 4))).astype("float32")
        labels = RNG.integers(0, 4, 6)
        loss = ke.losses.PosteriorNetworkLoss()
        self.assertAllClose(
            to_numpy(loss(np.eye(4)[labels], alpha)), to_numpy(loss(labels, alpha)), rtol=1e-6
        )

    def test_rejects_bad_input(self):
        loss = ke.losses.PosteriorNetworkLoss()
        with pytest.raises(ValueError, match="y_pred"):
            loss(np.array([0]), np.array([[0.5, 2.0]]))
        with pytest.raises(ValueError, match="label"):
            loss(np.array([3]), np.array([[1.5, 2.0]]))
        with pytest.raises(ValueError, match="`entropy_weight` must be a finite number >= 0"):
            ke.losses.PosteriorNetworkLoss(entropy_weight=-1.0)
        with pytest.raises(AttributeError, match="regr"):
            loss.regr = 1e-5

    @pytest.mark.large
    def test_toy_three_gaussians_train(self):
        # The paper's 2-D toy (appendix C): three isotropic Gaussians, variance 0.2.
        keras.utils.set_random_seed(3)
        means = np.array([[0.0, 2.0], [-1.73205081, -1.0], [1.73205081, -1.0]])
        labels = np.repeat(np.arange(3), 100)
        x = (means[labels] + RNG.normal(0, np.sqrt(0.2), (300, 2))).astype("float32")
        model = keras.Sequential([
            keras.Input((2,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2),
            keras.layers.BatchNormalization(),
            ke.layers.PosteriorNetworkOutput(np.bincount(labels), flow_length=4),
        ])
        model.compile(keras.optimizers.Adam(1e-2), ke.losses.PosteriorNetworkLoss())
        # Two epochs over the data repeated 8 times: 150 steps, one epoch's overhead.
        history = model.fit(
            np.tile(x, (8, 1)), np.tile(labels, 8), batch_size=32, epochs=2, verbose=0
        ).history["loss"]
        self.assertLess(history[-1], 0.5 * history[0])
        alpha = model.predict(x, verbose=0)
        self.assertGreater((alpha.argmax(-1) == labels).mean(), 0.9)
