"""Class-balanced weights of dense labels (`keras_evidential.labels`),
hand-worked from Eigen & Fergus's median-frequency rule."""

import numpy as np
import pytest

import keras_evidential as ke


def test_median_frequency_weights_hand_worked():
    # 3 images of 4 pixels, K = 3 (class 2 never appears, 255 ignored):
    # class 0: 3 + 2 pixels in images 1, 2 (4 + 3 valid pixels) -> f_0 = 5/7
    # class 1: 1 + 1 + 4 pixels in images 1, 2, 3 (4 + 3 + 4) -> f_1 = 6/11
    labels = np.array([[0, 0, 0, 1], [0, 0, 1, 255], [1, 1, 1, 1]])
    f = np.array([5 / 7, 6 / 11])
    expected = np.append(np.median(f) / f, 0.0)
    np.testing.assert_allclose(
        ke.labels.class_balanced_weights(labels, 3, ignore_class=255), expected
    )


def test_pixel_sample_weights_and_bad_labels():
    labels = np.array([[2, 0, 255]])
    np.testing.assert_array_equal(
        ke.labels.pixel_sample_weights(labels, [0.5, 1.0, 3.0], ignore_class=255),
        [[3.0, 0.5, 0.0]],
    )
    with pytest.raises(ValueError, match=r"\[0, 3\).*max=255"):
        ke.labels.class_balanced_weights(labels, 3)
