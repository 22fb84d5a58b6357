"""Every metric compiled into an m-EDL model: fit, evaluate and a saved model."""

import keras
import numpy as np
import pytest

from keras_evidential import layers
from keras_evidential import losses
from keras_evidential import metrics
from tests.metrics.data import result as _result


ALL_METRICS = (
    lambda: metrics.KnownClassAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.UnknownClassRecall(unknown_class=True),
    lambda: metrics.UnknownClassPrecision(unknown_class=True),
    lambda: metrics.SelectiveAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.RejectionRate(unknown_class=True, threshold=0.3),
    lambda: metrics.ExpectedCalibrationError(num_bins=7, unknown_class=True),
    lambda: metrics.MisclassificationAUROC(score="dissonance", unknown_class=True),
    lambda: metrics.UnknownClassAUROC(
        score="mutual_information", unknown_class=True, num_thresholds=300
    ),
)


def test_metrics_in_compile_fit_evaluate_and_saved_model(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(256, 6)).astype("float32")
    labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2),
            layers.DirichletOutput(),
            layers.UnknownClassHead(),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=losses.EDLLoss(kl_weight=0.1),
        metrics=[make() for make in ALL_METRICS],
    )
    history = model.fit(
        x, labels, batch_size=64, epochs=1, verbose=0, validation_split=0.25
    )
    for name in (
        "known_accuracy",
        "val_unknown_recall",
        "ece",
        "val_misclassification_auroc",
        "unknown_auroc",
    ):
        assert len(history.history[name]) == 1
    evaluated = model.evaluate(x, labels, batch_size=50, verbose=0, return_dict=True)
    alpha = model.predict(x, verbose=0)
    for make in ALL_METRICS:
        metric = make()
        metric.update_state(labels, alpha)
        assert evaluated[metric.name] == pytest.approx(
            _result(metric), abs=1e-5, nan_ok=True
        ), metric.name
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    # The reloaded compile config rebuilds every metric with its arguments
    # (evaluating rebuilt metrics is test_serialization_round_trip's job).
    restored = [
        keras.saving.deserialize_keras_object(config)
        for config in loaded.get_compile_config()["metrics"]
    ]
    assert [m.get_config() for m in restored] == [
        make().get_config() for make in ALL_METRICS
    ]
