"""Evaluation curves, report files, plots and the UncertaintyMonitor callback."""

import csv
import sys

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keras_evidential import evaluation
from keras_evidential import layers
from keras_evidential import losses

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _data(seed=0, n=800, k=3, unknown_share=0.25):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[rng.random(n) < unknown_share] = k
    alpha = 1.0 + rng.gamma(0.8, 2.0, (n, k))
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.gamma(1.5, 6.0, known.sum())
    return alpha.astype("float32"), labels


def test_accuracy_vs_threshold_matches_numpy():
    alpha, labels = _data(1)
    k = 3
    thresholds = [0.1, 0.3, 0.6, 1.0]
    curve = evaluation.accuracy_vs_threshold(alpha, labels, thresholds)
    vacuity = k / alpha.sum(1)
    argmax = alpha.argmax(1)
    known = labels < k
    for i, t in enumerate(thresholds):
        kept = vacuity <= t
        right = known & kept & (argmax == labels)
        assert curve["coverage"][i] == pytest.approx(kept.mean())
        assert curve["rejection_rate"][i] == pytest.approx(1 - kept.mean())
        assert curve["known_accuracy"][i] == pytest.approx(right.sum() / known.sum())
        assert curve["selective_accuracy"][i] == pytest.approx(right.sum() / kept.sum())
        assert curve["unknown_recall"][i] == pytest.approx(
            (~known & ~kept).sum() / (~known).sum()
        )
        if (~kept).any():
            assert curve["unknown_precision"][i] == pytest.approx(
                (~known & ~kept).sum() / (~kept).sum()
            )
        else:
            assert np.isnan(curve["unknown_precision"][i])


def test_curves_are_monotone_where_theory_says_so():
    alpha, labels = _data(2, n=1500)
    curve = evaluation.accuracy_vs_threshold(alpha, labels)
    assert np.all(np.diff(curve["threshold"]) > 0)
    assert np.all(np.diff(curve["coverage"]) >= 0)
    assert np.all(np.diff(curve["known_accuracy"]) >= 0)
    assert np.all(np.diff(curve["unknown_recall"]) <= 0)
    assert curve["known_accuracy"][0] == 0.0  # vacuity > 0: all rejected
    assert curve["unknown_recall"][0] == 1.0


def test_selective_accuracy_falls_when_uncertainty_ranks_errors():
    # Constructed: the right predictions have strength 100 + i, the wrong
    # ones strength below 11, so every threshold keeps right samples first.
    right = np.array([[90.0 + i, 10.0] for i in range(20)])
    wrong = np.array([[2.0 + i / 4, 1.0 + i / 8] for i in range(20)])
    alpha = np.concatenate([right, wrong]).astype("float32")
    labels = np.array([0] * 20 + [1] * 20)
    thresholds = np.linspace(0.005, 1.0, 60)
    curve = evaluation.accuracy_vs_threshold(alpha, labels, thresholds)
    values = curve["selective_accuracy"]
    finite = np.isfinite(values)
    assert np.all(np.diff(values[finite]) <= 1e-12)
    assert values[finite][0] == 1.0 and values[-1] == 0.5


def test_roc_auc_hand_worked_example():
    # Positive-negative pairs ranked correctly: (0.35 > 0.1), (0.8 > 0.1),
    # (0.8 > 0.4); wrongly: (0.35 < 0.4). AUC = 3 / 4.
    assert evaluation.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert np.isnan(evaluation.roc_auc([1, 1], [0.2, 0.3]))


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=500)
    scores = np.round(rng.normal(size=500) + labels, 1)  # many ties
    assert evaluation.roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert evaluation.roc_auc([0, 1, 0, 1], [0.5] * 4) == pytest.approx(0.5)


def test_exact_auc_vs_threshold_by_hand():
    # Rows (label, p_bar_1, vacuity 2 / S) with alpha = S * (1 - p, p).
    rows = [(0, 0.2, 0.1), (1, 0.9, 0.1), (0, 0.625, 0.5), (1, 0.375, 0.5),
            (0, 0.55, 0.8), (1, 0.45, 0.8)]  # fmt: skip
    labels = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    strength = 2.0 / np.array([r[2] for r in rows])
    alpha = np.stack([(1 - p) * strength, p * strength], axis=1)
    curve = evaluation.auc_vs_threshold(alpha, labels, thresholds=(0.1, 0.5, 0.8))
    # u <= 0.1: {(0, 0.2), (1, 0.9)} -> 1. u <= 0.5 adds (0, 0.625), (1, 0.375):
    # positives {0.9, 0.375} vs negatives {0.2, 0.625}: 3 of 4 pairs right.
    # All: positives {0.9, 0.375, 0.45} vs negatives {0.2, 0.625, 0.55}: 5 of 9.
    np.testing.assert_allclose(curve["auc"], [1.0, 0.75, 5 / 9])
    np.testing.assert_allclose(curve["coverage"], [2 / 6, 4 / 6, 1.0])
    np.testing.assert_array_equal(curve["kept"], [2, 4, 6])


def test_auc_vs_threshold_matches_sklearn_and_rises_as_threshold_falls():
    rng = np.random.default_rng(3)
    n = 3000
    labels = rng.integers(0, 2, n)
    alpha = 1.0 + rng.gamma(0.6, 2.0, (n, 2))
    alpha[np.arange(n), labels] += rng.gamma(0.8, 8.0, n)
    thresholds = [0.15, 0.3, 0.6, 1.0]
    curve = evaluation.auc_vs_threshold(alpha, labels, thresholds)
    bucketed = evaluation.auc_vs_threshold(alpha, labels, thresholds, num_thresholds=2000)
    vacuity = 2 / alpha.sum(1)
    score = alpha[:, 1] / alpha.sum(1)
    for i, t in enumerate(thresholds):
        kept = vacuity <= t
        assert curve["kept"][i] == bucketed["kept"][i] == kept.sum()
        expected = roc_auc_score(labels[kept], score[kept])
        assert curve["auc"][i] == pytest.approx(expected, abs=1e-6)
        # `keras.metrics.AUC`'s bucketed estimate, as the training metric.
        assert bucketed["auc"][i] == pytest.approx(expected, abs=2e-3)
    assert np.all(np.diff(curve["auc"]) < 0)
    assert np.all(np.diff(curve["coverage"]) > 0) and curve["coverage"][-1] == 1


def test_uncertainty_distribution_matches_numpy_histogram():
    alpha, labels = _data(4)
    dist = evaluation.uncertainty_distribution(alpha, labels, bins=10)
    vacuity = 3 / alpha.sum(1)
    known = labels < 3
    right = known & (alpha.argmax(1) == labels)
    edges = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(
        dist["correct"], np.histogram(vacuity[right], edges)[0]
    )
    np.testing.assert_array_equal(
        dist["misclassified"], np.histogram(vacuity[known & ~right], edges)[0]
    )
    np.testing.assert_array_equal(
        dist["unknown"], np.histogram(vacuity[~known], edges)[0]
    )
    assert sum(dist[g].sum() for g in ("correct", "misclassified", "unknown")) == (
        len(labels)
    )


def test_uncertainty_metrics_nan_where_undefined_and_binary_auc():
    alpha, labels = _data(5, unknown_share=0.0)
    figures = evaluation.uncertainty_metrics(alpha, labels)
    assert np.isnan(figures["unknown_recall"])
    assert np.isnan(figures["unknown_auroc"])
    assert "roc_auc" not in figures
    assert figures["known_accuracy"] == pytest.approx(
        (alpha.argmax(1) == labels).mean()
    )
    assert figures["mean_vacuity"] == pytest.approx((3 / alpha.sum(1)).mean(), rel=1e-5)
    binary = alpha[:, :2]
    binary_labels = np.minimum(labels, 1)
    figures = evaluation.uncertainty_metrics(binary, binary_labels)
    assert figures["roc_auc"] == pytest.approx(
        roc_auc_score(binary_labels, binary[:, 1] / binary.sum(1)), abs=2e-3
    )


def test_uncertainty_measures_unknown_class():
    alpha, _ = _data(6, n=50)
    alpha_plus = np.concatenate([alpha, np.full((50, 1), 4.0, "float32")], 1)
    measures = evaluation.uncertainty_measures(alpha_plus, unknown_class=True)
    s = alpha.sum(1)
    np.testing.assert_allclose(measures["vacuity"], 3 / s, rtol=1e-6)
    np.testing.assert_allclose(measures["unknown_probability"], 4 / (s + 4), rtol=1e-6)


def _tiny_model(unknown_class):
    stack = [keras.Input((5,)), keras.layers.Dense(3), layers.DirichletOutput()]
    if unknown_class:
        stack.append(layers.UnknownClassHead())
    return keras.Sequential(stack)


def _png_ok(path):
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    # Not a blank canvas.
    assert image[..., :3].std() > 0.01


def test_report_from_model_writes_csv_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    model = _tiny_model(unknown_class=True)
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
        _png_ok(tmp_path / f"{name}.png")
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
    alpha, labels = _data(8, k=2)
    report = evaluation.evaluate_uncertainty(alpha, y=labels)
    paths = report.save(tmp_path, prefix="edl_")
    assert str(tmp_path / "edl_auc_vs_threshold.png") in paths
    _png_ok(tmp_path / "edl_auc_vs_threshold.png")
    with open(tmp_path / "edl_auc_vs_threshold.csv") as f:
        header = next(csv.reader(f))
    assert header == ["threshold", "auc", "kept", "coverage"]


def test_plots_compare_several_curves(tmp_path):
    pytest.importorskip("matplotlib")
    curves = {}
    for seed in (9, 10):
        alpha, labels = _data(seed, k=2)
        curves[f"model {seed}"] = evaluation.auc_vs_threshold(alpha, labels)
    figure = evaluation.plot_auc_vs_threshold(curves, path=tmp_path / "a.png")
    assert len(figure.axes[0].lines) == 2
    _png_ok(tmp_path / "a.png")
    alpha, labels = _data(11)
    dists = {
        f"epoch {e}": evaluation.uncertainty_distribution(alpha * e, labels)
        for e in (1, 2, 3)
    }
    figure = evaluation.plot_uncertainty_distribution(dists, path=tmp_path / "d.png")
    assert len(figure.axes) == 3
    _png_ok(tmp_path / "d.png")


def test_missing_matplotlib_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    alpha, labels = _data(12)
    curve = evaluation.accuracy_vs_threshold(alpha, labels)
    with pytest.raises(ImportError, match="pip install"):
        evaluation.plot_accuracy_vs_threshold(curve)


def test_evaluate_uncertainty_needs_labels_and_inputs():
    with pytest.raises(ValueError, match="Received: y=None"):
        evaluation.evaluate_uncertainty(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Received: x=None"):
        evaluation.evaluate_uncertainty(_tiny_model(False), y=np.zeros(2))


def _event_tags(log_dir):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    tags = {}
    for path in log_dir.rglob("events.out.tfevents*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                tags.setdefault(value.tag, set()).add((plugin, event.step))
    return tags


def test_uncertainty_monitor_logs_history_and_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    rng = np.random.default_rng(13)
    x = rng.normal(size=(128, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    y[:20] = 2  # unknown samples in the validation data
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(2), layers.DirichletOutput()]
    )
    model.compile(optimizer="adam", loss=losses.EDLLoss())
    monitor = evaluation.UncertaintyMonitor(
        (x, y), threshold=0.8, log_dir=tmp_path / "uncertainty"
    )
    history = model.fit(
        x[20:], y[20:], epochs=2, batch_size=32, verbose=0, callbacks=[monitor]
    )
    for name in (
        "val_known_accuracy",
        "val_unknown_recall",
        "val_ece",
        "val_unknown_auroc",
        "val_roc_auc",
        "val_mean_vacuity",
    ):
        assert len(history.history[name]) == 2, name
    alpha = model.predict(x, verbose=0)
    expected = evaluation.uncertainty_metrics(alpha, y, threshold=0.8)
    assert history.history["val_known_accuracy"][-1] == pytest.approx(
        expected["known_accuracy"]
    )
    tags = _event_tags(tmp_path / "uncertainty")
    assert ("histograms", 1) in tags["val_vacuity/all"]
    assert ("histograms", 0) in tags["val_vacuity/unknown"]
    assert ("scalars", 1) in tags["val_known_accuracy"]


def test_uncertainty_monitor_validates_arguments():
    with pytest.raises(ValueError, match="validation_data"):
        evaluation.UncertaintyMonitor(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="Received: freq=0"):
        evaluation.UncertaintyMonitor((np.zeros(2), np.zeros(2)), freq=0)


def test_logits_models_need_their_evidence_function():
    rng = np.random.default_rng(14)
    logits = rng.normal(scale=3.0, size=(200, 2)).astype("float32")
    labels = rng.integers(0, 2, 200)
    with pytest.raises(ValueError, match="evidence='elu'"):
        evaluation.uncertainty_metrics(logits, labels)
    # ELU evidence with offset 1: alpha = elu(z) + 2.
    elu = np.where(logits > 0, logits, np.expm1(logits))
    alpha = evaluation.alpha_from_outputs(logits, evidence="elu")
    np.testing.assert_allclose(alpha, elu + 2.0, rtol=1e-6)
    from_logits = evaluation.evaluate_uncertainty(logits, y=labels, evidence="elu")
    from_alpha = evaluation.evaluate_uncertainty(elu + 2.0, y=labels)
    for name, value in from_alpha.metrics.items():
        assert from_logits.metrics[name] == pytest.approx(
            value, rel=1e-5, nan_ok=True
        ), name
