"""Every benchmark script runs end to end in its `--smoke` mode.

These are not timed tests: they check that each script starts, trains or
serves a tiny model, and writes its JSON and Markdown results, and that
`summarize.py` and `run_all.py` collect them. The figures of a smoke run mean
nothing. The scripts run in this process through their `main(argv)`; only
`run_all.py` (whose job is to start each script in its own interpreter) and
`bench_memory.py` (which measures each variant in a fresh process) start
subprocesses.
"""

import importlib
import json
import shutil
import sys
import traceback
from pathlib import Path

import keras
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"

pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="the benchmarks time TensorFlow's compiled functions",
    ),
]

# module -> the result name it writes and a key its JSON must hold.
SCRIPTS = {
    "bench_train_step": ("train_step", "results"),
    "bench_fit_epoch": ("fit_epoch", "results"),
    "profile_loss": ("profile_loss", "results"),
    "bench_author_loss": ("author_loss", "variants"),
    "bench_medl_trial": ("medl_trial", "summary"),
    "bench_inference": ("inference", "results"),
    "bench_memory": ("memory", "results"),
}


@pytest.fixture(scope="module")
def benchmarks_on_path():
    """The scripts import their sibling `common` as a top-level module."""
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def smoke_runs(benchmarks_on_path, tmp_path_factory):
    """Runs every script's `main(["--smoke", "--out", DIR])` once, in this process.

    Returns the folder and, per script, its return code or the traceback it
    raised (so one failing script fails only its own test).
    """
    out_dir = tmp_path_factory.mktemp("benchmark_results")
    outcomes = {}
    for module in SCRIPTS:
        keras.config.set_dtype_policy("float32")
        try:
            main = importlib.import_module(module).main
            outcomes[module] = main(["--smoke", "--out", str(out_dir)])
        except Exception:  # reported by the script's own test
            outcomes[module] = traceback.format_exc()
    return out_dir, outcomes


@pytest.mark.parametrize("module", list(SCRIPTS))
def test_benchmark_script_runs_in_smoke_mode(module, smoke_runs):
    out_dir, outcomes = smoke_runs
    name, key = SCRIPTS[module]
    assert outcomes[module] == 0, outcomes[module]
    payload = json.loads((out_dir / f"{name}.json").read_text())
    assert payload["smoke"] is True
    assert payload[key], f"{name}.json has an empty {key!r}"
    machine = payload["machine"]
    assert machine["tensorflow"]
    command = f"python benchmarks/{module}.py --smoke --out {out_dir}"
    assert machine["command"] == command
    assert isinstance(machine["load_average_1_5_15"][0], float)
    markdown = (out_dir / f"{name}.md").read_text()
    assert markdown.startswith("# ") and "| " in markdown
    if module == "bench_medl_trial":
        assert payload["failures"] == {}


def test_summary_collects_every_result(smoke_runs):
    import summarize

    out_dir, _ = smoke_runs
    summary = summarize.summarize(out_dir).read_text()
    for name, _ in SCRIPTS.values():
        first_line = (out_dir / f"{name}.md").read_text().splitlines()[0]
        assert first_line.lstrip("# ") in summary
    assert "smoke" in summary.lower()
    assert "1b. epoch of fit EDL/CE" in summary


def test_committed_results_summarize(benchmarks_on_path, tmp_path):
    """The figures kept in `benchmarks/results` are what `summarize.py` reads."""
    import summarize

    shutil.copytree(BENCHMARKS / "results", tmp_path, dirs_exist_ok=True)
    (tmp_path / "SUMMARY.md").unlink()
    summary = summarize.summarize(tmp_path).read_text()
    assert "smoke" not in summary.lower()
    for path in (BENCHMARKS / "results").glob("*.json"):
        assert not json.loads(path.read_text()).get("smoke"), path.name
        assert (path.with_suffix(".md")).exists()
        title = path.with_suffix(".md").read_text().splitlines()[0]
        assert title.lstrip("# ") in summary


def test_run_all_runs_a_script_in_its_own_process_then_summarizes(
    benchmarks_on_path, tmp_path
):
    import run_all

    argv = ["--smoke", "--only", "profile_loss", "--out", str(tmp_path)]
    assert run_all.main(argv) == 0
    assert json.loads((tmp_path / "profile_loss.json").read_text())["smoke"] is True
    assert (tmp_path / "SUMMARY.md").read_text().startswith("# ")
