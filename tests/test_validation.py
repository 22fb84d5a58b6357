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


# One rule for constructor arguments (issue 27) ------------------------------


@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, np.float32(1.0)])
def test_check_bool_refuses_what_is_not_a_bool(value):
    with pytest.raises(ValueError, match=r"`flag` must be True or False\. Received: flag="):
        validation.check_bool(value, "flag")


def test_check_bool_accepts_python_and_numpy_bools():
    assert validation.check_bool(np.bool_(False), "flag") is False
    assert validation.check_bool(True, "flag") is True


@pytest.mark.parametrize("value", [True, 2.0, "3", None, 1.5, -1])
def test_check_int(value):
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 0\. Received: n="):
        validation.check_int(value, "n", minimum=0)
    assert validation.check_int(np.int64(3), "n", minimum=0) == 3


@pytest.mark.parametrize("value, ok", [
    (0.0, True), (1.0, False), (0.5, True), (np.float32(0.25), True), (1, False),
    (True, False), ("0.5", False), (float("nan"), False), (float("inf"), False), (None, False),
])
def test_check_number_half_open_interval(value, ok):
    if ok:
        assert validation.check_number(value, "t", 0, 1, high_open=True) == float(value)
    else:
        with pytest.raises(ValueError, match=r"`t` must be a number in \[0, 1\)\. Received: t="):
            validation.check_number(value, "t", 0, 1, high_open=True)


def test_lower_bound_tolerates_float32_rounding():
    assert validation.lower_bound(0.7) == float(np.float32(0.7)) < 0.7
    assert validation.lower_bound(0.5) == 0.5  # exact in float32
    assert validation.lower_bound(1.0) == 1.0


@pytest.mark.parametrize("build, match", [
    (lambda: ke.losses.RelaxedEDLLoss(kl="False"), "kl="),
    (lambda: ke.layers.FlexibleDirichletOutput(5, spectral_normalization="False"), "spectral_normalization="),
    (lambda: ke.layers.NormalInverseGammaOutput(epsilon=float("inf")), "epsilon="),
    (lambda: ke.layers.NormalInverseGammaOutput(units=True), "units="),
    (lambda: ke.layers.EvidenceELU(offset="1"), "offset="),
    (lambda: ke.losses.EDLLoss(from_logits="False"), "from_logits="),
    (lambda: ke.losses.EDLLoss(kl_weight="0.1"), "kl_weight="),
    (lambda: ke.losses.EvidentialRegressionLoss(regularizer="meinert", p=True), "p="),
    (lambda: ke.losses.PriorNetworkLoss(target_concentration=float("inf")), "target_concentration="),
    (lambda: ke.layers.DirichletOutput(prior_concentration="0.1"), "prior_concentration="),
    (lambda: ke.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=1.0), "power_iterations="),
    (lambda: ke.callbacks.TwoStageFit(switch_epoch=True), "switch_epoch="),
])
def test_constructors_refuse_by_name(build, match):
    """Before: a string such as 'False' is truthy and was accepted as True;
    an infinite epsilon gave infinite outputs."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match=f"Received: {match}"):
            build()


# One placement rule (issue 27) ----------------------------------------------


def _traced_ops(fn, *args):
    import tensorflow as tf

    graph = tf.function(fn).get_concrete_function(*args).graph
    return [op.type for op in graph.get_operations()]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads a TF graph")
@pytest.mark.parametrize("loss", [
    ke.losses.EDLLoss(), ke.losses.IEDLLoss(), ke.losses.RelaxedEDLLoss(prior_concentration=0.5),
    ke.losses.CorrectEvidenceLoss(), ke.losses.DAEDLLoss()], ids=lambda l: type(l).__name__)
def test_one_assert_per_loss_and_no_reductions_when_off(loss):
    """Labels and y_pred meet in the loss: one assert op. With the checks
    off, not even the reductions are built (eager backends would run them)."""
    import tensorflow as tf

    y = tf.constant([0, 1, 2, 1])
    alpha = tf.constant(np.full((4, 3), 2.0, "float32"))
    ops_on = _traced_ops(lambda a, b: loss(a, b), y, alpha)
    assert ops_on.count("Assert") == 1
    ke.config.disable_value_checks()
    try:
        ops_off = _traced_ops(lambda a, b: loss(a, b), y, alpha)
    finally:
        ke.config.enable_value_checks()
    assert ops_off.count("Assert") == 0
    assert ops_on.count("Min") - ops_off.count("Min") == 2  # labels and alpha
    assert ops_on.count("Max") - ops_off.count("Max") == 2


def test_with_checks_off_no_reduction_runs_eagerly():
    ke.config.disable_value_checks()
    try:
        assert validation.concentration_condition(np.zeros((2, 3))) is None
        assert validation.label_condition(np.array([5]), 3) is None
        # alpha below 1 would fail the check: off, the loss just computes.
        ke.losses.EDLLoss()(np.array([1]), np.full((1, 3), 0.5))
    finally:
        ke.config.enable_value_checks()


def test_combined_check_names_the_failing_argument():
    with pytest.raises(ValueError, match=r"`y_pred` must hold finite Dirichlet.*min=0\.5"):
        ke.losses.EDLLoss()(np.array([0, 1]), np.array([[2.0, 0.5], [2.0, 2.0]]))
    with pytest.raises(ValueError, match=r"Integer labels.*max=3"):
        ke.losses.EDLLoss()(np.array([0, 3]), np.array([[2.0, 1.5], [2.0, 2.0]]))


@pytest.mark.parametrize("head, inputs", [
    (lambda: ke.layers.DirichletOutput(), [[1.0, np.nan]]),
    (lambda: ke.layers.FlexibleDirichletOutput(3, spectral_normalization=False), [[1.0, np.nan]]),
    (lambda: ke.layers.NormalInverseGammaOutput(), [[np.inf, 1.0]]),
], ids=["dirichlet", "flexible", "nig"])
def test_every_head_checks_its_input(head, inputs):
    with pytest.raises(ValueError, match="must be finite"):
        head()(np.array(inputs, "float32"))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads a TF graph")
@pytest.mark.parametrize("risk", ["mse", "log"])
def test_one_assert_for_the_logits_loss(risk):
    import tensorflow as tf

    loss = ke.losses.EDLLoss(from_logits=True, risk=risk)
    y = tf.constant([0, 1, 2, 1])
    z = tf.constant(np.zeros((4, 3), "float32"))
    assert _traced_ops(lambda a, b: loss(a, b), y, z).count("Assert") == 1
