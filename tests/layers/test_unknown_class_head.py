"""UnknownClassHead: m-EDL's alpha_u = K + 1 appended to alpha."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase



class UnknownClassHeadTest(TestCase):
    def test_appends_k_plus_one(self):
        alpha = np.array([[2.0, 5.0, 1.0], [1.0, 1.0, 1.0]], "float32")
        self.run_layer_test(
            ke.layers.UnknownClassHead,
            {},
            input_data=alpha,
            expected_output=np.array([[2.0, 5.0, 1.0, 4.0], [1.0, 1.0, 1.0, 4.0]]),
            expected_output_dtype="float32",
            expected_num_trainable_weights=0,
            supports_masking=True,
        )


def test_needs_known_classes():
    with pytest.raises(ValueError, match="input_shape"):
        ke.layers.UnknownClassHead()(keras.KerasTensor((None, None)))


def test_on_a_vector():
    with pytest.raises(ValueError, match=r"input_shape=\(3,\)"):
        ke.layers.UnknownClassHead()(np.ones(3, np.float32))


def test_symbolic_shapes_in_a_functional_model():
    inputs = keras.Input((8,))
    alpha = ke.layers.DirichletOutput("softplus")(keras.layers.Dense(4)(inputs))
    outputs = ke.layers.UnknownClassHead()(alpha)
    assert tuple(outputs.shape) == (None, 5)


def test_mixed_precision_alpha_plus_is_float32():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("exp"),
            ke.layers.UnknownClassHead(),
        ])
        alpha = model(np.full((2, 4), 1e4, "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(alpha)))


class UnknownClassHeadBuiltAtInitTest(TestCase):
    def test_is_built_at_instantiation_as_keras_requires(self):
        self.run_layer_test(
            ke.layers.UnknownClassHead,
            {},
            input_data=np.ones((2, 3), "float32"),
            run_training_check=False,
            run_mixed_precision_check=False,
        )
