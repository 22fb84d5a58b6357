"""for_model: metrics read the model's output settings (issue 28 items 3, 4;
issue 27 sections 2 and 3)."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.metrics.data import result as _result

NAMES = ["known_accuracy", "brier_score", "ece", "unknown_auroc", "unknown_aupr"]


def _model(head, width):
    inputs = keras.Input((4,))
    return keras.Model(inputs, head(keras.layers.Dense(width, name="logits")(inputs)))


def _data(seed=0, n=240, k=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, k + 1, n)


def _evaluated(model, x, y, metrics):
    # Keras needs a loss to evaluate: these models output alpha for metrics only.
    model.compile(loss=lambda t, p: keras.ops.zeros(keras.ops.shape(p)[:1]), metrics=metrics)
    return model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)


def test_fedl_packed_output_is_read_as_fedl_by_for_model():
    # Issue 28 item 3: [alpha, p, tau] was read as 2K + 1 concentrations.
    model = _model(ke.layers.FlexibleDirichletOutput(3), 16)
    x, y = _data()
    report = ke.evaluation.evaluate_uncertainty(model, x, y).metrics
    evaluated = _evaluated(model, x, y, ke.metrics.for_model(model, NAMES))
    for name in NAMES:
        assert evaluated[name] == pytest.approx(report[name], abs=1e-4), name


def test_redl_threshold_metrics_use_the_heads_prior():
    # Issue 28 item 4: prior weight 0.1 read as 1 rejected every sample.
    model = _model(ke.layers.DirichletOutput(prior_concentration=0.1), 3)
    x, y = _data(1)
    names = ["known_accuracy", "unknown_recall", "rejection_rate"]
    report = ke.evaluation.evaluate_uncertainty(model, x, y, threshold=0.5).metrics
    evaluated = _evaluated(model, x, y, ke.metrics.for_model(model, names, threshold=0.5))
    for name in names:
        assert evaluated[name] == pytest.approx(report[name], abs=1e-4), name
    assert 0 < report["known_accuracy"] < 1


def test_redl_alpha_with_edls_prior_is_refused_not_scored():
    # Without for_model, a threshold metric with the default prior 1 sees
    # alpha < 1: a clear error, not an accuracy of 0.
    alpha = np.array([[5.1, 0.1, 0.3], [0.2, 0.5, 0.1]], "float32")
    for cls in (ke.metrics.KnownClassAccuracy, ke.metrics.UnknownClassRecall, ke.metrics.RejectionRate):
        with pytest.raises(Exception, match="prior_concentration=lambda"):
            cls(threshold=0.5).update_state(np.array([0, 3]), alpha)


@pytest.mark.parametrize("cls", [ke.metrics.UnknownClassAUROC, ke.metrics.UnknownClassAUPR])
def test_float64_copy_of_a_float32_head_at_the_prior_is_accepted(cls):
    # Issue 27 section 2: float32(0.7) = 0.69999998 < 0.7 in float64.
    alpha = np.array([[0.7, 0.7], [5.0, 0.7], [0.7, 3.0]], "float32").astype("float64")
    metric = cls(prior_concentration=0.7)
    metric.update_state(np.array([2, 0, 1]), alpha)
    assert _result(metric) == pytest.approx(1.0)


def test_for_model_reads_unknown_class_and_refuses_settings_by_hand():
    inputs = keras.Input((4,))
    alpha = ke.layers.DirichletOutput()(keras.layers.Dense(3)(inputs))
    model = keras.Model(inputs, ke.layers.UnknownClassHead()(alpha))
    aupr, ece = ke.metrics.for_model(model, [ke.metrics.UnknownClassAUPR, "ExpectedCalibrationError"])
    assert aupr.unknown_class and ece.unknown_class
    with pytest.raises(ValueError, match="Received: prior_concentration=0.5"):
        ke.metrics.for_model(model, ["unknown_aupr"], prior_concentration=0.5)
    with pytest.raises(ValueError, match="Received: metrics='nope'"):
        ke.metrics.for_model(model, ["nope"])
