"""Open-set rates (known accuracy, unknown recall and precision, selective
accuracy, rejection rate) against hand-worked values and NumPy."""

import numpy as np
import pytest

from keras_evidential import metrics
from tests.testing import TestCase
from tests.metrics.data import open_set_data as _data
from tests.metrics.data import result as _result


RATIO_METRICS = (
    metrics.KnownClassAccuracy,
    metrics.UnknownClassRecall,
    metrics.UnknownClassPrecision,
    metrics.SelectiveAccuracy,
    metrics.RejectionRate,
)


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
    # Documented: a metric is NaN (undefined) while its denominator is 0.
    return float("nan") if denominator == 0 else (weight * numerator).sum() / denominator



# K = 2. Vacuities 2 / S: 2/12, 2/4, 2/2, 2/12, 2/3. The threshold 0.6
# rejects samples 2 and 4 (vacuity 1 and 2/3): predictions (0, 0, u, 1, u).
HAND_ALPHA = np.array(
    [[10.0, 2.0], [3.0, 1.0], [1.0, 1.0], [2.0, 10.0], [1.0, 2.0]], "float32"
)
HAND_LABELS = np.array([0, 1, 2, 1, 2])
HAND_EXPECTED = {
    metrics.KnownClassAccuracy: 2 / 3,  # samples 0 and 3 of 0, 1, 3
    metrics.UnknownClassRecall: 1.0,  # both unknowns rejected
    metrics.UnknownClassPrecision: 1.0,
    metrics.SelectiveAccuracy: 2 / 3,  # kept 0, 1, 3; right 0, 3
    metrics.RejectionRate: 2 / 5,
}


class OpenSetMetricTest(TestCase):
    """Each rate through `run_metric_test`: accumulation, reset, config, evaluate."""

    def _check(self, metric_class):
        self.run_metric_test(
            metric_class,
            {"threshold": 0.6},
            HAND_LABELS,
            HAND_ALPHA,
            HAND_EXPECTED[metric_class],
        )

    def test_known_class_accuracy(self):
        self._check(metrics.KnownClassAccuracy)

    def test_unknown_class_recall(self):
        self._check(metrics.UnknownClassRecall)

    def test_unknown_class_precision(self):
        self._check(metrics.UnknownClassPrecision)

    def test_selective_accuracy(self):
        self._check(metrics.SelectiveAccuracy)

    def test_rejection_rate(self):
        self._check(metrics.RejectionRate)

    def test_unknown_class_with_sample_weight(self):
        # m-EDL, K = 2, alpha_u = 3, argmax over three columns: predictions
        # (0, u, u, u, 1, 0). Weighted known accuracy: right 0 (w 1), 4 (w 2)
        # of known 0, 1, 4, 5 (w 1 + 3 + 2 + 1): 3 / 7.
        alpha = np.array(
            [[10.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 1.0, 3.0], [2.0, 1.0, 3.0],
             [1.0, 9.0, 3.0], [5.0, 1.0, 3.0]], "float32",
        )
        labels = np.array([0, 1, 2, 2, 1, 1])
        weights = np.array([1.0, 3.0, 1.0, 0.5, 2.0, 1.0])
        self.run_metric_test(
            metrics.KnownClassAccuracy, {"unknown_class": True}, labels, alpha,
            3 / 7, sample_weight=weights,
        )
        # Precision of "unknown": samples 1, 2, 3 said u; 2 and 3 are u:
        # (1 + 0.5) / (3 + 1 + 0.5).
        self.run_metric_test(
            metrics.UnknownClassPrecision, {"unknown_class": True}, labels, alpha,
            1.5 / 4.5, sample_weight=weights,
        )


    def test_prior_concentration_vacuity(self):
        # R-EDL, lambda = 0.1: vacuities 0.2 / S = 0.0909, 0.1667, 0.3333,
        # 0.1429. Threshold 0.15 keeps rows 0 and 3: predictions (0, u, u, 0);
        # labels (0, u, 1, 1). Known right: row 0 of 0, 2, 3. Said u: rows 1,
        # 2, of which row 1 is u. EDL's K / S > 0.15 would reject all four.
        alpha = np.array(
            [[2.1, 0.1], [0.6, 0.6], [0.1, 0.5], [1.1, 0.3]], "float32"
        )
        labels = np.array([0, 2, 1, 1])
        init = {"threshold": 0.15, "prior_concentration": 0.1}
        self.run_metric_test(metrics.KnownClassAccuracy, init, labels, alpha, 1 / 3)
        self.run_metric_test(metrics.UnknownClassPrecision, init, labels, alpha, 1 / 2)
        self.run_metric_test(metrics.RejectionRate, init, labels, alpha, 1 / 2)


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
        assert _result(metric) == pytest.approx(expected, abs=1e-6, nan_ok=True)
        metric.reset_state()
        # No samples: the ratio is undefined, as in the evaluation.
        assert np.isnan(_result(metric))
        metric.update_state(labels[:50], alpha[:50])
        expected_50 = _reference_ratio(metric_class, labels[:50], predictions[:50], k)
        assert _result(metric) == pytest.approx(expected_50, abs=1e-6, nan_ok=True)


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



def test_invalid_threshold_is_named():
    with pytest.raises(ValueError, match="Received: threshold=-1"):
        metrics.SelectiveAccuracy(threshold=-1)
    with pytest.raises(ValueError, match="Received: threshold=1.5"):
        metrics.RejectionRate(threshold=1.5)


@pytest.mark.parametrize("prior_concentration", [0.0, -1.0, float("nan"), "a"])
def test_invalid_prior_concentration_is_named(prior_concentration):
    with pytest.raises(ValueError, match="Received: prior_concentration="):
        metrics.KnownClassAccuracy(threshold=0.5, prior_concentration=prior_concentration)


def test_default_names_directions_and_configs():
    expected = {
        metrics.KnownClassAccuracy: ("known_accuracy", "up"),
        metrics.UnknownClassRecall: ("unknown_recall", "up"),
        metrics.UnknownClassPrecision: ("unknown_precision", "up"),
        metrics.SelectiveAccuracy: ("selective_accuracy", "up"),
        metrics.RejectionRate: ("rejection_rate", "down"),
    }
    for cls, (name, direction) in expected.items():
        metric = cls(True, 0.3, 0.5)
        assert (metric.name, metric._direction) == (name, direction)
        assert metric.get_config() == {
            "name": name,
            "dtype": "float32",
            "unknown_class": True,
            "threshold": 0.3,
            "prior_concentration": 0.5,
            "minimum_alpha": None,
            "flexible": False,
        }
        assert cls(name="custom").name == "custom"
