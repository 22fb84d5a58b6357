"""Conformal intervals for DER on the UCI regression datasets, at 90 %.

    python -m experiments.conformal.uci                       # resumable (per dataset)
    python -m experiments.conformal.uci --datasets power --splits 5 6 7
    python -m experiments.conformal.uci --report

Protocol and verdict rules: experiments/conformal/README.md. Training is
`experiments/regression/uci.py`'s stacked JAX trainer (every split and loss
at once), with the published budget of 40 epochs.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import time

import numpy as np

import keras_evidential as ke
from experiments import harness
from experiments.conformal.common import coverage_verdict
from experiments.conformal.common import difference_verdict
from experiments.conformal.common import fmt
from experiments.conformal.common import holm
from experiments.regression import uci

OUT = harness.REPO / "results" / "conformal"
CSV = OUT / "uci.csv"
ALPHA = 0.1
EPOCHS = uci.PUBLISHED_EPOCHS
HALVINGS = 20
DER, GAUSSIAN = uci.LOSSES.index("der_amini"), uci.LOSSES.index("gaussian")
DEFAULT_SPLITS = {"power": 5, "kin8nm": 5, "naval": 5, "protein": 5}  # else all
INTERVALS = ("der_student_t", "der_conformal_standardized", "der_conformal_quantile",
             "gaussian", "gaussian_conformal")
CONFORMAL = {"der_conformal_standardized", "der_conformal_quantile", "gaussian_conformal"}
FIELDS = ("dataset", "split", "interval", "coverage", "width", "n_calibration",
          "n_evaluation", "wall_s_dataset")
GAUSSIAN_Z = 1.6448536269514722  # Phi^-1(0.95)


def train(name, split_ids, log):
    """Raw test outputs `(S, L, n, 4)`, standardised test targets `(S, n)`, target stds."""
    import jax
    import jax.numpy as jnp

    _, lr, batch_size = uci.DATASETS[name]
    x, y, splits, meta = uci.load(name, harness.data_dir())
    arrays = uci.split_arrays(x, y, splits, split_ids)
    n_train = arrays["xtr"].shape[1]
    init, epoch, evaluate, _ = uci.make_trainer(
        x.shape[1], int(meta["n_hidden"]), len(split_ids), 0.01, lr, batch_size, n_train)
    key = jax.random.PRNGKey(0)
    params = init(key)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = (params, zeros, zeros, jnp.zeros((), "float32"))
    xtr, ytr = jnp.asarray(arrays["xtr"]), jnp.asarray(arrays["ytr"])
    xva, yva = jnp.asarray(arrays["xva"]), jnp.asarray(arrays["yva"])
    best_val, best = jnp.full((len(split_ids), len(uci.LOSSES)), jnp.inf), params
    start = time.monotonic()
    for e in range(EPOCHS):
        state = epoch(state, xtr, ytr, jax.random.fold_in(key, e + 1))
        val_nll = evaluate(state[0], xva, yva)[0]
        better = jnp.isfinite(val_nll) & (val_nll < best_val)
        best_val = jnp.where(better, val_nll, best_val)
        best = jax.tree_util.tree_map(
            lambda new, old: jnp.where(better.reshape(better.shape + (1,) * (new.ndim - 2)),
                                       new, old), state[0], best)
    wall = time.monotonic() - start
    log(f"{name}: {len(split_ids)} splits trained {EPOCHS} epochs in {wall:.0f}s")
    # The trainer's forward pass (one hidden ReLU layer per tower).
    h = jax.nn.relu(jnp.einsum("snd,sldh->slnh", jnp.asarray(arrays["xte"]), best["w1"])
                    + best["b1"][:, :, None])
    raw = jnp.einsum("slnh,slhk->slnk", h, best["w2"]) + best["b2"][:, :, None]
    return np.asarray(raw, "float64"), arrays["yte"].astype("float64"), arrays["ystd"], wall


def intervals_of_split(raw, y, ystd):
    """Per interval: (coverage, width) averaged over the halvings of one test split."""
    y_pred = np.asarray(ke.nig.nig_from_outputs(raw[DER]))
    column = y[:, None]
    base = {}
    for method in ("standardized", "quantile"):
        lower, upper, unit = (np.asarray(v)[:, 0] for v in ke.conformal.base_interval(
            y_pred, method, 1 - ALPHA))
        scores = np.asarray(ke.conformal.interval_scores(column, y_pred, method, 1 - ALPHA))[:, 0]
        base[method] = (lower, upper, unit, scores)
    mean = raw[GAUSSIAN][:, 0]
    sd = np.sqrt(np.logaddexp(0.0, raw[GAUSSIAN][:, 1]) + 1e-6)  # the trainer's softplus + 1e-6
    gaussian_scores = np.abs(y - mean) / sd
    n = len(y)
    out = {name: [] for name in INTERVALS}
    for rep in range(HALVINGS):
        order = np.random.default_rng(rep).permutation(n)
        cal, ev = order[: n // 2], order[n // 2:]
        lower, upper, unit, scores = base["quantile"]
        # The uncalibrated Student-t 90 % interval is the quantile base at q = 0.
        out["der_student_t"].append((np.mean(scores[ev] <= 0), np.mean(upper[ev] - lower[ev])))
        for method in ("standardized", "quantile"):
            lower, upper, unit, scores = base[method]
            q = ke.conformal.conformal_quantile(scores[cal], ALPHA)
            out[f"der_conformal_{method}"].append(
                (np.mean(scores[ev] <= q), np.mean(upper[ev] - lower[ev] + 2 * q * unit[ev])))
        out["gaussian"].append((np.mean(gaussian_scores[ev] <= GAUSSIAN_Z),
                                np.mean(2 * GAUSSIAN_Z * sd[ev])))
        q = ke.conformal.conformal_quantile(gaussian_scores[cal], ALPHA)
        out["gaussian_conformal"].append((np.mean(gaussian_scores[ev] <= q),
                                          np.mean(2 * q * sd[ev])))
    return {name: (float(np.mean([c for c, _ in v])), float(np.mean([w for _, w in v])) * ystd)
            for name, v in out.items()}, n // 2, n - n // 2


def report(rows):
    lines = ["Command: `python -m experiments.conformal.uci`. DER (Amini et al.'s loss, "
             f"lambda 0.01) and the Gaussian-NLL baseline, {EPOCHS} epochs; each test split "
             f"halved {HALVINGS} times into calibration / evaluation; 1 - alpha = 0.9. "
             "Mean ± std over splits; width in the target's units.\n\n"]
    by = {}
    for r in rows:
        by.setdefault((r["dataset"], r["interval"]), []).append(r)
    datasets = [d for d in uci.DATASETS if any(k[0] == d for k in by)]
    table = []
    for dataset in datasets:
        for interval in INTERVALS:
            group = by.get((dataset, interval), [])
            if not group:
                continue
            cov = [float(r["coverage"]) for r in group]
            n_cal, n_ev = int(group[0]["n_calibration"]), int(group[0]["n_evaluation"])
            verdict = (coverage_verdict(np.mean(cov), n_cal, ALPHA, n_ev, len(group) * HALVINGS, True)
                       if interval in CONFORMAL else "(uncalibrated)")
            table.append([dataset, len(group), interval, fmt(cov, 3),
                          fmt([float(r["width"]) for r in group], 3), verdict])
    lines.append(harness.markdown_table(
        ["dataset", "splits", "interval", "coverage", "mean width", "coverage vs band"], table))
    tests = []
    for dataset in datasets:
        a = sorted(by[(dataset, "der_conformal_standardized")], key=lambda r: int(r["split"]))
        b = sorted(by[(dataset, "gaussian_conformal")], key=lambda r: int(r["split"]))
        tests.append((dataset, harness.paired_test([float(r["width"]) for r in a],
                                                   [float(r["width"]) for r in b])))
    adjusted = holm([t["t_p"] for _, t in tests])
    paired = [[d, f"{t['mean_diff']:+.4f}", f"{t['wins']}/{t['n']}",
               "-" if t["t_p"] is None else f"{t['t_p']:.2g}",
               "-" if p is None else f"{p:.2g}",
               difference_verdict(t["mean_diff"], p, "DER narrower", "DER wider")]
              for (d, t), p in zip(tests, adjusted)]
    lines.append("\nWidth, conformal DER (standardized) minus conformal Gaussian, paired by "
                 "split (t-test, Holm over datasets):\n\n")
    lines.append(harness.markdown_table(
        ["dataset", "mean difference", "DER wider in", "p", "p (Holm)", "verdict"], paired))
    text = "".join(lines)
    (OUT / "uci.md").write_text(text)
    figure(by, datasets)
    return text


def figure(by, datasets):
    plt = harness.pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    width = 0.16
    for i, interval in enumerate(INTERVALS):
        cov = [np.mean([float(r["coverage"]) for r in by.get((d, interval), [])] or [np.nan])
               for d in datasets]
        ax.bar(np.arange(len(datasets)) + (i - 2) * width, cov, width, label=interval)
    ax.axhline(0.9, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(datasets)), datasets)
    ax.set_ylim(0.6, 1.0)
    ax.set_ylabel("coverage (target 0.9)")
    ax.legend(ncol=3, loc="lower right")
    harness.save_figure(fig, OUT / "uci_coverage.png")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="*", default=list(uci.DATASETS))
    parser.add_argument("--splits", nargs="*", type=int, default=None)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    results = harness.ResultsCSV(CSV, ("dataset", "split", "interval"))
    if not args.report:
        log = harness.RunLog(OUT / "uci.log")
        log(f"{harness.command_line()} on {harness.machine_description()}")
        done = {(r["dataset"], int(r["split"])) for r in results.rows()}
        for name in args.datasets:
            _, _, splits, meta = uci.load(name, harness.data_dir())
            split_ids = args.splits if args.splits is not None else list(
                range(DEFAULT_SPLITS.get(name, int(meta["n_splits"]))))
            split_ids = [s for s in split_ids if (name, s) not in done]
            if not split_ids:
                log(f"{name}: done")
                continue
            raw, y, ystd, wall = train(name, split_ids, log)
            rows = []
            for i, s in enumerate(split_ids):
                values, n_cal, n_ev = intervals_of_split(raw[i], y[i], float(ystd[i]))
                rows += [{"dataset": name, "split": s, "interval": k, "coverage": c, "width": w,
                          "n_calibration": n_cal, "n_evaluation": n_ev,
                          "wall_s_dataset": round(wall, 1)} for k, (c, w) in values.items()]
            results.append_many(rows, FIELDS)
            log(f"{name}: intervals of {len(split_ids)} splits written")
    print(report(results.rows()))


if __name__ == "__main__":
    main()
