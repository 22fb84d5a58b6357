"""Multi-label MNIST composites: Beta evidence vs sigmoid + BCE (issue 30, section 1).

Protocol and verdict rules: experiments/multilabel/README.md (written before the run).

    python -m experiments.multilabel [--seeds 0 1 2 3 4] [--epochs 8]

Resumable: a (seed, model) row already in results/multilabel/runs.csv is skipped.
"""

import argparse
import math
import time

import numpy as np

from experiments import harness
from experiments.data import datasets

OUT = harness.REPO / "results" / "multilabel"
FIELDS = [
    "seed", "model", "label_accuracy", "map", "macro_ece",
    "aupr_score_sum", "fpr95_score_sum", "aupr_score_max", "fpr95_score_max",
    "aupr_max_probability", "fpr95_max_probability",
    "aupr_mean_probability", "fpr95_mean_probability", "seconds",
]
CONSTRUCTION_SEED = 1234
NUM_TRAIN, NUM_TEST, NUM_OOD = 12000, 4000, 4000


def composites(images, labels, n, rng):
    """n images of two digits side by side (28 x 56) and their multi-hot labels."""
    first = rng.integers(0, len(images), n)
    second = rng.integers(0, len(images), n)
    x = np.concatenate([images[first], images[second]], axis=2)
    x = x.reshape(n, -1).astype("float32") / 255.0
    y = None
    if labels is not None:
        y = np.zeros((n, 10), "float32")
        y[np.arange(n), labels[first]] = 1.0
        y[np.arange(n), labels[second]] = 1.0
    return x, y


def build_data():
    """The fixed construction (seed CONSTRUCTION_SEED), the same for every run."""
    rng = np.random.default_rng(CONSTRUCTION_SEED)
    train_x, train_y = datasets.load_mnist("train")
    test_x, test_y = datasets.load_mnist("test")
    fashion_x, _ = datasets.load_fashion_mnist("test")
    return (
        composites(train_x, train_y, NUM_TRAIN, rng),
        composites(test_x, test_y, NUM_TEST, rng),
        composites(fashion_x, None, NUM_OOD, rng)[0],
    )


def network(keras, head_units):
    return [
        keras.Input((28 * 56,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(head_units),
    ]


def train(seed, model_name, data, epochs):
    """The trained model of one (seed, model) run and its fit time in seconds."""
    import keras

    import keras_evidential as ke

    (train_x, train_y), _, _ = data
    keras.utils.set_random_seed(seed)
    callbacks = []
    if model_name == "beta_edl":
        model = keras.Sequential(network(keras, 20) + [ke.layers.BetaOutput("softplus")])
        loss = ke.losses.BetaEDLLoss(risk="mse")
        callbacks.append(ke.callbacks.KLAnnealing(increment=0.05, max_weight=0.5))
    else:
        model = keras.Sequential(network(keras, 10) + [keras.layers.Activation("sigmoid")])
        loss = keras.losses.BinaryCrossentropy()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    start = time.perf_counter()
    model.fit(train_x, train_y, batch_size=128, epochs=epochs, verbose=0,
              callbacks=callbacks, shuffle=True)
    return model, time.perf_counter() - start


def run(seed, model_name, data, epochs):
    import keras

    import keras_evidential as ke
    from keras_evidential.evaluation import multilabel as ml

    _, (test_x, test_y), ood_x = data
    model, seconds = train(seed, model_name, data, epochs)
    test_out = model.predict(test_x, batch_size=1000, verbose=0)
    ood_out = model.predict(ood_x, batch_size=1000, verbose=0)
    if model_name == "beta_edl":
        probabilities = np.asarray(keras.ops.convert_to_numpy(
            ke.beta.expected_probability(test_out)))
    else:
        probabilities = test_out
    row = {
        "seed": seed, "model": model_name,
        "label_accuracy": float(np.mean(ml.per_label_accuracy(test_y, probabilities))),
        "map": ml.mean_average_precision(test_y, probabilities),
        "macro_ece": ml.macro_calibration_error(test_y, probabilities),
        "seconds": round(seconds, 1),
    }
    if model_name == "beta_edl":
        scores = {
            name: (ml.beta_ood_scores(test_out, name), ml.beta_ood_scores(ood_out, name))
            for name in ("sum", "max")
        }
        names = {"sum": "score_sum", "max": "score_max"}
    else:
        scores = {
            "max": (-test_out.max(axis=1), -ood_out.max(axis=1)),
            "mean": (-test_out.mean(axis=1), -ood_out.mean(axis=1)),
        }
        names = {"max": "max_probability", "mean": "mean_probability"}
    for key, (in_scores, out_scores) in scores.items():
        figures = ml.multilabel_ood_detection(in_scores, out_scores)
        row[f"aupr_{names[key]}"] = figures["aupr_out"]
        row[f"fpr95_{names[key]}"] = figures["fpr95"]
    return row


def holm(p_values):
    """Holm-adjusted p-values, in the input order."""
    order = np.argsort(p_values)
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def report(rows):
    from scipy import stats

    by = {(r["model"], int(r["seed"])): r for r in rows}
    seeds = sorted({int(r["seed"]) for r in rows})
    seeds = [s for s in seeds if ("beta_edl", s) in by and ("sigmoid_bce", s) in by]
    if not seeds:
        return
    get = lambda model, key: np.array([float(by[(model, s)][key]) for s in seeds])
    lines = [f"# Multi-label MNIST composites: results ({len(seeds)} seeds, paired)\n"]
    header = ["model", "per-label accuracy", "mAP", "macro ECE", "OOD score",
              "AUPR (OOD positive)", "FPR95"]
    table = []
    for model, score_names in (("beta_edl", ("score_sum", "score_max")),
                               ("sigmoid_bce", ("max_probability", "mean_probability"))):
        for name in score_names:
            table.append([
                model, harness.mean_std(get(model, "label_accuracy"), 100),
                harness.mean_std(get(model, "map"), 100),
                harness.mean_std(get(model, "macro_ece"), 100), name,
                harness.mean_std(get(model, f"aupr_{name}"), 100),
                harness.mean_std(get(model, f"fpr95_{name}"), 100),
            ])
    lines.append("Mean ± std over seeds, in %.\n")
    lines.append(harness.markdown_table(header, table))
    # mAP non-inferiority: lower one-sided 95 % bound of the paired difference.
    diff = get("beta_edl", "map") - get("sigmoid_bce", "map")
    n = diff.size
    if n > 1:
        se = diff.std(ddof=1) / math.sqrt(n)
        lower = diff.mean() - stats.t.ppf(0.95, n - 1) * se if se > 0 else diff.mean()
    else:
        lower = float("nan")
    verdict = "no worse (non-inferior)" if lower > -0.01 else "not shown non-inferior"
    lines.append(
        f"\n**mAP** (Beta - BCE): mean {diff.mean() * 100:+.2f} pt, one-sided 95 % "
        f"lower bound {lower * 100:+.2f} pt vs margin -1.00 pt: **{verdict}**.\n"
    )
    tests, rows_out = [], []
    for base in ("max_probability", "mean_probability"):
        a, b = get("beta_edl", "aupr_score_sum"), get("sigmoid_bce", f"aupr_{base}")
        d = a - b
        if n > 1 and np.any(d != 0):
            p = float(stats.ttest_rel(a, b, alternative="greater").pvalue)
        else:
            p = float("nan")
        tests.append(p)
        rows_out.append([base, f"{d.mean() * 100:+.2f}", f"{d.std(ddof=1) * 100 if n > 1 else 0:.2f}",
                         f"{int((d > 0).sum())}/{n}", f"{p:.4f}"])
    adjusted = holm(tests) if all(np.isfinite(tests)) else [float("nan")] * len(tests)
    for row, p_holm in zip(rows_out, adjusted):
        row += [f"{p_holm:.4f}", "better" if p_holm < 0.05 else "not shown better"]
    lines.append("\n**OOD AUPR**, Beta Score-Sum (primary) vs each baseline score, one-sided "
                 "paired t-test by seed, Holm over the two comparisons:\n\n")
    lines.append(harness.markdown_table(
        ["baseline score", "mean diff (pt)", "std diff (pt)", "wins", "p", "p (Holm)", "verdict"],
        rows_out))
    (OUT / "results.md").write_text("".join(lines))
    print("".join(lines))
    plt = harness.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    labels = ["Beta\nScore-Sum", "Beta\nScore-Max", "BCE\nmax p", "BCE\nmean p"]
    keys = [("beta_edl", "score_sum"), ("beta_edl", "score_max"),
            ("sigmoid_bce", "max_probability"), ("sigmoid_bce", "mean_probability")]
    for ax, metric, title in ((axes[0], "aupr", "OOD AUPR (Fashion composites)"),
                              (axes[1], "fpr95", "FPR95")):
        values = [get(m, f"{metric}_{k}") for m, k in keys]
        for i, v in enumerate(values):
            ax.scatter(np.full(v.size, i), v, s=14)
        for s in range(n):
            ax.plot(range(4), [v[s] for v in values], color="gray", lw=0.5, alpha=0.5)
        ax.set_xticks(range(4), labels)
        ax.set_title(title)
    harness.save_figure(fig, OUT / "ood.png")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = harness.ResultsCSV(OUT / "runs.csv", ["seed", "model"])
    done = results.done()
    data = build_data()
    for seed in args.seeds:
        for model_name in ("beta_edl", "sigmoid_bce"):
            if (str(seed), model_name) in done:
                continue
            row = run(seed, model_name, data, args.epochs)
            results.append_many([row], FIELDS)
            print(f"seed {seed} {model_name}: mAP {row['map']:.4f} "
                  f"({row['seconds']} s)", flush=True)
    report(results.rows())


if __name__ == "__main__":
    main()
