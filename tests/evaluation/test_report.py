"""evaluate_uncertainty and UncertaintyReport: figures, CSV and PNG files."""

import csv

import keras
import numpy as np
import pytest

from keras_evidential import callbacks
from keras_evidential import evaluation
from keras_evidential import layers
from tests.evaluation.helpers import assert_png
from tests.evaluation.helpers import synthetic_alpha
from tests.evaluation.helpers import tiny_model


def test_report_from_model_writes_csv_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    model = tiny_model(unknown_class=True)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 5)).astype("float32")
    y = rng.integers(0, 4, 300)
    report = evaluation.evaluate_uncertainty(
        model, x, y, threshold=0.5, output_dir=tmp_path
    )
    assert report.unknown_class
    alpha = model.predict(x, verbose=0)
    expected = evaluation.uncertainty_metrics(
        alpha, y, unknown_class=True, threshold=0.5
    )
    assert report.metrics.keys() == expected.keys()
    for name, value in expected.items():
        assert report.metrics[name] == pytest.approx(value, nan_ok=True), name
    for name in ("accuracy_vs_threshold", "uncertainty_distribution"):
        assert_png(tmp_path / f"{name}.png")
    assert not (tmp_path / "auc_vs_threshold.png").exists()  # K = 3
    with open(tmp_path / "accuracy_vs_threshold.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "threshold" and len(rows) == 1 + 21
    with open(tmp_path / "measures.csv") as f:
        rows = list(csv.reader(f))
    assert "unknown_probability" in rows[0] and len(rows) == 301
    with open(tmp_path / "metrics.csv") as f:
        rows = {row[0]: row for row in csv.reader(f)}
    assert float(rows["known_accuracy"][1]) == pytest.approx(
        report.metrics["known_accuracy"]
    )


def test_report_binary_writes_auc_plot(tmp_path):
    pytest.importorskip("matplotlib")
    alpha, labels = synthetic_alpha(8, k=2)
    report = evaluation.evaluate_uncertainty(alpha, y=labels)
    paths = report.save(tmp_path, prefix="edl_")
    assert str(tmp_path / "edl_auc_vs_threshold.png") in paths
    assert_png(tmp_path / "edl_auc_vs_threshold.png")
    with open(tmp_path / "edl_auc_vs_threshold.csv") as f:
        header = next(csv.reader(f))
    assert header == ["threshold", "auc", "kept", "coverage"]


def test_evaluate_uncertainty_needs_labels_and_inputs():
    with pytest.raises(ValueError, match="Received: y=None"):
        evaluation.evaluate_uncertainty(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Received: x=None"):
        evaluation.evaluate_uncertainty(tiny_model(False), y=np.zeros(2))



def test_logits_report_equals_the_alpha_report():
    rng = np.random.default_rng(14)
    logits = rng.normal(scale=3.0, size=(200, 2)).astype("float32")
    labels = rng.integers(0, 2, 200)
    elu = np.where(logits > 0, logits, np.expm1(logits))
    from_logits = evaluation.evaluate_uncertainty(logits, y=labels, evidence="elu")
    from_alpha = evaluation.evaluate_uncertainty(elu + 2.0, y=labels)
    for name, value in from_alpha.metrics.items():
        assert from_logits.metrics[name] == pytest.approx(
            value, rel=1e-5, nan_ok=True
        ), name


def _inputs_and_labels(seed, n=64, k=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(n, 5)).astype("float32")
    return x, rng.integers(0, k + 1, n)


def test_redl_model_is_evaluated_with_its_prior_concentration():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5,)), keras.layers.Dense(3),
        layers.DirichletOutput("softplus", prior_concentration=0.1),
    ])
    x, y = _inputs_and_labels(1)
    alpha = np.asarray(model.predict(x, verbose=0), "float64")
    assert alpha.min() < 1.0  # EDL's range check would refuse it
    report = evaluation.evaluate_uncertainty(model, x, y, threshold=0.5)
    vacuity = 0.1 * 3 / alpha.sum(-1)
    np.testing.assert_allclose(report.measures["vacuity"], vacuity, rtol=1e-5)
    known = y < 3
    kept = vacuity <= 0.5
    right = known & kept & (alpha.argmax(-1) == y)
    assert report.metrics["known_accuracy"] == pytest.approx(right.sum() / known.sum())
    assert report.metrics["rejection_rate"] == pytest.approx(1 - kept.mean())
    # The same figures from the array, given its prior weight.
    from_array = evaluation.evaluate_uncertainty(
        alpha, y=y, threshold=0.5, prior_concentration=0.1
    )
    for name, value in report.metrics.items():
        assert from_array.metrics[name] == pytest.approx(
            value, rel=1e-5, nan_ok=True
        ), name


def test_daedl_model_is_evaluated_with_positive_alpha():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    features = keras.layers.Dense(8, activation="relu")(inputs)
    logits = keras.layers.Dense(3)(features)
    model = keras.Model(inputs, layers.DensityAwareDirichlet()([features, logits]))
    # An unfitted density is refused (issue 28, 2(b)): fit it first.
    x_train, y_train = _inputs_and_labels(3, n=300, k=2)
    callbacks.fit_model_density(model, x_train, y_train)
    x, y = _inputs_and_labels(2)
    alpha = np.asarray(model.predict(x, verbose=0), "float64")
    assert alpha.min() < 1.0  # alpha = exp(z) > 0
    report = evaluation.evaluate_uncertainty(model, x, y)
    np.testing.assert_allclose(report.measures["vacuity"], 3 / alpha.sum(-1), rtol=1e-5)


def test_flexible_model_is_evaluated_with_its_equivalent_alpha():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5,)), layers.FlexibleDirichletOutput(3),
    ])
    x, y = _inputs_and_labels(3)
    out = np.asarray(model.predict(x, verbose=0), "float64")
    alpha, p, tau = out[:, :3], out[:, 3:6], out[:, 6:]
    equivalent = alpha + tau * p  # the Dirichlet with F-EDL's mean
    report = evaluation.evaluate_uncertainty(model, x, y)
    np.testing.assert_allclose(
        report.measures["vacuity"], 3 / equivalent.sum(-1), rtol=1e-5
    )
    assert report.metrics["known_accuracy"] == pytest.approx(
        ((equivalent.argmax(-1) == y) & (y < 3)).sum() / (y < 3).sum()
    )


def test_a_prior_concentration_contradicting_the_models_head_is_refused():
    # The head says lambda = 0.1; evaluating with 1 would report vacuities
    # 10x too large without any error (every alpha here is above 1, so the
    # range check cannot catch it).
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(5.0)),
        layers.DirichletOutput("softplus", prior_concentration=0.1),
    ])
    x, y = _inputs_and_labels(1)
    assert np.asarray(model.predict(x, verbose=0)).min() > 1.0
    with pytest.raises(ValueError, match=r"contradicts.*0\.1.*prior_concentration=1\.0"):
        evaluation.evaluate_uncertainty(model, x, y, prior_concentration=1.0)
    report = evaluation.evaluate_uncertainty(model, x, y, prior_concentration=0.1)
    alpha = np.asarray(model.predict(x, verbose=0), "float64")
    np.testing.assert_allclose(report.measures["vacuity"], 0.3 / alpha.sum(-1), rtol=1e-5)


def test_alpha_below_one_is_refused_without_a_prior_concentration():
    x, y = _inputs_and_labels(4)
    with pytest.raises(ValueError, match=r"alpha >= prior_concentration"):
        evaluation.evaluate_uncertainty(
            np.random.default_rng(0).normal(size=(64, 3)), y=y
        )
