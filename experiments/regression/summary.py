"""The figures `results/regression/README.md` quotes from the UCI CSVs.

    python -m experiments.regression.summary                    # uci.csv
    python -m experiments.regression.summary --test-selected    # and uci_test_selected.csv

From `uci.csv` (the honest protocol): the gaps of `der_amini` to the published
DER in combined standard errors `sqrt(se_ours^2 + se_published^2)` (and with
a published s.e. printed 0.00 replaced by 0.005, its rounding bound); the
paired t-tests of the other losses against `der_amini` by split, Bonferroni
over all (dataset, metric, loss) comparisons; best epochs and coverage. From
`uci_test_selected.csv`: the honest and test-selected columns of `der_amini`
and how far each selection moves the mean. Reads the CSVs only; trains
nothing.
"""

import argparse
import math

import numpy as np

from experiments import harness
from experiments.regression.uci import (
    CSV, DATASETS, LOSSES, OUT, PUBLISHED_DER, PUBLISHED_EPOCHS, VARIANTS,
)

METRICS = ("rmse", "nll")
FAMILY_ALPHA = 0.05
# Half the last printed digit: a published s.e. printed 0.00 is below this.
PUBLISHED_SE_FLOOR = 0.005
# `uci.py --test-selected` CSV column prefixes of the selections other than the honest one.
FULL_TEST_MIN = "test_min_per_epoch_"
PUBLISHED_STYLE_40 = f"test_min_every_100_iters_first_{PUBLISHED_EPOCHS}_epochs_"
PUBLISHED_STYLE = "test_min_every_100_iters_"
# The README's columns: (protocol, column prefix, heading).
TEST_SELECTED_COLUMNS = (
    ("all_splits", "", "honest"),
    ("all_splits", FULL_TEST_MIN, "min over epochs, full test"),
    ("all_splits", PUBLISHED_STYLE_40, f"published-style, {PUBLISHED_EPOCHS} epochs"),
    ("split_0", PUBLISHED_STYLE_40, "same, split 0 only (20 trials)"),
    ("all_splits", PUBLISHED_STYLE, "published-style, whole run"),
)


def group(rows, *keys):
    grouped = {}
    for r in rows:
        grouped.setdefault(tuple(r[k] for k in keys), []).append(r)
    return grouped


def mean_and_se(values):
    v = np.asarray(values, float)
    return v.mean(), v.std(ddof=1) / math.sqrt(v.size)


def rmse_digits(name):
    return 4 if name.startswith("naval") else 3 if name in ("wine", "kin8nm") else 2


def gap(values, name, metric, se_floor=0.0):
    """Mean minus the published DER figure, and that in combined standard errors."""
    mean, se = mean_and_se(values)
    k = METRICS.index(metric)
    published, published_se = PUBLISHED_DER[name][2 * k], PUBLISHED_DER[name][2 * k + 1]
    difference = mean - published
    return difference, difference / math.hypot(se, max(published_se, se_floor))


def gaps_table(by):
    names = [n for n in DATASETS if (n, "der_amini") in by]
    header = ["dataset", "RMSE: ours vs published", "gap (combined s.e.)",
              "NLL: ours vs published", "gap (combined s.e.)"]
    table, floored = [], []
    for name in names:
        cells = [f"{name} (vs {VARIANTS[name][0]})" if name in VARIANTS else name]
        for k, metric in enumerate(METRICS):
            values = [float(r[metric]) for r in by[(name, "der_amini")]]
            digits = rmse_digits(name) if metric == "rmse" else 2
            mean, se = mean_and_se(values)
            published, published_se = PUBLISHED_DER[name][2 * k], PUBLISHED_DER[name][2 * k + 1]
            difference, z = gap(values, name, metric)
            cells.append(f"{mean:.{digits}f} ± {se:.{digits}f} vs {published:.2f} ± {published_se:.2f}")
            cells.append(f"{difference:+.{digits}f} ({z:+.1f})")
            if published_se < PUBLISHED_SE_FLOOR:
                floored.append(f"{name} {metric.upper()} "
                               f"{gap(values, name, metric, PUBLISHED_SE_FLOOR)[1]:+.1f}")
        table.append(cells)
    return (harness.markdown_table(header, table)
            + f"\nWith the published s.e. floored at {PUBLISHED_SE_FLOOR}: " + ", ".join(floored))


def paired_tests(by):
    """Every other loss against `der_amini`, paired by split; Bonferroni over all comparisons."""
    names = [n for n in DATASETS if (n, "der_amini") in by]
    n_comparisons = len(names) * len(METRICS) * (len(LOSSES) - 1)
    threshold = FAMILY_ALPHA / n_comparisons
    lines = [f"{n_comparisons} comparisons, Bonferroni threshold "
             f"{FAMILY_ALPHA}/{n_comparisons} = {threshold:.2g}"]
    header = ["dataset", "metric", "other", "mean diff (other - der_amini)", "other better",
              "t p", "verdict"]
    table = []
    for name in names:
        base = sorted(by[(name, "der_amini")], key=lambda r: int(r["split"]))
        for metric in METRICS:
            for other in LOSSES[1:]:
                rows = sorted(by[(name, other)], key=lambda r: int(r["split"]))
                if [r["split"] for r in rows] != [r["split"] for r in base]:
                    raise ValueError(f"{name}: {other} and der_amini have different splits")
                a = [float(r[metric]) for r in rows]
                b = [float(r[metric]) for r in base]
                t = harness.paired_test(a, b)
                p = t["t_p"]
                verdict = ("significant" if p is not None and p < threshold
                           else "p < 0.05, not after correction" if p is not None and p < 0.05
                           else "")
                lower = sum(x < y for x, y in zip(a, b))
                table.append([name, metric, other, f"{t['mean_diff']:+.4f}",
                              f"{lower}/{t['n']}", "-" if p is None else f"{p:.2g}", verdict])
    return "\n".join(lines) + "\n" + harness.markdown_table(header, table)


def epochs_and_coverage(by):
    header = ["dataset", "median best epoch (all losses)", "epochs run / budget",
              "wall s", "95 % coverage by loss"]
    table = []
    for name in [n for n in DATASETS if (n, "der_amini") in by]:
        rows = [r for loss in LOSSES for r in by[(name, loss)]]
        first = by[(name, "der_amini")][0]
        coverage = [np.mean([float(r["coverage_95"]) for r in by[(name, loss)]]) for loss in LOSSES]
        table.append([name, f"{np.median([int(r['best_epoch']) for r in rows]):g}",
                      f"{first['epochs_run']}/{first['max_epochs']}", first["wall_s_dataset"],
                      " ".join(f"{c:.3f}" for c in coverage)])
    return harness.markdown_table(header, table)


def test_selected_tables(rows, loss="der_amini"):
    """The README's two tables (RMSE, NLL) and each selection's mean shift from honest."""
    by = group([r for r in rows if r["loss"] == loss], "dataset", "protocol")
    names = [n for n in DATASETS if (n, "all_splits") in by]
    out = []
    for metric in METRICS:
        header = ["dataset"] + [h for _, _, h in TEST_SELECTED_COLUMNS] + ["published DER"]
        table = []
        for name in names:
            digits = rmse_digits(name) if metric == "rmse" else 3 if name in ("wine", "kin8nm") else 2
            cells = [name]
            for protocol, prefix, _ in TEST_SELECTED_COLUMNS:
                values = [float(r[prefix + metric]) for r in by[(name, protocol)]]
                cells.append(harness.mean_se(values, digits=digits))
            k = METRICS.index(metric)
            cells.append(f"{PUBLISHED_DER[name][2 * k]:.2f} ± {PUBLISHED_DER[name][2 * k + 1]:.2f}")
            table.append(cells)
        out += [f"\n{metric.upper()}:\n", harness.markdown_table(header, table)]
        header = ["dataset", "protocol", "honest", "full-test min - honest",
                  f"published-style {PUBLISHED_EPOCHS} epochs - honest",
                  "published-style whole run - honest",
                  f"{PUBLISHED_EPOCHS} epochs vs published (combined s.e.)", "same, s.e. floored"]
        table = []
        for name in names:
            for protocol in ("all_splits", "split_0"):
                group_rows = by.get((name, protocol), [])
                if not group_rows:
                    continue
                honest = [float(r[metric]) for r in group_rows]
                cells = [name, protocol, harness.mean_se(honest, digits=4)]
                for prefix in (FULL_TEST_MIN, PUBLISHED_STYLE_40, PUBLISHED_STYLE):
                    shifted = np.mean([float(r[prefix + metric]) for r in group_rows])
                    cells.append(f"{shifted - np.mean(honest):+.4f}")
                forty = [float(r[PUBLISHED_STYLE_40 + metric]) for r in group_rows]
                cells.append(f"{gap(forty, name, metric)[1]:+.1f}")
                cells.append(f"{gap(forty, name, metric, PUBLISHED_SE_FLOOR)[1]:+.1f}")
                table.append(cells)
        out += [f"\n{metric.upper()} shifts from honest (means over trials):\n",
                harness.markdown_table(header, table)]
    walls = {(r["dataset"], r["protocol"]): r["wall_s_dataset"] for r in rows}
    out.append("\nWall s per dataset and protocol: "
               + ", ".join(f"{d} {p} {w}" for (d, p), w in walls.items()))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=str(CSV))
    parser.add_argument("--test-selected", nargs="?", const=str(OUT / "uci_test_selected.csv"),
                        default=None, help="also summarise this `uci.py --test-selected` CSV")
    args = parser.parse_args(argv)
    by = group(harness.ResultsCSV(args.csv, ["dataset", "split", "loss"]).rows(), "dataset", "loss")
    print("## Gaps of der_amini to the published DER\n")
    print(gaps_table(by))
    print("\n## Paired tests against der_amini\n")
    print(paired_tests(by))
    print("\n## Best epochs, wall time and coverage\n")
    print(epochs_and_coverage(by))
    if args.test_selected:
        rows = harness.ResultsCSV(args.test_selected, ["dataset", "protocol", "trial", "loss"]).rows()
        print("\n## Honest vs test-selected (der_amini)\n")
        print(test_selected_tables(rows))


if __name__ == "__main__":
    main()
