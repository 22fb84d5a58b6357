"""Export of the family's heads: R-EDL's prior weight, DAEDL's density-aware
alpha and F-EDL's flexible Dirichlet, against NumPy restatements."""

import keras
import numpy as np
import pytest

import keras_evidential as ke

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow"
)
K = 4


def serve(model, tmp_path, x):
    import tensorflow as tf

    path = ke.export.export_saved_model(model, tmp_path)
    return {k: v.numpy() for k, v in tf.saved_model.load(path).signatures["serving_default"](tf.constant(x)).items()}


def data(n=16, d=6, seed=0):
    return np.random.default_rng(seed).normal(0, 2, (n, d)).astype("float32")


def test_relaxed_edl_serves_lambda_k_over_s(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(K),
                              ke.layers.DirichletOutput("softplus", prior_concentration=0.1)])
    kind = ke.model_kind(model)
    assert (kind.prior_concentration, kind.minimum_alpha) == (0.1, 0.1)
    x = data()
    out = serve(model, tmp_path, x)
    alpha = model.predict(x, verbose=0).astype("float64")
    np.testing.assert_allclose(out["uncertainty"], 0.1 * K / alpha.sum(-1), rtol=1e-5)
    np.testing.assert_allclose(out["probabilities"], alpha / alpha.sum(-1, keepdims=True), rtol=1e-5)


def test_density_aware_alpha_below_one_is_served(tmp_path):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6,))
    features = keras.layers.Dense(8, activation="relu")(inputs)
    logits = keras.layers.Dense(K)(features)
    model = keras.Model(inputs, ke.layers.DensityAwareDirichlet()([features, logits]))
    # An unfitted density is refused (issue 28, 2(b)): fit it first.
    ke.callbacks.fit_model_density(model, data(n=300, seed=9), np.arange(300) % K)
    assert ke.model_kind(model).minimum_alpha == 0.0
    x = data(seed=2)
    out = serve(model, tmp_path, x)
    alpha = model.predict(x, verbose=0).astype("float64")
    assert alpha.min() < 1.0  # exp(z) of a negative logit
    np.testing.assert_allclose(out["uncertainty"], K / alpha.sum(-1), rtol=1e-5)


def test_flexible_dirichlet_serves_its_mean_and_epistemic_uncertainty(tmp_path):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              ke.layers.FlexibleDirichletOutput(K)])
    kind = ke.model_kind(model)
    assert kind.flexible and kind.num_known_classes == K
    x = data(seed=3)
    out = serve(model, tmp_path, x)
    packed = model.predict(x, verbose=0).astype("float64")
    alpha, p, tau = packed[:, :K], packed[:, K:2 * K], packed[:, 2 * K:]
    # E[pi] = (alpha + tau p) / (alpha_0 + tau) (Yoon & Kim 2025).
    mean = (alpha + tau * p) / (alpha.sum(-1, keepdims=True) + tau)
    np.testing.assert_allclose(out["probabilities"], mean, rtol=1e-5)
    np.testing.assert_allclose(out["alpha"], alpha + tau * p, rtol=1e-5)
    expected_u = keras.ops.convert_to_numpy(ke.dirichlet.flexible_epistemic_uncertainty(
        *ke.dirichlet.split_flexible_parameters(packed.astype("float32"))))
    np.testing.assert_allclose(out["uncertainty"], expected_u, rtol=1e-5)


def test_spectral_normalization_is_served_normalized(tmp_path):
    # The served graph must divide the kernel by its spectral norm, as training
    # did: keras.layers.SpectralNormalization serves the stored kernel as is.
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6,))
    sn = ke.layers.SpectralNormalization(keras.layers.Dense(8, activation="relu"), power_iterations=30)
    features = sn(inputs)
    head = keras.layers.Dense(K)
    # An exp head without DAEDL's density (an unfitted one is refused).
    model = keras.Model(inputs, ke.layers.DirichletOutput("exp")(head(features)))
    kernel = np.random.default_rng(4).normal(0, 3, (6, 8))
    sn.layer.kernel.assign(kernel.astype("float32"))
    x = data(seed=5)
    out = serve(model, tmp_path, x)
    normalized = kernel / np.linalg.svd(kernel, compute_uv=False)[0]
    hidden = np.maximum(x.astype("float64") @ normalized + keras.ops.convert_to_numpy(sn.layer.bias), 0.0)
    logits = hidden @ keras.ops.convert_to_numpy(head.kernel) + keras.ops.convert_to_numpy(head.bias)
    np.testing.assert_allclose(out["alpha"], np.exp(logits) + 1.0, rtol=1e-4)
