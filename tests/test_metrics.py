"""Keras metrics against NumPy / scikit-learn references."""

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import roc_auc_score

from keras_evidential import layers
from keras_evidential import losses
from keras_evidential import metrics

RATIO_METRICS = (
    metrics.KnownClassAccuracy,
    metrics.UnknownClassRecall,
    metrics.UnknownClassPrecision,
    metrics.SelectiveAccuracy,
    metrics.RejectionRate,
)


def _data(seed=0, n=600, k=4, unknown_class=False, unknown_share=0.25):
    """alpha with informative evidence for known samples, labels K = unknown."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[rng.random(n) < unknown_share] = k
    alpha = 1.0 + rng.gamma(0.8, 2.0, (n, k))
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.gamma(1.5, 6.0, known.sum())
    if unknown_class:
        alpha = np.concatenate([alpha, np.full((n, 1), k + 1.0)], axis=1)
    return alpha.astype("float32"), labels


def _reference_predictions(alpha, unknown_class, threshold):
    k = alpha.shape[1] - 1 if unknown_class else alpha.shape[1]
    known = alpha[:, :k]
    if threshold is None:
        return np.argmax(alpha if unknown_class else known, axis=1)
    predictions = np.argmax(known, axis=1)
    predictions[k / known.sum(1) > threshold] = k
    return predictions


def _reference_ratio(metric_class, labels, predictions, k, weight=None):
    weight = np.ones(len(labels)) if weight is None else weight
    true_known, true_unknown = labels < k, labels == k
    said_unknown = predictions == k
    right = predictions == labels
    pairs = {
        metrics.KnownClassAccuracy: (true_known & right, true_known),
        metrics.UnknownClassRecall: (true_unknown & said_unknown, true_unknown),
        metrics.UnknownClassPrecision: (true_unknown & said_unknown, said_unknown),
        metrics.SelectiveAccuracy: (~said_unknown & right, ~said_unknown),
        metrics.RejectionRate: (said_unknown, np.ones(len(labels), bool)),
    }
    numerator, denominator = pairs[metric_class]
    denominator = (weight * denominator).sum()
    # Documented: a metric is 0 while its denominator is 0.
    return 0.0 if denominator == 0 else (weight * numerator).sum() / denominator


def _result(metric):
    return float(ops.convert_to_numpy(metric.result()))


def test_hand_worked_open_set_example():
    # K = 2. Vacuities: 2/12, 2/4, 2/2, 2/12, 2/3.
    alpha = np.array(
        [[10.0, 2.0], [3.0, 1.0], [1.0, 1.0], [2.0, 10.0], [1.0, 2.0]], "float32"
    )
    labels = np.array([0, 1, 2, 1, 2])
    # threshold 0.6 rejects samples 2 and 4 (vacuity 1 and 2/3): predictions
    # (0, 0, u, 1, u).
    expected = {
        metrics.KnownClassAccuracy: 2 / 3,  # samples 0 and 3 of 0, 1, 3
        metrics.UnknownClassRecall: 1.0,  # both unknowns rejected
        metrics.UnknownClassPrecision: 1.0,
        metrics.SelectiveAccuracy: 2 / 3,  # kept 0, 1, 3; right 0, 3
        metrics.RejectionRate: 2 / 5,
    }
    for metric_class, value in expected.items():
        metric = metric_class(threshold=0.6)
        metric.update_state(labels, alpha)
        assert _result(metric) == pytest.approx(value), metric_class.__name__
    no_threshold = metrics.KnownClassAccuracy()
    no_threshold.update_state(labels, alpha)
    assert _result(no_threshold) == pytest.approx(2 / 3)
    recall = metrics.UnknownClassRecall()
    recall.update_state(labels, alpha)
    assert _result(recall) == 0.0


def test_hand_worked_unknown_class_example():
    # m-EDL, K = 2, alpha_u = 3: argmax over three columns.
    alpha = np.array(
        [[10.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 1.0, 3.0], [2.0, 1.0, 3.0]], "float32"
    )
    labels = np.array([0, 1, 2, 2])
    accuracy = metrics.KnownClassAccuracy(unknown_class=True)
    recall = metrics.UnknownClassRecall(unknown_class=True)
    precision = metrics.UnknownClassPrecision(unknown_class=True)
    for metric in (accuracy, recall, precision):
        metric.update_state(labels, alpha)
    # Predictions (0, u, u, u): known 1 of 2; unknown 2 of 2; precision 2/3.
    assert _result(accuracy) == pytest.approx(0.5)
    assert _result(recall) == pytest.approx(1.0)
    assert _result(precision) == pytest.approx(2 / 3)


@pytest.mark.parametrize("unknown_class", [False, True])
@pytest.mark.parametrize("threshold", [None, 0.2, 0.45])
def test_ratio_metrics_match_numpy_and_accumulate(unknown_class, threshold):
    alpha, labels = _data(1, unknown_class=unknown_class)
    k = 4
    predictions = _reference_predictions(alpha, unknown_class, threshold)
    for metric_class in RATIO_METRICS:
        expected = _reference_ratio(metric_class, labels, predictions, k)
        metric = metric_class(unknown_class=unknown_class, threshold=threshold)
        for batch in np.array_split(np.arange(len(labels)), 4):
            metric.update_state(labels[batch], alpha[batch])
        assert _result(metric) == pytest.approx(expected, abs=1e-6)
        metric.reset_state()
        assert _result(metric) == 0.0
        metric.update_state(labels[:50], alpha[:50])
        expected_50 = _reference_ratio(metric_class, labels[:50], predictions[:50], k)
        assert _result(metric) == pytest.approx(expected_50, abs=1e-6)


def test_sample_weight_and_label_forms():
    alpha, labels = _data(2, n=200)
    weight = np.random.default_rng(2).random(200)
    predictions = _reference_predictions(alpha, False, 0.3)
    expected = _reference_ratio(
        metrics.SelectiveAccuracy, labels, predictions, 4, weight
    )
    metric = metrics.SelectiveAccuracy(threshold=0.3)
    metric.update_state(labels, alpha, sample_weight=weight)
    assert _result(metric) == pytest.approx(expected, abs=1e-5)
    # One-hot rows (all-zero = unknown) and a trailing label axis agree with
    # integer labels.
    one_hot = np.zeros((200, 4), "float32")
    known = labels < 4
    one_hot[np.flatnonzero(known), labels[known]] = 1.0
    for form in (one_hot, labels[:, None]):
        other = metrics.UnknownClassRecall(threshold=0.3)
        other.update_state(form, alpha)
        reference = metrics.UnknownClassRecall(threshold=0.3)
        reference.update_state(labels, alpha)
        assert _result(other) == pytest.approx(_result(reference))


def _reference_ece(confidence, correct, bins):
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lower, upper in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lower) & (confidence <= upper)
        if in_bin.any():
            total += in_bin.sum() * abs(
                correct[in_bin].mean() - confidence[in_bin].mean()
            )
    return total / len(confidence)


@pytest.mark.parametrize("unknown_class", [False, True])
def test_ece_matches_numpy_and_accumulates(unknown_class):
    alpha, labels = _data(3, unknown_class=unknown_class)
    known = labels < 4
    p_bar = alpha[:, :4] / alpha[:, :4].sum(1, keepdims=True)
    expected = _reference_ece(
        p_bar.max(1)[known], (p_bar.argmax(1) == labels)[known], 10
    )
    metric = metrics.ExpectedCalibrationError(num_bins=10, unknown_class=unknown_class)
    for batch in np.array_split(np.arange(len(labels)), 3):
        metric.update_state(labels[batch], alpha[batch])
    assert _result(metric) == pytest.approx(expected, abs=1e-5)
    metric.reset_state()
    assert _result(metric) == 0.0


def test_ece_of_perfectly_calibrated_bins_is_zero():
    # Two bins' worth of samples with confidence 0.75 and 3 of 4 right.
    alpha = np.array([[3.0, 1.0]] * 4, "float32")
    metric = metrics.ExpectedCalibrationError(num_bins=10)
    metric.update_state(np.array([0, 0, 0, 1]), alpha)
    assert _result(metric) == pytest.approx(0.0, abs=1e-7)
    metric.update_state(np.array([1, 1, 1, 1]), alpha)
    # Now 3 of 8 right at confidence 0.75.
    assert _result(metric) == pytest.approx(0.375, abs=1e-6)


@pytest.mark.parametrize("unknown_class", [False, True])
def test_misclassification_auroc_matches_sklearn(unknown_class):
    alpha, labels = _data(4, n=3000, unknown_class=unknown_class)
    known_alpha = alpha[:, :4]
    known = labels < 4
    wrong = (known_alpha.argmax(1) != labels)[known]
    for score, values in (
        ("vacuity", 4 / known_alpha.sum(1)),
        (
            "least_confidence",
            1 - (known_alpha / known_alpha.sum(1, keepdims=True)).max(1),
        ),
    ):
        expected = roc_auc_score(wrong, values[known])
        metric = metrics.MisclassificationAUROC(
            score=score, unknown_class=unknown_class, num_thresholds=1000
        )
        for batch in np.array_split(np.arange(len(labels)), 5):
            metric.update_state(labels[batch], alpha[batch])
        assert _result(metric) == pytest.approx(expected, abs=3e-3), score


def test_unknown_auroc_matches_sklearn_for_every_score():
    from scipy import special
    from scipy import stats

    alpha, labels = _data(5, n=3000)
    unknown = labels == 4
    s = alpha.sum(1)
    p_bar = alpha / s[:, None]
    total = stats.entropy(p_bar, axis=1)
    expected_h = -(
        p_bar * (special.digamma(alpha + 1) - special.digamma(s + 1)[:, None])
    ).sum(1)
    references = {
        "vacuity": 4 / s,
        "epkl": 3 / s,
        "total_entropy": total,
        "expected_entropy": expected_h,
        "mutual_information": total - expected_h,
    }
    for score, values in references.items():
        metric = metrics.UnknownClassAUROC(score=score, num_thresholds=1000)
        metric.update_state(labels, alpha)
        assert _result(metric) == pytest.approx(
            roc_auc_score(unknown, values), abs=3e-3
        ), score


def test_thresholded_auc_matches_sklearn_on_kept_samples():
    rng = np.random.default_rng(6)
    n = 4000
    labels = rng.integers(0, 2, n)
    alpha = 1.0 + rng.gamma(0.6, 2.0, (n, 2))
    # Confident samples (large evidence) tend to be right.
    alpha[np.arange(n), labels] += rng.gamma(0.8, 8.0, n)
    vacuity = 2 / alpha.sum(1)
    p_positive = alpha[:, 1] / alpha.sum(1)
    aucs = []
    for threshold in (None, 0.5, 0.2):
        kept = np.ones(n, bool) if threshold is None else vacuity <= threshold
        expected = roc_auc_score(labels[kept], p_positive[kept])
        metric = metrics.ThresholdedAUC(threshold=threshold, num_thresholds=1000)
        for batch in np.array_split(np.arange(n), 4):
            metric.update_state(labels[batch], alpha[batch].astype("float32"))
        assert _result(metric) == pytest.approx(expected, abs=3e-3)
        aucs.append(expected)
    # The construction makes low-uncertainty samples easier.
    assert aucs[0] < aucs[1] < aucs[2]
    # The negative class as positive mirrors the AUC.
    mirrored = metrics.ThresholdedAUC(positive_class=0, num_thresholds=1000)
    mirrored.update_state(labels, alpha.astype("float32"))
    assert _result(mirrored) == pytest.approx(
        roc_auc_score(labels == 0, alpha[:, 0] / alpha.sum(1)), abs=3e-3
    )


def test_auc_metrics_reset():
    alpha, labels = _data(7)
    metric = metrics.UnknownClassAUROC()
    metric.update_state(labels, alpha)
    first = _result(metric)
    metric.reset_state()
    assert _result(metric) == 0.0
    metric.update_state(labels, alpha)
    assert _result(metric) == pytest.approx(first)


ALL_METRICS = (
    lambda: metrics.KnownClassAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.UnknownClassRecall(unknown_class=True),
    lambda: metrics.UnknownClassPrecision(unknown_class=True),
    lambda: metrics.SelectiveAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.RejectionRate(unknown_class=True, threshold=0.3),
    lambda: metrics.ExpectedCalibrationError(num_bins=7, unknown_class=True),
    lambda: metrics.MisclassificationAUROC(score="dissonance", unknown_class=True),
    lambda: metrics.UnknownClassAUROC(
        score="mutual_information", unknown_class=True, num_thresholds=300
    ),
)


@pytest.mark.parametrize("make", ALL_METRICS)
def test_serialization_round_trip(make):
    metric = make()
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(metric)
    )
    assert type(restored) is type(metric)
    assert restored.get_config() == metric.get_config()
    alpha, labels = _data(8, unknown_class=True)
    metric.update_state(labels, alpha)
    restored.update_state(labels, alpha)
    assert _result(restored) == pytest.approx(_result(metric))


def test_thresholded_auc_serializes():
    metric = metrics.ThresholdedAUC(threshold=0.4, positive_class=0, num_thresholds=500)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(metric)
    )
    assert restored.get_config() == metric.get_config()
    assert restored.threshold == 0.4 and restored.num_thresholds == 500


def test_metrics_in_compile_fit_evaluate_and_saved_model(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(256, 6)).astype("float32")
    labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2),
            layers.DirichletOutput(),
            layers.UnknownClassHead(),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=losses.EDLLoss(kl_weight=0.1),
        metrics=[make() for make in ALL_METRICS],
    )
    history = model.fit(
        x, labels, batch_size=64, epochs=1, verbose=0, validation_split=0.25
    )
    for name in (
        "known_accuracy",
        "val_unknown_recall",
        "ece",
        "val_misclassification_auroc",
        "unknown_auroc",
    ):
        assert len(history.history[name]) == 1
    evaluated = model.evaluate(x, labels, batch_size=50, verbose=0, return_dict=True)
    alpha = model.predict(x, verbose=0)
    for make in ALL_METRICS:
        metric = make()
        metric.update_state(labels, alpha)
        assert evaluated[metric.name] == pytest.approx(
            _result(metric), abs=1e-5
        ), metric.name
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    # The reloaded compile config rebuilds every metric with its arguments
    # (evaluating rebuilt metrics is test_serialization_round_trip's job).
    restored = [
        keras.saving.deserialize_keras_object(config)
        for config in loaded.get_compile_config()["metrics"]
    ]
    assert [m.get_config() for m in restored] == [
        make().get_config() for make in ALL_METRICS
    ]


def test_invalid_arguments_name_the_argument():
    with pytest.raises(ValueError, match="Received: threshold=-1"):
        metrics.SelectiveAccuracy(threshold=-1)
    with pytest.raises(ValueError, match="Received: score='nope'"):
        metrics.UnknownClassAUROC(score="nope")
    with pytest.raises(ValueError, match="Received: num_bins=0"):
        metrics.ExpectedCalibrationError(num_bins=0)
    with pytest.raises(ValueError, match="Received: positive_class=2"):
        metrics.ThresholdedAUC(positive_class=2)
    with pytest.raises(ValueError, match="binary task"):
        metrics.ThresholdedAUC().update_state(np.array([0]), np.ones((1, 3), "float32"))
