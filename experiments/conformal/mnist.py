"""Conformal sets on MNIST: coverage and set size per method, score and level.

    python -m experiments.conformal.mnist            # resumable (per method)
    python -m experiments.conformal.mnist --report   # tables and figure from the CSV

Protocol and verdict rules: experiments/conformal/README.md.
"""

import argparse
import time

import keras
import numpy as np

import keras_evidential as ke
from experiments import harness
from experiments.conformal.common import coverage_verdict
from experiments.conformal.common import difference_verdict
from experiments.conformal.common import fmt
from experiments.conformal.common import holm

OUT = harness.REPO / "results" / "conformal"
CSV = OUT / "mnist.csv"
LEVELS = (0.9, 0.95, 0.99)
SPLITS = 20
N_CALIBRATION = 5000
EPOCHS, BATCH = 3, 128
RAPS = dict(penalty=0.01, regularization_rank=1)
METHODS = {  # name: (head, loss factory, prior concentration, KL annealing)
    "softmax": ("softmax", lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True), None, False),
    "edl": ("dirichlet", lambda: ke.losses.EDLLoss(), 1.0, True),
    "redl": ("dirichlet", lambda: ke.losses.RelaxedEDLLoss(prior_concentration=0.1), 0.1, True),
}
# (row name, score, randomized)
SCORES = (
    ("lac", "lac", False), ("aps", "aps", False), ("aps_randomized", "aps", True),
    ("raps", "raps", False), ("raps_randomized", "raps", True), ("belief", "belief", False),
)
FIELDS = ("method", "score", "level", "split", "coverage", "mean_size", "accuracy",
          "train_wall_s")


def train(name, data, log):
    head, make_loss, prior, anneal = METHODS[name]
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(128, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)
    if head == "dirichlet":
        outputs = ke.layers.DirichletOutput("softplus", prior_concentration=prior)(outputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=make_loss())
    callbacks = [ke.callbacks.KLAnnealing()] if anneal else []
    start = time.monotonic()
    model.fit(data["x_train"], data["y_train"], epochs=EPOCHS, batch_size=BATCH,
              callbacks=callbacks, verbose=0)
    wall = time.monotonic() - start
    output = model.predict(data["x_test"], batch_size=1000, verbose=0)
    log(f"{name}: trained in {wall:.0f}s")
    return output, ("logits" if head == "softmax" else "alpha"), prior, wall


def evaluate(name, output, inputs, prior, labels, wall, log):
    rows = []
    accuracy = float(np.mean(np.argmax(output, -1) == labels))
    n = len(labels)
    for split in range(SPLITS):
        order = np.random.default_rng(split).permutation(n)
        cal, test = order[:N_CALIBRATION], order[N_CALIBRATION:]
        for row_name, score, randomized in SCORES:
            if score == "belief" and inputs != "alpha":
                continue
            for level in LEVELS:
                sets = ke.conformal.ConformalSets.calibrate(
                    output[cal], labels[cal], round(1 - level, 10), score=score,
                    inputs=inputs, randomized=randomized,
                    prior_concentration=prior or 1.0, seed=split, **RAPS)
                mask = np.asarray(keras.ops.convert_to_numpy(sets(output[test])))
                rows.append({
                    "method": name, "score": row_name, "level": level, "split": split,
                    "coverage": float(np.mean(mask[np.arange(len(test)), labels[test]])),
                    "mean_size": float(mask.sum(-1).mean()), "accuracy": accuracy,
                    "train_wall_s": round(wall, 1),
                })
        log(f"{name}: split {split + 1}/{SPLITS} done")
    return rows


def report(rows):
    lines = [f"Command: `python -m experiments.conformal.mnist`. n = {N_CALIBRATION} "
             f"calibration / {10000 - N_CALIBRATION} test images, {SPLITS} random splits of "
             "the MNIST test set; mean ± std over splits.\n"]
    table, by = [], {}
    for r in rows:
        by.setdefault((r["method"], r["score"], float(r["level"])), []).append(r)
    for (method, score, level), group in by.items():
        cov = [float(r["coverage"]) for r in group]
        size = [float(r["mean_size"]) for r in group]
        randomized = score.endswith("randomized")
        verdict = coverage_verdict(np.mean(cov), N_CALIBRATION, round(1 - level, 10),
                                   10000 - N_CALIBRATION, len(group), randomized)
        table.append([method, score, level, fmt(cov, 4), fmt(size, 3), verdict])
    lines.append(harness.markdown_table(
        ["method", "score", "1 - alpha", "coverage", "mean set size", "coverage vs band"], table))
    accuracy = {r["method"]: float(r["accuracy"]) for r in rows}
    lines.append("\nTest accuracy of the one trained model per method: "
                 + ", ".join(f"{m} {a:.4f}" for m, a in accuracy.items()) + "\n")
    comparisons = []
    for method in sorted({r["method"] for r in rows}):
        for level in LEVELS:
            belief = by.get((method, "belief", level))
            for aps in ("aps_randomized", "aps"):
                other = by.get((method, aps, level))
                if not belief or not other:
                    continue
                a = [float(r["mean_size"]) for r in sorted(belief, key=lambda r: int(r["split"]))]
                b = [float(r["mean_size"]) for r in sorted(other, key=lambda r: int(r["split"]))]
                comparisons.append((method, level, aps, harness.paired_test(a, b)))
    adjusted = holm([c[3]["t_p"] for c in comparisons])
    paired = []
    for (method, level, aps, test), p in zip(comparisons, adjusted):
        paired.append([method, level, f"belief - {aps}", f"{test['mean_diff']:+.4f}",
                       f"{test['std_diff']:.4f}", f"{test['wins']}/{test['n']}",
                       "-" if test["t_p"] is None else f"{test['t_p']:.2g}",
                       "-" if p is None else f"{p:.2g}",
                       difference_verdict(test["mean_diff"], p)])
    lines.append("\nSet size, evidential belief score against APS, paired by split "
                 "(t-test, Holm over the table; splits overlap, so p is optimistic):\n\n")
    lines.append(harness.markdown_table(
        ["method", "1 - alpha", "difference", "mean", "std", "belief larger in",
         "p", "p (Holm)", "verdict"], paired))
    lines.append("\nExploratory, added after the run (not in the written protocol): the "
                 "belief score against LAC, the non-evidential score it refines, paired by "
                 "split, Holm over these rows:\n\n")
    exploratory = []
    for method in sorted({r["method"] for r in rows}):
        for level in LEVELS:
            belief, lac = by.get((method, "belief", level)), by.get((method, "lac", level))
            if belief and lac:
                a = [float(r["mean_size"]) for r in sorted(belief, key=lambda r: int(r["split"]))]
                b = [float(r["mean_size"]) for r in sorted(lac, key=lambda r: int(r["split"]))]
                exploratory.append((method, level, harness.paired_test(a, b)))
    adjusted = holm([t["t_p"] for _, _, t in exploratory])
    lines.append(harness.markdown_table(
        ["method", "1 - alpha", "belief - lac", "std", "belief larger in", "p (Holm)",
         "verdict"],
        [[m, lv, f"{t['mean_diff']:+.4f}", f"{t['std_diff']:.4f}", f"{t['wins']}/{t['n']}",
          "-" if p is None else f"{p:.2g}", difference_verdict(t["mean_diff"], p)]
         for (m, lv, t), p in zip(exploratory, adjusted)]))
    text = "".join(lines)
    (OUT / "mnist.md").write_text(text)
    figure(by)
    return text


def figure(by):
    plt = harness.pyplot()
    methods = sorted({k[0] for k in by})
    fig, axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 3.2), sharey=True)
    for ax, method in zip(np.atleast_1d(axes), methods):
        for row_name, _, randomized in SCORES:
            xs = [lv for lv in LEVELS if (method, row_name, lv) in by]
            if not xs:
                continue
            ys = [np.mean([float(r["mean_size"]) for r in by[(method, row_name, lv)]])
                  for lv in xs]
            ax.plot(xs, ys, marker="o", label=row_name, ls="--" if randomized else "-")
        ax.set_title(method)
        ax.set_xlabel("1 - alpha")
        ax.set_yscale("log")
    np.atleast_1d(axes)[0].set_ylabel("mean set size (20 splits)")
    np.atleast_1d(axes)[0].legend()
    harness.save_figure(fig, OUT / "mnist_set_size.png")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    args = parser.parse_args(argv)
    results = harness.ResultsCSV(CSV, ("method", "score", "level", "split"))
    if not args.report:
        log = harness.RunLog(OUT / "mnist.log")
        log(f"{harness.command_line()} on {harness.machine_description()}")
        from experiments.benchmark.data import load

        data = load()
        done = {r["method"] for r in results.rows()}
        for name in args.methods:
            if name in done:
                log(f"{name}: already in {CSV.name}")
                continue
            output, inputs, prior, wall = train(name, data, log)
            results.append_many(
                evaluate(name, output, inputs, prior, data["y_test"], wall, log), FIELDS)
    print(report(results.rows()))


if __name__ == "__main__":
    main()
