"""Value checks inside a compiled step (label range, alpha >= 1 and finite).

They raise eagerly, as a TensorFlow `InvalidArgumentError` in graph mode, and
through a host callback under JAX; TensorFlow XLA drops assert ops, so there
only the shape checks run (see keras_evidential/validation.py).
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential import validation


LABEL_ERROR = r"Integer labels must be class indices in \[0, 3\)"


def _fit(model, loss, x, y, **compile_kwargs):
    model.compile(optimizer="sgd", loss=loss, **compile_kwargs)
    return model.fit(x, y, batch_size=4, epochs=1, verbose=0)


def _step_error(jit_compile):
    """What a failed value check raises inside `fit` on this backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        if jit_compile:
            pytest.skip("XLA drops assert ops: no value checks under jit_compile")
        import tensorflow as tf

        return tf.errors.InvalidArgumentError  # graph mode
    if backend == "jax" and jit_compile:
        import jax

        return jax.errors.JaxRuntimeError  # raised by the host callback
    return ValueError  # eager: JAX without jit, PyTorch


@pytest.mark.parametrize("jit_compile", [False, True])
def test_out_of_range_label_fails_the_first_compiled_batch(jit_compile):
    expected = _step_error(jit_compile)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3), ke.layers.DirichletOutput()]
    )
    x = np.ones((8, 2), np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 3, 0])  # the bad label is in batch 2
    # Graph-mode asserts print each value in brackets: "max=] [3]".
    with pytest.raises(expected, match=rf"{LABEL_ERROR}.*max=\W*3"):
        _fit(model, ke.losses.EDLLoss(), x, y, jit_compile=jit_compile)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_logits_passed_as_alpha_fail_the_first_compiled_batch(jit_compile):
    expected = _step_error(jit_compile)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(3, bias_initializer=keras.initializers.Constant(-5.0)),
        ]
    )
    x = np.zeros((4, 2), np.float32)  # logits = bias = -5
    with pytest.raises(expected, match=r"alpha >= 1.*from_logits.*min=\W*-5"):
        _fit(model, ke.losses.EDLLoss(), x, np.zeros(4), jit_compile=jit_compile)


def test_an_empty_batch_passes_the_value_checks():
    # A replica may get no samples of a short last batch under tf.distribute.
    alpha = np.ones((0, 3), "float32")
    labels = np.zeros((0,), "int32")
    validation.check_concentrations(alpha)
    validation.check_labels(labels, 3)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(
            input_signature=[
                tf.TensorSpec((None, 3), "float32"),
                tf.TensorSpec((None,), "int32"),
            ]
        )
        def checks(alpha, labels):
            validation.check_concentrations(alpha)
            validation.check_labels(labels, 3)
            return tf.constant(True)

        assert checks(alpha, labels).numpy()
        with pytest.raises(tf.errors.InvalidArgumentError, match="alpha >= 1"):
            checks(np.zeros((2, 3), "float32"), labels[:0])



@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_check_finite_names_the_argument(value):
    with pytest.raises(ValueError, match="logits must be finite"):
        validation.check_finite(np.array([[0.0, value]], "float32"), "logits")


def test_valid_values_pass():
    validation.check_concentrations(np.array([[1.0, 3.5]], "float32"))
    validation.check_labels(np.array([0, 2]), 3)
    validation.check_finite(np.array([0.0, -1e30]), "logits")


@pytest.fixture
def value_checks_disabled():
    ke.config.disable_value_checks()
    try:
        yield
    finally:
        ke.config.enable_value_checks()


def test_disabled_value_checks_let_bad_values_through(value_checks_disabled):
    validation.check_labels(np.array([0, 7]), 3)
    validation.check_concentrations(np.array([[0.5, np.nan]], "float32"))
    validation.check_finite(np.array([np.inf]), "logits")
    ke.config.enable_value_checks()
    with pytest.raises(ValueError, match=LABEL_ERROR):
        validation.check_labels(np.array([0, 7]), 3)


def test_disabled_value_checks_leave_no_host_callback_in_a_jax_step(value_checks_disabled):
    # Under JAX `jit` each check is a host callback, which stalls an
    # accelerator in every step: disabling the checks must remove them.
    if keras.backend.backend() != "jax":
        pytest.skip("host callbacks are how the checks run under JAX jit")
    import jax

    args = (np.array([0, 1]), np.full((2, 3), 2.0, "float32"))

    def traced_loss():
        # A new function each time: JAX caches the traces of one function.
        loss = ke.losses.EDLLoss()
        return str(jax.make_jaxpr(lambda y, alpha: loss(y, alpha))(*args))

    assert "callback" not in traced_loss()
    ke.config.enable_value_checks()
    assert "callback" in traced_loss()
