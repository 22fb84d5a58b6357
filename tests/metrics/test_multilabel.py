"""Multi-label metrics against scikit-learn and a float64 ECE written here,
and equal to the NumPy evaluation (ties, masks, batches)."""

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

import keras_evidential as ke
from keras_evidential.evaluation import multilabel as ml
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(7)
N, L = 90, 3
Y = (RNG.random((N, L)) > 0.6).astype("float32")
Y[:15, 1] = -1.0  # missing labels
Y[20:25] = -1.0  # rows with every label missing: OOD for MultilabelOODAUPR
# Evidence on a coarse grid, so that many probabilities and scores tie.
PARAMS = (1.0 + RNG.integers(0, 4, size=(N, L, 2))).astype("float32")
WEIGHT = RNG.uniform(0.2, 2.0, size=N).astype("float32")


def probabilities(params):
    params = params.astype("float64")
    return params[..., 0] / params.sum(-1)


def update_in_batches(metric, y, params, weight=None, sizes=(40, 1, 49)):
    start = 0
    for size in sizes:
        part = slice(start, start + size)
        metric.update_state(y[part], params[part], None if weight is None else weight[part])
        start += size
    return float(to_numpy(metric.result()))


def reference_ece(y, p, num_bins):
    """Float64 ECE of one label's Bernoulli: bins (i/B, (i+1)/B] of
    max(p, 1 - p), correct where p > 1/2 equals the label."""
    confidence = np.maximum(p, 1.0 - p)
    correct = (p > 0.5) == (y == 1)
    bins = np.clip(np.ceil(confidence * num_bins).astype(int) - 1, 0, num_bins - 1)
    return sum(
        np.sum(bins == b) / y.size
        * abs(correct[bins == b].mean() - confidence[bins == b].mean())
        for b in range(num_bins) if np.any(bins == b)
    )


class MultilabelMetricsTest(TestCase):
    def test_map_is_sklearns_mean_with_ties_masks_weights_and_batches(self):
        p = probabilities(PARAMS)
        expected = np.mean([
            skm.average_precision_score(
                Y[Y[:, l] >= 0, l], p[Y[:, l] >= 0, l], sample_weight=WEIGHT[Y[:, l] >= 0]
            )
            for l in range(L)
        ])
        metric = ke.metrics.MultilabelMeanAveragePrecision(L, max_samples=128)
        self.assertAllClose(update_in_batches(metric, Y, PARAMS, WEIGHT), expected, atol=1e-6)

    def test_map_equals_the_numpy_evaluation(self):
        metric = ke.metrics.MultilabelMeanAveragePrecision(L, max_samples=N)
        self.assertAllClose(
            update_in_batches(metric, Y, PARAMS),
            ml.mean_average_precision(Y, probabilities(PARAMS)), atol=1e-4,
        )

    def test_macro_ece_against_the_float64_reference(self):
        p = probabilities(PARAMS)
        expected = np.mean([
            reference_ece(Y[Y[:, l] >= 0, l], p[Y[:, l] >= 0, l], 5) for l in range(L)
        ])
        metric = ke.metrics.MultilabelCalibrationError(L, num_bins=5)
        value = update_in_batches(metric, Y, PARAMS)
        self.assertAllClose(value, expected, atol=1e-6)
        self.assertAllClose(value, ml.macro_calibration_error(Y, p, num_bins=5), atol=1e-4)

    def test_ood_aupr_is_sklearns_and_the_numpy_evaluations(self):
        ood = np.all(Y == -1.0, axis=1)
        for reduction, evidence in (("sum", "both"), ("max", "positive")):
            scores = ml.beta_ood_scores(PARAMS, reduction, evidence)
            metric = ke.metrics.MultilabelOODAUPR(reduction, evidence, max_samples=N)
            value = update_in_batches(metric, Y, PARAMS)
            self.assertAllClose(value, skm.average_precision_score(ood, scores), atol=1e-6)
            self.assertAllClose(
                value,
                ml.multilabel_ood_detection(scores[~ood], scores[ood])["aupr_out"],
                atol=1e-4,
            )

    def test_evaluate_prints_the_numpy_figures(self):
        model = keras.Sequential([
            keras.Input((4,)), keras.layers.Dense(2 * L), ke.layers.BetaOutput("softplus"),
        ])
        metrics = [
            ke.metrics.MultilabelMeanAveragePrecision(L, max_samples=N),
            ke.metrics.MultilabelCalibrationError(L, num_bins=5),
            ke.metrics.MultilabelOODAUPR(max_samples=N),
        ]
        model.compile(loss=ke.losses.BetaEDLLoss(), metrics=metrics)
        x = RNG.normal(size=(N, 4)).astype("float32")
        logs = model.evaluate(x, Y, batch_size=32, verbose=0, return_dict=True)
        params = model.predict(x, batch_size=32, verbose=0)
        p = to_numpy(ke.beta.expected_probability(params))
        ood = np.all(Y == -1.0, axis=1)
        scores = ml.beta_ood_scores(params)
        self.assertAllClose(logs["map"], ml.mean_average_precision(Y, p), atol=1e-4)
        self.assertAllClose(
            logs["macro_ece"], ml.macro_calibration_error(Y, p, num_bins=5), atol=1e-4
        )
        self.assertAllClose(
            logs["ood_aupr"],
            ml.multilabel_ood_detection(scores[~ood], scores[ood])["aupr_out"], atol=1e-4,
        )

    def test_config_round_trip(self):
        for metric in (
            ke.metrics.MultilabelMeanAveragePrecision(4, mask_value=-2.0, max_samples=10),
            ke.metrics.MultilabelCalibrationError(4, num_bins=7, name="ece4"),
            ke.metrics.MultilabelOODAUPR("max", "negative", max_samples=10),
        ):
            restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
            assert type(restored) is type(metric)
            assert restored.get_config() == metric.get_config()


def test_a_label_without_positives_is_left_out_and_none_gives_nan():
    y = np.array([[1.0, 0.0], [0.0, 0.0]], "float32")
    metric = ke.metrics.MultilabelMeanAveragePrecision(2)
    metric.update_state(y, PARAMS[:2, :2])
    p = probabilities(PARAMS[:2, :2])
    np.testing.assert_allclose(
        float(to_numpy(metric.result())), skm.average_precision_score(y[:, 0], p[:, 0])
    )
    empty = ke.metrics.MultilabelOODAUPR()
    empty.update_state(y, PARAMS[:2, :2])
    assert np.isnan(float(to_numpy(empty.result())))


def test_overflowing_the_buffer_is_refused():
    metric = ke.metrics.MultilabelMeanAveragePrecision(L, max_samples=10)
    with pytest.raises(ValueError, match="max_samples=10"):
        metric.update_state(Y[:11], PARAMS[:11])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ke.metrics.MultilabelMeanAveragePrecision(0), "num_labels"),
        (lambda: ke.metrics.MultilabelCalibrationError(2, mask_value=1), "mask_value"),
        (lambda: ke.metrics.MultilabelOODAUPR(reduction="mean"), "reduction"),
        (lambda: ke.metrics.MultilabelOODAUPR(evidence="pos"), "evidence"),
    ],
)
def test_bad_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=f"`{match}` must .*Received: {match}="):
        make()


def test_bad_labels_and_shapes_are_refused():
    metric = ke.metrics.MultilabelMeanAveragePrecision(L)
    y = Y[:4].copy()
    y[0, 0] = 2.0
    with pytest.raises(ValueError, match="must be 0, 1 or the mask value -1.*y_true"):
        metric.update_state(y, PARAMS[:4])
    with pytest.raises(ValueError, match=r"shape \(batch, L, 2\).*with L = 3"):
        metric.update_state(Y[:4, :2], PARAMS[:4, :2])
