"""Predicted labels in [0, K] (K = unknown), with and without a threshold."""

import numpy as np
import pytest
from keras import ops

from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.predictions import validate_threshold

# K = 2 known classes; with unknown_class=True the last column is alpha_u = 3.
ALPHA_PLUS = np.array(
    [[10.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 1.0, 3.0], [2.0, 5.0, 3.0]], "float32"
)


def _labels(*args, **kwargs):
    return ops.convert_to_numpy(predict_labels(*args, **kwargs)).tolist()


def test_argmax_without_a_threshold():
    # EDL: argmax over K columns, never "unknown". m-EDL: argmax over K + 1.
    assert _labels(ALPHA_PLUS[:, :2], unknown_class=False) == [0, 1, 0, 1]
    assert _labels(ALPHA_PLUS, unknown_class=True) == [0, 2, 2, 1]


def test_vacuity_threshold_rejects_above_it():
    # Known-class vacuities 2 / S: 2/12, 2/3, 1, 2/7.
    assert _labels(ALPHA_PLUS[:, :2], False, threshold=0.5) == [0, 2, 2, 1]
    assert _labels(ALPHA_PLUS, True, threshold=0.5) == [0, 2, 2, 1]
    # A sample with vacuity exactly at the threshold is kept.
    assert _labels(ALPHA_PLUS[:, :2], False, threshold=1.0) == [0, 1, 0, 1]
    assert _labels(ALPHA_PLUS[:, :2], False, threshold=0.0) == [2, 2, 2, 2]


def test_known_alpha_and_num_known_classes():
    np.testing.assert_array_equal(
        ops.convert_to_numpy(known_alpha(ALPHA_PLUS, True)), ALPHA_PLUS[:, :2]
    )
    assert num_known_classes(ops.convert_to_tensor(ALPHA_PLUS), True) == 2
    assert num_known_classes(ops.convert_to_tensor(ALPHA_PLUS), False) == 3
    with pytest.raises(ValueError, match="at least 2 known classes"):
        num_known_classes(ops.convert_to_tensor(ALPHA_PLUS[:, :2]), True)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high", float("nan")])
def test_invalid_threshold_is_named(threshold):
    with pytest.raises(ValueError, match="Received: threshold="):
        validate_threshold(threshold)


def test_valid_threshold_is_a_float():
    assert validate_threshold(None) is None
    assert validate_threshold(1) == 1.0 and isinstance(validate_threshold(1), float)


# R-EDL, K = 2, prior weight lambda = 0.1 (alpha = e + 0.1). Vacuities
# lambda K / S = 0.2 / S: 0.2/2.2, 0.2/1.2, 0.2/0.6, 0.2/1.4
# = 0.0909, 0.1667, 0.3333, 0.1429.
REDL_ALPHA = np.array([[2.1, 0.1], [0.6, 0.6], [0.1, 0.5], [1.1, 0.3]], "float32")


def test_prior_concentration_scales_the_vacuity_threshold():
    # Threshold 0.15 keeps rows 0 and 3 (argmax 0 both).
    assert _labels(REDL_ALPHA, False, threshold=0.15, prior_concentration=0.1) == [0, 2, 2, 0]
    # EDL's K / S (= 10 times larger) exceeds 0.15 everywhere.
    assert _labels(REDL_ALPHA, False, threshold=0.15) == [2, 2, 2, 2]
    # No threshold: the prior weight does not matter.
    assert _labels(REDL_ALPHA, False, prior_concentration=0.1) == [0, 0, 1, 0]
