"""SpectralNormalization: W / sigma(W) as a reparametrisation, on every backend.

References are float64 NumPy: the largest singular value from `np.linalg.svd`
and the forward pass written out.
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.gradients import central_differences
from tests.gradients import value_and_gradient
from tests.testing import TestCase
from tests.testing import keras_at_least
from tests.testing import to_numpy


def largest_singular_value(kernel):
    kernel = np.asarray(kernel, "float64")
    return np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


def dense_reference(x, kernel, bias):
    return np.asarray(x, "float64") @ (kernel / largest_singular_value(kernel)) + bias


class MovingMeanDense(keras.layers.Dense):
    """A Dense layer that also tracks a moving mean of its inputs in training."""

    def __init__(self, units, momentum, **kwargs):
        super().__init__(units, **kwargs)
        self.momentum = momentum

    def build(self, input_shape):
        super().build(input_shape)
        self.moving_mean = self.add_weight(shape=(input_shape[-1],), initializer="zeros", trainable=False)

    def call(self, inputs, training=False):
        if training:
            mean = keras.ops.mean(inputs, axis=0)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
        return super().call(inputs)


class SpectralNormalizationTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ke.layers.SpectralNormalization,
            {"layer": keras.layers.Dense(3), "power_iterations": 2},
            input_shape=(2, 4),
            expected_output_shape=(2, 3),
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=1,
            assert_built_after_instantiation=False,
        )

    def test_dense_uses_kernel_over_its_spectral_norm(self):
        rng = np.random.default_rng(0)
        kernel, bias = rng.normal(size=(5, 3)) * 2.0, rng.normal(size=3)
        layer = ke.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=50)
        layer.build((None, 5))
        layer.layer.kernel.assign(kernel.astype("float32"))
        layer.layer.bias.assign(bias.astype("float32"))
        x = rng.normal(size=(4, 5)).astype("float32")
        for training in (False, True):
            self.assertAllClose(to_numpy(layer(x, training=training)), dense_reference(x, kernel, bias), rtol=1e-4, atol=1e-5)

    def test_conv2d_normalizes_the_reshaped_kernel(self):
        rng = np.random.default_rng(1)
        kernel = rng.normal(size=(3, 3, 2, 4)).astype("float32")
        layer = ke.layers.SpectralNormalization(keras.layers.Conv2D(4, 3, use_bias=False), power_iterations=50)
        layer.build((None, 6, 6, 2))
        layer.layer.kernel.assign(kernel)
        reference = keras.layers.Conv2D(4, 3, use_bias=False)
        reference.build((None, 6, 6, 2))
        reference.kernel.assign((kernel / largest_singular_value(kernel)).astype("float32"))
        x = rng.normal(size=(2, 6, 6, 2)).astype("float32")
        self.assertAllClose(to_numpy(layer(x)), to_numpy(reference(x)), rtol=1e-4, atol=1e-5)

    def test_training_keeps_the_stored_kernel(self):
        # A reparametrisation: a training call reads W / sigma(W) and leaves W
        # alone (Keras's wrapper overwrites W with it).
        kernel = np.array([[3.0, 0.0], [0.0, 1.0]], "float32")
        layer = ke.layers.SpectralNormalization(keras.layers.Dense(2, use_bias=False), power_iterations=20)
        layer.build((None, 2))
        layer.layer.kernel.assign(kernel)
        y = to_numpy(layer(np.eye(2, dtype="float32"), training=True))
        self.assertAllClose(y, kernel / 3.0, rtol=1e-5)
        self.assertAllClose(to_numpy(layer.layer.kernel), kernel)

    def test_only_training_updates_u(self):
        layer = ke.layers.SpectralNormalization(keras.layers.Dense(3))
        x = np.ones((2, 4), "float32")
        layer(x)
        u = to_numpy(layer.vector_u).copy()
        layer(x, training=False)
        self.assertAllClose(to_numpy(layer.vector_u), u)
        layer(x, training=True)
        self.assertNotAllClose(to_numpy(layer.vector_u), u)

    def test_gradient_flows_through_sigma(self):
        # With u converged, d(W / sigma)/dW is the derivative of W over its
        # largest singular value: checked against float64 central differences.
        rng = np.random.default_rng(2)
        kernel = rng.normal(size=(4, 3))
        x = rng.normal(size=(5, 4))
        weights = rng.normal(size=(5, 3))
        layer = ke.layers.SpectralNormalization(keras.layers.Dense(3, use_bias=False), power_iterations=100)
        layer.build((None, 4))

        def loss_of_kernel(w):
            # Map the kernel through the scope the layer itself uses.
            with keras.StatelessScope([(layer.layer.kernel, w)]):
                return keras.ops.sum(layer(x.astype("float32")) * keras.ops.convert_to_tensor(weights.astype("float32")))

        _, grad = value_and_gradient(loss_of_kernel, kernel.astype("float32"))
        expected = central_differences(lambda w: np.sum(x @ (w / largest_singular_value(w)) * weights), kernel)
        self.assertAllClose(to_numpy(grad), expected, rtol=1e-3, atol=1e-4)

    def test_fit_then_predict_uses_the_normalized_kernel(self):
        # On JAX, keras.layers.SpectralNormalization's write of W / sigma is
        # dropped by the stateless training step, and `predict` then uses the
        # raw kernel (sigma 5.7 on this fit). Here predict must equal the
        # forward pass with the trained kernel over its spectral norm, and the
        # bias must train (the scope maps every weight of the wrapped layer).
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        x = rng.random((256, 20)).astype("float32")
        y = (rng.random((256, 5)) * 10).astype("float32")
        layer = ke.layers.SpectralNormalization(
            keras.layers.Dense(5, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0)), power_iterations=5
        )
        model = keras.Sequential([keras.Input((20,)), layer])
        model.compile(keras.optimizers.Adam(0.01), "mse")
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        kernel, bias = to_numpy(layer.layer.kernel), to_numpy(layer.layer.bias)
        self.assertGreater(np.abs(bias).max(), 1e-3)
        self.assertGreater(largest_singular_value(kernel), 2.0)
        self.assertAllClose(model.predict(x, verbose=0), dense_reference(x, kernel, bias), rtol=1e-3, atol=1e-3)

    def test_zero_kernel_gives_the_bias(self):
        # sigma = 0: the guard keeps the output finite, also in float16.
        for dtype in ("float32", "mixed_float16"):
            layer = ke.layers.SpectralNormalization(
                keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer="ones", dtype=dtype), dtype=dtype
            )
            y = to_numpy(layer(np.ones((2, 4), "float32"), training=True))
            self.assertAllClose(y.astype("float32"), np.ones((2, 3)))

    def test_wrapped_layer_losses_reach_the_model(self):
        # The wrapped layer runs in a scope of its own; its activity
        # regularisation (l2: 0.01 sum(y^2), which Keras 3.14 and later
        # divide by the batch size) must still be collected.
        layer = ke.layers.SpectralNormalization(keras.layers.Dense(3, activity_regularizer="l2"))
        model = keras.Sequential([keras.Input((4,)), layer])
        x = np.random.default_rng(5).normal(size=(2, 4)).astype("float32")
        y = to_numpy(model(x)).astype("float64")
        batch = 2 if keras_at_least("3.14") else 1
        self.assertEqual(len(model.losses), 1)
        self.assertAllClose(to_numpy(model.losses[0]), 0.01 * np.sum(y**2) / batch, rtol=1e-4)

    def test_wrapped_layer_state_updates_persist(self):
        # A wrapped layer that keeps state (here an exponential moving mean of
        # its inputs, updated in training calls) assigns it inside the
        # wrapper's scope; the update must reach the stored variable on every
        # backend, in `fit` and in an eager call, and inference must leave it.
        x = np.full((32, 4), 2.0, "float32")
        layer = ke.layers.SpectralNormalization(MovingMeanDense(3, momentum=0.5))
        model = keras.Sequential([keras.Input((4,)), layer])
        model.compile("sgd", "mse")
        model.fit(x, np.zeros((32, 3), "float32"), epochs=1, batch_size=8, verbose=0)
        # Four steps from 0 toward 2 with momentum 0.5: 2 (1 - 0.5^4).
        self.assertAllClose(to_numpy(layer.layer.moving_mean), np.full(4, 2.0 * (1 - 0.5**4)), rtol=1e-6)
        model.predict(x, verbose=0)
        layer(x)
        self.assertAllClose(to_numpy(layer.layer.moving_mean), np.full(4, 2.0 * (1 - 0.5**4)), rtol=1e-6)
        layer(x, training=True)
        self.assertAllClose(to_numpy(layer.layer.moving_mean), np.full(4, 2.0 * (1 - 0.5**5)), rtol=1e-6)

    def test_saving_round_trip(self):
        model = keras.Sequential(
            [keras.Input((4,)), ke.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=3)]
        )
        model.compile("adam", "mse")
        model.fit(np.ones((8, 4)), np.ones((8, 3)), epochs=1, verbose=0)
        path = self.get_temp_dir() + "/sn.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertIsInstance(restored.layers[0], ke.layers.SpectralNormalization)
        self.assertEqual(restored.layers[0].power_iterations, 3)
        x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
        self.assertAllClose(restored.predict(x, verbose=0), model.predict(x, verbose=0))

    def test_bad_arguments(self):
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="power_iterations"):
                ke.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=bad)
        layer = ke.layers.SpectralNormalization(keras.layers.ReLU())
        with pytest.raises(ValueError, match="ReLU"):
            layer.build((None, 3))
