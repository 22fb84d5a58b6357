"""UncertaintyMonitor: validation figures in History and TensorBoard."""

import keras
import numpy as np
import pytest

from keras_evidential import evaluation
from keras_evidential import layers
from keras_evidential import losses


def _event_tags(log_dir):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    tags = {}
    for path in log_dir.rglob("events.out.tfevents*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                tags.setdefault(value.tag, set()).add((plugin, event.step))
    return tags


def test_uncertainty_monitor_logs_history_and_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    rng = np.random.default_rng(13)
    x = rng.normal(size=(128, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    y[:20] = 2  # unknown samples in the validation data
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(2), layers.DirichletOutput()]
    )
    model.compile(optimizer="adam", loss=losses.EDLLoss())
    monitor = evaluation.UncertaintyMonitor(
        (x, y), threshold=0.8, log_dir=tmp_path / "uncertainty"
    )
    history = model.fit(
        x[20:], y[20:], epochs=2, batch_size=32, verbose=0, callbacks=[monitor]
    )
    for name in (
        "val_known_accuracy",
        "val_unknown_recall",
        "val_ece",
        "val_unknown_auroc",
        "val_roc_auc",
        "val_mean_vacuity",
    ):
        assert len(history.history[name]) == 2, name
    alpha = model.predict(x, verbose=0)
    expected = evaluation.uncertainty_metrics(alpha, y, threshold=0.8)
    assert history.history["val_known_accuracy"][-1] == pytest.approx(
        expected["known_accuracy"]
    )
    tags = _event_tags(tmp_path / "uncertainty")
    assert ("histograms", 1) in tags["val_vacuity/all"]
    assert ("histograms", 0) in tags["val_vacuity/unknown"]
    assert ("scalars", 1) in tags["val_known_accuracy"]


def test_uncertainty_monitor_validates_arguments():
    with pytest.raises(ValueError, match="validation_data"):
        evaluation.UncertaintyMonitor(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="Received: freq=0"):
        evaluation.UncertaintyMonitor((np.zeros(2), np.zeros(2)), freq=0)


def test_uncertainty_monitor_uses_the_prior_concentration_of_the_head():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(32, 4)), np.arange(32) % 3
    x_val, y_val = rng.normal(scale=2.0, size=(40, 4)), np.arange(40) % 4
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(3),
        layers.DirichletOutput("softplus", prior_concentration=0.1),
    ])
    model.compile(optimizer="sgd", loss=losses.RelaxedEDLLoss(prior_concentration=0.1))
    monitor = evaluation.UncertaintyMonitor((x_val, y_val))
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    alpha = np.asarray(model.predict(x_val, verbose=0), "float64")
    assert alpha.min() < 1.0
    assert history.history["val_mean_vacuity"][-1] == pytest.approx(
        (0.1 * 3 / alpha.sum(-1)).mean(), rel=1e-5
    )
