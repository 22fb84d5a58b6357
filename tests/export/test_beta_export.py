"""Exporting a BetaOutput model: per-label probability and uncertainty served."""

import os

import keras
import numpy as np
import pytest

import keras_evidential as ke

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow"
    ),
]


def test_saved_model_serves_per_label_probability_and_uncertainty(tmp_path):
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5,), name="features"), keras.layers.Dense(6),
        ke.layers.BetaOutput("softplus"),
    ])
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    params = model.predict(x, verbose=0).astype("float64")
    a, b = params[..., 0], params[..., 1]
    path = ke.export.export_saved_model(model, os.fspath(tmp_path / "ml"))
    served = tf.saved_model.load(path).signatures["serving_default"](features=tf.constant(x))
    assert sorted(served) == sorted(ke.export.BETA_OUTPUT_NAMES)
    np.testing.assert_allclose(served["probabilities"].numpy(), a / (a + b), rtol=1e-6)
    np.testing.assert_allclose(served["uncertainty"].numpy(), 2 / (a + b), rtol=1e-6)
    np.testing.assert_allclose(
        served["score_sum"].numpy(), 6 / (6 + (a + b - 2).sum(axis=-1)), rtol=1e-6
    )
    assert served["score_max"].numpy().shape == (4,)
