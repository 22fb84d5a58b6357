"""Cases a new user hit (issue 19): each failed before its fix.

Silent wrong results become correct results or clear errors; misleading
messages say what is wrong.
"""

import os

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference

BACKEND = keras.backend.backend()
K = 5


def blobs(n=256, seed=0, k=K, d=8):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    centres = rng.normal(0, 3, (k, d))
    return (centres[labels] + rng.normal(size=(n, d))).astype("float32"), labels


def dirichlet_model(k=K, d=8, unknown=False, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((d,)), keras.layers.Dense(16, activation="relu"),
              keras.layers.Dense(k), ke.layers.DirichletOutput("relu")]
    if unknown:
        layers.append(ke.layers.UnknownClassHead())
    return keras.Sequential(layers)


# 1. NaN in the input features -------------------------------------------


def test_nan_feature_fails_training_instead_of_killing_the_model():
    """Before: ReLU(NaN) = 0 in TF's fused CPU kernels, alpha = 1 passed the
    check, the weights turned NaN and every input then got vacuity 1.
    The issue's model: `Dense(10) -> DirichletOutput("relu")`."""
    x, y = blobs()
    x[17, 3] = np.nan
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(K),
                              ke.layers.DirichletOutput("relu")])
    model.compile("adam", ke.losses.EDLLoss(kl_weight=0.1))
    with pytest.raises(Exception, match="NaN or inf"):
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)


@pytest.mark.parametrize("catcher", ["FiniteWeightsCheck", "AssertFinite"])
def test_nan_swallowed_by_a_hidden_relu_is_still_caught(catcher):
    """A hidden ReLU (fused by TensorFlow) turns the NaN into 0 there, but
    the NaN gradient poisons the weights. The loss cannot see the features
    (issue 27: no frame walking), so the catchers are a callback that checks
    the weights and a layer that checks the input; either fails training
    instead of leaving a model that answers vacuity 1."""
    x, y = blobs()
    x[17, 3] = np.nan
    model = dirichlet_model()
    callbacks = []
    if catcher == "AssertFinite":
        model = keras.Sequential([keras.Input((8,)), ke.layers.AssertFinite()] + model.layers)
    else:
        callbacks = [ke.callbacks.FiniteWeightsCheck()]
    model.compile("adam", ke.losses.EDLLoss(kl_weight=0.1))
    with pytest.raises(Exception, match="NaN or inf|not finite"):
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=callbacks)


def test_what_catches_nan_features_without_a_catcher():
    """The measurement behind docs/core.md: with no catcher, TensorFlow's
    oneDNN ReLU(NaN) = 0 lets `fit` finish with NaN first-layer weights and
    a finite loss (so `TerminateOnNaN` stops nothing); on JAX and PyTorch
    ReLU(NaN) = NaN reaches the logits and the head's input check fails the
    step."""
    x, y = blobs()
    x[17, 3] = np.nan
    model = dirichlet_model()
    model.compile("adam", ke.losses.EDLLoss(kl_weight=0.1))
    fit = lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
    if BACKEND == "tensorflow":
        history = fit()
        assert np.isfinite(history.history["loss"][0])
        assert not np.all(np.isfinite(model.layers[0].kernel.numpy()))
    else:
        with pytest.raises(Exception, match="NaN or inf"):
            fit()


def test_nan_logits_fail_the_from_logits_loss():
    x, y = blobs()
    x[3, 0] = np.inf
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(K)])
    model.compile("adam", ke.losses.EDLLoss(from_logits=True))
    with pytest.raises(Exception, match="NaN or inf"):
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)


# 2. A nested m-EDL head ---------------------------------------------------


def nested_and_flat_medl():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8,))
    base = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu")])
    head = keras.Sequential([keras.Input((16,)), keras.layers.Dense(K),
                             ke.layers.DirichletOutput(), ke.layers.UnknownClassHead()])
    nested = keras.Model(inputs, head(base(inputs)))
    flat_inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="relu")(flat_inputs)
    logits = keras.layers.Dense(K)(hidden)
    flat = keras.Model(
        flat_inputs, ke.layers.UnknownClassHead()(ke.layers.DirichletOutput()(logits))
    )
    flat.set_weights(nested.get_weights())
    return nested, flat


def test_nested_unknown_class_head_is_detected():
    nested, _ = nested_and_flat_medl()
    kind = ke.model_kind(nested)
    assert (kind.output, kind.unknown_class, kind.num_known_classes) == ("alpha", True, K)


def test_nested_and_flat_models_evaluate_alike():
    nested, flat = nested_and_flat_medl()
    x, y = blobs(seed=4)
    y = np.where(y == 0, K, y)  # class 0 plays the unknown class
    a = ke.evaluation.evaluate_uncertainty(nested, x, y).metrics
    b = ke.evaluation.evaluate_uncertainty(flat, x, y).metrics
    assert set(a) == set(b)
    for name in a:
        assert a[name] == pytest.approx(b[name], nan_ok=True), name
    assert np.isfinite(a["unknown_recall"])


@pytest.mark.skipif(BACKEND != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_nested_medl_exports_the_unknown_label(tmp_path):
    nested, _ = nested_and_flat_medl()
    path = ke.export.export_saved_model(nested, tmp_path)
    import tensorflow as tf

    serve = tf.saved_model.load(path).signatures["serving_default"]
    x, _ = blobs(n=32, seed=5)
    out = serve(tf.constant(x))
    alpha = nested.predict(x, verbose=0).astype("float64")
    np.testing.assert_allclose(out["uncertainty"], K / alpha[:, :K].sum(-1), rtol=1e-5)
    labels = [v.decode() for v in out["class_label"].numpy()]
    expected = np.where(alpha.argmax(-1) == K, "unknown", alpha.argmax(-1).astype(str))
    assert labels == expected.tolist()


# 3. A second fit after TwoStageFit ----------------------------------------


def test_second_fit_anneals_from_its_own_first_epoch():
    x, y = blobs(n=64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(K)])
    model.compile("adam", ke.losses.EDLLoss(from_logits=True, evidence="elu"))
    first = model.fit(x, y, epochs=4, verbose=0, callbacks=[
        ke.callbacks.TwoStageFit(3), ke.callbacks.KLAnnealing(0.1)])
    np.testing.assert_allclose(first.history["kl_weight"], [0, 0, 0, 0], atol=1e-7)
    second = model.fit(x, y, epochs=3, verbose=0, callbacks=[ke.callbacks.KLAnnealing(0.1)])
    np.testing.assert_allclose(second.history["kl_weight"], [0, 0.1, 0.2], rtol=1e-6)


# 4. and 5. What callbacks monitor and log ---------------------------------


def test_bayes_risk_metric_is_the_loss_without_kl():
    x, y = blobs(n=64)
    model = dirichlet_model()
    model.compile(keras.optimizers.SGD(0.0), ke.losses.EDLLoss(kl_weight=0.5),
                  metrics=[ke.metrics.BayesRisk()])
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, validation_data=(x, y))
    alpha = model.predict(x, verbose=0).astype("float64")
    risk = reference.mse_risk(reference.one_hot(y, K), alpha).mean()
    np.testing.assert_allclose(history.history["val_risk"], [risk, risk], rtol=1e-5)
    assert history.history["val_loss"][0] > history.history["val_risk"][0]


@pytest.mark.parametrize("callback", [
    ke.callbacks.KLAnnealing, ke.callbacks.TwoStageFit,
    ke.callbacks.RegularizerSchedule, ke.callbacks.CoefficientSchedule])
def test_schedules_state_the_val_loss_limitation(callback):
    """Keras gives a callback no view of the others, so a `val_loss`
    monitor beside a schedule cannot be warned about without walking the
    call stack (issue 27): the docstring says it, with the monitor to use."""
    doc = " ".join(callback.__doc__.split())
    assert "val_loss" in doc and ("val_risk" in doc or "val_nll" in doc)
    assert "cannot be warned about" in doc or "Monitor a `NIG*`" in doc


@pytest.mark.parametrize("first", ["csv", "tensorboard"])
def test_loss_coefficient_reaches_a_logger_listed_first(tmp_path, first):
    """Before: a logger listed before KLAnnealing missed `kl_weight`. As a
    compiled metric, Keras logs it for every callback."""
    x, y = blobs(n=64)
    model = dirichlet_model()
    loss = ke.losses.EDLLoss()
    model.compile("adam", loss, metrics=[ke.metrics.LossCoefficient(loss)])
    csv = tmp_path / "log.csv"
    if first == "csv":
        logger = keras.callbacks.CSVLogger(str(csv))
    else:
        pytest.importorskip("tensorboard")
        if BACKEND != "tensorflow":
            pytest.skip("the event file is read with TensorFlow")
        logger = keras.callbacks.TensorBoard(str(tmp_path / "tb"))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[logger, ke.callbacks.KLAnnealing(0.25)])
    if first == "csv":
        import csv as csv_lib

        rows = list(csv_lib.DictReader(open(csv)))
        np.testing.assert_allclose([float(r["kl_weight"]) for r in rows], [0, 0.25, 0.5])
    else:
        import glob

        import tensorflow as tf

        values = []
        for path in glob.glob(str(tmp_path / "tb" / "train" / "*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    if value.tag == "epoch_kl_weight":
                        values.append(float(tf.make_ndarray(value.tensor)))
        np.testing.assert_allclose(values, [0, 0.25, 0.5])


# 6. Misconfigurations -------------------------------------------------------


@pytest.mark.parametrize("unknown", [False, True], ids=["dirichlet_output", "unknown_class"])
@pytest.mark.parametrize("where", ["KLAnnealing", "FiniteWeightsCheck", "model_kind"])
def test_from_logits_on_an_alpha_model_is_refused(unknown, where):
    """The loss sees no model, so the refusal happens where model and loss
    meet: a callback's start of `fit`, or `model_kind` (export, evaluation)."""
    x, y = blobs(n=64)
    model = dirichlet_model(unknown=unknown)
    model.compile("adam", ke.losses.EDLLoss(from_logits=True))
    with pytest.raises(ValueError, match="from_logits=True"):
        if where == "model_kind":
            ke.model_kind(model)
        else:
            callback = getattr(ke.callbacks, where)()
            model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])


# 7. A softmax model exported as alpha --------------------------------------


@pytest.mark.skipif(BACKEND != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_softmax_model_is_not_exported_as_alpha(tmp_path):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="alpha >= 1"):
        ke.export.export_saved_model(model, tmp_path, output="alpha")
    assert not os.path.exists(tmp_path / "1")


# 8. Uncertainty measures on NumPy input, every backend ---------------------


@pytest.mark.parametrize("name", ["expected_entropy", "mutual_information",
                                  "differential_entropy", "total_entropy"])
def test_measures_take_numpy_input(name):
    alpha = np.array([[2.0, 1.0, 3.0], [1.0, 1.0, 1.0]], "float32")
    from scipy.special import digamma, gammaln

    s = alpha.sum(-1, keepdims=True).astype("float64")
    p = alpha / s
    total = -(p * np.log(p)).sum(-1)
    expected_h = -(p * (digamma(alpha + 1.0) - digamma(s + 1.0))).sum(-1)
    expected = {
        "total_entropy": total,
        "expected_entropy": expected_h,
        "mutual_information": total - expected_h,
        "differential_entropy": gammaln(alpha).sum(-1) - gammaln(s[:, 0])
        + (s[:, 0] - 3) * digamma(s[:, 0]) - ((alpha - 1) * digamma(alpha)).sum(-1),
    }[name]
    got = keras.ops.convert_to_numpy(getattr(ke.dirichlet, name)(alpha))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# 9. Label K on a K-output model ---------------------------------------------


def test_label_k_on_a_plain_edl_model_points_to_open_set_evaluation():
    alpha = np.full((4, K), 2.0, "float32")
    labels = np.array([0, 1, 2, K])
    with pytest.raises(ValueError) as error:
        ke.losses.EDLLoss()(labels, alpha)
    message = str(error.value)
    assert "evaluate_uncertainty" in message
    assert "with `UnknownClassHead`, index" not in message
    # The documented way: open-set metrics take label K for a K-output model.
    # vacuity 5 / 10 = 0.5 > 0.4: every sample is predicted "unknown".
    metric = ke.metrics.UnknownClassRecall(threshold=0.4)
    metric.update_state(labels, alpha)
    assert float(metric.result()) == pytest.approx(1.0)


def test_labels_above_k_are_errors_in_metrics_not_clipped():
    alpha = np.full((3, K), 2.0, "float32")
    with pytest.raises(ValueError, match=r"\[0, 5\]"):
        ke.metrics.KnownClassAccuracy().update_state(np.array([0, 1, K + 3]), alpha)


# 10. Constructor arguments ---------------------------------------------------


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="threshold=2"):
        ke.metrics.KnownClassAccuracy(threshold=2)
    with pytest.raises(ValueError, match="from_logits='False'"):
        ke.losses.EDLLoss(from_logits="False")
    assert ke.callbacks.TwoStageFit(np.int64(2)).switch_epoch == 2
    with pytest.raises(ValueError, match="switch_epoch"):
        ke.callbacks.TwoStageFit(np.float64(2.5))


# 11. Files and the command line --------------------------------------------


def test_truncated_keras_file_is_called_corrupt_not_missing(tmp_path):
    model = dirichlet_model()
    good = tmp_path / "good.keras"
    model.save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        ke.saving.load_model(truncated)
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        ke.saving.load_model(tmp_path / "absent.keras")


@pytest.mark.skipif(BACKEND != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_onnx_dependency_is_checked_before_writing(tmp_path, monkeypatch, capsys):
    import importlib.util

    from keras_evidential.export import cli

    model = dirichlet_model()
    model.save(tmp_path / "m.keras")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path / "m.keras"), str(tmp_path / "served"), "--onnx", "m.onnx"])
    assert "tf2onnx" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "served")


def test_version_flag(capsys):
    from keras_evidential.__main__ import main

    assert main(["--version"]) == 0
    assert ke.__version__ in capsys.readouterr().out


# 12. A subclassed model ------------------------------------------------------


@pytest.mark.skipif(BACKEND != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_subclassed_model_exports_after_one_call(tmp_path):
    class Classifier(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(K)
            self.head = ke.layers.DirichletOutput("softplus")

        def call(self, x):
            return self.head(self.dense(x))

    model = Classifier()
    x, _ = blobs(n=16)
    alpha = model(x)
    path = ke.export.export_saved_model(model, tmp_path, output="alpha")
    import tensorflow as tf

    out = tf.saved_model.load(path).signatures["serving_default"](tf.constant(x))
    np.testing.assert_allclose(out["alpha"], alpha, rtol=1e-6)
