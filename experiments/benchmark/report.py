"""Tables and figures of the benchmark from `<out>/runs.csv` and `<out>/runs/*.json`.

    python -m experiments.benchmark.report [--out DIR] [--config e6_w64_nall]

Writes `<out>/README.md` (the tables), `<out>/summary.csv` (mean and std per
method and column) and `aupr.png`, `reliability.png`, `histograms.png`.
"""

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

from experiments import harness
from experiments.benchmark.methods import METHODS
from experiments.benchmark.methods import NO_OOD_ROWS
from experiments.benchmark.methods import OUTLIER_EXPOSURE_ROWS
from experiments.benchmark.runner import OUT

OOD_LABELS = {"fmnist": "FMNIST", "emnist": "EMNIST letters", "cifar_gray": "CIFAR-10 gray"}
BASELINE = "edl_softplus"  # the published EDL row's evidence


def ood_score(method_name):
    return "max_probability" if METHODS[method_name].head == "softmax" else "alpha0"


def values(rows, column, scale=100.0):
    out = []
    for row in rows:
        try:
            v = float(row.get(column, "nan"))
        except ValueError:
            v = float("nan")
        out.append(v * scale)
    return out


def cell(rows, column, scale=100.0, digits=2):
    return harness.mean_std(values(rows, column, scale), digits=digits)


def by_method(rows, names):
    grouped = {}
    for name in names:
        runs = sorted((r for r in rows if r["method"] == name), key=lambda r: int(r["seed"]))
        if runs:
            grouped[name] = runs
    return grouped


def main_table(grouped):
    header = ["method", "seeds", "accuracy %", "miscls. AUPR %", "FMNIST AUPR % (max p)",
              "FMNIST AUPR % (alpha0)", "FMNIST AUROC %", "FMNIST FPR95 %", "EMNIST AUPR %",
              "CIFAR-gray AUPR %", "ECE-15 %", "Brier", "seeds with a lost class", "epochs trained",
              "train s/seed", "published acc.", "published FMNIST AUPR"]
    table = []
    for name, runs in grouped.items():
        method, score = METHODS[name], ood_score(name)
        table.append([
            method.label, len(runs), cell(runs, "accuracy"), cell(runs, "miscls_aupr"),
            cell(runs, "fmnist_max_probability_aupr_in"),
            cell(runs, "fmnist_alpha0_aupr_in") if score == "alpha0" else "-",
            cell(runs, f"fmnist_{score}_auroc"), cell(runs, f"fmnist_{score}_fpr95"),
            cell(runs, f"emnist_{score}_aupr_in"), cell(runs, f"cifar_gray_{score}_aupr_in"),
            cell(runs, "ece15"), cell(runs, "brier", 1.0, 4), lost_classes(runs), epochs_trained(runs),
            cell(runs, "train_time_s", 1.0, 0),
            published(method, "accuracy"), published(method, "fmnist_aupr"),
        ])
    return harness.markdown_table(header, table)


def intact_table(grouped):
    """Secondary: the rows over their seeds that lost no class. A description
    of the failure's cost, not a result: choosing seeds after the fact
    flatters every row that loses classes."""
    header = ["method", "seeds without a lost class", "accuracy %", "FMNIST AUPR % (table's score)",
              "dead units (all seeds)", "zero-evidence share of MNIST test % (all seeds)"]
    table = []
    for name, runs in grouped.items():
        if any(r.get("collapsed_classes", "") in ("", None) for r in runs):
            continue
        intact = [r for r in runs if int(r["collapsed_classes"]) == 0]
        dead = [r.get("dead_units", "") for r in runs]
        table.append([
            METHODS[name].label, f"{len(intact)}/{len(runs)}",
            cell(intact, "accuracy"), cell(intact, f"fmnist_{ood_score(name)}_aupr_in"),
            "-" if "" in dead else ", ".join(dead),
            cell(runs, "zero_evidence_fraction") if "" not in dead else "-",
        ])
    return harness.markdown_table(header, table)


def lost_classes(runs):
    """`"n/N"`: seeds whose model lost a class (test recall < 1/2), or `"-"`
    for runs recorded before the column existed."""
    counts = [r.get("collapsed_classes", "") for r in runs]
    if any(c in ("", None) for c in counts):
        return "-"
    return f"{sum(int(c) > 0 for c in counts)}/{len(counts)}"


def epochs_trained(runs):
    """The epochs each run trained: fewer than configured where a time limit
    cut it (`runner --time-limit`); runs from before that column trained all."""
    counts = {int(r.get("epochs_trained") or r["epochs"]) for r in runs}
    return str(min(counts)) if len(counts) == 1 else f"{min(counts)}-{max(counts)}"


def describe_configuration(config, rows):
    """What the configuration changed from the protocol, read off its rows."""
    from experiments.benchmark.runner import schedules

    first = rows[0]
    epochs = int(first["epochs"])
    lr_step, kl_epochs = (
        (int(first["lr_step"]), int(first["kl_epochs"])) if first.get("lr_step") else schedules(epochs)
    )
    if (lr_step, kl_epochs) == schedules(60):
        schedule = (f"the protocol's schedule (lr 1e-3, times 0.1 every {lr_step} epochs; KL annealed over "
                    f"{kl_epochs} epochs) cut at {epochs} epochs")
    else:
        schedule = (f"{epochs} epochs instead of the protocol's 60 (lr 1e-3 for the first {lr_step} epochs, "
                    f"then 1e-4; KL annealed over the first {kl_epochs})")
    cut = sorted({int(r.get("epochs_trained") or epochs) for r in rows})
    if cut[0] < epochs:
        schedule += (f"; a time limit stopped rows after {cut[0]} to {cut[-1]} epochs (column "
                     "\"epochs trained\"), so rows trained for different numbers of epochs and only the "
                     "seeds within one row compare under one budget")
    width = "" if int(first["width"]) == 64 else f" instead of 64"
    backend = first.get("backend") or "tensorflow"
    # Rows from before the column ran with the checks on (the default).
    unchecked = [r for r in rows if r.get("value_checks") == "False"]
    off = ", ".join(sorted({r.get("method", "?") for r in unchecked}))
    checks = ("" if not unchecked else ", value checks off" if len(unchecked) == len(rows)
              else f", value checks off in the {off} rows")
    clip = f", DAEDL's and F-EDL's exp heads clipped at {first['exp_clip']}" if first.get("exp_clip") else ""
    return (f"Configuration `{config}`: {schedule}; conv net width {first['width']}{width}, {first['pack']} "
            f"seeds trained side by side as one model (independent towers, same batches), Keras backend "
            f"{backend}{checks}{clip}.")


def published(method, key):
    if key not in method.published:
        return "-"
    mean, std = method.published[key]
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def welch_against_published(ours, mean, std, published_runs=5):
    """Two-sided Welch t-test p of our seeds against a published mean ± std
    over `published_runs` runs (the tables' 5); None with under 2 seeds."""
    from scipy import stats

    ours = np.asarray([v for v in ours if np.isfinite(v)], float)
    if ours.size < 2:
        return None
    return float(stats.ttest_ind_from_stats(
        ours.mean(), ours.std(ddof=1), ours.size, mean, std, published_runs, equal_var=False
    ).pvalue)


def target_lines(grouped):
    """The issue's targets, checked on the numbers: each published figure
    against ours (within 2 published std), and the best FMNIST AUPR against
    the best published without OOD data (Re-EDL, 99.65)."""
    lines = []
    columns = {"accuracy": "accuracy", "fmnist_aupr": None}
    for name, runs in grouped.items():
        method = METHODS[name]
        for key in ("accuracy", "fmnist_aupr"):
            if key not in method.published:
                continue
            column = columns[key] or f"fmnist_{ood_score(name)}_aupr_in"
            ours = np.asarray(values(runs, column))
            mean, std = method.published[key]
            gap = np.nanmean(ours) - mean
            if std is None:
                verdict = "no published std, gap only"
            else:
                verdict = "within" if abs(gap) <= 2 * std else "outside"
                verdict += f" 2 published std ({2 * std:.2f} pp)"
                # A published std of 0.00 makes "within 2 std" unattainable;
                # the test says whether the gap is more than seed noise.
                p = welch_against_published(ours, mean, std)
                if p is not None:
                    verdict += (f"; Welch's t-test against it: p = {p:.2g}, "
                                + ("significant" if p < 0.05 else "not significant") + " at 0.05")
            label = "accuracy" if key == "accuracy" else "FMNIST AUPR"
            lines.append(f"- {method.label}, {label}: ours {harness.mean_std(ours)} vs published "
                         f"{published(method, key)}: gap {gap:+.2f} pp, {verdict}.")
    best_name, best = None, -np.inf
    for name, runs in grouped.items():
        mean = np.nanmean(values(runs, f"fmnist_{ood_score(name)}_aupr_in"))
        if mean > best:
            best_name, best = name, mean
    if best_name is not None:
        runs = values(grouped[best_name], f"fmnist_{ood_score(best_name)}_aupr_in")
        above = sum(v > 99.65 for v in runs)
        p = welch_against_published(runs, *METHODS["re_edl"].published["fmnist_aupr"])
        significance = "" if p is None else (
            f"; Welch's t-test against the published {published(METHODS['re_edl'], 'fmnist_aupr')} "
            f"(5 runs): p = {p:.2g}, "
            + ("significant" if p < 0.05 else "not significant") + " at 0.05")
        # The issue sets the target at Re-EDL's 99.65; DAEDL's paper prints a
        # higher figure (99.87) for a method trained without OOD data too.
        higher = [f"{m.label} {published(m, 'fmnist_aupr')}" for m in METHODS.values()
                  if not m.outlier_exposure and m.published.get("fmnist_aupr", (0,))[0] > 99.65]
        caveat = f"; higher published figures without OOD data: {', '.join(higher)}" if higher else ""
        lines.append(f"- Best FMNIST AUPR without OOD data: {METHODS[best_name].label}, "
                     f"{harness.mean_std(runs)} ({above}/{len(runs)} seeds above 99.65, the issue's target, "
                     f"Re-EDL's published figure): target {'met' if best > 99.65 else 'not met'} in the mean"
                     f"{significance}{caveat}.")
    return "\n".join(lines) + "\n"


def exposure_table(grouped):
    header = ["method", "seeds", "accuracy %", "FMNIST AUPR % (alpha0)", "FMNIST AUROC %",
              "FMNIST FPR95 %", "CIFAR-gray AUPR % (alpha0)", "CIFAR-gray FPR95 %", "ECE-15 %"]
    table = [[METHODS[n].label, len(r), cell(r, "accuracy"), cell(r, "fmnist_alpha0_aupr_in"),
              cell(r, "fmnist_alpha0_auroc"), cell(r, "fmnist_alpha0_fpr95"),
              cell(r, "cifar_gray_alpha0_aupr_in"), cell(r, "cifar_gray_alpha0_fpr95"), cell(r, "ece15")]
             for n, r in grouped.items()]
    return harness.markdown_table(header, table)


def paired_table(grouped, baseline=BASELINE):
    if baseline not in grouped:
        return "No baseline runs.\n"
    base = {r["seed"]: r for r in grouped[baseline]}
    header = ["method", "pairs", f"FMNIST AUPR - {baseline} (pp)", "wins", "t-test p", "Wilcoxon p"]
    table = []
    for name, runs in grouped.items():
        if name == baseline:
            continue
        pairs = [(r, base[r["seed"]]) for r in runs if r["seed"] in base]
        if len(pairs) < 2:
            continue
        col = lambda n: f"fmnist_{ood_score(n)}_aupr_in"
        a = [float(r[col(name)]) * 100 for r, _ in pairs]
        b = [float(s[col(baseline)]) * 100 for _, s in pairs]
        test = harness.paired_test(a, b)
        fmt = lambda p: "-" if p is None else f"{p:.3g}"
        table.append([METHODS[name].label, test["n"], f"{test['mean_diff']:+.2f} ± {test['std_diff']:.2f}",
                      f"{test['wins']}/{test['n']}", fmt(test["t_p"]), fmt(test["wilcoxon_p"])])
    return harness.markdown_table(header, table)


def figures(grouped, out, config):
    """AUPR bars of the rows trained without OOD data; reliability and histograms of every row."""
    plt = harness.pyplot()
    names = [n for n in grouped if not METHODS[n].outlier_exposure]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=False)
    for ax, ood in zip(axes, OOD_LABELS):
        means, stds = [], []
        for n in names:
            v = np.asarray(values(grouped[n], f"{ood}_{ood_score(n)}_aupr_in"))
            means.append(np.nanmean(v))
            stds.append(np.nanstd(v, ddof=1) if np.isfinite(v).sum() > 1 else 0.0)
        ax.barh(range(len(names)), means, xerr=stds, color="#4c72b0", capsize=2)
        ax.set_yticks(range(len(names)), [METHODS[n].label for n in names] if ax is axes[0] else [])
        finite = [m for m in means if math.isfinite(m)]
        if finite:
            ax.set_xlim(max(0.0, min(finite) - 5), 100)
        ax.invert_yaxis()
        ax.set_title(f"{OOD_LABELS[ood]} AUPR % (ID positive)")
    harness.save_figure(fig, out / "aupr.png")

    plots = {}
    for n in grouped:
        files = sorted((out / "runs").glob(f"{n}_s*_{config}.json"))
        if files:
            plots[n] = [json.loads(f.read_text()) for f in files]
    cols = min(4, len(plots)) or 1
    rows = math.ceil(len(plots) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for ax, (n, runs) in zip(axes.flat, plots.items()):
        count = np.sum([r["reliability"]["count"] for r in runs], axis=0)
        conf = np.sum([np.clip(r["reliability"]["confidence"], 0, None) * np.asarray(r["reliability"]["count"]) for r in runs], axis=0)
        acc = np.sum([np.clip(r["reliability"]["accuracy"], 0, None) * np.asarray(r["reliability"]["count"]) for r in runs], axis=0)
        keep = count > 0
        ax.plot([0, 1], [0, 1], color="gray", lw=0.8)
        ax.plot(conf[keep] / count[keep], acc[keep] / count[keep], "o-", ms=3)
        ax.set_title(METHODS[n].label, fontsize=8)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
    for ax in list(axes.flat)[len(plots):]:
        ax.axis("off")
    harness.save_figure(fig, out / "reliability.png")

    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax, (n, runs) in zip(axes.flat, plots.items()):
        h = runs[0]["histograms"]["fmnist"]
        edges = np.asarray(h["edges"])
        centres = 0.5 * (edges[1:] + edges[:-1])
        for key, label in (("in", "MNIST"), ("out", "FMNIST")):
            counts = np.asarray(h[key], float)
            ax.step(centres, counts / max(counts.sum(), 1), where="mid", label=label)
        ax.set_title(f"{METHODS[n].label} (first seed)", fontsize=8)
        ax.set_xlabel(h["score"])
        ax.legend()
    for ax in list(axes.flat)[len(plots):]:
        ax.axis("off")
    harness.save_figure(fig, out / "histograms.png")


def summary_csv(grouped, path):
    columns = sorted({k for runs in grouped.values() for r in runs for k in r} - {"method", "seed", "config"})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "column", "mean", "std", "n"])
        for name, runs in grouped.items():
            for column in columns:
                v = np.asarray(values(runs, column, 1.0))
                v = v[np.isfinite(v)]
                if v.size:
                    writer.writerow([name, column, f"{v.mean():.6g}", f"{v.std(ddof=1) if v.size > 1 else 0:.3g}", v.size])


def wall_hours(log_lines, config):
    """Wall time of the runner invocations of `config`, from their log lines
    (each invocation from its `start:` line to its last line)."""
    total, segment = 0.0, None
    for line in log_lines + ["start: end"]:
        if "start: " in line:
            if segment:
                total += max(segment) - min(segment)
            segment = [] if f"config={config} " in line else None
        if segment is not None and line.startswith("[") and "s] " in line:
            segment.append(float(line.split("+", 1)[1].split("s]", 1)[0]))
    return total / 3600


def report_command(commands, config, configs):
    """The report's own command line for the folder the runner `commands`
    wrote to, naming the configuration where the folder holds several."""
    command = "python -m experiments.benchmark.report"
    out = next((c.split("--out ", 1)[1].split()[0] for c in commands if "--out " in c), None)
    if out:
        command += f" --out {out}"
    if len(configs) > 1:
        command += f" --config {config}"
    return command


def report(out=OUT, config=None):
    out = Path(out)
    rows = harness.ResultsCSV(out / "runs.csv", ["method", "seed", "config"]).rows()
    if not rows:
        raise SystemExit(f"no runs in {out / 'runs.csv'}")
    config = config or rows[-1]["config"]
    configs = {r["config"] for r in rows}
    rows = [r for r in rows if r["config"] == config]
    main = by_method(rows, NO_OOD_ROWS)
    exposure = by_method(rows, OUTLIER_EXPOSURE_ROWS)
    first = rows[0]
    total_hours = sum(float(r["train_time_s"]) for r in rows) / 3600
    log = out / "run.log"
    log_lines = log.read_text().splitlines() if log.exists() else []
    commands = sorted({line.split("start: ", 1)[1].split(" config=")[0]
                       for line in log_lines if "start: " in line and f"config={config} " in line})
    text = [
        "# Evidential classification benchmark: MNIST against the published tables\n",
        describe_configuration(config, rows) + " Batch 64, Adam, the epoch of best validation accuracy "
        "tested. Mean ± std over seeds (each seed once). "
        "OOD AUPR has the in-distribution (MNIST test) samples "
        "positive, scored by alpha0 (max probability for softmax). KMNIST, the published tables' "
        "other OOD set, is not available offline. Published figures: Re-EDL (TPAMI 2025) Table 4, "
        "DAEDL (ICML 2024) Table 2.\n",
        "Reproduce: " + "; ".join(f"`{c}`" for c in commands) + f", then `{report_command(commands, config, configs)}`. "
        f"Training time summed over the {len(rows)} runs: {total_hours:.2f} h (evaluation excluded); "
        f"wall time of the runner for this configuration, evaluation included: {wall_hours(log_lines, config):.2f} h "
        "(the machine is in run.log's start lines).\n",
        *(["What the numbers say, and why the gaps: [ANALYSIS.md](ANALYSIS.md).\n"]
          if (out / "ANALYSIS.md").exists() else []),
        "## Trained without OOD data\n",
        main_table(main),
        "\n## Targets (issue 17)\n",
        target_lines(main),
        "\n## Lost classes\n",
        "A class is lost when its test recall is below 1/2; a dead unit is a class whose evidence is "
        "at most 0.01 on every MNIST test sample (Dirichlet heads only). Rows run before these "
        "columns existed are left out. The accuracy and AUPR here are over the intact seeds only: "
        "a description of what the failure costs, never a result.\n",
        intact_table(main),
        f"\n## Paired by seed against {METHODS[BASELINE].label}\n",
        "FMNIST AUPR (the column's score) minus the baseline's, seed by seed (same initial seed, "
        "same data order). With 5 pairs the two-sided Wilcoxon test cannot go below p = 0.0625; "
        "the t-test assumes normal differences. No correction for the number of rows.\n",
        paired_table(main),
        f"\n## Paired by seed against {METHODS['softmax'].label}\n",
        paired_table(main, "softmax"),
        "\n## With outlier exposure (EMNIST letters as the unknown class; not ranked with the above)\n",
        exposure_table(exposure) if exposure else "No runs.\n",
        "\n![AUPR](aupr.png)\n\n![reliability](reliability.png)\n\n![histograms](histograms.png)\n",
    ]
    (out / "README.md").write_text("\n".join(text))
    summary_csv({**main, **exposure}, out / "summary.csv")
    figures({**main, **exposure}, out, config)
    return out / "README.md"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    print(report(args.out, args.config))
