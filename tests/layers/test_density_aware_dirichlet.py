"""DensityAwareDirichlet and FitDensity: DAEDL's density scaling."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.testing import TestCase

RNG = np.random.default_rng(21)


def daedl_model():
    inputs = keras.Input((6,))
    features = keras.layers.SpectralNormalization(keras.layers.Dense(4))(inputs)
    logits = keras.layers.Dense(3)(features)
    alpha = ke.layers.DensityAwareDirichlet(name="density")([features, logits])
    return keras.Model(inputs, alpha)


class DensityAwareDirichletTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ke.layers.DensityAwareDirichlet,
            {"clip_value": 5.0},
            input_shape=[(2, 4), (2, 3)],
            expected_output_shape=(2, 3),
            expected_num_non_trainable_weights=5,
            assert_built_after_instantiation=False,
            run_training_check=False,
            run_mixed_precision_check=False,
        )

    def test_before_fitting_alpha_is_exp_of_logits(self):
        layer = ke.layers.DensityAwareDirichlet()
        logits = np.array([[0.0, 1.0, -2.0]], "float32")
        out = layer([np.zeros((1, 4), "float32"), logits])
        self.assertAllClose(out, np.exp(logits), rtol=1e-6)

    def test_fitted_density_scales_logits(self):
        labels = np.repeat(np.arange(3), 40)
        features = (RNG.normal(size=(120, 4)) + labels[:, None] * 3.0).astype("float32")
        layer = ke.layers.DensityAwareDirichlet(jitter=0.0)
        layer([features[:1], np.zeros((1, 3), "float32")])
        layer.fit_density(features, labels)
        train_log_density = ref.gda_log_density(features, labels, features, 3)
        d_min, d_max = train_log_density.min(), train_log_density.max()
        queries = np.r_[features[:5], 50.0 + features[:2]]
        logits = RNG.normal(size=(7, 3)).astype("float32")
        scale = np.clip((ref.gda_log_density(features, labels, queries, 3) - d_min) / (d_max - d_min), 0, 1)
        expected = np.exp(logits * scale[:, None])
        self.assertAllClose(layer([queries, logits]), expected, rtol=1e-3, atol=1e-5)
        # Far from the training features: s = 0, a flat Dirichlet.
        self.assertAllClose(layer([queries[-2:], logits[-2:]]), np.ones((2, 3)), atol=1e-6)

    def test_fit_density_callback_and_saving(self):
        model = daedl_model()
        model.compile("adam", ke.losses.DAEDLLoss())
        x = RNG.normal(size=(90, 6)).astype("float32")
        y = np.repeat(np.arange(3), 30)
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ke.callbacks.FitDensity(x, y)])
        self.assertEqual(float(keras.ops.convert_to_numpy(model.get_layer("density").fitted)), 1.0)
        far = model.predict(x[:3] * 1e3, verbose=0)
        self.assertAllClose(far, np.ones_like(far), atol=1e-5)
        path = self.get_temp_dir() + "/daedl.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertAllClose(restored.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0), rtol=1e-6)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="clip_value"):
            ke.layers.DensityAwareDirichlet(clip_value=0.0)
        with pytest.raises(ValueError, match=r"\[features, logits\]"):
            ke.layers.DensityAwareDirichlet()(np.zeros((1, 3), "float32"))
