"""The README's main command and usages run as a user would run them."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args, cwd):
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_main_command_prints_the_table_and_writes_csv(tmp_path):
    out = run(["-m", "keras_evidential", "--verbose", "0"], tmp_path)
    assert "| m-EDL" in out and "accuracy unknown (u)" in out
    with open(tmp_path / "keras_evidential_results" / "quickstart.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == ["EDL", "EDL", "EDL", "m-EDL"]
    for r in rows:
        assert 0.0 <= float(r["accuracy known (k)"]) <= 1.0
    medl = rows[-1]
    # m-EDL first calls everything unknown (alpha_u = K + 1 dominates) and
    # learns the digits later; after the default training both are far above
    # chance (10 % for a digit, 50 % for digit-or-clothing).
    assert float(medl["accuracy unknown (u)"]) > 0.8
    assert float(medl["accuracy known (k)"]) > 0.5


def test_cli_help_and_unknown_command(tmp_path):
    assert "quickstart" in run(["-m", "keras_evidential", "--help"], tmp_path)
    result = subprocess.run([sys.executable, "-m", "keras_evidential", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "unknown command 'nope'" in result.stderr


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("medl_unknown_class.py", ["--epochs", "2"], "predicted 'unknown'"),
        ("edl_kl_annealing.py", ["--epochs", "3"], "KL weight per epoch: [0.0, 0.1, 0.2]"),
        ("tedl_two_stage.py", ["--epochs", "3", "--switch-epoch", "2"], "stage per epoch: [1, 1, 2]"),
    ],
)
def test_examples_run(script, args, expect):
    assert expect in run([str(ROOT / "examples" / script), *args], ROOT / "examples")
