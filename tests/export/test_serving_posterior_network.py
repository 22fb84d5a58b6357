"""Export of a Posterior Network: its alpha = 1 + N_c q(z | c), the vacuity
K / S and the mean alpha / S served, against NumPy on the model's alpha; and
`evaluate_uncertainty` reading the same model."""

import keras
import numpy as np
import pytest

import keras_evidential as ke

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow"
)
K = 3


def postnet_model():
    keras.utils.set_random_seed(4)
    return keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(2),
        keras.layers.BatchNormalization(),
        ke.layers.PosteriorNetworkOutput([40, 25, 35], flow_length=2),
    ])


def test_posterior_network_serves_its_uncertainty(tmp_path):
    import tensorflow as tf

    model = postnet_model()
    model.compile("adam", ke.losses.PosteriorNetworkLoss())
    x = np.random.default_rng(0).normal(0, 1, (16, 5)).astype("float32")
    path = ke.export.export_saved_model(model, tmp_path)
    served = tf.saved_model.load(path).signatures["serving_default"](tf.constant(x))
    served = {name: value.numpy() for name, value in served.items()}
    alpha = model.predict(x, verbose=0).astype("float64")
    assert alpha.min() >= 1.0 and alpha.max() > 1.5  # evidence, not the flat prior
    np.testing.assert_allclose(served["alpha"], alpha, rtol=1e-5)
    np.testing.assert_allclose(served["uncertainty"], K / alpha.sum(-1), rtol=1e-5)
    np.testing.assert_allclose(served["probabilities"], alpha / alpha.sum(-1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(served["class_index"], alpha.argmax(-1))
