"""Labels: one convention for losses (`[0, n)`) and metrics (`[0, K]`, K = u).

Labels outside the range are errors everywhere, never clipped; the error
names the argument and the received value.
"""

import keras
import numpy as np
import pytest
from keras import ops

import keras_evidential as ke
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import open_set_labels


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


def test_wrong_one_hot_width_is_named():
    with pytest.raises(ValueError, match="y_true.shape"):
        ke.losses.EDLLoss()(np.zeros((4, 3)), np.full((4, 5), 2.0, "float32"))



def test_one_hot_targets_of_every_label_form():
    alpha = np.ones((3, 4), "float32")
    expected = np.eye(4)[[0, 3, 2]]
    for labels in (np.array([0, 3, 2]), np.array([[0], [3], [2]]), expected):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(one_hot_targets(ops.convert_to_tensor(labels), ops.convert_to_tensor(alpha))),
            expected,
        )


@pytest.mark.parametrize("unknown_class", [False, True])
def test_open_set_labels_keep_k_as_unknown(unknown_class):
    k = 3
    y_pred = np.ones((4, k + int(unknown_class)), "float32")
    labels = np.array([0, 3, 2, 3])
    got = ops.convert_to_numpy(open_set_labels(labels, y_pred, unknown_class))
    np.testing.assert_array_equal(got, labels)
    # One-hot rows of the prediction's width: an all-zero row is unknown.
    one_hot = np.zeros((4, k), "float32")
    one_hot[[0, 2], [0, 2]] = 1.0
    if not unknown_class:
        got = ops.convert_to_numpy(open_set_labels(one_hot, y_pred, unknown_class))
        np.testing.assert_array_equal(got, labels)


@pytest.mark.parametrize("labels, received", [([0, 4], "max=4"), ([-1, 0], "min=-1")])
def test_open_set_labels_outside_zero_to_k_are_errors(labels, received):
    """Decided in issue 16: metrics no longer clip a label above K to u."""
    with pytest.raises(ValueError, match=received):
        open_set_labels(np.array(labels), np.ones((2, 3), "float32"), False)
    metric = ke.metrics.UnknownClassRecall()
    with pytest.raises(ValueError, match=received):
        metric.update_state(np.array(labels), np.ones((2, 3), "float32") * 2)


@pytest.mark.parametrize("row", [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.5, -0.5, 0.0]],
                         ids=["all_zero", "multi_hot", "negative"])
def test_loss_refuses_one_hot_rows_that_are_no_class(row):
    """Before: an all-zero row (an unknown sample for the metrics) and a
    multi-hot row trained silently as targets of no class / two classes."""
    y = np.array([[0.0, 1.0, 0.0], row], "float32")
    alpha = np.full((2, 3), 2.0, "float32")
    for loss in (ke.losses.EDLLoss(), ke.losses.RelaxedEDLLoss(), ke.losses.IEDLLoss()):
        with pytest.raises(ValueError, match="One-hot labels must be rows that sum to 1"):
            loss(y, alpha)


def test_soft_labels_still_train():
    y = np.array([[0.9, 0.05, 0.05]], "float32")
    alpha = np.array([[3.0, 1.0, 1.0]], "float32")
    p = alpha / alpha.sum()
    s = alpha.sum()
    expected = np.sum((y - p) ** 2 + p * (1 - p) / (s + 1))
    got = keras.ops.convert_to_numpy(ke.losses.EDLLoss()(y, alpha))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
