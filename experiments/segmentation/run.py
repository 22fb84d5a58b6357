"""Segmentation benchmark: softmax, EDL and R-EDL U-Nets on the synthetic
digit canvases; mIoU and OOD-pixel AUPR, 5 seeds (protocol: README.md)."""

import argparse
import time

import keras
import numpy as np

import keras_evidential as ke
from experiments import harness
from experiments.segmentation import data
from keras_evidential.metrics import ranking

RESULTS = harness.REPO / "results" / "segmentation"
METHODS = ("softmax", "edl", "redl")
SEEDS = (0, 1, 2, 3, 4)
EPOCHS = 10
BATCH = 32
LEARNING_RATE = 3e-3
KL_WEIGHT = 0.01  # reached by KLAnnealing after 5 epochs (0.002 per epoch)
KL_INCREMENT = 0.002
FILTERS = (16, 32, 64)
PRIOR = 0.1  # R-EDL's lambda
FIELDS = ("method", "seed", "miou", "aupr", "auroc", "fpr95", "aupr_max_prob",
          "seconds")


def unet(head):
    """Three down blocks (16/32/64 filters, one 3 x 3 convolution each), a
    128-filter bottleneck at 4 x 4 (its receptive field spans a digit), three
    up blocks with skip connections, a 1 x 1 convolution to K outputs."""
    inputs = keras.Input((data.CANVAS, data.CANVAS, 1))

    def block(x, filters):
        return keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)

    skips, x = [], inputs
    for filters in FILTERS:
        x = block(x, filters)
        skips.append(x)
        x = keras.layers.MaxPooling2D()(x)
    x = block(x, 2 * FILTERS[-1])
    for filters, skip in zip(reversed(FILTERS), reversed(skips)):
        x = keras.layers.Concatenate()([keras.layers.UpSampling2D()(x), skip])
        x = block(x, filters)
    logits = keras.layers.Conv2D(data.NUM_CLASSES, 1)(x)
    return keras.Model(inputs, head(logits))


def model_and_loss(method):
    if method == "softmax":
        return (
            unet(keras.layers.Softmax()),
            # Ignored pixels get a sample weight of 0 (`pixel_sample_weights`):
            # Keras 3.15's `ignore_class` left this model stuck at an
            # all-background prediction (loss constant from epoch 2, see
            # README amendment 1).
            keras.losses.SparseCategoricalCrossentropy(),
        )
    if method == "edl":
        return (
            unet(ke.layers.DirichletOutput("softplus")),
            ke.losses.EDLLoss(ignore_class=data.IGNORE),
        )
    return (
        unet(ke.layers.DirichletOutput("softplus", prior_concentration=PRIOR)),
        ke.losses.RelaxedEDLLoss(PRIOR, kl_weight=0.0, ignore_class=data.IGNORE),
    )


def scores(method, output):
    """`(named OOD score, max-probability score)` per pixel."""
    probabilities = output / output.sum(-1, keepdims=True)
    max_prob = 1.0 - probabilities.max(-1)
    if method == "softmax":
        return max_prob, max_prob
    prior = PRIOR if method == "redl" else 1.0
    return prior * data.NUM_CLASSES / output.sum(-1), max_prob


def evaluate(method, model, x_test, y_test):
    miou = ke.metrics.PixelMeanIoU(data.NUM_CLASSES, ignore_class=data.IGNORE)
    named, max_prob = [], []
    for start in range(0, len(x_test), 50):
        output = model.predict(x_test[start:start + 50], verbose=0).astype("float64")
        # The softmax's probabilities rank classes as alpha does; the metric
        # refuses 0, to which a softmax probability can underflow.
        miou.update_state(
            y_test[start:start + 50], np.maximum(output, np.finfo("float64").tiny)
        )
        a, b = scores(method, output)
        named.append(a)
        max_prob.append(b)
    named, max_prob = np.concatenate(named), np.concatenate(max_prob)
    keep = y_test != data.IGNORE
    positive, negative = ranking.weights_of(y_test[keep] == data.OOD)
    return {
        "miou": float(miou.result()),
        "aupr": float(ranking.average_precision(named[keep], positive, negative)),
        "auroc": float(ranking.roc_auc(named[keep], positive, negative)),
        "fpr95": float(ranking.fpr_at_tpr(-named[keep], negative, positive)),
        "aupr_max_prob": float(
            ranking.average_precision(max_prob[keep], positive, negative)
        ),
    }


def run_one(method, seed, sets, log):
    x_train, y_train, x_test, y_test = sets
    keras.utils.set_random_seed(seed)
    model, loss = model_and_loss(method)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=loss)
    # Median-frequency class weights (background ~0.03), 0 on ignored pixels,
    # for every method alike: without them no model left the all-background
    # prediction within the budget (README amendment 1).
    weights = ke.labels.pixel_sample_weights(
        y_train,
        ke.labels.class_balanced_weights(y_train, data.NUM_CLASSES, data.IGNORE),
        data.IGNORE,
    )
    labels = y_train
    callbacks = [ke.callbacks.KLAnnealing(KL_INCREMENT, max_weight=KL_WEIGHT)]
    if method == "softmax":
        labels, callbacks = np.where(y_train == data.IGNORE, 0, y_train), []
    start = time.monotonic()
    history = model.fit(x_train, labels, sample_weight=weights,
                        batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0,
                        callbacks=callbacks)
    row = {"method": method, "seed": seed}
    row.update(evaluate(method, model, x_test, y_test))
    row["seconds"] = round(time.monotonic() - start, 1)
    log(f"{method} seed {seed}: loss {history.history['loss'][-1]:.4f}, "
        + ", ".join(f"{k} {v:.4f}" for k, v in row.items()
                    if isinstance(v, float)))
    if seed == 0:
        figure(method, model, x_test, y_test)
    return row


def figure(method, model, x_test, y_test):
    """Image, prediction and uncertainty map of the first test canvases."""
    output = model.predict(x_test[:3], verbose=0).astype("float64")
    named, _ = scores(method, output)
    for i in range(3):
        ke.evaluation.plot_uncertainty_overlay(
            x_test[i], named[i], class_map=output[i].argmax(-1), vmax=1.0,
            path=RESULTS / f"overlay_{method}_{i}.png",
            title=f"{method}: {'max probability' if method == 'softmax' else 'vacuity'}",
        )


def one_sided(a, b):
    """p of the paired t-test that mean(a - b) > 0."""
    from scipy import stats

    return float(stats.ttest_rel(a, b, alternative="greater").pvalue)


def tost(a, b, margin):
    """max of the two one-sided paired p-values for |mean(a - b)| < margin."""
    from scipy import stats

    diff = np.asarray(a) - np.asarray(b)
    low = stats.ttest_1samp(diff, -margin, alternative="greater").pvalue
    high = stats.ttest_1samp(diff, margin, alternative="less").pvalue
    return float(max(low, high))


def report(rows):
    by = {m: sorted((r for r in rows if r["method"] == m), key=lambda r: int(r["seed"]))
          for m in METHODS}
    table = []
    for m in METHODS:
        if not by[m]:
            continue
        col = lambda k: [float(r[k]) for r in by[m]]  # noqa: E731
        table.append([m, len(by[m]), harness.mean_std(col("miou"), 100),
                      harness.mean_std(col("aupr"), 100),
                      harness.mean_std(col("aupr_max_prob"), 100),
                      harness.mean_std(col("auroc"), 100),
                      harness.mean_std(col("fpr95"), 100),
                      harness.mean_std(col("seconds"), 1, 0)])
    text = "# Segmentation benchmark (results)\n\n" + harness.markdown_table(
        ["method", "seeds", "mIoU %", "OOD-pixel AUPR % (named score)",
         "AUPR % (max prob.)", "AUROC %", "FPR95 %", "fit+eval s"], table)
    text += ("\nNamed score: softmax = max probability (1 - max p); EDL, R-EDL = vacuity. "
             "AUPR with OOD pixels positive, exact over every non-ignored test pixel.\n")
    complete = all(len(by[m]) == len(SEEDS) for m in METHODS)
    if complete:
        soft = by["softmax"]
        tests = []
        for m in ("edl", "redl"):
            miou_p = tost([float(r["miou"]) for r in by[m]],
                          [float(r["miou"]) for r in soft], 0.03)
            aupr_p = one_sided([float(r["aupr"]) for r in by[m]],
                               [float(r["aupr"]) for r in soft])
            d_miou = np.mean([float(r["miou"]) - float(s["miou"]) for r, s in zip(by[m], soft)])
            d_aupr = np.mean([float(r["aupr"]) - float(s["aupr"]) for r, s in zip(by[m], soft)])
            tests.append([m, d_miou, miou_p, d_aupr, aupr_p])
        order = np.argsort([t[4] for t in tests])
        holm = [None, None]
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (len(tests) - rank) * tests[i][4]))
            holm[i] = running
        verdict_rows = []
        for t, h in zip(tests, holm):
            equal = t[2] < 0.05
            higher = h < 0.05
            verdict = ("target met" if equal and higher else
                       ("AUPR higher, mIoU not shown equal" if higher else
                        ("mIoU equal, AUPR not shown higher" if equal else
                         "neither shown")))
            verdict_rows.append([t[0], f"{100 * t[1]:+.2f}", f"{t[2]:.3g}",
                                 f"{100 * t[3]:+.2f}", f"{h:.3g}", verdict])
        text += "\n## Paired by seed against softmax (n = 5)\n\n" + harness.markdown_table(
            ["method", "mean diff mIoU (pts)", "TOST p (margin 3 pts)",
             "mean diff AUPR (pts)", "Holm p (one-sided, AUPR higher)", "verdict"],
            verdict_rows)
    (RESULTS / "results.md").write_text(text)
    print(text)
    plot(by)


def plot(by):
    plt = harness.pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for m, marker in zip(METHODS, "osD"):
        if by[m]:
            ax.scatter([100 * float(r["miou"]) for r in by[m]],
                       [100 * float(r["aupr"]) for r in by[m]], marker=marker, label=m)
    ax.set_xlabel("mIoU %")
    ax.set_ylabel("OOD-pixel AUPR % (named score)")
    ax.legend()
    harness.save_figure(fig, RESULTS / "miou_vs_aupr.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", action="store_true", help="tables and figures only")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    csv = harness.ResultsCSV(RESULTS / "runs.csv", ("method", "seed"))
    if not args.report:
        log = harness.RunLog(RESULTS / "run.log")
        log(f"start: {harness.command_line()} on {harness.machine_description()}")
        sets = data.build(num_train=1000, num_test=200, data_dir=harness.data_dir())
        done = {csv.key(r) for r in csv.rows()}
        for seed in args.seeds:
            for method in METHODS:
                if (method, str(seed)) in done:
                    continue
                csv_row = run_one(method, seed, sets, log)
                csv.append(csv_row)
        log("done")
    report(csv.rows())


if __name__ == "__main__":
    main()
