"""DeadEvidenceMonitor and dead_evidence_statistics."""


import keras
import numpy as np
import pytest

import keras_evidential as ke


def test_statistics_hand_worked():
    alpha = np.array([[1.0, 1.0, 3.0], [1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    stats = ke.callbacks.dead_evidence_statistics(alpha)
    assert stats == {"zero_evidence_fraction": 0.5, "dead_units": 1, "dead_unit_fraction": 1 / 3}


def test_statistics_with_prior_concentration():
    stats = ke.callbacks.dead_evidence_statistics(np.array([[0.1, 0.1], [0.1, 2.0]]), prior_concentration=0.1)
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
    with pytest.raises(ValueError, match="prior_concentration"):
        ke.callbacks.DeadEvidenceMonitor(np.ones((2, 2)), prior_concentration=-1)


# Heads whose evidence is not `alpha - 1` (issue 28, item 5): the monitor
# reads the head through `keras_evidential.model_kind`. Each model has a zero
# kernel and a fixed bias, so its evidence is known by hand, and a learning
# rate of 0 keeps it there through `fit`.

X = np.random.default_rng(2).normal(size=(16, 3)).astype("float32")
Y = np.arange(16) % 3


def fixed_logits_model(bias, head=None, width=None):
    dense = keras.layers.Dense(width or len(bias), kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(bias))
    layers = [keras.Input((3,)), dense] + ([head] if head is not None else [])
    return keras.Sequential(layers)


def monitored_dead_units(model, loss, **monitor_args):
    model.compile(keras.optimizers.SGD(learning_rate=0.0), loss)
    monitor = ke.callbacks.DeadEvidenceMonitor(X, warn=False, **monitor_args)
    history = model.fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])
    return history.history


def test_relaxed_edl_head_evidence_is_alpha_minus_its_prior_concentration():
    # R-EDL: alpha = relu(z) + 0.1. Evidence [1, 0.5, 0]: unit 2 alone is
    # dead. Read as alpha - 1 ([0.1, -0.4, -0.9]) units 1 and 2 looked dead.
    model = fixed_logits_model([1.0, 0.5, -5.0], ke.layers.DirichletOutput("relu", prior_concentration=0.1))
    history = monitored_dead_units(model, ke.losses.RelaxedEDLLoss(prior_concentration=0.1))
    assert history["dead_units"] == [1]
    assert history["zero_evidence_fraction"] == [0.0]


def test_flexible_head_is_read_as_its_equivalent_alpha():
    # F-EDL packs [alpha, p, tau] (2K + 1 = 7 columns) with alpha = exp(.) > 0
    # and no prior: no unit is dead. Read as K = 7 columns of alpha - 1, the
    # p and tau columns (< 1) looked dead.
    model = keras.Sequential([keras.Input((3,)), ke.layers.FlexibleDirichletOutput(3)])
    history = monitored_dead_units(model, ke.losses.FEDLLoss())
    assert history["dead_units"] == [0]
    assert history["zero_evidence_fraction"] == [0.0]


def test_logits_model_evidence_comes_from_its_loss():
    # TEDL: the model outputs logits [2, -1, -3]; EDLLoss(from_logits=True,
    # evidence="relu") makes evidence [2, 0, 0]: units 1 and 2 are dead. Read
    # as alpha - 1 = [1, -2, -4]: the same count, so a logit of 0.5 (evidence
    # 0.5, alpha - 1 = -0.5) tells them apart.
    model = fixed_logits_model([2.0, 0.5, -3.0])
    history = monitored_dead_units(model, ke.losses.EDLLoss(from_logits=True, evidence="relu"))
    assert history["dead_units"] == [1]


def test_density_aware_head_evidence_is_alpha():
    # DAEDL: alpha = exp(z) > 0 is the evidence itself (no prior of 1), so
    # no unit is dead; read as alpha - 1, logits below 0 looked dead.
    inputs = keras.Input((3,))
    features = keras.layers.Dense(4)(inputs)
    logits = keras.layers.Dense(3, kernel_initializer="zeros",
                                bias_initializer=keras.initializers.Constant([-1.0, -2.0, 0.5]))(features)
    model = keras.Model(inputs, ke.layers.DensityAwareDirichlet()([features, logits]))
    x = np.random.default_rng(3).normal(size=(60, 3)).astype("float32")
    y = np.arange(60) % 3
    model.compile(keras.optimizers.SGD(learning_rate=0.0), ke.losses.DAEDLLoss())
    monitor = ke.callbacks.DeadEvidenceMonitor(x, warn=False)
    history = model.fit(x, y, epochs=1, verbose=0,
                        callbacks=[monitor, ke.callbacks.FitDensity(x, y)])
    assert history.history["dead_units"] == [0]


def test_prior_concentration_contradicting_the_head_is_refused():
    model = fixed_logits_model([1.0, 0.5, -5.0], ke.layers.DirichletOutput("relu", prior_concentration=0.1))
    with pytest.raises(ValueError, match=r"prior_concentration.*0\.1.*Received: prior_concentration=1\.0"):
        monitored_dead_units(model, ke.losses.RelaxedEDLLoss(prior_concentration=0.1), prior_concentration=1.0)


def test_unknown_class_must_be_a_bool():
    # A string is truthy: unknown_class='False' dropped a real class.
    for bad in ("False", 1, "true"):
        with pytest.raises(ValueError, match=f"Received: unknown_class={bad!r}"):
            ke.callbacks.DeadEvidenceMonitor(X, unknown_class=bad)


def test_float32_alpha_at_its_prior_concentration_has_no_evidence():
    # float32(0.1) > 0.1: subtracted in float64, a dead R-EDL unit kept
    # 1.5e-9 of evidence and counted as alive.
    alpha = np.array([[0.1, 1.1], [0.1, 0.6]], "float32")
    assert ke.callbacks.dead_evidence_statistics(alpha, prior_concentration=0.1)["dead_units"] == 1
