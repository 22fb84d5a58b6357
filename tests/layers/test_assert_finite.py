"""AssertFinite: an identity layer that fails the step on NaN or inf."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase


class AssertFiniteTest(TestCase):
    def test_is_the_identity_on_finite_input(self):
        x = np.arange(6, dtype="float32").reshape(2, 3)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(ke.layers.AssertFinite()(x)), x
        )

    def test_integer_input_passes_unchecked(self):
        x = np.arange(6).reshape(2, 3)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(ke.layers.AssertFinite()(x)), x
        )

    def test_refuses_nan_and_inf_eagerly(self):
        for bad in (np.nan, np.inf, -np.inf):
            x = np.ones((2, 3), "float32")
            x[1, 2] = bad
            with pytest.raises(ValueError, match="AssertFinite"):
                ke.layers.AssertFinite()(x)

    def test_fails_fit_on_a_nan_feature(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 4)).astype("float32")
        x[7, 1] = np.nan
        y = np.arange(32) % 3
        model = keras.Sequential([keras.Input((4,)), ke.layers.AssertFinite(),
                                  keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(3), ke.layers.DirichletOutput()])
        model.compile(optimizer="adam", loss=ke.losses.EDLLoss())
        with pytest.raises(Exception, match="AssertFinite"):
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)

    def test_config_round_trip(self):
        layer = ke.layers.AssertFinite(name="check")
        restored = ke.layers.AssertFinite.from_config(layer.get_config())
        self.assertEqual(restored.name, "check")
