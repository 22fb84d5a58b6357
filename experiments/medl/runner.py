"""`python -m experiments.medl`: reproduce the m-EDL paper's studies.

Subcommands:
- `run`: trains the trials of the chosen studies (resumable: trainings
  already in `trials.csv` are skipped; each finished group of trials is
  appended at once), then writes the tables and figures.
- `report`: regenerates `tables.md` and `figures/` from `trials.csv`.
- `ssim`: the dataset-similarity study (mean SSIM, MDS map).
"""

import argparse
import datetime
import os
import shlex
import sys
import time
from pathlib import Path

from experiments.harness import machine_description
from experiments.medl import experiment

DEFAULT_OUT = "results/medl"


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m experiments.medl",
        description="Reproduce the m-EDL paper (Nagahama 2023) on MNIST with "
        "Fashion-MNIST, EMNIST Letters and CIFAR-10 gray as the unknown class.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train the grid (resumable) and report")
    run.add_argument(
        "--studies",
        nargs="+",
        default=list(experiment.STUDY_ORDER),
        metavar="STUDY[:N]",
        help="studies to run, in order, among "
        f"{sorted(experiment.STUDIES)}; 'paper' is all of Q1-Q4 and Table 6, "
        "'beyond' the learned-alpha_u variant on the Table 6 cells; ':N' takes "
        "only the first N seeds at that point (default: %(default)s)",
    )
    run.add_argument("--seeds", type=int, default=10, help="trials per condition")
    run.add_argument("--first-seed", type=int, default=0)
    run.add_argument(
        "--train-rates",
        type=float,
        nargs="+",
        default=None,
        help="only the mixed trainings at these u rates (default: 0.25 0.5 0.75)",
    )
    run.add_argument("--towers", type=int, default=10, help="trials trained at once in one model")
    run.add_argument("--train-size", type=int, default=60000)
    run.add_argument("--test-size", type=int, default=10000)
    run.add_argument("--max-epochs", type=int, default=100)
    run.add_argument(
        "--emnist-train-pool",
        type=int,
        default=2500,
        help="EMNIST images reserved for training (the rest is the test pool)",
    )
    run.add_argument("--no-jit", action="store_true", help="do not compile with XLA")
    run.add_argument("--no-report", action="store_true")
    for p in (run,):
        p.add_argument("--data-dir", default=None, help="datasets directory")
        p.add_argument("--out", default=DEFAULT_OUT, help="results directory")
    report = sub.add_parser("report", help="tables and figures from trials.csv")
    report.add_argument("--out", default=DEFAULT_OUT)
    ssim = sub.add_parser("ssim", help="mean SSIM between datasets and MDS map")
    ssim.add_argument("--out", default=DEFAULT_OUT)
    ssim.add_argument("--pairs", type=int, default=20000)
    ssim.add_argument("--seed", type=int, default=0)
    ssim.add_argument("--data-dir", default=None)
    return parser


def _log(message):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def _run(args):
    from experiments.medl import report
    from experiments.medl import towers

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "trials.csv"
    settings = experiment.Settings(
        train_size=args.train_size,
        test_size=args.test_size,
        emnist_train_pool=args.emnist_train_pool,
        towers=args.towers,
        jit_compile=not args.no_jit,
        data_dir=args.data_dir,
    )
    protocol = towers.Protocol(max_epochs=args.max_epochs)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    try:
        planned = experiment.trainings(args.studies, seeds, args.train_rates)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    done = experiment.read_done(csv_path)
    pending = [t for t in planned if t not in done]
    _log(
        f"{len(planned)} trainings planned, {len(planned) - len(pending)} already "
        f"in {csv_path}, {len(pending)} to run"
    )
    start = time.perf_counter()
    with open(out / "runs.log", "a") as log:
        log.write(
            f"{datetime.datetime.now(datetime.timezone.utc).isoformat()} start: "
            f"python -m experiments.medl {shlex.join(args.argv)}"
            f" | {machine_description()} | {len(pending)} trainings pending\n"
        )
    if pending:
        unknown_train = {u for _, u, _, _ in pending if u != "none"}
        bank = experiment.Bank(unknown_train, {"fashion", "emnist"}, settings)
        if bank.emnist_pool_sizes:
            _log(
                "EMNIST Letters pools (disjoint): train %d, test %d images"
                % bank.emnist_pool_sizes
            )
        runner = experiment.Runner(bank, settings, protocol, csv_path, _log)
        groups = experiment.groups(pending, settings.towers)
        finished = 0
        for number, group in enumerate(groups, 1):
            names = sorted({f"{h}/{u}/{r:g}" for h, u, r, _ in group})
            _log(
                f"group {number}/{len(groups)}: {len(group)} trials "
                f"({', '.join(names)}; seeds {sorted({s for *_, s in group})})"
            )
            results, seconds = runner.run_group(group)
            finished += len(group)
            epochs = [r.epochs for r in results[: len(group)]]
            _log(
                f"group {number} done in {seconds:.0f} s ({seconds / len(group):.1f} s "
                f"per trial; epochs {min(epochs)}-{max(epochs)}); "
                f"{finished}/{len(pending)} trainings done"
            )
    wall = time.perf_counter() - start
    with open(out / "runs.log", "a") as log:
        log.write(
            f"{datetime.datetime.now(datetime.timezone.utc).isoformat()} end: "
            f"{wall:.0f} s wall\n"
        )
    if not args.no_report and csv_path.is_file():
        for path in report.write_report(csv_path, out):
            _log(f"wrote {path}")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command == "run":
        return _run(args)
    if args.command == "report":
        from experiments.medl import report

        csv_path = Path(args.out) / "trials.csv"
        if not csv_path.is_file():
            print(f"error: no {csv_path}; run `medl run` first", file=sys.stderr)
            return 1
        for path in report.write_report(csv_path, args.out):
            _log(f"wrote {path}")
        return 0
    from experiments.medl import similarity

    means = similarity.write(args.out, args.pairs, args.seed, args.data_dir)
    _log(f"wrote {Path(args.out) / 'ssim.md'}; SSIM to MNIST: {means[0].round(4)}")
    return 0
