"""Pixel-level metrics against scikit-learn on the valid pixels, streamed
over batches against one pass over all pixels."""

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score
from sklearn.metrics import average_precision_score
from sklearn.metrics import confusion_matrix
from sklearn.metrics import jaccard_score
from sklearn.metrics import roc_auc_score

import keras_evidential as ke
from tests.testing import to_numpy

RNG = np.random.default_rng(30)
K = 4
IGNORE = 255


def segmentation_batch(n=6, size=8):
    labels = RNG.integers(0, K, size=(n, size, size))
    alpha = 1.0 + RNG.gamma(0.7, 3.0, size=(n, size, size, K))
    # Predictions that mostly agree with the labels, so that IoU is not ~1/K.
    alpha[np.arange(n)[:, None, None], np.arange(size)[None, :, None],
          np.arange(size)[None, None, :], labels] += 6.0 * (RNG.random(labels.shape) < 0.7)
    ood = RNG.random(labels.shape) < 0.15
    alpha[ood] = 1.0 + RNG.gamma(0.5, 1.0, size=(ood.sum(), K))  # little evidence
    labels[ood] = K
    labels[RNG.random(labels.shape) < 0.1] = IGNORE
    return labels, alpha.astype("float32")


def stream(metric, labels, alpha, batches=3):
    for part_labels, part_alpha in zip(
        np.array_split(labels, batches), np.array_split(alpha, batches)
    ):
        metric.update_state(part_labels, part_alpha)
    return float(to_numpy(metric.result()))


def test_mean_iou_against_scikit_learn():
    labels, alpha = segmentation_batch()
    known = labels < K  # neither OOD nor ignored
    truth, predicted = labels[known], alpha[known].argmax(-1)
    matrix = confusion_matrix(truth, predicted, labels=range(K))
    present = (matrix.sum(0) + matrix.sum(1)) > 0
    expected = jaccard_score(
        truth, predicted, labels=np.flatnonzero(present), average="macro"
    )
    metric = ke.metrics.PixelMeanIoU(K, ignore_class=IGNORE)
    np.testing.assert_allclose(stream(metric, labels, alpha), expected, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(metric.confusion), matrix)


def test_pixel_accuracy_against_scikit_learn_streamed_and_one_shot():
    labels, alpha = segmentation_batch()
    known = labels < K
    expected = accuracy_score(labels[known], alpha[known].argmax(-1))
    streamed = stream(ke.metrics.PixelAccuracy(K, ignore_class=IGNORE), labels, alpha)
    one_shot = stream(ke.metrics.PixelAccuracy(K, ignore_class=IGNORE), labels, alpha, 1)
    np.testing.assert_allclose([streamed, one_shot], expected, rtol=1e-6)


def test_a_class_neither_labelled_nor_predicted_is_left_out_of_the_mean():
    # Class 2 absent: IoU of classes 0 and 1 are 1/2 each (hand-worked).
    alpha = np.array([[[5.0, 1, 1], [1, 5, 1], [5, 1, 1], [1, 5, 1]]])
    metric = ke.metrics.PixelMeanIoU(3, ignore_class=IGNORE)
    metric.update_state(np.array([[0, 1, 1, IGNORE]]), alpha)
    assert float(to_numpy(metric.result())) == pytest.approx(0.5)


def test_pixel_ece_against_a_float64_reference():
    labels, alpha = segmentation_batch()
    known = labels < K
    p = alpha[known].astype("float64") / alpha[known].sum(-1, keepdims=True)
    confidence, correct = p.max(-1), p.argmax(-1) == labels[known]
    bins = np.clip(np.ceil(confidence * 10).astype(int) - 1, 0, 9)
    expected = sum(
        abs(correct[bins == b].sum() - confidence[bins == b].sum()) for b in range(10)
    ) / known.sum()
    metric = ke.metrics.PixelExpectedCalibrationError(num_bins=10, ignore_class=IGNORE)
    np.testing.assert_allclose(stream(metric, labels, alpha), expected, rtol=1e-5)


def ood_problem(labels, alpha):
    keep = labels != IGNORE
    vacuity = K / alpha[keep].sum(-1)
    return labels[keep] == K, vacuity


@pytest.mark.parametrize(
    "metric_class, reference",
    [
        (ke.metrics.PixelOODAUPR, average_precision_score),
        (ke.metrics.PixelOODAUROC, roc_auc_score),
    ],
)
def test_ood_ranking_exact_and_bucketed_against_scikit_learn(metric_class, reference):
    labels, alpha = segmentation_batch()
    ood, vacuity = ood_problem(labels, alpha)
    expected = reference(ood, vacuity)
    exact = stream(metric_class(ignore_class=IGNORE, num_thresholds=None), labels, alpha)
    np.testing.assert_allclose(exact, expected, rtol=1e-5)
    # The default 1000 buckets: streamed equals one pass, and the bucketing
    # error on these 346 pixels is measured (docs/dense.md) and bounded here.
    bucketed = stream(metric_class(ignore_class=IGNORE), labels, alpha)
    one_pass = stream(metric_class(ignore_class=IGNORE), labels, alpha, 1)
    np.testing.assert_allclose(bucketed, one_pass, rtol=1e-6)
    assert abs(bucketed - expected) < 5e-3


@pytest.mark.parametrize("tpr", [0.95, 0.8])
def test_ood_fpr_against_scikit_learn(tpr):
    from sklearn.metrics import roc_curve

    labels, alpha = segmentation_batch()
    ood, vacuity = ood_problem(labels, alpha)
    # Known pixels positive, ranked by confidence; FPR on the OOD pixels.
    fpr, rates, _ = roc_curve(~ood, -vacuity)
    expected = fpr[np.argmax(rates >= tpr)]
    metric = ke.metrics.PixelOODFPR(tpr=tpr, ignore_class=IGNORE, num_thresholds=None)
    np.testing.assert_allclose(stream(metric, labels, alpha), expected, rtol=1e-6)


def test_mean_iou_of_an_m_edl_segmenter_leaves_the_unknown_output_out():
    # m-EDL's alpha_u = K + 1 appended (UnknownClassHead); the prediction is
    # the argmax over the K known classes, OOD pixels (label K) left out.
    labels, alpha = segmentation_batch()
    alpha_plus = to_numpy(ke.layers.UnknownClassHead()(alpha))
    assert np.any(alpha_plus.argmax(-1) == K)  # u wins somewhere
    known = labels < K
    truth, predicted = labels[known], alpha[known].argmax(-1)
    matrix = confusion_matrix(truth, predicted, labels=range(K))
    present = (matrix.sum(0) + matrix.sum(1)) > 0
    expected = jaccard_score(
        truth, predicted, labels=np.flatnonzero(present), average="macro"
    )
    metric = ke.metrics.PixelMeanIoU(K, ignore_class=IGNORE, unknown_class=True)
    np.testing.assert_allclose(stream(metric, labels, alpha_plus), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"`num_classes` is 4"):
        ke.metrics.PixelMeanIoU(K, ignore_class=IGNORE).update_state(labels, alpha_plus)


@pytest.mark.parametrize(
    "metric",
    [
        ke.metrics.PixelMeanIoU(K, ignore_class=IGNORE),
        ke.metrics.PixelAccuracy(K, ignore_class=IGNORE),
        ke.metrics.PixelExpectedCalibrationError(ignore_class=IGNORE),
        ke.metrics.PixelOODAUPR(score="mutual_information", ignore_class=IGNORE),
        ke.metrics.PixelOODAUROC(ignore_class=IGNORE),
        ke.metrics.PixelOODFPR(tpr=0.9, ignore_class=IGNORE, num_thresholds=200),
    ],
)
def test_config_round_trip(metric):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(metric)
    )
    assert type(restored) is type(metric)
    assert restored.get_config() == metric.get_config()
    labels, alpha = segmentation_batch()
    np.testing.assert_allclose(stream(restored, labels, alpha), stream(metric, labels, alpha))


def test_labels_out_of_range_are_refused_and_arguments_checked():
    labels, alpha = segmentation_batch()
    with pytest.raises(ValueError, match=r"max=255"):
        ke.metrics.PixelMeanIoU(K).update_state(labels, alpha)  # no ignore_class
    labels[0, 0, 0] = K + 1
    with pytest.raises(ValueError, match=r"max=5"):
        ke.metrics.PixelOODAUPR(ignore_class=IGNORE).update_state(labels, alpha)
    with pytest.raises(ValueError, match=r"`ignore_class` must be an integer"):
        ke.metrics.PixelAccuracy(K, ignore_class=0.5)
    with pytest.raises(ValueError, match=r"`num_classes` is 3"):
        ke.metrics.PixelAccuracy(3).update_state(labels[:, :1] * 0, alpha[:, :1])


def test_mean_iou_in_compile_and_evaluate():
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(
        inputs, ke.layers.DirichletOutput("softplus")(keras.layers.Conv2D(K, 1)(inputs))
    )
    model.compile(
        loss=ke.losses.EDLLoss(ignore_class=IGNORE),
        metrics=[ke.metrics.PixelMeanIoU(K, ignore_class=IGNORE),
                 ke.metrics.PixelOODAUPR(ignore_class=IGNORE)],
    )
    images = RNG.normal(size=(4, 4, 4, 1)).astype("float32")
    labels = RNG.integers(0, K, size=(4, 4, 4))
    labels[:, 0] = IGNORE
    results = model.evaluate(images, labels, verbose=0, return_dict=True)
    alpha = to_numpy(model(images))
    known = labels < K
    matrix = confusion_matrix(labels[known], alpha[known].argmax(-1), labels=range(K))
    present = (matrix.sum(0) + matrix.sum(1)) > 0
    expected = jaccard_score(
        labels[known], alpha[known].argmax(-1), labels=np.flatnonzero(present),
        average="macro",
    )
    np.testing.assert_allclose(results["pixel_mean_iou"], expected, rtol=1e-5)
