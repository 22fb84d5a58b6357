"""Runs every benchmark script in turn, then writes `SUMMARY.md`.

Run: `nice -n 10 python benchmarks/run_all.py [--out DIR] [--smoke]
[--only train_step inference ...]`. Each script runs in its own process (as
it would by hand); the arguments after `--` go to every script.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import common
import summarize

SCRIPTS = {
    "train_step": "bench_train_step.py",
    "fit_epoch": "bench_fit_epoch.py",
    "profile_loss": "profile_loss.py",
    "author_loss": "bench_author_loss.py",
    "medl_trial": "bench_medl_trial.py",
    "inference": "bench_inference.py",
    "memory": "bench_memory.py",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT_DIR)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", nargs="+", choices=list(SCRIPTS), default=None)
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    here = Path(__file__).resolve().parent
    failed = []
    for name in args.only or list(SCRIPTS):
        command = [sys.executable, str(here / SCRIPTS[name]), "--out", str(args.out)]
        command += ["--smoke"] if args.smoke else []
        print(f"=== {name}: {' '.join(command[1:] + extra)}", flush=True)
        if subprocess.run(command + extra).returncode != 0:
            failed.append(name)
    summarize.summarize(args.out)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
