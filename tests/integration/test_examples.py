"""The README's main command and the usages in examples/, run as a user would.

The quickstart runs as the README's command, `python examples/quickstart.py`,
in a fresh interpreter (that is the contract: it must work from a fresh
clone); the usages run in-process through their `main()`.
"""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.large


def load_example(name, monkeypatch):
    """Imports examples/<name>.py as a module (its directory on sys.path)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_main_command_prints_the_table_and_writes_csv(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "--verbose", "0",
         "--output-dir", str(tmp_path / "results")],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| m-EDL" in result.stdout and "accuracy unknown (u)" in result.stdout
    with open(tmp_path / "results" / "quickstart.csv") as f:
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


def test_quickstart_help(monkeypatch, capsys):
    quickstart = load_example("quickstart", monkeypatch)
    with pytest.raises(SystemExit) as exit:
        quickstart.main(["--help"])
    assert exit.value.code == 0
    assert "python examples/quickstart.py" in capsys.readouterr().out


def test_medl_unknown_class(monkeypatch, capsys):
    acc_known, acc_unknown = load_example("medl_unknown_class", monkeypatch).main(2)
    assert "predicted 'unknown'" in capsys.readouterr().out
    assert 0.0 <= acc_known <= 1.0 and 0.0 <= acc_unknown <= 1.0


def test_edl_kl_annealing(monkeypatch, capsys):
    history = load_example("edl_kl_annealing", monkeypatch).main(3)
    assert "KL weight per epoch: [0.0, 0.1, 0.2]" in capsys.readouterr().out
    np.testing.assert_allclose(history.history["kl_weight"], [0.0, 0.1, 0.2], atol=1e-7)


def test_tedl_two_stage(monkeypatch, capsys):
    history = load_example("tedl_two_stage", monkeypatch).main(3, 2)
    assert "stage per epoch: [1, 1, 2]" in capsys.readouterr().out
    assert history.history["stage"] == [1, 1, 2]
