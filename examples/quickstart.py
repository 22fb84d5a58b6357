"""Quickstart: EDL vs m-EDL on the shipped MNIST / Fashion-MNIST sample.

`python examples/quickstart.py` trains, on 2 CPU cores in well under a minute:
- EDL: MNIST digits only (K = 10), "unknown" decided by a vacuity threshold;
- m-EDL: MNIST digits plus Fashion-MNIST images labelled as the unknown class
  u (index 10), predicting u by argmax, with no threshold;
and prints the accuracy for known classes, the accuracy (recall) for the unknown
class and the precision of "unknown" predictions on held-out digits and
held-out Fashion-MNIST images. The model and training protocol are
those of the m-EDL author's code (docs/formulas.md, m-EDL).
"""

import argparse
import csv
import os
import time

import keras
import numpy as np

import keras_evidential as ke
from _sample import digits_and_fashion
from keras_evidential.evaluation import accuracy_vs_threshold
from keras_evidential.evaluation import uncertainty_metrics

NUM_CLASSES = 10


def build_model(unknown_class, seed):
    """The m-EDL paper's MLP: 784 -> 32 -> 32 -> K, Dirichlet output."""
    keras.utils.set_random_seed(seed)
    layers = [
        keras.Input((784,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(NUM_CLASSES),
        ke.layers.DirichletOutput(evidence="relu"),
    ]
    if unknown_class:
        layers.append(ke.layers.UnknownClassHead())
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=ke.losses.EDLLoss(kl_weight=0.1),
        metrics=["accuracy"],
        # Several steps per call into the compiled graph: the MLP is so small
        # that Python overhead per step would otherwise dominate.
        steps_per_execution=16,
    )
    return model


def train(model, x, y, epochs, verbose):
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=3, min_delta=1e-3
    )
    history = model.fit(
        x,
        y,
        batch_size=64,
        epochs=epochs,
        validation_split=0.1,
        callbacks=[early_stopping],
        verbose=verbose,
    )
    return len(history.history["loss"])


def run(output_dir, epochs=40, thresholds=(0.3, 0.5, 0.7), seed=0, verbose=2):
    (x_digits, y_digits), (x_digits_test, y_digits_test), x_fashion, x_fashion_test = (
        digits_and_fashion()
    )
    x_test = np.concatenate([x_digits_test, x_fashion_test])
    y_test = np.concatenate([y_digits_test, np.full(len(x_fashion_test), NUM_CLASSES)])

    rows = []
    start = time.perf_counter()
    print("Training EDL on MNIST digits (K = 10) ...")
    edl = build_model(unknown_class=False, seed=seed)
    epochs_edl = train(edl, x_digits, y_digits, epochs, verbose)
    alpha = edl.predict(x_test, batch_size=1024, verbose=0)
    curve = accuracy_vs_threshold(alpha, y_test, thresholds)
    for i, threshold in enumerate(thresholds):
        rows.append((
            "EDL", f"u > {threshold}", epochs_edl, curve["known_accuracy"][i],
            curve["unknown_recall"][i], curve["unknown_precision"][i],
        ))

    print("Training m-EDL on MNIST digits + Fashion-MNIST as class u ...")
    rng = np.random.default_rng(seed)
    x_train = np.concatenate([x_digits, x_fashion])
    y_train = np.concatenate([y_digits, np.full(len(x_fashion), NUM_CLASSES)])
    order = rng.permutation(len(x_train))
    medl = build_model(unknown_class=True, seed=seed)
    epochs_medl = train(medl, x_train[order], y_train[order], epochs, verbose)
    alpha_plus = medl.predict(x_test, batch_size=1024, verbose=0)
    figures = uncertainty_metrics(alpha_plus, y_test, unknown_class=True)
    rows.append((
        "m-EDL", "argmax (none)", epochs_medl, figures["known_accuracy"],
        figures["unknown_recall"], figures["unknown_precision"],
    ))
    elapsed = time.perf_counter() - start

    header = (
        "model", "unknown decided by", "epochs", "accuracy known (k)",
        "accuracy unknown (u)", "precision unknown",
    )
    print(
        f"\nTest set: {int(np.sum(y_test != NUM_CLASSES))} MNIST digits (known) + "
        f"{int(np.sum(y_test == NUM_CLASSES))} Fashion-MNIST images (unknown)\n"
    )
    print(_markdown_table(header, rows))
    print(f"\nTrained both models in {elapsed:.1f} s.")
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, "quickstart.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    print(f"Wrote {path}")
    return rows


def _markdown_table(header, rows):
    cells = [header] + [
        (name, rule, str(epochs), *(f"{value:.3f}" for value in values))
        for name, rule, epochs, *values in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python examples/quickstart.py",
        description="Train EDL and m-EDL on the shipped sample and print a table.",
    )
    parser.add_argument("--output-dir", default="keras_evidential_results",
                        help="where quickstart.csv is written (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=40,
                        help="maximum epochs; early stopping ends sooner (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="Keras fit verbosity (default: %(default)s)")
    args = parser.parse_args(argv)
    run(args.output_dir, epochs=args.epochs, seed=args.seed, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
