"""DeadEvidenceMonitor and dead_evidence_statistics."""


import keras
import numpy as np
import pytest

import keras_evidential as ke


def test_statistics_hand_worked():
    alpha = np.array([[1.0, 1.0, 3.0], [1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    stats = ke.callbacks.dead_evidence_statistics(alpha)
    assert stats == {"zero_evidence_fraction": 0.5, "dead_units": 1, "dead_unit_fraction": 1 / 3}


def test_statistics_with_prior_weight():
    stats = ke.callbacks.dead_evidence_statistics(np.array([[0.1, 0.1], [0.1, 2.0]]), prior_weight=0.1)
    assert stats["dead_units"] == 1 and stats["zero_evidence_fraction"] == 0.5


def test_monitor_logs_and_warns_about_a_dead_unit():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), ke.layers.DirichletOutput("relu")])
    kernel, bias = model.layers[0].get_weights()
    kernel[:, 2] = 0.0
    bias[2] = -5.0  # unit 2: logit -5 on every input, ReLU evidence 0
    model.layers[0].set_weights([kernel, bias])
    model.compile("sgd", ke.losses.EDLLoss())
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 32)
    monitor = ke.callbacks.DeadEvidenceMonitor(x)
    with pytest.warns(UserWarning, match="dead units"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    assert history.history["dead_units"] == [1, 1]
    assert len(monitor.history) == 2


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        ke.callbacks.dead_evidence_statistics(np.ones(3))
    with pytest.raises(ValueError, match="prior_weight"):
        ke.callbacks.DeadEvidenceMonitor(np.ones((2, 2)), prior_weight=-1)
