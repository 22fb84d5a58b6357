"""Multi-label evaluation against scikit-learn, label by label, masks left out."""

import numpy as np
from sklearn import metrics as skm

import keras_evidential as ke
from keras_evidential.evaluation import multilabel as ml

RNG = np.random.default_rng(0)
Y = (RNG.random((60, 3)) > 0.5).astype(float)
P = np.clip(0.6 * Y + 0.4 * RNG.random((60, 3)), 0.01, 0.99)
Y_MASKED = Y.copy()
Y_MASKED[:10, 1] = -1


def test_average_precision_per_label_is_sklearns_without_masked_rows():
    expected = [
        skm.average_precision_score(Y_MASKED[Y_MASKED[:, l] >= 0, l], P[Y_MASKED[:, l] >= 0, l])
        for l in range(3)
    ]
    np.testing.assert_allclose(ml.per_label_average_precision(Y_MASKED, P), expected)
    np.testing.assert_allclose(ml.mean_average_precision(Y_MASKED, P), np.mean(expected))


def test_accuracy_and_calibration_per_label_by_hand():
    keep = Y_MASKED[:, 1] >= 0
    np.testing.assert_allclose(
        ml.per_label_accuracy(Y_MASKED, P)[1], np.mean((P[keep, 1] >= 0.5) == Y[keep, 1])
    )
    # One bin: ECE = |accuracy - mean confidence| of max(p, 1 - p).
    confidence = np.maximum(P[:, 0], 1 - P[:, 0])
    correct = (P[:, 0] >= 0.5) == Y[:, 0]
    np.testing.assert_allclose(
        ml.per_label_calibration_error(Y, P, num_bins=1)[0],
        abs(correct.mean() - confidence.mean()), rtol=1e-6,
    )


def test_ood_detection_takes_the_ood_samples_as_positive():
    in_scores, out_scores = RNG.random(50), RNG.random(40) + 0.3
    figures = ml.multilabel_ood_detection(in_scores, out_scores)
    labels = np.r_[np.zeros(50), np.ones(40)]
    scores = np.r_[in_scores, out_scores]
    np.testing.assert_allclose(figures["aupr_out"], skm.average_precision_score(labels, scores))
    np.testing.assert_allclose(figures["auroc"], skm.roc_auc_score(labels, scores))
    params = np.array([[[1.0, 1.0], [1.0, 1.0]], [[9.0, 1.0], [1.0, 5.0]]])
    np.testing.assert_allclose(ml.beta_ood_scores(params), [1.0, 4 / 16], rtol=1e-6)
    assert ke.evaluation.mean_average_precision is ml.mean_average_precision
