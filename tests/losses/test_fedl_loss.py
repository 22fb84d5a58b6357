"""FEDLLoss against the flexible Dirichlet's mixture moments (Yoon & Kim, 2025)."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(16)


def fedl_model():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6, activation="relu"), ke.layers.FlexibleDirichletOutput(3)]
    )


def packed(n=16, k=3):
    alpha = np.exp(RNG.normal(size=(n, k)))
    logits = RNG.normal(size=(n, k))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    tau = np.log1p(np.exp(RNG.normal(size=(n, 1))))
    return alpha, p, tau


class FEDLLossTest(TestCase):
    def test_against_reference(self):
        alpha, p, tau = packed()
        labels = RNG.integers(0, 3, 16)
        expected = ref.fedl_loss(ref.one_hot(labels, 3), alpha, p, tau)
        y_pred = np.concatenate([alpha, p, tau], -1).astype("float32")
        self.run_loss_test(
            ke.losses.FEDLLoss, {}, labels, y_pred, expected, rtol=1e-4, model_fn=fedl_model,
            # float16 cannot hold p to the 1e-2 the check asks of the variance terms.
            run_mixed_precision_check=False,
        )

    def test_hand_worked_example(self):
        # alpha = (1, 1), p = (1/2, 1/2), tau = 1, y = 0: E[pi] = (1/2, 1/2),
        # Var = 1/12 each: 1/4 + 1/4 + 1/6 = 2/3, plus ||y - p||^2 = 1/2.
        loss = ke.losses.FEDLLoss()
        got = keras.ops.convert_to_numpy(loss(np.array([0]), np.array([[1.0, 1.0, 0.5, 0.5, 1.0]])))
        self.assertAllClose(got, 2 / 3 + 1 / 2, rtol=1e-6)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="odd"):
            ke.losses.FEDLLoss()(np.array([0]), np.ones((1, 4)))
        with pytest.raises(ValueError, match="alpha > 0"):
            ke.losses.FEDLLoss()(np.array([0]), np.array([[-1.0, 1.0, 0.5, 0.5, 1.0]]))

    def test_tau_zero_is_the_dirichlet_limit(self):
        """Issue 28: FD(alpha, p, 0) = Dir(alpha), which `FlexibleDirichletOutput`
        gives once softplus of the dispersion logit underflows (below ~-104 in
        float32); the loss raised instead. Reference: the Dirichlet's expected
        squared error, hand-written,
        sum_k (y_k - alpha_k / S)^2 + alpha_k (S - alpha_k) / (S^2 (S + 1)),
        plus ||y - p||^2."""
        alpha = np.array([[2.0, 1.0, 3.0], [0.5, 4.0, 1.5]])
        p = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
        y = ref.one_hot(np.array([2, 0]), 3)
        s = alpha.sum(-1, keepdims=True)
        dirichlet = ((y - alpha / s) ** 2 + alpha * (s - alpha) / (s**2 * (s + 1))).sum(-1)
        expected = np.mean(dirichlet + ((y - p) ** 2).sum(-1))
        y_pred = np.concatenate([alpha, p, np.zeros((2, 1))], -1).astype("float32")
        got = keras.ops.convert_to_numpy(ke.losses.FEDLLoss()(np.array([2, 0]), y_pred))
        self.assertAllClose(got, expected, rtol=1e-6)

    def test_underflowed_dispersion_of_the_head_trains(self):
        """The head's tau = softplus(-200) = 0 in float32: a finite loss."""
        model = fedl_model()
        model.layers[-1].dispersion_head.bias.assign([-200.0])
        model.layers[-1].dispersion_head.kernel.assign(np.zeros((6, 1)))
        x = RNG.normal(size=(8, 4)).astype("float32")
        y_pred = model(x)
        self.assertAllEqual(keras.ops.convert_to_numpy(y_pred)[:, -1], np.zeros(8))
        loss = keras.ops.convert_to_numpy(ke.losses.FEDLLoss()(RNG.integers(0, 3, 8), y_pred))
        self.assertTrue(np.isfinite(loss))

    def test_bad_tau_message_names_the_packed_output(self):
        """A negative or NaN tau is refused with a message about F-EDL's
        packed output, not about a `from_logits` argument FEDLLoss lacks."""
        for tau in (-1.0, np.nan):
            with pytest.raises(ValueError, match=r"tau >= 0") as info:
                ke.losses.FEDLLoss()(np.array([0]), np.array([[1.0, 1.0, 0.5, 0.5, tau]]))
            assert "from_logits" not in str(info.value)
