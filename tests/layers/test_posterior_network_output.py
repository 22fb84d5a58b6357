"""PosteriorNetworkOutput: alpha = 1 + N_c q(z | c) with per-class radial
flows, against a float64 NumPy restatement of the paper's eq. 4."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(2020)


def softplus(x):
    return np.logaddexp(0.0, x)


def reference_alpha(z, counts, centers, alpha_raw, beta_raw):
    """1 + N_c q(z | c), float64; q through L radial maps and N(0, I),
    each map's log-determinant in closed form (Rezende & Mohamed, eq. 14)."""
    d = z.shape[-1]
    alpha = np.empty((len(z), len(counts)))
    for c in range(len(counts)):
        x, log_det = z.astype("float64"), np.zeros(len(z))
        for layer in range(centers.shape[1]):
            a = softplus(alpha_raw[c, layer])
            b = softplus(beta_raw[c, layer]) - a
            r = np.linalg.norm(x - centers[c, layer], axis=-1)
            h = 1 / (a + r)
            log_det += (d - 1) * np.log1p(b * h) + np.log1p(b * h - b * r * h**2)
            x = x + (b * h)[:, None] * (x - centers[c, layer])
        log_q = -0.5 * (d * np.log(2 * np.pi) + (x**2).sum(-1)) + log_det
        alpha[:, c] = 1 + counts[c] * np.exp(log_q)
    return alpha


def set_random_flows(layer, scale=1.0):
    weights = [RNG.normal(0, scale, w.shape) for w in (layer.centers, layer.alpha_raw, layer.beta_raw)]
    layer.set_weights(weights)
    return weights


class PosteriorNetworkOutputTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ke.layers.PosteriorNetworkOutput,
            {"class_counts": [10, 20, 30, 40], "flow_length": 2},
            input_shape=(2, 3),
            expected_output_shape=(2, 4),
            expected_num_trainable_weights=3,
            assert_built_after_instantiation=False,
            run_mixed_precision_check=False,
        )

    def test_alpha_against_the_formula(self):
        counts = np.array([120.0, 45.0, 300.0])
        layer = ke.layers.PosteriorNetworkOutput(counts, flow_length=3)
        z = RNG.normal(0, 1, (8, 2)).astype("float32")
        layer.build(z.shape)
        centers, alpha_raw, beta_raw = set_random_flows(layer)
        expected = reference_alpha(z, counts, centers, alpha_raw, beta_raw)
        self.assertAllClose(to_numpy(layer(z)), expected, rtol=2e-5)

    # A grid integral costs seconds of per-shape compilation on eager JAX; it
    # checks the formula, which the reference tests check on every backend.
    @pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the formula is tested on every backend")
    def test_class_densities_integrate_to_one(self):
        # The evidence budget: integral of (alpha_c - 1) dz = N_c for every class.
        counts = np.array([5.0, 50.0])
        layer = ke.layers.PosteriorNetworkOutput(counts, flow_length=4)
        layer.build((None, 2))
        set_random_flows(layer)
        step = 0.05
        axis = np.arange(-10, 10, step) + step / 2
        grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
        evidence = to_numpy(layer(grid.astype("float32"))).astype("float64") - 1
        self.assertAllClose(evidence.sum(0) * step**2, counts, rtol=3e-3)

    def test_far_latents_get_the_flat_dirichlet(self):
        layer = ke.layers.PosteriorNetworkOutput([1000.0, 1000.0])
        alpha = to_numpy(layer(np.array([[0.0, 0.0], [40.0, -40.0]], "float32")))
        self.assertTrue((alpha[0] > 10).all())
        self.assertAllClose(alpha[1], [1.0, 1.0])

    def test_log_evidence_clip_keeps_alpha_finite(self):
        # A radial map that expands ~1e5-fold in 8 dimensions around its centre
        # (alpha ~ 1e-13, beta = 1): q(z | c) ~ exp(80) next to the centre.
        layer = ke.layers.PosteriorNetworkOutput([1e4, 1e4], flow_length=1, clip_value=50.0)
        layer.build((None, 8))
        weights = [np.zeros((2, 1, 8)), np.full((2, 1), -30.0), np.full((2, 1), np.log(np.e - 1))]
        layer.set_weights(weights)
        z = np.full((1, 8), 1e-5 / np.sqrt(8), "float32")
        unclipped = reference_alpha(z, [1e4, 1e4], *weights)
        self.assertGreater(np.log(unclipped.min()), 60.0)
        alpha = to_numpy(layer(z))
        self.assertAllClose(alpha, np.full((1, 2), 1 + np.exp(50.0)), rtol=1e-5)

    def test_rejects_bad_arguments(self):
        bad = [
            ({"class_counts": [5]}, "`class_counts` must be"),
            ({"class_counts": "abc"}, "`class_counts` must be"),
            ({"class_counts": [5, 0]}, r"`class_counts\[1\]` must be a finite number > 0. Received: class_counts\[1\]=0"),
            ({"class_counts": [5, np.inf]}, r"`class_counts\[1\]`"),
            ({"class_counts": [5, 5], "flow_length": 0}, "`flow_length` must be an integer >= 1"),
            ({"class_counts": [5, 5], "clip_value": -1.0}, "clip_value"),
        ]
        for kwargs, message in bad:
            with pytest.raises(ValueError, match=message):
                ke.layers.PosteriorNetworkOutput(**kwargs)

    def test_non_finite_latent_is_refused(self):
        layer = ke.layers.PosteriorNetworkOutput([5, 5])
        with pytest.raises(ValueError, match="latent"):
            layer(np.array([[np.nan, 0.0]], "float32"))

    def test_config_round_trip_keeps_the_density(self):
        layer = ke.layers.PosteriorNetworkOutput(np.array([3, 4, 5]), flow_length=2, clip_value=30.0)
        layer.build((None, 2))
        set_random_flows(layer)
        config = layer.get_config()
        self.assertEqual(config["class_counts"], [3.0, 4.0, 5.0])
        restored = ke.layers.PosteriorNetworkOutput.from_config(config)
        restored.build((None, 2))
        restored.set_weights(layer.get_weights())
        z = RNG.normal(0, 1, (4, 2)).astype("float32")
        self.assertAllClose(to_numpy(restored(z)), to_numpy(layer(z)))
        revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        self.assertIsInstance(revived, ke.layers.PosteriorNetworkOutput)
        self.assertEqual(revived.get_config(), config)

    def test_model_kind_reads_alpha(self):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2),
                                  ke.layers.PosteriorNetworkOutput([10, 10, 10])])
        kind = ke.model_kind(model)
        self.assertEqual((kind.output, kind.num_known_classes, kind.minimum_alpha), ("alpha", 3, 1.0))
        with pytest.raises(ValueError, match="from_logits=True"):
            model.compile("adam", ke.losses.EDLLoss(from_logits=True))
            ke.model_kind(model)


def test_mixed_precision_alpha_is_float32_and_matches_float32():
    # N_c q(z | c) ~ 1e5 overflows float16's largest 65504 in alpha_0.
    z = RNG.normal(0, 0.5, (4, 3)).astype("float32")
    counts = [3e6, 4e6]
    keras.utils.set_random_seed(1)
    reference = ke.layers.PosteriorNetworkOutput(counts)
    expected = to_numpy(reference(z))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = ke.layers.PosteriorNetworkOutput(counts)
        layer.build(z.shape)
        layer.set_weights(reference.get_weights())
        alpha = layer(z)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    assert expected.sum(-1).max() > 65504
    np.testing.assert_allclose(to_numpy(alpha), expected, rtol=1e-6)
