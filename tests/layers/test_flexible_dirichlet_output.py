"""FlexibleDirichletOutput: F-EDL's packed (alpha, p, tau) head."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase


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

    def test_saving_round_trip(self):
        model = keras.Sequential([keras.Input((5,)), ke.layers.FlexibleDirichletOutput(3)])
        x = np.ones((2, 5), "float32")
        path = self.get_temp_dir() + "/fedl.keras"
        model.save(path)
        self.assertAllClose(keras.saving.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="num_classes"):
            ke.layers.FlexibleDirichletOutput(1)
