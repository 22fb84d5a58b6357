"""EvidentialRegressionLoss and MeinertRegressionLoss."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import keras_evidential as ke
from tests import reference_nig as ref
from tests.testing import TestCase
from tests.testing import to_numpy


def _nig(n=6, targets=1, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, targets)
    gamma = rng.normal(0, 2, shape)
    nu = np.exp(rng.uniform(-3, 3, shape))
    alpha = 1 + np.exp(rng.uniform(-3, 3, shape))
    beta = np.exp(rng.uniform(-3, 3, shape))
    y = rng.normal(0, 3, shape)
    return y, (gamma, nu, alpha, beta)


def _pred(params):
    return np.concatenate(params, axis=-1).astype("float32")


def _model_fn(targets):
    def build():
        return keras.Sequential([
            keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
            ke.layers.NormalInverseGammaOutput(targets),
        ])
    return build


class EvidentialRegressionLossTest(TestCase):
    def test_amini(self):
        y, p = _nig(targets=2)
        expected = np.mean(ref.amini_nll(y, *p) + 0.1 * ref.amini_regularizer(y, *p[:3]))
        self.run_loss_test(
            ke.losses.EvidentialRegressionLoss, {"regularizer_weight": 0.1},
            y.astype("float32"), _pred(p), expected, rtol=1e-4, atol=1e-4,
            model_fn=_model_fn(2),
        )

    def test_meinert_with_exponent_and_sample_weight(self):
        y, p = _nig(seed=1)
        w = np.linspace(0.5, 2.0, len(y)).astype("float32")
        per_sample = (ref.amini_nll(y, *p) + 0.05 * ref.meinert_regularizer(y, *p, 2.0))[:, 0]
        expected = np.sum(per_sample * w) / len(y)
        self.run_loss_test(
            ke.losses.EvidentialRegressionLoss,
            {"regularizer_weight": 0.05, "regularizer": "meinert", "p": 2.0},
            y.astype("float32"), _pred(p), expected, sample_weight=w,
            rtol=1e-4, atol=1e-4, model_fn=_model_fn(1),
        )

    def test_alternative_loss(self):
        y, p = _nig(seed=2)
        gamma, nu, _, beta = p
        expected = np.mean(ref.meinert_alternative(y, gamma, nu, beta, 2.0))
        self.run_loss_test(
            ke.losses.MeinertRegressionLoss, {"regularizer_weight": 2.0},
            y.astype("float32"), _pred(p), expected, rtol=1e-4, atol=1e-4,
            model_fn=_model_fn(1),
        )

    def test_alternative_loss_is_finite_where_nu_and_beta_are_large(self):
        """Issue 28: at nu ~ beta >~ 1e19 the product (1 + lambda nu) r^2 nu
        overflowed float32 to inf, while the loss is finite (the reference
        is the float64 formula: log(beta / nu) + (1 + lambda nu) r^2 nu / beta)."""
        y = np.array([[3.0], [-2.0], [0.5]])
        gamma = np.zeros((3, 1))
        nu = np.array([[1e19], [3e20], [1e30]])
        beta = np.array([[2e19], [1e20], [5e29]])
        alpha = np.full((3, 1), 2.0)
        expected = ref.meinert_alternative(y, gamma, nu, beta, 2.0).mean()
        loss = ke.losses.MeinertRegressionLoss(2.0, reduction="sum_over_batch_size")
        got = to_numpy(loss(y.astype("float32"), _pred((gamma, nu, alpha, beta))))
        self.assertTrue(np.isfinite(got))
        self.assertAllClose(got, expected, rtol=1e-5)

    def test_pixelwise_targets(self):
        y, p = _nig(n=2 * 3 * 3, targets=2, seed=3)
        reshape = lambda a: a.reshape(2, 3, 3, 2)  # noqa: E731
        loss = ke.losses.EvidentialRegressionLoss(0.01)
        got = to_numpy(loss(reshape(y).astype("float32"),
                            _pred([reshape(a) for a in p])))
        want = np.mean(ref.amini_nll(y, *p) + 0.01 * ref.amini_regularizer(y, *p[:3]))
        self.assertAllClose(got, want, rtol=1e-4)

    def test_rank_one_targets_for_one_output(self):
        y, p = _nig(seed=4)
        loss = ke.losses.EvidentialRegressionLoss(0.0)
        self.assertAllClose(
            to_numpy(loss(y[:, 0].astype("float32"), _pred(p))),
            np.mean(ref.amini_nll(y, *p)), rtol=1e-4,
        )

    def test_regularizer_weight_is_a_schedulable_variable(self):
        y, p = _nig(seed=5)
        loss = ke.losses.EvidentialRegressionLoss(0.0)
        before = to_numpy(loss(y.astype("float32"), _pred(p)))
        loss.regularizer_weight.assign(1.0)
        after = to_numpy(loss(y.astype("float32"), _pred(p)))
        self.assertAllClose(after - before, np.mean(ref.amini_regularizer(y, *p[:3])), rtol=1e-4)
        self.assertEqual(loss.get_config()["regularizer_weight"], 1.0)

    def test_bad_arguments_are_named(self):
        for kwargs, text in (
            ({"regularizer": "l2"}, "regularizer='l2'"),
            ({"regularizer_weight": -1.0}, "regularizer_weight=-1.0"),
            ({"regularizer": "meinert", "p": 0}, "p=0"),
            ({"p": 2.0}, "p=2.0"),
        ):
            with self.assertRaisesRegex(ValueError, text):
                ke.losses.EvidentialRegressionLoss(**kwargs)

    def test_bad_predictions_are_named(self):
        loss = ke.losses.EvidentialRegressionLoss()
        good = np.array([[0.0, 1.0, 2.0, 1.0]], "float32")
        for bad in ([[0.0, 0.0, 2.0, 1.0]], [[0.0, 1.0, 1.0, 1.0]],
                    [[0.0, 1.0, 2.0, -1.0]], [[0.0, np.nan, 2.0, 1.0]]):
            with self.assertRaisesRegex(ValueError, "nu > 0, alpha > 1 and beta > 0"):
                loss(np.zeros((1, 1), "float32"), np.array(bad, "float32"))
        with self.assertRaisesRegex(ValueError, "multiple of 4"):
            loss(np.zeros((1, 1), "float32"), good[:, :3])
        with self.assertRaisesRegex(ValueError, "one value per target"):
            loss(np.zeros((1, 2), "float32"), good)
        with self.assertRaisesRegex(ValueError, "nu > 0"):
            ke.losses.MeinertRegressionLoss()(np.zeros((1, 1)), np.array([[0.0, 0.0, 2.0, 1.0]], "float32"))


@settings(max_examples=40, deadline=None)
@given(
    log_nu=st.floats(-9, 9), log_alpha1=st.floats(-6, 9), log_beta=st.floats(-9, 9),
    residual=st.floats(-1e3, 1e3), regularizer=st.sampled_from(["amini", "meinert"]),
)
def test_loss_and_gradients_finite_over_wide_ranges(log_nu, log_alpha1, log_beta, residual, regularizer):
    """Float32 loss and gradient w.r.t. every parameter are finite, and the loss matches float64."""
    params = np.array([[0.0, np.exp(log_nu), 1.0 + np.exp(log_alpha1), np.exp(log_beta)]])
    y = np.array([[residual]])
    loss = ke.losses.EvidentialRegressionLoss(0.01, regularizer=regularizer)
    value, grad = _value_and_grad(loss, y, params)
    assert np.isfinite(value) and np.all(np.isfinite(grad)), (params, y, value, grad)
    p = tuple(params[:, i:i + 1] for i in range(4))
    reg = ref.amini_regularizer(y, *p[:3]) if regularizer == "amini" else ref.meinert_regularizer(y, *p, 1)
    want = (ref.amini_nll(y, *p) + 0.01 * reg).item()
    # lgamma(alpha) - lgamma(alpha + 1/2) in float32 loses ~1e-2 at alpha ~ 1e4.
    np.testing.assert_allclose(value, want, rtol=1e-3, atol=0.05)


def _value_and_grad(loss, y, params):
    backend = keras.backend.backend()
    y = y.astype("float32")
    params = params.astype("float32")
    if backend == "tensorflow":
        import tensorflow as tf

        var = tf.Variable(params)
        with tf.GradientTape() as tape:
            value = loss(y, var)
        return float(value), tape.gradient(value, var).numpy()
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(lambda p: loss(y, p))(params)
        return float(value), np.asarray(grad)
    import torch

    var = torch.tensor(params, requires_grad=True)
    value = loss(torch.tensor(y), var)
    value.backward()
    return float(value.detach()), var.grad.numpy()


def test_keras_name_and_fit_with_callbacks():
    """The issue's usage: compile with the loss, fit with ordinary callbacks."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (256, 1)).astype("float32")
    y = (x**3 + rng.normal(0, 3, x.shape)).astype("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(16, activation="relu"),
                              ke.layers.NormalInverseGammaOutput(1)])
    model.compile(optimizer="adam", loss=ke.losses.EvidentialRegressionLoss(0.01),
                  metrics=[ke.metrics.NIGRootMeanSquaredError()])
    history = model.fit(x, y, epochs=2, batch_size=64, verbose=0, validation_split=0.25,
                        callbacks=[keras.callbacks.EarlyStopping(patience=1)])
    assert np.all(np.isfinite(history.history["loss"]))
    assert "val_rmse" in history.history


@pytest.mark.parametrize("cls", [ke.losses.EvidentialRegressionLoss, ke.losses.MeinertRegressionLoss])
def test_default_names_are_keras_style(cls):
    assert cls().name == {"EvidentialRegressionLoss": "evidential_regression_loss",
                          "MeinertRegressionLoss": "meinert_regression_loss"}[cls.__name__]
