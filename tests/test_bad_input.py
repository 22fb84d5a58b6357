"""Bad input fails at once with an error naming the argument and its value.

Value checks inside a compiled step (label range, alpha >= 1 and finite) raise
eagerly, as a TensorFlow `InvalidArgumentError` in graph mode, and through a
host callback under JAX; TensorFlow XLA drops assert ops, so there only the
shape checks run (see keras_evidential/validation.py).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential import validation

ROOT = Path(__file__).resolve().parents[1]
ALPHA = np.array([[2.0, 1.0, 3.0], [1.0, 5.0, 1.0]], np.float32)
LABEL_ERROR = r"Integer labels must be class indices in \[0, 3\)"


@pytest.mark.parametrize(
    "labels, received",
    [([0, -1], "min=-1"), ([0, 3], "max=3"), ([7, 1], "max=7")],
)
def test_out_of_range_labels_name_the_value(labels, received):
    with pytest.raises(ValueError, match=rf"{LABEL_ERROR}.*y_true.*{received}"):
        ke.losses.EDLLoss()(np.array(labels), ALPHA)


def test_unknown_class_label_is_k_and_k_plus_one_is_rejected():
    alpha = ke.layers.UnknownClassHead()(ALPHA)  # K + 1 = 4 outputs
    loss = ke.losses.EDLLoss()
    assert np.isfinite(keras.ops.convert_to_numpy(loss(np.array([3, 0]), alpha)))
    with pytest.raises(ValueError, match=r"\[0, 4\).*max=4"):
        loss(np.array([4, 0]), alpha)


def test_one_hot_labels_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 4\)"):
        ke.losses.EDLLoss()(np.eye(4)[[0, 1]], ALPHA)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_prediction_of_the_wrong_rank(shape):
    y_pred = np.full(shape[:1], 2.0, np.float32)  # rank 1: no class axis
    labels = np.zeros(shape, np.int64)
    with pytest.raises(ValueError, match=r"y_pred.shape=\(\d+,\)"):
        ke.losses.EDLLoss()(labels, y_pred)


def test_unknown_class_head_on_a_vector():
    with pytest.raises(ValueError, match=r"input_shape=\(3,\)"):
        ke.layers.UnknownClassHead()(np.ones(3, np.float32))


@pytest.mark.parametrize(
    "value, message",
    [(0.5, r"alpha >= 1.*min=0.5"), (np.nan, "finite"), (np.inf, "finite")],
)
def test_invalid_alpha_names_y_pred(value, message):
    alpha = ALPHA.copy()
    alpha[1, 1] = value
    with pytest.raises(ValueError, match=rf"`y_pred` .*{message}"):
        ke.losses.EDLLoss()(np.array([0, 1]), alpha)


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


@pytest.mark.parametrize("evidence", ["sigmoid", "ReLu6", ""])
def test_unknown_evidence_name(evidence):
    with pytest.raises(ValueError, match=rf"Received: evidence={evidence!r}"):
        ke.layers.DirichletOutput(evidence=evidence)
    with pytest.raises(ValueError, match=rf"Received: evidence={evidence!r}"):
        ke.losses.EDLLoss(from_logits=True, evidence=evidence)


@pytest.mark.parametrize("kl_weight", [-0.1, float("nan"), float("inf"), "0.1x", None])
def test_invalid_kl_weight(kl_weight):
    with pytest.raises(ValueError, match=r"Received: kl_weight="):
        ke.losses.EDLLoss(kl_weight=kl_weight)


@pytest.mark.parametrize("argument", ["increment", "max_weight"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), "fast"])
def test_invalid_annealing_arguments(argument, value):
    with pytest.raises(ValueError, match=rf"Received: {argument}="):
        ke.callbacks.KLAnnealing(**{argument: value})


@pytest.mark.parametrize("switch_epoch", [-1, 1.5, "3", True, None])
def test_invalid_switch_epoch(switch_epoch):
    with pytest.raises(ValueError, match=r"Received: switch_epoch="):
        ke.callbacks.TwoStageFit(switch_epoch=switch_epoch)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"risk": "hinge"}, "risk='hinge'"),
        ({"stage": 3}, "stage=3"),
        ({"stage": 1}, "stage=1, from_logits=False"),
    ],
)
def test_invalid_loss_arguments(kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        ke.losses.EDLLoss(**kwargs)


@pytest.mark.parametrize(
    "layer, kwargs, received",
    [
        (ke.layers.EvidenceExp, {"clip_value": 0.0}, "clip_value=0.0"),
        (ke.layers.EvidenceELU, {"offset": 0.5}, "offset=0.5"),
    ],
)
def test_invalid_evidence_arguments(layer, kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        layer(**kwargs)


def test_two_stage_fit_with_a_loss_that_cannot_switch():
    with pytest.raises(ValueError, match="from_logits=False"):
        _fit_with_callbacks(ke.losses.EDLLoss(), [ke.callbacks.TwoStageFit(1)])


@pytest.mark.parametrize(
    "callback", [ke.callbacks.TwoStageFit(1), ke.callbacks.KLAnnealing()]
)
def test_callbacks_without_an_edl_loss(callback):
    with pytest.raises(ValueError, match="needs a model compiled with"):
        _fit_with_callbacks("sparse_categorical_crossentropy", [callback])


def _fit_with_callbacks(loss, callbacks):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=loss)
    model.fit(np.ones((4, 2)), np.zeros(4), epochs=1, verbose=0, callbacks=callbacks)


LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    import keras
    if sys.argv[2] == "import":
        import keras_evidential
    if sys.argv[2] == "wrapper":
        from keras_evidential.saving import load_model
    else:
        load_model = keras.saving.load_model
    custom_objects = None
    if sys.argv[3:] == ["wrong"]:
        custom_objects = {"ProjectEvidence": keras.layers.Dense}
    try:
        model = load_model(sys.argv[1], custom_objects=custom_objects)
    except Exception as error:
        print("ERROR", type(error).__name__, error)
    else:
        print("LOADED", type(model.loss).__name__, model.loss.kl_weight.numpy())
    """
)


@pytest.fixture(scope="module")
def saved_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "medl.keras"
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput(ke.layers.EvidenceELU()),
            ke.layers.UnknownClassHead(),
        ]
    )
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.25))
    model.save(path)
    return path


@keras.saving.register_keras_serializable(package="kee_test_project")
class ProjectEvidence(ke.layers.EvidenceELU):
    """A user's own evidence layer, registered in the user's package."""


@pytest.fixture(scope="module")
def project_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "project.keras"
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput(ProjectEvidence()),
        ]
    )
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss())
    model.save(path)
    return path


def _load_in_fresh_process(path, mode, *extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(path), mode, *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    return result.stdout


def test_saved_model_loads_after_importing_the_package(saved_model_path):
    assert "LOADED EDLLoss 0.25" in _load_in_fresh_process(saved_model_path, "import")


def test_saved_model_without_the_package_names_the_missing_class(saved_model_path):
    out = _load_in_fresh_process(saved_model_path, "no-import")
    assert out.startswith("ERROR")
    assert "Could not locate class 'DirichletOutput'" in out
    assert "keras_evidential>DirichletOutput" in out


def test_load_model_registers_the_package_classes(saved_model_path):
    assert "LOADED EDLLoss 0.25" in _load_in_fresh_process(saved_model_path, "wrapper")


def test_load_model_names_an_unregistered_custom_object(project_model_path):
    out = _load_in_fresh_process(project_model_path, "wrapper")
    assert out.startswith("ERROR ValueError")
    assert "does not know: kee_test_project>ProjectEvidence" in out
    assert "custom_objects={'ProjectEvidence': ProjectEvidence}" in out
    assert "Received: custom_objects=None" in out


def test_load_model_explains_a_wrong_custom_object(project_model_path):
    out = _load_in_fresh_process(project_model_path, "wrapper", "wrong")
    assert out.startswith("ERROR ValueError")
    assert "could not be rebuilt from its saved config" in out
    assert "kee_test_project>ProjectEvidence" in out
    assert "Received: custom_objects=['ProjectEvidence']" in out


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
