"""The published protocol for every no-OOD row x 5 seeds in one command, sized for one GPU.

    python -m experiments.benchmark.gpu_protocol                 # width 64, 60 epochs, 540 s budget
    python -m experiments.benchmark.gpu_protocol --epochs 2 --width 4 --train-size 500 --backend tensorflow  # toy

The published configuration of `PROTOCOL.md` section 2: width 64, 60 epochs,
StepLR(15, 0.1), batch 64, KL annealed min(1, epoch / 10), best-validation
checkpoint, the per-seed split and order and the PyTorch-default initialiser.
A small conv net leaves a GPU idle between kernel launches, so:

- the 5 seeds of a row are the towers of one model, i.e. one XLA program
  (`runner --pack 5 --jit`), with many steps per execution;
- every row runs as its own process, all at once, so that the GPU always has
  a program to run (each writes `<out>/rows/<row>/`);
- evaluation predicts the 5 towers at once in batches of 1,024;
- value checks are off (under JAX each is a host callback per step).

Batches are gathered on the host (a ~1 MB copy per step for 5 towers), not
kept on the device. Each row stops at the epoch boundary that would cross the
budget (`--time-limit`) and records `epochs_trained`, so a row that did not
finish all its epochs is visible as such. The rows are then merged into
`<out>/runs.csv` and reported (`report.py`); the command's wall time is
written to `<out>/gpu_protocol.log`.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from experiments import harness
from experiments.benchmark import merge
from experiments.benchmark import report
from experiments.benchmark.methods import NO_OOD_ROWS
from experiments.benchmark.runner import OUT

# Kept free of the budget for process start, merging and the report.
REPORT_MARGIN_S = 60


def row_command(row, args, time_limit, out):
    """The runner's command line for one row."""
    command = [
        sys.executable, "-m", "experiments.benchmark.runner", "--methods", row,
        "--epochs", str(args.epochs), "--width", str(args.width), "--init", "torch",
        "--pack", str(len(args.seeds)), "--seeds", *map(str, args.seeds),
        "--steps-per-execution", str(args.steps_per_execution), "--no-value-checks",
        "--time-limit", f"{time_limit:.0f}", "--out", str(out),
    ]
    if args.jit:
        command.append("--jit")
    if args.train_size:
        command += ["--train-size", str(args.train_size)]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    return command


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", nargs="+", default=NO_OOD_ROWS, choices=NO_OOD_ROWS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--budget-s", type=float, default=540.0, help="wall-clock budget of the whole command")
    parser.add_argument("--steps-per-execution", type=int, default=50)
    parser.add_argument("--backend", default="jax", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--no-jit", dest="jit", action="store_false", help="no XLA (toy runs on a CPU)")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(OUT / "gpu_protocol"))
    args = parser.parse_args(argv)
    if args.budget_s <= REPORT_MARGIN_S:
        raise ValueError(f"`--budget-s` must be > {REPORT_MARGIN_S}. Received: budget_s={args.budget_s}")
    started = time.time()
    out = Path(args.out)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    time_limit = args.budget_s - REPORT_MARGIN_S
    # Many processes share the GPU: none may take most of its memory up front.
    environment = {**os.environ, "KERAS_BACKEND": args.backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                   "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    processes = []
    for row in args.rows:
        folder = out / "rows" / row
        folder.mkdir(parents=True, exist_ok=True)
        stdout = (folder / "stdout.txt").open("w")
        # The runner stops itself at the time limit; the timeout only guards
        # against a hung process.
        processes.append((row, stdout, subprocess.Popen(
            row_command(row, args, time_limit, folder), env=environment, stdout=stdout,
            stderr=subprocess.STDOUT, cwd=harness.REPO,
        )))
    failed = []
    for row, stdout, process in processes:
        try:
            code = process.wait(timeout=max(1.0, started + args.budget_s - 20 - time.time()))
        except subprocess.TimeoutExpired:
            process.kill()
            code = "killed at the budget"
        stdout.close()
        if code != 0:
            failed.append(f"{row} ({code})")
    added = merge.merge(sorted((out / "rows").iterdir()), out)
    readme = report.report(out) if added or (out / "runs.csv").exists() else None
    wall = time.time() - started
    line = (f"{harness.command_line()}: {len(args.rows)} rows x {len(args.seeds)} seeds, {added} runs added, "
            f"wall {wall:.0f} s of a {args.budget_s:.0f} s budget, backend {args.backend}, "
            f"machine {harness.machine_info()}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    with (out / "gpu_protocol.log").open("a") as f:
        f.write(line + "\n")
    print(line)
    return readme, failed


if __name__ == "__main__":
    _, failed = main()
    sys.exit(1 if failed else 0)
