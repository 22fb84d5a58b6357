"""Data-parallel training with `keras.distribution` on JAX, in subprocesses.

tests/scripts/jax_data_parallel.py trains each setup of
tests/scripts/distribution_setups.py twice from the same initial weights:
on one device and under `keras.distribution.DataParallel` over 4 host CPU
devices (`XLA_FLAGS=--xla_force_host_platform_device_count=4`, which JAX
reads once at import: hence the subprocess). tests/scripts/mirrored_states.py
trains the setups with replica-aggregated state under
`tf.distribute.MirroredStrategy` over 2 logical CPU devices; the two run
side by side.

- Every step's loss and the weights after it equal the single-device run,
  also for EDL under `ModelParallel` (a 2 x 2 mesh whose LayoutMap splits
  the hidden layer's units).
- The coefficient each step used (KLAnnealing, TwoStageFit,
  RegularizerSchedule) is the scheduled one: the step's loss equals a float64
  reference with that coefficient, evaluated at the weights before the step.
- JAX compiles the train step once, and once more for each epoch whose
  coefficient changed (`refresh_compiled_steps`), never for an unchanged one.
- FitDensity, DeadEvidenceMonitor, spectral normalisation's power-iteration
  vector and the streaming metric states (AUROC / AUPR confusion counts, ECE
  bins) equal the single-device ones, the MirroredStrategy ones and a NumPy /
  scikit-learn reference.

Tolerances: the runs compute in float32, so values of order 1 agree to a few
units in the last place (1.2e-7 each): 1e-6 absolute for losses, weights and
vectors; 1e-5 relative for the fitted covariance factor, which amplifies
rounding through a Cholesky factorisation. A wrong reduction over replicas
(a per-replica mean summed over 4 replicas) would change the gradient by a
factor of 4, far beyond these.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests import reference
from tests import reference_family
from tests import reference_nig

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        importlib.util.find_spec("jax") is None, reason="needs JAX installed"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "scripts"
TOLERANCE = 1e-6
TIMEOUT = 400
SETUPS = ("edl", "medl", "tedl", "nig", "daedl", "dead")
MIRRORED_SETUPS = ("daedl", "dead", "medl")
STEPS_PER_EPOCH = 4  # 128 samples, batches of 32
BATCH_SIZE = 32
K = 3
# The coefficient each epoch's steps must use, written out from the
# callbacks' definitions in tests/scripts/distribution_setups.py:
# KLAnnealing(increment=0.5, max_weight=0.5): min(0.5, 0.5 t);
# TwoStageFit(switch_epoch=1): stage 1 in epoch 0, then KL annealed from the
# switch; RegularizerSchedule: min(0.5, 0.5 t); m-EDL: a fixed 0.5.
SCHEDULES = {
    "edl": [0.0, 0.5, 0.5],
    "medl": [0.5, 0.5, 0.5],
    "tedl": [0.0, 0.0, 0.5],
    "nig": [0.0, 0.5, 0.5],
}
STAGES = [1, 2, 2]
# Distinct consecutive (stage, coefficient) values, i.e. train-step
# compilations: one at the start, one for each epoch whose value changed.
COMPILATIONS = {"edl": 2, "medl": 1, "tedl": 3, "nig": 2}
# Metric variables that count samples.
COUNTS = ("unknown_auroc/", "unknown_aupr/", "ece/bin_counts", "ece/bin_correct")
# The buffers of the exact ranking metrics (`RankingMetric`).
BUFFERS = ("/scores", "/positive_weights", "/negative_weights")


def _env(backend):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND=backend)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """`(jax_result, mirrored_result)`: both scripts, run side by side."""
    out = tmp_path_factory.mktemp("distribution")
    commands = {
        "jax": [sys.executable, SCRIPTS / "jax_data_parallel.py", out / "jax.json"],
        "tensorflow": [sys.executable, SCRIPTS / "mirrored_states.py", out / "tf.json"],
    }
    processes = {
        backend: subprocess.Popen(
            command, cwd=ROOT, env=_env(backend), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        for backend, command in commands.items()
    }
    try:
        logs = {b: p.communicate(timeout=TIMEOUT)[0] for b, p in processes.items()}
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.kill()
    for backend, p in processes.items():
        assert p.returncode == 0, logs[backend][-3000:]
    return (
        json.loads((out / "jax.json").read_text()),
        json.loads((out / "tf.json").read_text()),
    )


@pytest.fixture(scope="module")
def jax_result(results):
    return results[0]


@pytest.fixture(scope="module")
def mirrored(results):
    return results[1]


def _data(jax_result):
    data = jax_result["data"]
    return (
        np.asarray(data["x"], "float64"),
        np.asarray(data["labels"]),
        np.asarray(data["targets"], "float64"),
    )


def _assert_close(actual, expected, rtol=0.0, atol=TOLERANCE, err_msg=""):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=err_msg)


def _max_difference(first, second):
    """The largest absolute difference between two nested lists of arrays."""
    return max(
        (
            float(np.max(np.abs(np.subtract(a, b)), initial=0.0))
            for a, b in zip(first, second, strict=True)
        ),
        default=0.0,
    )


def _steps_difference(first, second):
    return max(
        _max_difference(a, b) for a, b in zip(first, second, strict=True)
    )


def test_batches_are_split_over_four_devices(jax_result):
    assert jax_result["devices"] == 4
    for setup in SETUPS:
        parallel = jax_result[setup]["parallel"]["fit_traces"]
        single = jax_result[setup]["single"]["fit_traces"]
        # Each device holds 8 rows of a batch of 32 under DataParallel.
        assert (parallel["batch_devices"], parallel["batch_shard_rows"]) == (4, 8)
        assert (single["batch_devices"], single["batch_shard_rows"]) == (1, 32)
        # The weights are replicated: no axis is sharded.
        specs = jax_result[setup]["parallel"]["weight_shardings"]
        assert specs and all("batch" not in spec for spec in specs), specs


@pytest.mark.parametrize("setup", SETUPS)
def test_data_parallel_steps_equal_single_device(jax_result, setup):
    single = jax_result[setup]["single"]
    parallel = jax_result[setup]["parallel"]
    assert len(single["losses"]) == len(parallel["losses"]) == 12
    _assert_close(parallel["losses"], single["losses"])
    assert _steps_difference(single["trainable"], parallel["trainable"]) <= TOLERANCE
    assert (
        _steps_difference(single["non_trainable"], parallel["non_trainable"])
        <= TOLERANCE
    )
    # Not vacuous: 12 steps moved the weights far beyond the tolerance.
    moved = _max_difference(single["initial_trainable"], single["trainable"][-1])
    assert moved > 1e3 * TOLERANCE


def _softplus(z):
    return np.logaddexp(0.0, z)


def _hidden(weights, x):
    kernel, bias = (np.asarray(w, "float64") for w in weights[:2])
    return np.tanh(x @ kernel + bias)


def _outputs(weights, x):
    """The last Dense layer's outputs of the edl, medl, tedl and nig MLPs."""
    kernel, bias = (np.asarray(w, "float64") for w in weights[2:4])
    return _hidden(weights, x) @ kernel + bias


def _reference_loss(setup, weights, x, labels, targets, epoch, coefficient):
    """The float64 loss of one batch, from the papers' formulas."""
    z = _outputs(weights, x)
    if setup == "nig":
        y = targets[:, 0]
        gamma = z[:, 0]
        nu, beta = _softplus(z[:, 1]) + 1e-6, _softplus(z[:, 3]) + 1e-6
        alpha = _softplus(z[:, 2]) + 1.0 + 1e-6
        return np.mean(
            reference_nig.student_t_nll(y, gamma, nu, alpha, beta)
            + coefficient * reference_nig.amini_regularizer(y, gamma, nu, alpha)
        )
    if setup == "medl":
        # m-EDL: alpha_u = K + 1 appended, labels 0..K, EDL over K + 1 classes.
        alpha = np.concatenate([_softplus(z) + 1.0, np.full((len(z), 1), K + 1.0)], 1)
        y = reference.one_hot(labels, K + 1)
        return reference.edl_loss(y, alpha, "mse", coefficient)
    y = reference.one_hot(labels % K, K)
    if setup == "tedl":
        if STAGES[epoch] == 1:
            return reference.softmax_cross_entropy(y, z)
        alpha = reference.EVIDENCE["elu"](z) + 1.0
    else:
        alpha = _softplus(z) + 1.0
    return reference.edl_loss(y, alpha, "mse", coefficient)


def _batch_losses(running_means):
    """Each step's batch loss from Keras's running mean over the epoch."""
    losses = []
    for step, mean in enumerate(running_means):
        seen = step % STEPS_PER_EPOCH
        previous = running_means[step - 1] if seen else 0.0
        losses.append((seen + 1) * mean - seen * previous)
    return np.asarray(losses)


def _check_coefficients_reach_the_steps(run, setup, data):
    x, labels, targets = data
    weights_before = [run["initial_trainable"]] + run["trainable"][:-1]
    got = _batch_losses(run["losses"])
    for step, weights in enumerate(weights_before):
        epoch = step // STEPS_PER_EPOCH
        start = (step % STEPS_PER_EPOCH) * BATCH_SIZE
        rows = slice(start, start + BATCH_SIZE)
        batch = (x[rows], labels[rows], targets[rows])
        coefficient = SCHEDULES[setup][epoch]
        expected = _reference_loss(setup, weights, *batch, epoch, coefficient)
        # De-averaging the running mean multiplies its rounding by up to 7.
        np.testing.assert_allclose(
            got[step], expected, rtol=1e-5, atol=1e-6, err_msg=f"step {step}"
        )
        if SCHEDULES[setup][epoch] != SCHEDULES[setup][0]:
            # A step still compiled with epoch 0's coefficient would be seen.
            stale = _reference_loss(setup, weights, *batch, epoch, SCHEDULES[setup][0])
            assert abs(stale - expected) > 1e-3


@pytest.mark.parametrize("mode", ["single", "parallel"])
@pytest.mark.parametrize("setup", ["edl", "medl", "tedl", "nig"])
def test_each_step_uses_the_scheduled_coefficient(jax_result, setup, mode):
    run = jax_result[setup][mode]
    _check_coefficients_reach_the_steps(run, setup, _data(jax_result))
    logs = run["epoch_logs"]
    if setup == "nig":
        np.testing.assert_allclose(logs["regularizer_weight"], SCHEDULES["nig"])
    elif setup != "medl":
        np.testing.assert_allclose(logs["kl_weight"], SCHEDULES[setup])
    if setup == "tedl":
        assert logs["stage"] == STAGES


@pytest.mark.parametrize("setup", ["edl", "medl", "tedl", "nig"])
def test_train_step_compiled_once_per_changed_value(jax_result, setup):
    for mode in ("single", "parallel"):
        # Keras's first `fit` also traces the loss once under
        # `jax.eval_shape` (its symbolic build), without compiling.
        traces = jax_result[setup][mode]["fit_traces"]["loss"]
        assert traces - 1 == COMPILATIONS[setup], (mode, traces)


def test_schedule_reaches_a_wrapped_train_step(jax_result):
    run = jax_result["edl_wrapped_train_step"]
    np.testing.assert_allclose(run["epoch_logs"]["kl_weight"], SCHEDULES["edl"])
    _check_coefficients_reach_the_steps(run, "edl", _data(jax_result))


def test_model_parallel_steps_equal_single_device(jax_result):
    """EDL with KLAnnealing on a 2 x 2 mesh ("batch", "model"), the hidden
    layer's kernel and bias split over "model" by a LayoutMap."""
    single = jax_result["edl"]["single"]
    sharded = jax_result["edl"]["model_parallel"]
    assert "P(None, 'model')" in sharded["weight_shardings"]
    assert "P('model',)" in sharded["weight_shardings"]
    # Batches split in 2 along "batch", each half on the 2 "model" devices.
    traces = sharded["fit_traces"]
    assert (traces["batch_devices"], traces["batch_shard_rows"]) == (4, 16)
    _assert_close(sharded["losses"], single["losses"])
    assert _steps_difference(single["trainable"], sharded["trainable"]) <= TOLERANCE
    _check_coefficients_reach_the_steps(sharded, "edl", _data(jax_result))
    assert traces["loss"] - 1 == COMPILATIONS["edl"]


@pytest.mark.parametrize("setup", MIRRORED_SETUPS)
def test_mirrored_steps_equal_jax_single_device(jax_result, mirrored, setup):
    """The same initial weights and data on TensorFlow, 2 replicas."""
    single, other = jax_result[setup]["single"], mirrored[setup]
    assert mirrored["replicas"] == 2
    _assert_close(other["losses"], single["losses"])
    assert _steps_difference(single["trainable"], other["trainable"]) <= TOLERANCE
    assert (
        _steps_difference(single["non_trainable"], other["non_trainable"])
        <= TOLERANCE
    )


def _spectral_vector(kernel, vector_u):
    """One power-iteration step (Miyato et al., Algorithm 1), float64."""
    v = vector_u @ kernel.T
    v /= np.linalg.norm(v)
    u = v @ kernel
    return u / np.linalg.norm(u)


def test_spectral_normalization_vectors(jax_result, mirrored):
    single = jax_result["dead"]["single"]
    trainable = [single["initial_trainable"]] + single["trainable"][:-1]
    non_trainable = [single["initial_non_trainable"]] + single["non_trainable"]
    kernels = [weights[0] for weights in trainable]
    vectors = [weights[0] for weights in non_trainable]
    assert np.shape(vectors[0]) == (1, 8) and np.shape(kernels[0]) == (6, 8)
    for step, kernel in enumerate(kernels):
        expected = _spectral_vector(np.asarray(kernel), np.asarray(vectors[step]))
        for run in (single, jax_result["dead"]["parallel"], mirrored["dead"]):
            np.testing.assert_allclose(
                run["non_trainable"][step][0], expected, rtol=0, atol=TOLERANCE
            )
    # Not vacuous: the vector moved during training.
    assert _max_difference(vectors[0], vectors[-1]) > 1e-3


def _dead_statistics(run, x):
    """`DeadEvidenceMonitor`'s figures from the final weights, float64."""
    kernel, bias, out_kernel, out_bias = (
        np.asarray(w, "float64") for w in run["trainable"][-1]
    )
    vector_u = np.asarray(run["non_trainable"][-1][0], "float64")
    u = _spectral_vector(kernel, vector_u)
    v = vector_u @ kernel.T
    v /= np.linalg.norm(v)
    sigma = (v @ kernel @ u.T).item()
    hidden = np.tanh(x @ (kernel / sigma) + bias)
    evidence = np.maximum(hidden @ out_kernel + out_bias, 0.0)
    silent = evidence <= 0.0
    return {
        "zero_evidence_fraction": float(silent.all(axis=1).mean()),
        "dead_units": int(silent.all(axis=0).sum()),
    }


def test_dead_evidence_monitor(jax_result, mirrored):
    x = _data(jax_result)[0]
    single = jax_result["dead"]["single"]
    histories = [
        single["dead_history"],
        jax_result["dead"]["parallel"]["dead_history"],
        mirrored["dead"]["dead_history"],
    ]
    assert histories[1] == histories[0] and histories[2] == histories[0]
    expected = _dead_statistics(single, x)
    assert expected["dead_units"] == 1  # the unit started dead and stays so
    for key, value in expected.items():
        assert histories[0][-1][key] == pytest.approx(value)


def _fitted_density_reference(run, x, labels):
    features = _hidden(run["trainable"][-1], x)
    classes = labels % K
    counts = np.bincount(classes, minlength=K)
    log_density = reference_family.gda_log_density(features, classes, features, K)
    return {
        "log_weights": np.log(counts / len(classes)),
        "means": np.stack([features[classes == c].mean(0) for c in range(K)]),
        "density_range": [log_density.min(), log_density.max()],
        "fitted": 1.0,
    }


def test_fit_density(jax_result, mirrored):
    x, labels, _ = _data(jax_result)
    single = jax_result["daedl"]["single"]
    for run in (jax_result["daedl"]["parallel"], mirrored["daedl"]):
        for name, value in single["density"].items():
            _assert_close(run["density"][name], value, rtol=1e-5, err_msg=name)
        _assert_close(run["predictions"], single["predictions"], rtol=1e-5)
    for name, value in _fitted_density_reference(single, x, labels).items():
        # The layer adds a relative ridge of 1e-6 to each class covariance.
        _assert_close(
            single["density"][name], value, rtol=1e-3, atol=1e-5, err_msg=name
        )


def test_fit_density_on_features_that_devices_cannot_split_evenly(jax_result):
    single = jax_result["daedl"]["single"]["indivisible_density"]
    parallel = jax_result["daedl"]["parallel"]["indivisible_density"]
    assert "error" not in single
    assert "error" not in parallel, parallel["error"]
    for name, value in single.items():
        _assert_close(parallel[name], value, rtol=1e-5)


def test_dead_evidence_monitor_on_samples_that_devices_cannot_split_evenly(jax_result):
    single = jax_result["dead"]["single"]["indivisible_dead"]
    parallel = jax_result["dead"]["parallel"]["indivisible_dead"]
    assert "error" not in single
    assert parallel == single


def test_streaming_metric_states(jax_result, mirrored):
    single = jax_result["medl"]["single"]
    parallel = jax_result["medl"]["parallel"]
    other = mirrored["medl"]
    assert set(parallel["metric_variables"]) == set(single["metric_variables"])
    for name, value in single["metric_variables"].items():
        on_parallel = parallel["metric_variables"][name]
        on_mirrored = other["metric_variables"][name]
        if name.endswith(BUFFERS):
            # The exact ranking metrics keep every sample in a buffer, in the
            # order the replicas' shards arrive: compare the multisets.
            np.testing.assert_allclose(np.sort(on_parallel), np.sort(value), rtol=1e-6, err_msg=name)
            np.testing.assert_allclose(np.sort(on_mirrored), np.sort(value), rtol=1e-5, atol=1e-6, err_msg=name)
        elif name.startswith(COUNTS):
            # Sums of 0/1 weights: exact, and at most one sample on the other
            # side of a bucket edge on another backend.
            np.testing.assert_array_equal(on_parallel, value, err_msg=name)
            assert np.max(np.abs(np.subtract(on_mirrored, value))) <= 1, name
        else:
            _assert_close(on_parallel, value, rtol=1e-6, err_msg=name)
            _assert_close(on_mirrored, value, rtol=1e-6, err_msg=name)
    for key in ("unknown_auroc", "unknown_aupr", "ece"):
        _assert_close(parallel["evaluate"][key], single["evaluate"][key])
        _assert_close(parallel["epoch_logs"][key], single["epoch_logs"][key])
        # One sample across a bucket edge moves an AUC by about 3e-4.
        _assert_close(other["evaluate"][key], single["evaluate"][key], atol=1e-3)


def test_streaming_metrics_against_a_reference(jax_result):
    """The aggregated values are the figures of all 128 samples."""
    labels = _data(jax_result)[1]
    run = jax_result["medl"]["parallel"]
    alpha = np.asarray(run["predictions"], "float64")[:, :K]
    strength = alpha.sum(-1)
    vacuity = K / strength
    unknown = labels == K
    # 200 evenly spaced thresholds: the AUROC to about 1/200.
    expected_auroc = roc_auc_score(unknown, vacuity)
    assert run["evaluate"]["unknown_auroc"] == pytest.approx(expected_auroc, abs=1e-2)
    # ECE over the known samples, 10 bins (i / 10, (i + 1) / 10].
    p_bar = alpha / strength[:, None]
    known = ~unknown
    confidence = p_bar.max(-1)[known]
    correct = (p_bar.argmax(-1) == labels)[known]
    bins = np.clip(np.ceil(confidence * 10).astype(int) - 1, 0, 9)
    counts = np.bincount(bins, minlength=10)
    np.testing.assert_array_equal(run["metric_variables"]["ece/bin_counts"], counts)
    gaps = np.abs(np.bincount(bins, correct, 10) - np.bincount(bins, confidence, 10))
    assert run["evaluate"]["ece"] == pytest.approx(gaps.sum() / counts.sum(), abs=1e-6)
    # Not vacuous: some samples of each kind.
    assert 0 < unknown.sum() < len(labels)


def test_exact_ranking_metric_is_refused_under_mirrored_strategy(mirrored):
    """Found with this file: the exact metrics' sample buffers were summed
    across MirroredStrategy's replicas (positive weights of 2), a wrong AUC
    without an error; now refused, naming num_thresholds."""
    assert mirrored["exact_metric_refused"]
