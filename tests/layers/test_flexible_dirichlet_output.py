"""FlexibleDirichletOutput: F-EDL's packed (alpha, p, tau) head."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.gradients import value_and_gradient
from tests.testing import TestCase
from tests.testing import keras_at_least
from tests.testing import to_numpy


class FlexibleDirichletOutputTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ke.layers.FlexibleDirichletOutput,
            {"num_classes": 3, "spectral_normalization": False},
            input_shape=(2, 5),
            expected_output_shape=(2, 7),
            expected_num_trainable_weights=6,
            assert_built_after_instantiation=False,
        )

    def test_parameters_are_valid(self):
        layer = ke.layers.FlexibleDirichletOutput(4)
        out = keras.ops.convert_to_numpy(layer(np.random.default_rng(0).normal(size=(8, 5)).astype("float32") * 10))
        alpha, p, tau = out[:, :4], out[:, 4:8], out[:, 8:]
        self.assertTrue(np.all(alpha > 0) and np.all(tau >= 0))
        self.assertAllClose(p.sum(-1), np.ones(8), rtol=1e-6)

    def test_alpha_is_exp_of_large_logits(self):
        # The paper's alpha = exp(g(z)) (section 3.1): a clip at 10 left every
        # class unit past it without gradient, saturated for all inputs.
        layer = ke.layers.FlexibleDirichletOutput(2, spectral_normalization=False)
        layer.build((None, 1))
        layer.alpha_head.kernel.assign(np.array([[1.0, -0.1]], "float32"))
        layer.alpha_head.bias.assign(np.array([0.0, 0.0], "float32"))
        x = np.array([[12.0], [30.0]], "float32")
        alpha = keras.ops.convert_to_numpy(layer(x))[:, :2]
        self.assertAllClose(alpha, np.exp(np.c_[x, -0.1 * x].astype("float64")), rtol=1e-5)

    def test_loss_and_gradient_finite_at_the_clip(self):
        # alpha_0 ~ 1e22 at logits of 50: the loss must not form alpha_0^2.
        layer = ke.layers.FlexibleDirichletOutput(3, spectral_normalization=False)
        layer.build((None, 2))
        layer.alpha_head.kernel.assign(np.array([[60.0, 55.0, -60.0], [0.0, 0.0, 0.0]], "float32"))
        loss = ke.losses.FEDLLoss()
        x = np.array([[1.0, 0.5], [0.9, -1.0]], "float32")
        value, grad = value_and_gradient(lambda v: loss(np.array([0, 1]), layer(v)), x)
        self.assertTrue(np.isfinite(to_numpy(value)).all() and np.isfinite(to_numpy(grad)).all())

    def test_saving_round_trip(self):
        model = keras.Sequential([keras.Input((5,)), ke.layers.FlexibleDirichletOutput(3)])
        x = np.ones((2, 5), "float32")
        path = self.get_temp_dir() + "/fedl.keras"
        model.save(path)
        self.assertAllClose(keras.saving.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))

    def test_loads_a_model_saved_with_keras_spectral_normalization(self):
        # tests/layers/fixtures/README.md: an F-EDL model saved by the release
        # whose alpha head was keras.layers.SpectralNormalization (TensorFlow,
        # so the stored kernel is the normalised one). It must load into the
        # library's wrapper, keep its weights and predict what it predicted.
        fixtures = Path(__file__).parent / "fixtures"
        path = fixtures / "fedl_keras_spectral_normalization.keras"
        # Keras reads files saved by its own and earlier versions, not later
        # ones (Keras 3.13 added `quantization_config` to Dense's config).
        with zipfile.ZipFile(path) as archive:
            saved_with = json.loads(archive.read("metadata.json"))["keras_version"]
        if not keras_at_least(saved_with):
            pytest.skip(f"saved with Keras {saved_with}; Keras {keras.version()} cannot read it")
        model = keras.saving.load_model(path)
        saved = np.load(fixtures / "fedl_keras_spectral_normalization.npz")
        self.assertIsInstance(model.layers[-1].alpha_head, ke.layers.SpectralNormalization)
        self.assertAllClose(model.predict(saved["x"], verbose=0), saved["prediction"], rtol=1e-3, atol=1e-5)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="num_classes"):
            ke.layers.FlexibleDirichletOutput(1)
