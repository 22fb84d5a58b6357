"""A two-stage run interrupted in stage 2 resumes where it stopped and ends equal.

tests/scripts/two_stage_run.py trains 6 epochs (stage 1 for epochs 0-1, then
EDL with the KL weight annealed by 0.25 per stage-2 epoch) under
`keras.callbacks.BackupAndRestore`. The run is interrupted after the backup
of epoch 3 and a new model resumes from the backup: it must start at epoch 4
in stage 2 with kl_weight 0.5, and its final weights must equal the
uninterrupted run's within WEIGHT_ATOL (no shuffling).

In process (fast lane), the interruption is a callback that raises, as in
Keras's own backup_and_restore_test.py. The `large` test SIGKILLs a real
process and resumes in a third one: it checks what the in-process test
cannot, that a backup survives a hard kill (no exception handler, no
`on_train_end`) and that a fresh interpreter (no state of the killed one)
resumes with the right stage and KL weight.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def _load_script():
    spec = importlib.util.spec_from_file_location("two_stage_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Interrupt(Exception):
    pass


class InterruptAfterEpoch(keras.callbacks.Callback):
    """Stops `fit` by raising after the backup of epoch `epoch`."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupt(f"interrupted after epoch {epoch}")


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, logs["stage"], logs["kl_weight"], logs["loss"]))


def test_interrupted_in_process_resumes_in_stage_two(tmp_path):
    script = _load_script()
    reference_record = Record()
    reference = script.train(tmp_path / "uninterrupted", [reference_record])

    first = Record()
    with pytest.raises(Interrupt):
        script.train(tmp_path / "interrupted", [first, InterruptAfterEpoch(KILL_AFTER_EPOCH)])
    assert [e[:2] for e in first.epochs][-1] == (KILL_AFTER_EPOCH, 2)
    assert (tmp_path / "interrupted" / "backup").is_dir()

    # A new model, callbacks and loss, as a restarted program would build.
    resumed_record = Record()
    resumed = script.train(tmp_path / "interrupted", [resumed_record])
    assert [e[:3] for e in resumed_record.epochs] == [(4, 2, 0.5), (5, 2, 0.75)]
    assert [e[:3] for e in reference_record.epochs] == [
        (0, 1, 0.0), (1, 1, 0.0), (2, 2, 0.0), (3, 2, 0.25), (4, 2, 0.5), (5, 2, 0.75)
    ]
    np.testing.assert_allclose(
        [e[3] for e in first.epochs + resumed_record.epochs],
        [e[3] for e in reference_record.epochs],
        rtol=0,
        atol=WEIGHT_ATOL,
    )
    for got, expected in zip(resumed, reference, strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=WEIGHT_ATOL)


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


@pytest.mark.large
def test_uninterrupted_schedule(runs):
    epochs = _epochs(runs["reference"])
    assert [e["epoch"] for e in epochs] == list(range(6))
    assert [e["stage"] for e in epochs] == [1, 1, 2, 2, 2, 2]
    assert [e["kl_weight"] for e in epochs] == [0.0, 0.0, 0.0, 0.25, 0.5, 0.75]


@pytest.mark.large
def test_killed_in_stage_two(runs):
    last = runs["killed_epochs"][-1]
    assert last["epoch"] == KILL_AFTER_EPOCH
    assert last["stage"] == 2


@pytest.mark.large
def test_resumes_in_stage_two_with_the_right_kl_weight(runs):
    epochs = _epochs(runs["interrupted"])
    resumed = epochs[len(runs["killed_epochs"]):]
    assert [e["epoch"] for e in resumed] == [4, 5]
    assert [e["stage"] for e in resumed] == [2, 2]
    assert [e["kl_weight"] for e in resumed] == [0.5, 0.75]


@pytest.mark.large
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
