"""Adds the results of rows run as separate processes (`parallel_rows.sh`) to one results folder.

    python -m experiments.benchmark.merge build/benchmark_rows/* [--out docs/results/benchmark]

Rows already in the target's `runs.csv` (same method, seed and config) are
skipped; start lines lose their `--out` and `--data-dir` paths. Log lines are merged in time order, so that a report reads the
parallel processes' wall time as one span, not as their sum.
"""

import argparse
import re
import shutil
from pathlib import Path

from experiments import harness
from experiments.benchmark.runner import OUT


def _without_paths(line):
    """A start line without `--out` / `--data-dir`: paths of the machine that
    ran it, meaningless in the committed log."""
    return re.sub(r" --(?:out|data-dir) \S+", "", line) if "start: " in line else line


def merge(sources, out=OUT):
    out = Path(out)
    target = harness.ResultsCSV(out / "runs.csv", ["method", "seed", "config"])
    done = target.done()
    log_lines = []
    added = 0
    for source in map(Path, sources):
        for row in harness.ResultsCSV(source / "runs.csv", target.key_fields).rows():
            if target.key(row) not in done:
                target.append(row)
                done.add(target.key(row))
                added += 1
        for plot in sorted((source / "runs").glob("*.json")):
            (out / "runs").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(plot, out / "runs" / plot.name)
        if (source / "run.log").exists():
            log_lines += [_without_paths(line) for line in (source / "run.log").read_text().splitlines()]
    # "[YYYY-MM-DD HH:MM:SS +   Ns] ...": the timestamp sorts as text; a stable
    # sort keeps each process's own order within one second.
    log_lines.sort(key=lambda line: line[1:20])
    log = out / "run.log"
    present = set(log.read_text().splitlines()) if log.exists() else set()
    log_lines = [line for line in log_lines if line not in present]
    with log.open("a") as f:
        f.writelines(line + "\n" for line in log_lines)
    return added


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    print(f"{merge(args.sources, args.out)} rows added to {args.out}")
