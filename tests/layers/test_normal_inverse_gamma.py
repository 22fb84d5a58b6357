"""NormalInverseGammaOutput and NormalInverseGammaRescaling."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_nig as ref
from tests.testing import TestCase
from tests.testing import to_numpy


class NormalInverseGammaOutputTest(TestCase):
    def test_layer_dense_and_pixelwise(self):
        for input_shape, expected in (((2, 5), (2, 8)), ((2, 3, 4, 6), (2, 3, 4, 8))):
            self.run_layer_test(
                ke.layers.NormalInverseGammaOutput,
                {"units": 2},
                input_shape=input_shape,
                expected_output_shape=expected,
                expected_num_trainable_weights=2,
                supports_masking=True,
                # Keras asserts `built` at instantiation for every layer when
                # True; this one has weights, created in `build`.
                assert_built_after_instantiation=False,
            )

    def test_values_follow_the_constraints(self):
        layer = ke.layers.NormalInverseGammaOutput(
            units=1, kernel_initializer="identity", epsilon=1e-3
        )
        z = np.array([[-3.0, 0.0, 0.5, 2.0]], "float32")
        out = to_numpy(layer(z))
        np.testing.assert_allclose(out[0, 0], z[0, 0])
        np.testing.assert_allclose(out[0, 1], ref.softplus(0.0) + 1e-3, rtol=1e-6)
        np.testing.assert_allclose(out[0, 2], ref.softplus(0.5) + 1 + 1e-3, rtol=1e-6)
        np.testing.assert_allclose(out[0, 3], ref.softplus(2.0) + 1e-3, rtol=1e-6)

    def test_constraints_hold_for_extreme_inputs(self):
        layer = ke.layers.NormalInverseGammaOutput(units=3, kernel_initializer="ones")
        out = to_numpy(layer(np.array([[-1e4], [0.0], [1e4]], "float32")))
        gamma, nu, alpha, beta = np.split(out, 4, axis=-1)
        assert np.all(nu > 0) and np.all(beta > 0) and np.all(alpha > 1)
        assert np.all(np.isfinite(out))

    def test_float32_under_mixed_precision(self):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy("mixed_float16")
        try:
            layer = ke.layers.NormalInverseGammaOutput(units=1)
            out = layer(np.ones((2, 3), "float16"))
            self.assertEqual(layer.projection.compute_dtype, "float16")
        finally:
            keras.config.set_dtype_policy(previous)
        self.assertEqual(keras.backend.standardize_dtype(out.dtype), "float32")

    def test_config_round_trip(self):
        layer = ke.layers.NormalInverseGammaOutput(
            units=3, epsilon=1e-4, kernel_regularizer="l2", name="nig"
        )
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        )
        self.assertIsInstance(revived, ke.layers.NormalInverseGammaOutput)
        self.assertEqual(revived.get_config(), layer.get_config())

    def test_bad_arguments_are_named(self):
        for kwargs, text in (({"units": 0}, "units=0"), ({"units": 1.5}, "units=1.5"),
                             ({"epsilon": 0.0}, "epsilon=0.0")):
            with self.assertRaisesRegex(ValueError, text):
                ke.layers.NormalInverseGammaOutput(**kwargs)


class NormalInverseGammaRescalingTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            ke.layers.NormalInverseGammaRescaling,
            {"mean": [1.0, 2.0], "std": [3.0, 0.5]},
            input_shape=(2, 8),
            expected_output_shape=(2, 8),
            expected_num_trainable_weights=0,
            supports_masking=True,
            run_training_check=False,
            # Its input must be NIG parameters; random normal ones are not.
            run_mixed_precision_check=True,
        )

    def test_uncertainties_come_back_in_target_units(self):
        """Scoring the rescaled NIG on y equals scoring the standardised one on (y - m) / s."""
        rng = np.random.default_rng(0)
        m, s = 10.0, 4.0
        params = np.concatenate(
            [rng.normal(size=(20, 1)), rng.uniform(0.1, 5, (20, 1)),
             rng.uniform(1.1, 5, (20, 1)), rng.uniform(0.1, 5, (20, 1))], axis=1
        )
        y_std = rng.normal(size=20)
        out = to_numpy(ke.layers.NormalInverseGammaRescaling(m, s)(params.astype("float32")))
        g, n, a, b = (out[:, i].astype("float64") for i in range(4))
        g0, n0, a0, b0 = params.T
        np.testing.assert_allclose(g, m + s * g0, rtol=1e-5)
        np.testing.assert_allclose(ref.aleatoric_amini(n, a, b), s**2 * ref.aleatoric_amini(n0, a0, b0), rtol=1e-5)
        np.testing.assert_allclose(ref.epistemic_amini(n, a, b), s**2 * ref.epistemic_amini(n0, a0, b0), rtol=1e-5)
        np.testing.assert_allclose(ref.aleatoric_meinert(n, a, b), s * ref.aleatoric_meinert(n0, a0, b0), rtol=1e-5)
        np.testing.assert_allclose(ref.epistemic_meinert(n, a, b), ref.epistemic_meinert(n0, a0, b0), rtol=1e-5)
        # The density transforms with the Jacobian 1 / s.
        np.testing.assert_allclose(
            ref.student_t_nll(m + s * y_std, g, n, a, b),
            ref.student_t_nll(y_std, g0, n0, a0, b0) + np.log(s), rtol=1e-5,
        )

    def test_config_round_trip_and_bad_arguments(self):
        layer = ke.layers.NormalInverseGammaRescaling(mean=[1.0], std=[2.0])
        revived = ke.layers.NormalInverseGammaRescaling.from_config(layer.get_config())
        self.assertEqual(revived.get_config(), layer.get_config())
        with self.assertRaisesRegex(ValueError, "std="):
            ke.layers.NormalInverseGammaRescaling(0.0, 0.0)
        with self.assertRaisesRegex(ValueError, "mean="):
            ke.layers.NormalInverseGammaRescaling([0.0, 1.0], [1.0])
        with self.assertRaisesRegex(ValueError, "mean="):
            ke.layers.NormalInverseGammaRescaling(float("nan"), 1.0)
        with self.assertRaisesRegex(ValueError, "3 targets"):
            ke.layers.NormalInverseGammaRescaling([0.0, 1.0], [1.0, 1.0])(np.ones((1, 12)))


@pytest.mark.parametrize("units", [1, 3])
def test_model_with_the_head_saves_and_reloads(tmp_path, units):
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
        ke.layers.NormalInverseGammaOutput(units),
        ke.layers.NormalInverseGammaRescaling([2.0] * units, [3.0] * units),
    ])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(restored(x)), to_numpy(model(x)), rtol=1e-6)
