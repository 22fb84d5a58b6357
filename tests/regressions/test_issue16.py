"""Defects found by outside checks (issue 16, section 5 and 4): each failed
before its fix."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import keras_evidential as ke
from tests import reference
from tests.testing import compiled

BACKEND = keras.backend.backend()


def test_evidence_subclass_with_weights_gets_built():
    class Scaled(ke.layers.EvidenceReLU):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

        def call(self, inputs):
            return super().call(inputs) * self.scale

    layer = Scaled()
    assert not layer.built
    out = keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]], "float32")))
    np.testing.assert_allclose(out, [[0.0, 2.0]])
    assert len(layer.weights) == 1


@pytest.mark.parametrize("k", [10, 100])
def test_kl_of_a_perfect_prediction_is_exact(k):
    """alpha_tilde = (1, ..., 1): the KL is exactly 0, so the loss is the risk."""
    alpha = np.ones((1, k), "float32")
    alpha[0, 0] = 1e4
    y = np.zeros((1, k), "float32")
    y[0, 0] = 1.0
    exact = reference.edl_loss(y.astype("float64"), alpha.astype("float64"), "mse", 1.0)

    def loss(y, alpha):
        return ke.losses.edl_loss(y, alpha, "mse", 1.0)

    forms = {"eager": loss, "compiled": compiled(loss)}
    if BACKEND == "tensorflow":
        forms["xla"] = compiled(loss, jit_compile=True)
    for name, fn in forms.items():
        got = float(keras.ops.convert_to_numpy(fn(y, alpha))[0])
        assert got >= 0.0, name
        assert abs(got - exact) <= 1e-6 * max(1.0, exact), (name, got, exact)


@settings(deadline=None, max_examples=40)
@given(
    k=st.sampled_from([2, 3, 10, 100]),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-6, 1e-3, 1.0, 1e3]),
)
def test_kl_is_never_negative_and_close_to_float64(k, seed, scale):
    rng = np.random.default_rng(seed)
    alpha = (1.0 + scale * rng.random((16, k))).astype("float32")
    alpha[rng.random(alpha.shape) < 0.3] = 1.0
    got = keras.ops.convert_to_numpy(ke.dirichlet.kl_to_uniform(alpha))
    ref = reference.kl_to_uniform(alpha.astype("float64"))
    assert np.all(got >= 0.0)
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-6 * k)


def test_kl_annealing_with_the_loss_class():
    """`compile(loss=EDLLoss)`: Keras makes the instance that it trains with.

    On JAX and PyTorch Keras makes it inside the stateless step, where the
    loss's variables cannot be created: a clear error asks for an instance.
    """
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), ke.layers.DirichletOutput()])
    model.compile("adam", loss=ke.losses.EDLLoss)
    if BACKEND != "tensorflow":
        with pytest.raises(ValueError, match=r"loss=EDLLoss\(\.\.\.\)"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[ke.callbacks.KLAnnealing(0.25)])
        return
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[ke.callbacks.KLAnnealing(0.25)])
    np.testing.assert_allclose(history.history["kl_weight"], [0.0, 0.25, 0.5])


def learned_head_model(k=3, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    alpha = ke.layers.DirichletOutput("softplus")(keras.layers.Dense(k)(hidden))
    z_u = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, ke.layers.LearnedUnknownClassHead()([alpha, z_u]))


def test_learned_head_is_m_edl_in_evaluation_and_monitoring():
    """Before: evaluation treated the K + 1 outputs as K classes."""
    model = learned_head_model()
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 4, 64)
    report = ke.evaluation.evaluate_uncertainty(model, x, y)
    assert report.unknown_class
    alpha = model.predict(x, verbose=0)
    explicit = ke.evaluation.evaluate_uncertainty(alpha, y=y, unknown_class=True)
    for name, value in explicit.metrics.items():
        assert report.metrics[name] == pytest.approx(value, nan_ok=True), name

    monitor = ke.evaluation.UncertaintyMonitor((x, y))
    model.compile("adam", ke.losses.EDLLoss())
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    recall = explicit.metrics["unknown_recall"]
    assert "val_unknown_recall" in history.history or np.isnan(recall)
