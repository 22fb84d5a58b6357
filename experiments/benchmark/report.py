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
from experiments.benchmark import verdicts
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
    """One row per method; every column names its score (PROTOCOL.md section 3).
    Training time is left out: packed towers on a shared machine do not give
    seconds that compare across rows."""
    header = ["method", "seeds", "accuracy %", "miscls. AUPR % (max p)", "FMNIST AUPR % (max p)",
              "FMNIST AUPR % (alpha0)", "FMNIST AUROC % (alpha0)", "FMNIST FPR95 % (alpha0)",
              "EMNIST AUPR % (alpha0)", "EMNIST AUROC % (alpha0)", "EMNIST FPR95 % (alpha0)",
              "CIFAR-gray AUPR % (alpha0)", "CIFAR-gray AUROC % (alpha0)", "CIFAR-gray FPR95 % (alpha0)",
              "ECE-15 %", "Brier", "seeds with a lost class", "epochs trained",
              "published acc.", "published FMNIST AUPR"]
    table = []
    for name, runs in grouped.items():
        method, score = METHODS[name], ood_score(name)
        table.append([
            method.label + (" (softmax rows: max p)" if score == "max_probability" else ""),
            len(runs), cell(runs, "accuracy"), cell(runs, "miscls_aupr"),
            cell(runs, "fmnist_max_probability_aupr_in"),
            *[cell(runs, f"{ood}_{score}_{figure}") for ood in OOD_LABELS for figure in ("aupr_in", "auroc", "fpr95")],
            cell(runs, "ece15"), cell(runs, "brier", 1.0, 4), lost_classes(runs), epochs_trained(runs),
            published(method, "accuracy"), published(method, "fmnist_aupr"),
        ])
    return harness.markdown_table(header, table)


def own_score_table(grouped, score, label):
    """The rows that have their own OOD score (`score`: F-EDL's epistemic
    uncertainty, m-EDL's unknown-class probability), beside alpha0."""
    header = ["method", "OOD set"] + [f"{figure} % ({s})" for figure in ("AUPR", "AUROC", "FPR95")
                                      for s in ("alpha0", label)]
    table = []
    for name, runs in grouped.items():
        if not all(f"fmnist_{score}_auroc" in r for r in runs):
            continue
        for ood, ood_label in OOD_LABELS.items():
            if f"{ood}_{score}_auroc" not in runs[0]:
                continue
            table.append([METHODS[name].label, ood_label] + [
                cell(runs, f"{ood}_{s}_{figure}") for figure in ("aupr_in", "auroc", "fpr95") for s in ("alpha0", score)
            ])
    return harness.markdown_table(header, table) if table else "No runs.\n"


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
    data = ("each on its own 80/20 split and batch order" if first.get("split") == "per_seed"
            else "one fixed 80/20 split, same batches")
    init = {"torch": ", PyTorch-default initialiser", "keras": ", Keras's Glorot initialiser"}.get(first.get("init"), "")
    return (f"Configuration `{config}`: {schedule}; conv net width {first['width']}{width}, {first['pack']} "
            f"seeds trained side by side as one model (independent towers, {data}){init}, Keras backend "
            f"{backend}{checks}{clip}.")


def published(method, key):
    if key not in method.published:
        return "-"
    mean, std = method.published[key]
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def verdict_table(grouped, seeds_required=5):
    """PROTOCOL.md section 4: each published figure against our seeds, TOST
    within ±0.5 pp and one-sided Welch tests, Holm within the table; the
    verdict with the printed std beside the floored one (the sensitivity).
    Rows with fewer than `seeds_required` finished seeds get no verdict."""
    figures, labels, incomplete = [], [], []
    for name, runs in grouped.items():
        method = METHODS[name]
        for key in ("accuracy", "fmnist_aupr"):
            if key not in method.published:
                continue
            if len(runs) < seeds_required:
                incomplete.append(f"{method.label} ({len(runs)}/{seeds_required} seeds)")
                break
            column = "accuracy" if key == "accuracy" else f"fmnist_{ood_score(name)}_aupr_in"
            mean, std = method.published[key]
            figures.append({"ours": values(runs, column), "mean": mean, "std": std,
                            "decimals": verdicts.printed_decimals(name, key)})
            labels.append((method, key))
    header = ["method", "figure", "ours", "published (std used)", "gap pp", "TOST p (Holm)",
              "higher p (Holm)", "lower p (Holm)", "verdict", "verdict with the printed std"]
    fmt = lambda p, q: "-" if p is None else f"{p:.2g} ({q:.2g})"
    table = []
    for (method, key), figure, result in zip(labels, figures, verdicts.compare(figures)):
        table.append([
            method.label, "accuracy" if key == "accuracy" else "FMNIST AUPR (alpha0)",
            harness.mean_std(figure["ours"]), f"{figure['mean']:.2f} ± {figure['std']:.2f} ({result['std_used']:g})",
            f"{np.nanmean(figure['ours']) - figure['mean']:+.2f}",
            fmt(result["tost_p"], result["tost_holm"]), fmt(result["higher_p"], result["higher_holm"]),
            fmt(result["lower_p"], result["lower_holm"]), result["verdict"], result["verdict_printed_std"],
        ])
    text = harness.markdown_table(header, table) if table else "No row with a published figure has finished.\n"
    if incomplete:
        text += "\nIncomplete, no verdict: " + ", ".join(incomplete) + ".\n"
    return text


def dead_evidence_lines(grouped, out, config):
    """Per evidential row and seed, the first epoch at which a unit's evidence
    died on the validation set (the runner's per-epoch traces)."""
    lines = []
    for name in grouped:
        traces = []
        for run in grouped[name]:
            path = out / "runs" / f"{name}_s{run['seed']}_{config}.json"
            trace = json.loads(path.read_text()).get("dead_evidence") if path.exists() else None
            if trace:
                first = next((t["epoch"] for t in trace if t["dead_units"] > 0), None)
                traces.append(f"seed {run['seed']}: " + ("none" if first is None else
                              f"epoch {first} (dead units at the end: {trace[-1]['dead_units']})"))
        if traces:
            lines.append(f"- {METHODS[name].label}: " + "; ".join(traces))
    return "\n".join(lines) + "\n" if lines else "No traces.\n"


def exposure_table(grouped):
    header = ["method", "seeds", "accuracy %", "FMNIST AUPR % (alpha0)", "FMNIST AUROC % (alpha0)",
              "FMNIST FPR95 % (alpha0)", "CIFAR-gray AUPR % (alpha0)", "CIFAR-gray FPR95 % (alpha0)", "ECE-15 %"]
    table = [[METHODS[n].label, len(r), cell(r, "accuracy"), cell(r, "fmnist_alpha0_aupr_in"),
              cell(r, "fmnist_alpha0_auroc"), cell(r, "fmnist_alpha0_fpr95"),
              cell(r, "cifar_gray_alpha0_aupr_in"), cell(r, "cifar_gray_alpha0_fpr95"), cell(r, "ece15")]
             for n, r in grouped.items()]
    return harness.markdown_table(header, table)


def paired_table(grouped, baseline=BASELINE):
    """FMNIST AUPR (each row's table score) minus the baseline's, paired by
    seed; the t-test p-values Holm-adjusted within the table."""
    if baseline not in grouped:
        return "No baseline runs.\n"
    base = {r["seed"]: r for r in grouped[baseline]}
    col = lambda n: f"fmnist_{ood_score(n)}_aupr_in"
    tests = []
    for name, runs in grouped.items():
        pairs = [(r, base[r["seed"]]) for r in runs if r["seed"] in base]
        if name == baseline or len(pairs) < 2:
            continue
        a = [float(r[col(name)]) * 100 for r, _ in pairs]
        b = [float(s[col(baseline)]) * 100 for _, s in pairs]
        tests.append((name, harness.paired_test(a, b)))
    adjusted = verdicts.holm([test["t_p"] for _, test in tests])
    header = ["method", "pairs", f"FMNIST AUPR - {baseline} (pp)", "wins", "t-test p", "t-test p (Holm)",
              "Wilcoxon p"]
    fmt = lambda p: "-" if p is None else f"{p:.3g}"
    table = [[METHODS[name].label, test["n"], f"{test['mean_diff']:+.2f} ± {test['std_diff']:.2f}",
              f"{test['wins']}/{test['n']}", fmt(test["t_p"]), fmt(q), fmt(test["wilcoxon_p"])]
             for (name, test), q in zip(tests, adjusted)]
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
    log = out / "run.log"
    log_lines = log.read_text().splitlines() if log.exists() else []
    commands = sorted({line.split("start: ", 1)[1].split(" config=")[0]
                       for line in log_lines if "start: " in line and f"config={config} " in line})
    text = [
        "# Evidential classification benchmark: MNIST against the published tables\n",
        describe_configuration(config, rows) + " Batch 64, Adam, the epoch of best validation accuracy "
        "tested. Mean ± std over seeds (each seed once; seed s has its own 80/20 split and batch order "
        "when the configuration name ends in `_seedsplit`). "
        "OOD AUPR has the in-distribution (MNIST test) samples positive; every column names its score "
        "(alpha0 = Dirichlet strength; softmax rows use the max probability where a column says alpha0). "
        "KMNIST, the published tables' other OOD set, is not available offline. Published figures: "
        "Re-EDL (TPAMI 2025) Table 4, DAEDL (ICML 2024) Table 2. Verdict rules: "
        "[PROTOCOL.md](../../../experiments/benchmark/PROTOCOL.md).\n",
        "Reproduce: " + "; ".join(f"`{c}`" for c in commands) + f", then `{report_command(commands, config, configs)}`. "
        f"Wall time of the runner for this configuration, evaluation included: {wall_hours(log_lines, config):.2f} h "
        "(the machine is in run.log's start lines). Training time is not compared between rows.\n",
        *(["What the numbers say, and why the gaps: [ANALYSIS.md](ANALYSIS.md).\n"]
          if (out / "ANALYSIS.md").exists() else []),
        "## Trained without OOD data\n",
        main_table(main),
        "\n## Against the published figures (TOST ±0.5 pp, one-sided Welch, Holm within the table)\n",
        verdict_table(main),
        "\n## F-EDL's own epistemic score beside alpha0\n",
        own_score_table(main, "epistemic", "epistemic"),
        "\n## Lost classes\n",
        "A class is lost when its test recall is below 1/2; a dead unit is a class whose evidence is "
        "at most 0.01 on every MNIST test sample (Dirichlet heads only). Rows run before these "
        "columns existed are left out. The accuracy and AUPR here are over the intact seeds only: "
        "a description of what the failure costs, never a result.\n",
        intact_table(main),
        "\nFirst epoch with a dead unit on the validation set (per-epoch `dead_evidence_statistics`, "
        "evidence <= 0.01):\n",
        dead_evidence_lines(main, out, config),
        f"\n## Paired by seed against {METHODS[BASELINE].label}\n",
        "FMNIST AUPR (the column's score) minus the baseline's, seed by seed (same seed: same split, "
        "data order and initial seed). With 5 pairs the two-sided Wilcoxon test cannot go below "
        "p = 0.0625; the t-test assumes normal differences; Holm within each table.\n",
        paired_table(main),
        f"\n## Paired by seed against {METHODS['softmax'].label}\n",
        paired_table(main, "softmax"),
        "\n## With outlier exposure (EMNIST letters as the unknown class; not ranked with the above)\n",
        exposure_table(exposure) if exposure else "No runs.\n",
        "\nm-EDL's own score, the probability of its unknown class, beside alpha0 (with this library's "
        "head, alpha_u = K + 1, it is a decreasing function of alpha0, so the figures agree by "
        "construction):\n",
        own_score_table(exposure, "unknown_probability", "unknown class") if exposure else "No runs.\n",
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
