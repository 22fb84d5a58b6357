"""ExpectedCalibrationError against a NumPy reference and hand-worked bins."""

import numpy as np
import pytest

from keras_evidential import metrics
from tests.testing import TestCase
from tests.metrics.data import open_set_data as _data
from tests.metrics.data import result as _result


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



class ExpectedCalibrationErrorTest(TestCase):
    def test_hand_worked_bins(self):
        # Confidences 0.75 (4 samples, 3 right) and 0.9 (2 samples, 1 right):
        # ECE = (4 * |0.75 - 0.75| + 2 * |0.5 - 0.9|) / 6 = 0.8 / 6.
        alpha = np.array([[3.0, 1.0]] * 4 + [[9.0, 1.0]] * 2, "float32")
        labels = np.array([0, 1, 0, 0, 0, 1])
        self.run_metric_test(
            metrics.ExpectedCalibrationError, {"num_bins": 10}, labels, alpha, 0.8 / 6
        )

    def test_unknown_samples_are_left_out(self):
        # m-EDL outputs; the sample of class u (label 2) does not count.
        alpha = np.array([[3.0, 1.0, 3.0], [1.0, 3.0, 3.0], [3.0, 1.0, 3.0], [1.0, 1.0, 3.0]], "float32")
        labels = np.array([0, 0, 0, 2])
        # Known: confidence 0.75 each, right 2 of 3: |2/3 - 0.75| = 1/12.
        self.run_metric_test(
            metrics.ExpectedCalibrationError,
            {"num_bins": 4, "unknown_class": True}, labels, alpha, 1 / 12,
        )


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
    assert np.isnan(_result(metric))  # no samples: undefined


def test_ece_of_perfectly_calibrated_bins_is_zero():
    # Two bins' worth of samples with confidence 0.75 and 3 of 4 right.
    alpha = np.array([[3.0, 1.0]] * 4, "float32")
    metric = metrics.ExpectedCalibrationError(num_bins=10)
    metric.update_state(np.array([0, 0, 0, 1]), alpha)
    assert _result(metric) == pytest.approx(0.0, abs=1e-7)
    metric.update_state(np.array([1, 1, 1, 1]), alpha)
    # Now 3 of 8 right at confidence 0.75.
    assert _result(metric) == pytest.approx(0.375, abs=1e-6)



def test_invalid_num_bins_is_named():
    with pytest.raises(ValueError, match="Received: num_bins=0"):
        metrics.ExpectedCalibrationError(num_bins=0)
