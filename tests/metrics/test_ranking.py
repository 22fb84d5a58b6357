"""The ranking estimators against scikit-learn, and one figure everywhere:
compiled metric (`model.evaluate`) == `keras_evidential.evaluation`."""

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import average_precision_score
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve

import keras_evidential as ke
from keras_evidential.metrics import ranking
from tests.metrics.data import result as _result


def tied_data(seed=0, n=300, k=3):
    """alpha on a coarse grid (many exact ties), labels K = unknown."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k + 1, n)
    alpha = 1.0 + rng.integers(0, 4, (n, k)).astype("float32")
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.integers(0, 6, known.sum())
    return alpha.astype("float32"), labels


def sklearn_fpr(labels, scores, tpr, weight=None):
    """scikit-learn's ROC curve: the first threshold whose TPR reaches `tpr`."""
    fpr, rates, _ = roc_curve(labels, scores, sample_weight=weight, drop_intermediate=False)
    return fpr[np.argmax(rates >= tpr)]


@pytest.mark.parametrize("xp_name", ["numpy", "keras.ops"])
def test_estimators_match_sklearn_with_ties_and_weights(xp_name):
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 12, 500).astype("float64") / 11  # many ties
    labels = rng.random(500) < 0.4
    weight = rng.random(500) * (rng.random(500) > 0.1)  # some weights 0
    positive, negative = ranking.weights_of(labels, weight)
    if xp_name == "numpy":
        xp, args = np, (scores, positive, negative)
    else:
        xp = ops
        args = tuple(ops.convert_to_tensor(a.astype("float32")) for a in (scores, positive, negative))
    value = lambda fn, *extra: float(ops.convert_to_numpy(fn(*args, *extra, xp=xp)))  # noqa: E731
    # AUROC: roc_auc_score (the trapezoid over distinct scores).
    assert value(ranking.roc_auc) == pytest.approx(
        roc_auc_score(labels, scores, sample_weight=weight), abs=1e-5
    )
    # AUPR: average_precision_score, the step function (not auc(recall, precision)).
    assert value(ranking.average_precision) == pytest.approx(
        average_precision_score(labels, scores, sample_weight=weight), abs=1e-5
    )
    for tpr in (0.95, 0.5, 1.0):
        assert value(ranking.fpr_at_tpr, tpr) == pytest.approx(
            sklearn_fpr(labels, scores, tpr, weight), abs=1e-6
        )


def test_hand_worked_ties():
    # Scores 0.8 (pos), 0.5 (pos, neg tied), 0.2 (neg). AUROC: pairs
    # (0.8 > 0.5n), (0.8 > 0.2), (0.5p = 0.5n: 1/2), (0.5p > 0.2): 3.5 / 4.
    scores = np.array([0.8, 0.5, 0.5, 0.2])
    positive = np.array([1.0, 1.0, 0.0, 0.0])
    negative = 1.0 - positive
    assert ranking.roc_auc(scores, positive, negative) == pytest.approx(0.875)
    # AP: threshold 0.8: P = 1, R = 1/2; threshold 0.5: P = 2/3, R = 1.
    assert ranking.average_precision(scores, positive, negative) == pytest.approx(
        0.5 * 1 + 0.5 * 2 / 3
    )
    # TPR 1 is first reached at 0.5, where one of two negatives is accepted.
    assert ranking.fpr_at_tpr(scores, positive, negative, 0.95) == pytest.approx(0.5)


def _identity_model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def _zero_loss(y_true, y_pred):
    return ops.zeros(ops.shape(y_pred)[:1])


@pytest.mark.parametrize(
    "jit_compile", [False, pytest.param(True, marks=pytest.mark.large)]
)  # XLA compiles every metric's sort: 14 s, so in the large lane
def test_compiled_metrics_equal_evaluation_across_batches(jit_compile):
    if jit_compile and keras.backend.backend() == "torch":
        pytest.skip("PyTorch has no jit_compile in Keras")
    alpha, labels = tied_data()
    report = ke.evaluation.uncertainty_metrics(alpha, labels)
    names = [
        "unknown_auroc", "unknown_aupr", "unknown_fpr95", "misclassification_auroc",
        "misclassification_aupr", "brier_score", "ece", "known_accuracy",
    ]
    model = _identity_model()
    model.compile(
        loss=_zero_loss,
        metrics=[_by_name(n) for n in names],
        jit_compile=jit_compile,
    )
    for batch_size in (300, 64, 7):
        evaluated = model.evaluate(
            alpha, labels, batch_size=batch_size, verbose=0, return_dict=True
        )
        for name in names:
            assert evaluated[name] == pytest.approx(report[name], abs=1e-4), (name, batch_size)


def _by_name(name):
    [metric] = ke.metrics.for_model(_identity_dirichlet_model(), [name])
    return metric


def _identity_dirichlet_model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, ke.layers.DirichletOutput()(inputs))


def test_weighted_metrics_equal_weighted_evaluation():
    alpha, labels = tied_data(2)
    weight = np.random.default_rng(2).random(len(labels))
    vacuity = 3.0 / alpha.astype("float64").sum(1)
    known = labels < 3
    model = _identity_model()
    model.compile(
        loss=_zero_loss,
        weighted_metrics=[
            ke.metrics.UnknownClassAUPR(),
            ke.metrics.UnknownClassAUROC(),
            ke.metrics.UnknownClassFPR(),
        ],
    )
    evaluated = model.evaluate(
        alpha, labels, sample_weight=weight, batch_size=50, verbose=0, return_dict=True
    )
    confidence = 1.0 - 3.0 / alpha.sum(1)  # the metrics' float32 scores
    assert evaluated["unknown_aupr"] == pytest.approx(
        ke.evaluation.average_precision(known, confidence, sample_weight=weight), abs=1e-4
    )
    assert evaluated["unknown_aupr"] == pytest.approx(
        average_precision_score(known, -vacuity, sample_weight=weight), abs=1e-4
    )
    assert evaluated["unknown_auroc"] == pytest.approx(
        roc_auc_score(~known, vacuity, sample_weight=weight), abs=1e-4
    )
    assert evaluated["unknown_fpr95"] == pytest.approx(
        ke.evaluation.fpr_at_tpr(known, confidence, sample_weight=weight), abs=1e-4
    )


UNDEFINED = {
    "no unknown sample": np.array([0, 1, 0, 1]),
    "only unknown samples": np.array([2, 2, 2, 2]),
}
ALPHA = np.array([[9.0, 1.0], [1.0, 4.0], [3.0, 2.0], [1.0, 1.5]], "float32")


@pytest.mark.parametrize("case", sorted(UNDEFINED))
def test_detection_figures_are_nan_where_undefined(case):
    labels = UNDEFINED[case]
    for cls in (ke.metrics.UnknownClassAUPR, ke.metrics.UnknownClassAUROC, ke.metrics.UnknownClassFPR):
        metric = cls()
        metric.update_state(labels, ALPHA)
        assert np.isnan(_result(metric)), (cls.__name__, case)
    known = labels < 2
    assert np.isnan(ke.evaluation.average_precision(known, -3.0 / ALPHA.sum(1)))
    assert np.isnan(ke.evaluation.fpr_at_tpr(known, -3.0 / ALPHA.sum(1)))


def test_misclassification_figures_are_nan_when_all_predictions_are_right():
    labels = ALPHA.argmax(1)
    for cls in (ke.metrics.MisclassificationAUPR, ke.metrics.MisclassificationAUROC):
        metric = cls()
        metric.update_state(labels, ALPHA)
        assert np.isnan(_result(metric)), cls.__name__
    report = ke.evaluation.uncertainty_metrics(ALPHA, labels)
    assert np.isnan(report["misclassification_aupr"])


@pytest.mark.parametrize(
    "make",
    [
        ke.metrics.MisclassificationAUPR,
        ke.metrics.ExpectedCalibrationError,
        ke.metrics.UnknownClassAUPR,
        ke.metrics.UnknownClassFPR,
        ke.metrics.BrierScore,
        lambda: ke.metrics.UnknownClassAUROC(num_thresholds=10),
    ],
)
def test_empty_batch_is_a_no_op(make):
    metric = make()
    metric.update_state(np.zeros((0,), "int32"), np.ones((0, 2), "float32"))
    assert np.isnan(_result(metric))
    metric.update_state(np.array([0, 1, 2]), np.array([[9.0, 1.0], [4.0, 1.0], [1.0, 1.0]], "float32"))
    metric.update_state(np.zeros((0,), "int32"), np.ones((0, 2), "float32"))
    assert np.isfinite(_result(metric))


def test_more_samples_than_max_samples_is_an_error_naming_it():
    metric = ke.metrics.UnknownClassAUROC(max_samples=4)
    metric.update_state(np.array([0, 2, 1]), ALPHA[:3])
    with pytest.raises(Exception, match="max_samples=4"):
        metric.update_state(np.array([0, 2]), ALPHA[:2])


def test_bucketed_approximation_ranks_buckets_as_ties():
    # Scores binned into 4 buckets on [0, 1], then the exact estimator.
    alpha, labels = tied_data(3)
    vacuity = 3.0 / alpha.sum(1)
    buckets = np.clip(np.floor(vacuity * 4), 0, 3)
    metric = ke.metrics.UnknownClassAUROC(num_thresholds=4)
    metric.update_state(labels, alpha)
    assert _result(metric) == pytest.approx(roc_auc_score(labels == 3, buckets), abs=1e-5)


# Issue 28 item 8: a string is truthy; every constructor now refuses it.
@pytest.mark.parametrize(
    "cls",
    [
        ke.metrics.BrierScore, ke.metrics.UnknownClassAUPR, ke.metrics.UnknownClassAUROC,
        ke.metrics.UnknownClassFPR, ke.metrics.MisclassificationAUPR,
        ke.metrics.MisclassificationAUROC, ke.metrics.ThresholdedAUC,
        ke.metrics.ExpectedCalibrationError, ke.metrics.KnownClassAccuracy,
        ke.metrics.UnknownClassRecall, ke.metrics.RejectionRate,
        ke.metrics.SelectiveAccuracy, ke.metrics.UnknownClassPrecision,
    ],
)
def test_constructor_arguments_follow_the_one_rule(cls):
    with pytest.raises(ValueError, match="`unknown_class` must be True or False. Received: unknown_class='False'"):
        cls(unknown_class="False")
    with pytest.raises(ValueError, match="Received: flexible=1"):
        cls(flexible=1)


def test_thresholds_and_rates_follow_the_one_rule():
    for bad in ("0.5", True, float("nan"), 1.5):
        with pytest.raises(ValueError, match="`threshold` must be a number in \\[0, 1\\] or None"):
            ke.metrics.KnownClassAccuracy(threshold=bad)
        with pytest.raises(ValueError, match="`threshold` must be a number in \\[0, 1\\] or None"):
            ke.metrics.ThresholdedAUC(threshold=bad)
    for bad in (0, "0.9", 1.5):
        with pytest.raises(ValueError, match="`tpr` must be a number in \\(0, 1\\]"):
            ke.metrics.UnknownClassFPR(tpr=bad)
        with pytest.raises(ValueError, match="`tpr` must be a number in \\(0, 1\\]"):
            ke.evaluation.fpr_at_tpr([1, 0], [1.0, 0.0], tpr=bad)
    with pytest.raises(ValueError, match="Received: num_bins=2.0"):
        ke.metrics.ExpectedCalibrationError(num_bins=2.0)
    with pytest.raises(ValueError, match="Received: max_samples=0"):
        ke.metrics.UnknownClassAUPR(max_samples=0)
    with pytest.raises(ValueError, match="Received: risk='nope'"):
        ke.metrics.BayesRisk(risk="nope")


def test_ranking_metrics_round_trip_their_config():
    for metric in (
        ke.metrics.UnknownClassAUPR(positive="unknown", max_samples=100, prior_concentration=0.5),
        ke.metrics.UnknownClassFPR(tpr=0.9, num_thresholds=50, minimum_alpha=0.0),
        ke.metrics.ThresholdedAUC(threshold=0.4, positive_class=0, flexible=True),
    ):
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert type(restored) is type(metric)
        assert restored.get_config() == metric.get_config()
