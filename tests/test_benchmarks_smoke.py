"""Every benchmark script runs end to end in its `--smoke` mode.

These are not timed tests: they check that each script starts, trains or
serves a tiny model, and writes its JSON and Markdown results. The figures of
a smoke run mean nothing.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"

# script -> the result name it writes and a key its JSON must hold.
SCRIPTS = {
    "bench_train_step.py": ("train_step", "results"),
    "profile_loss.py": ("profile_loss", "results"),
    "bench_author_loss.py": ("author_loss", "variants"),
    "bench_medl_trial.py": ("medl_trial", "summary"),
    "bench_inference.py": ("inference", "results"),
    "bench_memory.py": ("memory", "results"),
}


def run_smoke(script, out_dir):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke", "--out", str(out_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Runs every script once in smoke mode into one shared results folder.

    Two at a time: each is mostly a fresh process importing TensorFlow, and
    CI has two cores.
    """
    out_dir = tmp_path_factory.mktemp("benchmark_results")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda script: run_smoke(script, out_dir), SCRIPTS)
        return out_dir, dict(zip(SCRIPTS, runs))


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_benchmark_script_runs_in_smoke_mode(script, smoke_runs):
    out_dir, runs = smoke_runs
    name, key = SCRIPTS[script]
    result = runs[script]
    assert result.returncode == 0, result.stderr[-4000:]
    payload = json.loads((out_dir / f"{name}.json").read_text())
    assert payload["smoke"] is True
    assert payload[key], f"{name}.json has an empty {key!r}"
    machine = payload["machine"]
    assert machine["tensorflow"] and machine["command"].endswith(
        f"{script} --smoke --out {out_dir}"
    )
    markdown = (out_dir / f"{name}.md").read_text()
    assert markdown.startswith("# ") and "| " in markdown
    if script == "bench_medl_trial.py" and (REPO.parent / "shared" / "data").is_dir():
        # The tower trainer needs the real datasets; with them, nothing fails.
        assert payload["failures"] == {}
        assert "towers_x10" in payload["summary"]


def test_summary_collects_every_result(smoke_runs):
    out_dir, _ = smoke_runs
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "summarize.py"), "--out", str(out_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    summary = (out_dir / "SUMMARY.md").read_text()
    for name, _ in SCRIPTS.values():
        first_line = (out_dir / f"{name}.md").read_text().splitlines()[0]
        assert first_line.lstrip("# ") in summary
    assert "smoke" in summary.lower()
