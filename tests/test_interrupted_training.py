"""A two-stage run killed in stage 2 resumes where it stopped and ends equal.

tests/scripts/two_stage_run.py trains 6 epochs (stage 1 for epochs 0-1, then
EDL with the KL weight annealed by 0.25 per stage-2 epoch) under
`keras.callbacks.BackupAndRestore`. One process runs uninterrupted; another is
SIGKILLed after the backup of epoch 3 and a third process resumes from the
backup. The resumed process must start at epoch 4 in stage 2 with
kl_weight 0.5, and its final weights must equal the uninterrupted run's within
WEIGHT_ATOL (deterministic ops, no shuffling).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "two_stage_run.py"
KILL_AFTER_EPOCH = 3
WEIGHT_ATOL = 1e-6
TIMEOUT = 300


def _start(workdir, *extra):
    workdir.mkdir()
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(workdir), *extra],
        cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process):
    out, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, out


def _epochs(workdir):
    lines = (workdir / "epochs.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _weights(workdir):
    with np.load(workdir / "weights.npz") as data:
        return [data[key] for key in sorted(data.files, key=lambda k: int(k[4:]))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("interrupted")
    reference = _start(base / "uninterrupted")
    interrupted = _start(
        base / "interrupted", "--hang-after-epoch", str(KILL_AFTER_EPOCH)
    )
    deadline = time.monotonic() + TIMEOUT
    ready = base / "interrupted" / "ready"
    while not ready.exists():
        if interrupted.poll() is not None or time.monotonic() > deadline:
            interrupted.kill()
            pytest.fail(f"the run to interrupt ended early: {interrupted.communicate()[0]}")
        time.sleep(0.2)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait(timeout=60)
    assert interrupted.returncode == -signal.SIGKILL
    assert not (base / "interrupted" / "weights.npz").exists()
    killed_epochs = _epochs(base / "interrupted")
    resumed = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(base / "interrupted")],
        cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _finish(resumed)
    _finish(reference)
    return {
        "reference": base / "uninterrupted",
        "interrupted": base / "interrupted",
        "killed_epochs": killed_epochs,
    }


def test_uninterrupted_schedule(runs):
    epochs = _epochs(runs["reference"])
    assert [e["epoch"] for e in epochs] == list(range(6))
    assert [e["stage"] for e in epochs] == [1, 1, 2, 2, 2, 2]
    assert [e["kl_weight"] for e in epochs] == [0.0, 0.0, 0.0, 0.25, 0.5, 0.75]


def test_killed_in_stage_two(runs):
    last = runs["killed_epochs"][-1]
    assert last["epoch"] == KILL_AFTER_EPOCH
    assert last["stage"] == 2


def test_resumes_in_stage_two_with_the_right_kl_weight(runs):
    epochs = _epochs(runs["interrupted"])
    resumed = epochs[len(runs["killed_epochs"]):]
    assert [e["epoch"] for e in resumed] == [4, 5]
    assert [e["stage"] for e in resumed] == [2, 2]
    assert [e["kl_weight"] for e in resumed] == [0.5, 0.75]


def test_resumed_losses_and_weights_equal_the_uninterrupted_run(runs):
    reference = _epochs(runs["reference"])
    interrupted = _epochs(runs["interrupted"])
    np.testing.assert_allclose(
        [e["loss"] for e in interrupted],
        [e["loss"] for e in reference],
        rtol=0,
        atol=WEIGHT_ATOL,
    )
    for got, expected in zip(
        _weights(runs["interrupted"]), _weights(runs["reference"]), strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=0, atol=WEIGHT_ATOL)
