"""Post-hoc calibration and selective prediction on MNIST (see README.md).

Resumable: a (method, seed) already in `results/calibration/runs.csv` is
skipped. `--report-only` rewrites the tables and the figure from the CSVs.
"""

import argparse
import json
import time

import keras
import numpy as np
from scipy.special import log_softmax

import keras_evidential as ke
from experiments import harness
from experiments.data.datasets import load_mnist
from experiments.data.datasets import to_float_vectors

OUT = harness.REPO / "results" / "calibration"
METHODS = ("softmax", "edl", "redl")
LABELS = {"softmax": "softmax CE", "edl": "EDL (ReLU)", "redl": "R-EDL (lambda 0.1)"}
PRIOR = {"softmax": None, "edl": 1.0, "redl": 0.1}
EPOCHS, BATCH, HIDDEN, CALIBRATION_SIZE = 5, 128, 128, 5000
RUN_FIELDS = (
    "method", "seed", "temperature", "accuracy", "accuracy_calibrated", "same_predictions",
    "ece", "ece_calibrated", "nll", "nll_calibrated", "seconds",
)
SELECTIVE_FIELDS = ("method", "seed", "score", "aurc", "e_aurc", "accuracy_at_90")
SOFTMAX_SCORES = ("least_confidence", "total_entropy")


def build(method, seed):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((784,)), keras.layers.Dense(HIDDEN, activation="relu"),
              keras.layers.Dense(10)]
    if method == "softmax":
        model = keras.Sequential(layers)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        callbacks = []
    elif method == "edl":
        model = keras.Sequential(layers + [ke.layers.DirichletOutput(evidence="relu")])
        loss = ke.losses.EDLLoss()
        callbacks = [ke.callbacks.KLAnnealing(increment=0.1)]
    else:
        model = keras.Sequential(layers + [
            ke.layers.DirichletOutput(evidence="softplus", prior_concentration=0.1)])
        loss = ke.losses.RelaxedEDLLoss(prior_concentration=0.1)
        callbacks = [ke.callbacks.KLAnnealing(increment=0.1)]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    return model, callbacks


def probabilities(method, outputs):
    outputs = np.asarray(outputs, "float64")
    if method == "softmax":
        return np.exp(log_softmax(outputs, axis=1))
    return outputs / outputs.sum(1, keepdims=True)


def nll(p, labels):
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-300))))


def uncertainties(method, outputs):
    if method == "softmax":
        p = probabilities(method, outputs)
        return {"least_confidence": 1.0 - p.max(1),
                "total_entropy": -np.sum(p * np.log(np.maximum(p, 1e-300)), 1)}
    return ke.evaluation.dirichlet_uncertainties(outputs, prior_concentration=PRIOR[method])


def selective_rows(method, seed, outputs, labels, calibrated):
    errors = (np.asarray(outputs).argmax(1) != labels).astype("float64")
    scores = uncertainties(method, outputs)
    scores["least_confidence_calibrated"] = 1.0 - probabilities(method, calibrated).max(1)
    rows = []
    for name, score in scores.items():
        rows.append({
            "method": method, "seed": seed, "score": name,
            "aurc": ke.evaluation.aurc(errors, score),
            "e_aurc": ke.evaluation.excess_aurc(errors, score),
            "accuracy_at_90": 1.0 - ke.evaluation.risk_at_coverage(errors, score, 0.9),
        })
    return rows


def run_one(method, seed, data, log):
    x_train, y_train, x_test, y_test = data
    split = np.random.default_rng(seed).permutation(len(y_test))
    cal, test = split[:CALIBRATION_SIZE], split[CALIBRATION_SIZE:]
    started = time.monotonic()
    model, callbacks = build(method, seed)
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, callbacks=callbacks,
              verbose=0, shuffle=True)
    calibrated = ke.calibration.calibrate(
        model, x_test[cal], y_test[cal], output="softmax" if method == "softmax" else None,
        batch_size=1000,
    )
    before = model.predict(x_test[test], batch_size=1000, verbose=0)
    after = calibrated.predict(x_test[test], batch_size=1000, verbose=0)
    labels = y_test[test]
    p_before, p_after = probabilities(method, before), probabilities(method, after)
    row = {
        "method": method, "seed": seed,
        "temperature": calibrated.layers[-1].temperature,
        "accuracy": float(np.mean(p_before.argmax(1) == labels)),
        "accuracy_calibrated": float(np.mean(p_after.argmax(1) == labels)),
        "same_predictions": bool(np.array_equal(p_before.argmax(1), p_after.argmax(1))),
        "ece": ke.evaluation.expected_calibration_error(p_before, labels),
        "ece_calibrated": ke.evaluation.expected_calibration_error(p_after, labels),
        "nll": nll(p_before, labels), "nll_calibrated": nll(p_after, labels),
        "seconds": round(time.monotonic() - started, 1),
    }
    if seed == 0:
        np.savez_compressed(OUT / f"outputs_{method}_seed0.npz", before=before,
                            after=after, labels=labels)
    log(f"{method} seed {seed}: T={row['temperature']:.3f} acc={row['accuracy']:.4f} "
        f"ECE {row['ece']:.4f} -> {row['ece_calibrated']:.4f} ({row['seconds']} s)")
    return row, selective_rows(method, seed, before, labels, after)


def holm(p_values):
    """Holm-adjusted p-values (None stays None)."""
    order = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted, running = [None] * len(p_values), 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(test, adjusted, positive, negative):
    if adjusted is None or adjusted >= 0.05:
        return "no significant difference"
    return positive if test["mean_diff"] > 0 else negative


def report(log):
    runs = harness.ResultsCSV(OUT / "runs.csv", ("method", "seed")).rows()
    # A run interrupted between its two appends is redone: the last rows win.
    selective = list({(r["method"], r["seed"], r["score"]): r for r in harness.ResultsCSV(
        OUT / "selective.csv", ("method", "seed", "score")).rows()}.values())
    by_method = {m: sorted((r for r in runs if r["method"] == m), key=lambda r: int(r["seed"]))
                 for m in METHODS}
    rows, ece_tests, nll_tests = [], [], []
    for method, rs in by_method.items():
        if not rs:
            continue
        f = {k: [float(r[k]) for r in rs] for k in RUN_FIELDS[2:] if k != "same_predictions"}
        ece_tests.append(harness.paired_test(f["ece"], f["ece_calibrated"]))
        nll_tests.append(harness.paired_test(f["nll"], f["nll_calibrated"]))
        rows.append([LABELS[method], len(rs), harness.mean_std(f["temperature"], digits=3),
                     harness.mean_std(f["accuracy"], 100),
                     "yes" if all(r["same_predictions"] == "True" for r in rs) else "**no**",
                     harness.mean_std(f["ece"], 100), harness.mean_std(f["ece_calibrated"], 100),
                     harness.mean_std(f["nll"], digits=4),
                     harness.mean_std(f["nll_calibrated"], digits=4)])
    for tests, column in ((ece_tests, "ECE"), (nll_tests, "NLL")):
        for row, test, adjusted in zip(rows, tests, holm([t["t_p"] for t in tests])):
            p = "-" if adjusted is None else f"{adjusted:.3g}"
            row.append(f"{verdict(test, adjusted, 'lowers', 'raises')} (Holm p {p})")
    text = ["# Temperature scaling on MNIST (test half, mean ± std over seeds)\n",
            harness.markdown_table(
                ["method", "seeds", "T", "accuracy %", "same predictions", "ECE % before",
                 "ECE % after", "NLL before", "NLL after", "TS on ECE", "TS on NLL"], rows)]
    (OUT / "calibration.md").write_text("\n".join(text))

    parts = ["# Selective prediction on MNIST (test half, mean ± std over seeds)\n",
             "AURC and E-AURC in %, lower is better; `vs least_confidence`: paired t-test of "
             "E-AURC by seed, Holm over the method's scores.\n"]
    for method in METHODS:
        mine = [r for r in selective if r["method"] == method]
        if not mine:
            continue
        scores = list(dict.fromkeys(r["score"] for r in mine))

        def values(score, key):
            return [float(r[key]) for r in sorted(
                (r for r in mine if r["score"] == score), key=lambda r: int(r["seed"]))]

        base = values("least_confidence", "e_aurc")
        others = [s for s in scores if s != "least_confidence"]
        tests = [harness.paired_test(values(s, "e_aurc"), base) for s in others]
        adjusted = dict(zip(others, holm([t["t_p"] for t in tests])))
        tests = dict(zip(others, tests))
        table = []
        for s in scores:
            cell = "-" if s == "least_confidence" else (
                verdict(tests[s], adjusted[s], "higher", "lower")
                + ("" if adjusted[s] is None else f" (p {adjusted[s]:.3g})"))
            table.append([s, harness.mean_std(values(s, "aurc"), 100, 3),
                          harness.mean_std(values(s, "e_aurc"), 100, 3),
                          harness.mean_std(values(s, "accuracy_at_90"), 100), cell])
        parts += [f"\n## {LABELS[method]}\n",
                  harness.markdown_table(["score", "AURC %", "E-AURC %", "accuracy at 90 % %",
                                          "E-AURC vs least_confidence"], table)]
    (OUT / "selective.md").write_text("\n".join(parts))
    figure()
    log("report written")


def figure():
    plt = harness.pyplot()
    fig, axes = plt.subplots(1, len(METHODS), figsize=(4 * len(METHODS), 3.4), sharey=True)
    for ax, method in zip(axes, METHODS):
        path = OUT / f"outputs_{method}_seed0.npz"
        if not path.exists():
            continue
        data = np.load(path)
        errors = (data["before"].argmax(1) != data["labels"]).astype("float64")
        scores = uncertainties(method, data["before"])
        for name in ("least_confidence", "vacuity", "mutual_information", "total_entropy"):
            if name in scores:
                curve = ke.evaluation.risk_coverage_curve(errors, scores[name])
                ax.step(curve["coverage"], 100 * curve["risk"], where="post",
                        label=f"{name} (AURC {100 * curve['aurc']:.2f} %)")
        ax.set_title(f"{LABELS[method]}, seed 0")
        ax.set_xlabel("coverage")
        ax.set_xlim(0.5, 1.0)
        ax.legend(loc="upper left")
    axes[0].set_ylabel("selective risk (error %) on the test half")
    harness.save_figure(fig, OUT / "risk_coverage.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    log = harness.RunLog(OUT / "run_log.txt")
    if not args.report_only:
        log(f"{harness.command_line()} on {harness.machine_description()}; "
            f"{json.dumps(harness.machine_info())}")
        runs = harness.ResultsCSV(OUT / "runs.csv", ("method", "seed"))
        selective = harness.ResultsCSV(OUT / "selective.csv", ("method", "seed", "score"))
        done = runs.done()
        x_train, y_train = load_mnist("train")
        x_test, y_test = load_mnist("test")
        data = (to_float_vectors(x_train), y_train, to_float_vectors(x_test), y_test)
        for seed in args.seeds:
            for method in args.methods:
                if (method, str(seed)) in done:
                    continue
                row, rows = run_one(method, seed, data, log)
                selective.append_many(rows, SELECTIVE_FIELDS)
                runs.append_many([row], RUN_FIELDS)
    report(log)


if __name__ == "__main__":
    main()
