"""Seed-by-seed comparison of two benchmark rows, from their `runs.csv` files.

Each row is `FOLDER:METHOD[:CONFIG]` (CONFIG defaults to the method's only
configuration in that folder). Runs pair on their seed: the runner gives a
seed the same initial weights and batch order in every row and configuration,
so the difference is the method's (or the budget's). Each seed counts once.

    python -m experiments.benchmark.paired \\
        docs/results/benchmark/width64_cpu_e25:daedl docs/results/benchmark/width64_cpu_e15:daedl
"""

import argparse
from pathlib import Path

from experiments import harness

COLUMNS = (
    "accuracy",
    "fmnist_alpha0_aupr_in",
    "fmnist_max_probability_aupr_in",
    "emnist_alpha0_aupr_in",
    "cifar_gray_alpha0_aupr_in",
    "ece15",
)


def runs(spec):
    """`{seed: row}` of one `FOLDER:METHOD[:CONFIG]`."""
    folder, method, *named = spec.split(":")
    rows = [r for r in harness.ResultsCSV(Path(folder) / "runs.csv", ["method", "seed", "config"]).rows()
            if r["method"] == method]
    if not rows:
        raise ValueError(f"{spec}: no runs of {method} in {folder}")
    configs = sorted({r["config"] for r in rows})
    if not named and len(configs) != 1:
        raise ValueError(f"{spec}: name one configuration of {configs}")
    config = named[0] if named else configs[0]
    rows = [r for r in rows if r["config"] == config]
    return {int(r["seed"]): r for r in rows}


def compare(spec_a, spec_b, columns=COLUMNS):
    """Rows `(column, a, b, a - b, a > b, paired t p, Wilcoxon p)` over the
    seeds both rows have, values in percent."""
    a, b = runs(spec_a), runs(spec_b)
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        raise ValueError(f"{spec_a} and {spec_b} share {len(seeds)} seed(s); pairing needs 2")
    table = []
    for column in columns:
        xa = [float(a[s][column]) for s in seeds if a[s].get(column)]
        xb = [float(b[s][column]) for s in seeds if b[s].get(column)]
        if len(xa) != len(seeds) or len(xb) != len(seeds):
            # A column some run lacks (rows from before it existed) is
            # named as such, never compared over fewer seeds.
            table.append([column, "-", "-", "not in every run", "-", "-", "-"])
            continue
        test = harness.paired_test(xa, xb)
        table.append([
            column,
            harness.mean_std(xa, 100),
            harness.mean_std(xb, 100),
            f"{test['mean_diff'] * 100:+.2f} ± {test['std_diff'] * 100:.2f}",
            f"{test['wins']}/{test['n']}",
            "-" if test["t_p"] is None else f"{test['t_p']:.3g}",
            "-" if test["wilcoxon_p"] is None else f"{test['wilcoxon_p']:.3g}",
        ])
    return seeds, table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="FOLDER:METHOD[:CONFIG]")
    parser.add_argument("b", help="FOLDER:METHOD[:CONFIG], the baseline")
    parser.add_argument("--columns", nargs="+", default=list(COLUMNS))
    args = parser.parse_args(argv)
    seeds, table = compare(args.a, args.b, args.columns)
    print(f"A = {args.a}, B = {args.b}, seeds {seeds} (percent; mean ± std over seeds; "
          f"two-sided tests, each seed once; Wilcoxon's floor with {len(seeds)} pairs is "
          f"{2 / 2 ** len(seeds):.3g})\n")
    print(harness.markdown_table(["column", "A", "B", "A - B", "A > B", "paired t p", "Wilcoxon p"], table))


if __name__ == "__main__":
    main()
