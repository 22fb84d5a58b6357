"""`.keras` files: round trips of every layer, loss state and compiled model,
and `keras_evidential.saving.load_model`'s errors.

Loaded objects are checked against the originals and, where a formula is
involved, against the NumPy reference (tests/reference.py).
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from keras.src.saving import object_registration

import keras_evidential as ke
from keras_evidential import metrics as ke_metrics
from keras_evidential.saving import load_model
from keras_evidential.saving import saved_custom_objects
from tests import reference
from tests.models import KNOWN
from tests.models import digits
from tests.models import train_medl

ROOT = Path(__file__).resolve().parents[1]


def round_trip(model, tmp_path, name="model.keras"):
    model.save(tmp_path / name)
    return keras.saving.load_model(tmp_path / name)


def test_every_layer_round_trips_with_its_arguments(tmp_path):
    inputs = keras.Input((6,), name="x")
    logits = keras.layers.Dense(3, name="logits")(inputs)
    evidence_layers = [
        ke.layers.EvidenceReLU(name="relu"),
        ke.layers.EvidenceSoftplus(name="softplus"),
        ke.layers.EvidenceExp(clip_value=2.0, name="exp"),
        ke.layers.EvidenceELU(offset=2.5, name="elu"),
    ]
    alpha = ke.layers.DirichletOutput(
        evidence=ke.layers.EvidenceExp(clip_value=3.0), name="dirichlet"
    )(logits)
    outputs = {layer.name: layer(logits) for layer in evidence_layers}
    outputs["alpha_plus"] = ke.layers.UnknownClassHead(name="unknown")(alpha)
    z_u = keras.layers.Dense(1, name="z_u")(inputs)
    outputs["learned"] = ke.layers.LearnedUnknownClassHead(
        evidence=ke.layers.EvidenceExp(clip_value=1.0), name="learned"
    )([alpha, z_u])
    model = keras.Model(inputs, outputs)

    loaded = round_trip(model, tmp_path)
    for layer in model.layers:
        twin = loaded.get_layer(layer.name)
        assert type(twin) is type(layer)
        assert twin.get_config() == layer.get_config()
    assert loaded.get_layer("dirichlet").evidence.clip_value == 3.0

    # Large logits, so that a lost clip value or offset shows.
    x = np.random.default_rng(0).normal(0, 3, (16, 6)).astype("float32")
    z = np.asarray(model.get_layer("logits")(x), np.float64)
    result = {
        k: np.asarray(v, np.float64) for k, v in loaded.predict(x, verbose=0).items()
    }
    np.testing.assert_allclose(result["relu"], np.maximum(z, 0), atol=1e-5)
    np.testing.assert_allclose(result["softplus"], np.logaddexp(0, z), rtol=1e-5)
    np.testing.assert_allclose(result["exp"], np.exp(np.clip(z, -2, 2)), rtol=1e-5)
    elu = np.where(z > 0, z, np.expm1(z))
    np.testing.assert_allclose(result["elu"], elu + 2.5, rtol=1e-5, atol=1e-6)
    alpha_ref = np.exp(np.clip(z, -3, 3)) + 1
    np.testing.assert_allclose(
        result["alpha_plus"],
        np.concatenate([alpha_ref, np.full((16, 1), 4.0)], axis=1),
        rtol=1e-5,
    )
    z_u = np.asarray(model.get_layer("z_u")(x), np.float64)
    np.testing.assert_allclose(
        result["learned"],
        np.concatenate([alpha_ref, 4.0 + np.exp(np.clip(z_u, -1, 1))], axis=1),
        rtol=1e-5,
    )


def metric_instances():
    return [
        ke_metrics.KnownClassAccuracy(unknown_class=True, name="known_acc"),
        ke_metrics.UnknownClassRecall(unknown_class=True, name="u_recall"),
        ke_metrics.UnknownClassPrecision(unknown_class=True, name="u_precision"),
        ke_metrics.SelectiveAccuracy(
            unknown_class=True, threshold=0.6, name="selective"
        ),
        ke_metrics.RejectionRate(unknown_class=True, threshold=0.6, name="rejected"),
        ke_metrics.ExpectedCalibrationError(num_bins=7, unknown_class=True, name="ece"),
        ke_metrics.UnknownClassAUROC(
            score="vacuity", unknown_class=True, num_thresholds=50, name="u_auroc"
        ),
        ke_metrics.MisclassificationAUROC(
            score="least_confidence", unknown_class=True, name="mis_auroc"
        ),
    ]


def test_compiled_medl_model_round_trips(tmp_path):
    model = train_medl(metrics=metric_instances())
    _, (x, y) = digits()
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    loaded = round_trip(model, tmp_path)

    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == pytest.approx(before[key], rel=1e-6, abs=1e-7), key

    # The loss against the paper's formula, over K + 1 classes.
    alpha = np.asarray(loaded.predict(x, verbose=0), np.float64)
    expected = reference.edl_loss(reference.one_hot(y, KNOWN + 1), alpha, "mse", 0.1)
    assert after["loss"] == pytest.approx(expected, rel=1e-4)
    # Open-set accuracy of the known classes: a true-k sample predicted k.
    predicted = alpha.argmax(-1)
    known = y < KNOWN
    assert after["known_acc"] == pytest.approx(
        np.mean(predicted[known] == y[known]), abs=1e-6
    )


def _tedl_model():
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((64,), name="pixels"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(KNOWN),
        ]
    )
    model.compile(
        keras.optimizers.Adam(1e-2),
        ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(offset=1.0), stage=1
        ),
    )
    return model


def _tedl_callbacks():
    return [ke.callbacks.TwoStageFit(2), ke.callbacks.KLAnnealing(0.25)]


def test_tedl_model_round_trips_mid_training(tmp_path):
    (x, y), _ = digits()
    x, y = x[y < KNOWN][:320], y[y < KNOWN][:320]
    model = _tedl_model()
    fit = dict(batch_size=64, shuffle=False, verbose=0)
    model.fit(x, y, epochs=4, callbacks=_tedl_callbacks(), **fit)
    # Epoch 3 trained stage 2 (EDL) with kl_weight = 0.25 * (3 - 2).
    assert int(model.loss.stage.numpy()) == 2
    assert float(model.loss.kl_weight.numpy()) == 0.25

    loaded = round_trip(model, tmp_path, "tedl.keras")
    assert int(loaded.loss.stage.numpy()) == 2
    assert float(loaded.loss.kl_weight.numpy()) == 0.25
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    loss = loaded.evaluate(x, y, verbose=0)
    assert loss == model.evaluate(x, y, verbose=0)
    z = np.asarray(loaded.predict(x, verbose=0), np.float64)
    alpha = np.where(z > 0, z, np.expm1(z)) + 2.0
    expected = reference.edl_loss(reference.one_hot(y, KNOWN), alpha, "mse", 0.25)
    assert loss == pytest.approx(expected, rel=1e-5)

    # Training resumes identically: same optimizer state, stage and schedule.
    history = [
        m.fit(x, y, initial_epoch=4, epochs=6, callbacks=_tedl_callbacks(), **fit)
        for m in (model, loaded)
    ]
    assert history[0].history["kl_weight"] == [0.5, 0.75]
    assert history[1].history["kl_weight"] == [0.5, 0.75]
    np.testing.assert_allclose(
        history[1].history["loss"], history[0].history["loss"], rtol=1e-6
    )
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


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



@pytest.fixture
def unregistered_project_evidence(monkeypatch):
    """This process, as one that never imported the module of ProjectEvidence."""
    name = keras.saving.get_registered_name(ProjectEvidence)
    monkeypatch.delitem(object_registration.GLOBAL_CUSTOM_OBJECTS, name)
    monkeypatch.delitem(object_registration.GLOBAL_CUSTOM_NAMES, ProjectEvidence)


def test_load_model_restores_the_compiled_loss(saved_model_path):
    model = load_model(saved_model_path)
    assert isinstance(model.loss, ke.losses.EDLLoss)
    assert float(keras.ops.convert_to_numpy(model.loss.kl_weight)) == 0.25


def test_saved_custom_objects_lists_the_registered_names(project_model_path):
    assert saved_custom_objects(project_model_path) == [
        "kee_test_project>ProjectEvidence",
        "keras_evidential>DirichletOutput",
        "keras_evidential>EDLLoss",
        "keras_evidential>EvidenceReLU",  # the loss's (unused) evidence
    ]


def test_load_model_names_an_unregistered_custom_object_in_process(
    project_model_path, unregistered_project_evidence
):
    with pytest.raises(ValueError) as error:
        load_model(project_model_path)
    message = str(error.value)
    assert "does not know: kee_test_project>ProjectEvidence" in message
    assert "custom_objects={'kee_test_project>ProjectEvidence': ProjectEvidence}" in message
    assert "Received: custom_objects=None" in message
    # The class under its registered name is enough.
    model = load_model(
        project_model_path,
        custom_objects={"kee_test_project>ProjectEvidence": ProjectEvidence},
    )
    assert isinstance(model.layers[-1].evidence, ProjectEvidence)


def test_the_custom_objects_the_error_suggests_load_the_model(
    project_model_path, unregistered_project_evidence
):
    """Before: the message suggested the short class name, which Keras does
    not look up for a class registered under a package."""
    with pytest.raises(ValueError) as error:
        load_model(project_model_path)
    suggestion = re.search(r"custom_objects=\{'([^']+)': ProjectEvidence\}", str(error.value))
    model = load_model(project_model_path, custom_objects={suggestion.group(1): ProjectEvidence})
    assert isinstance(model.layers[-1].evidence, ProjectEvidence)


def test_load_model_explains_a_wrong_custom_object_in_process(
    project_model_path, unregistered_project_evidence
):
    with pytest.raises(ValueError) as error:
        load_model(project_model_path, custom_objects={"ProjectEvidence": keras.layers.Dense})
    message = str(error.value)
    assert "could not be rebuilt from its saved config" in message
    assert "kee_test_project>ProjectEvidence" in message
    assert "Received: custom_objects=['ProjectEvidence']" in message


def test_missing_and_corrupt_files_are_named(tmp_path, saved_model_path):
    with pytest.raises(FileNotFoundError, match="filepath="):
        load_model(tmp_path / "absent.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(Path(saved_model_path).read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_model(truncated)
    import zipfile

    no_config = tmp_path / "empty.keras"
    with zipfile.ZipFile(no_config, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="no config.json"):
        load_model(no_config)


# Fresh interpreters: whether loading works depends on what the process imported.


@pytest.mark.large
def test_saved_model_loads_after_importing_the_package(saved_model_path):
    assert "LOADED EDLLoss 0.25" in _load_in_fresh_process(saved_model_path, "import")


@pytest.mark.large
def test_saved_model_without_the_package_names_the_missing_class(saved_model_path):
    out = _load_in_fresh_process(saved_model_path, "no-import")
    assert out.startswith("ERROR")
    assert "Could not locate class 'DirichletOutput'" in out
    assert "keras_evidential>DirichletOutput" in out


@pytest.mark.large
def test_load_model_registers_the_package_classes(saved_model_path):
    assert "LOADED EDLLoss 0.25" in _load_in_fresh_process(saved_model_path, "wrapper")


@pytest.mark.large
def test_load_model_names_an_unregistered_custom_object(project_model_path):
    out = _load_in_fresh_process(project_model_path, "wrapper")
    assert out.startswith("ERROR ValueError")
    assert "does not know: kee_test_project>ProjectEvidence" in out
    assert "custom_objects={'kee_test_project>ProjectEvidence': ProjectEvidence}" in out
    assert "Received: custom_objects=None" in out


@pytest.mark.large
def test_load_model_explains_a_wrong_custom_object(project_model_path):
    out = _load_in_fresh_process(project_model_path, "wrapper", "wrong")
    assert out.startswith("ERROR ValueError")
    assert "could not be rebuilt from its saved config" in out
    assert "kee_test_project>ProjectEvidence" in out
    assert "Received: custom_objects=['ProjectEvidence']" in out
