"""Data-parallel training with tf.distribute, each run in separate processes.

- MirroredStrategy over 2 logical CPU devices (tests/scripts/mirrored_check.py):
  every step's loss and gradient equal the single-device ones to 1e-6, for
  m-EDL with KLAnnealing and for TEDL with TwoStageFit + KLAnnealing. A wrong
  global-batch reduction (a per-replica mean summed over the 2 replicas)
  would double the gradients, far beyond the tolerance.
- MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1
  (tests/scripts/multi_worker.py): both train an m-EDL model end to end and
  end with identical weights and losses.

TensorFlow only: tf.distribute is TensorFlow's API.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="tf.distribute strategies need the TensorFlow backend",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "scripts"
TOLERANCE = 1e-6
TIMEOUT = 400


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "result.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "mirrored_check.py"), str(out)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("setup", ["medl", "tedl"])
def test_mirrored_steps_equal_single_device(mirrored, setup):
    result = mirrored[setup]
    assert result["replicas"] == 2
    assert result["steps"] == 12
    assert result["max_loss_diff"] <= TOLERANCE
    assert result["max_gradient_diff"] <= TOLERANCE
    # The comparison is not vacuous: the gradients are far above tolerance.
    assert result["max_gradient"] > 1e3 * TOLERANCE


def test_mirrored_callbacks_follow_the_same_schedule(mirrored):
    medl, tedl = mirrored["medl"], mirrored["tedl"]
    assert medl["kl_weights"] == [[0.0, 0.5, 1.0]] * 2
    assert tedl["stages"] == [[1, 2, 2]] * 2
    assert tedl["kl_weights"] == [[0.0, 0.0, 0.5]] * 2


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("multi_worker")
    ports = ",".join(str(p) for p in _free_ports(2))
    processes = [
        subprocess.Popen(
            [sys.executable, str(SCRIPTS / "multi_worker.py"), str(i), ports, str(out_dir)],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=TIMEOUT)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    for p, out in zip(processes, outputs):
        assert p.returncode == 0, out[-3000:]
    return [dict(np.load(out_dir / f"worker{i}.npz")) for i in range(2)]


def test_multi_worker_trains_medl_end_to_end(workers):
    for result in workers:
        assert int(result["replicas"]) == 2
        assert np.all(np.isfinite(result["losses"]))
        np.testing.assert_allclose(
            result["kl_weights"], np.arange(8) * 0.1, atol=1e-6
        )
        # 4 balanced classes (3 known + u): chance is 0.25.
        assert float(result["accuracy"]) > 0.5


def test_multi_worker_results_agree(workers):
    first, second = workers
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_allclose(first[key], second[key], rtol=0, atol=TOLERANCE)
