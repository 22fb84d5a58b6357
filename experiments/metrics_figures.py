"""Makes the pictures of docs/metrics.md from small real trainings.

    python docs/images/make_metrics_figures.py [DATA_DIR]

DATA_DIR defaults to ../shared/data beside the repository (MNIST and
Fashion-MNIST in IDX format). Trains, on the CPU in about a minute:

- an EDL model (ReLU evidence) on MNIST only, and an m-EDL model
  (`UnknownClassHead`) on MNIST plus Fashion-MNIST as the unknown class u;
  both are tested on MNIST test digits mixed with Fashion-MNIST test images;
- two binary models (MNIST digit < 5 vs >= 5) for TEDL's AUC measures: EDL
  with ReLU evidence, and TEDL (cross-entropy, then EDL with ELU evidence).

Writes the PNGs next to this script and prints the figures quoted in the
document.
"""

import os
import sys
from pathlib import Path

import keras
import numpy as np

from keras_evidential import callbacks
from keras_evidential import evaluation
from keras_evidential import layers
from keras_evidential import losses
from experiments.data.idx import read_idx

HERE = Path(__file__).resolve().parent
SEED = 7


def load(data_dir, name, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(data_dir / name / f"{prefix}-images-idx3-ubyte.gz")
    y = read_idx(data_dir / name / f"{prefix}-labels-idx1-ubyte.gz")
    return x.reshape(len(x), -1).astype("float32") / 255.0, y.astype("int64")


def mlp(num_classes, head=None):
    stack = [
        keras.Input((784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(num_classes),
    ]
    if head is not None:
        stack += head
    return keras.Sequential(stack)


def main(argv):
    data_dir = Path(argv[0]) if argv else HERE.parents[2] / "shared" / "data"
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_mnist, y_mnist = load(data_dir, "mnist", "train")
    x_fashion, _ = load(data_dir, "fashion_mnist", "train")
    x_mnist_test, y_mnist_test = load(data_dir, "mnist", "test")
    x_fashion_test, _ = load(data_dir, "fashion_mnist", "test")

    train = rng.permutation(len(x_mnist))[:20000]
    x_known, y_known = x_mnist[train], y_mnist[train]
    # Test: 4,000 digits and 2,000 Fashion-MNIST images labelled u (= 10).
    test_k = rng.permutation(len(x_mnist_test))[:4000]
    test_u = rng.permutation(len(x_fashion_test))[:2000]
    x_test = np.concatenate([x_mnist_test[test_k], x_fashion_test[test_u]])
    y_test = np.concatenate([y_mnist_test[test_k], np.full(2000, 10)])

    print("EDL on MNIST ...")
    edl = mlp(10, [layers.DirichletOutput("relu")])
    edl.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=losses.EDLLoss(kl_weight=0.0)
    )
    edl.fit(
        x_known,
        y_known,
        batch_size=64,
        epochs=5,
        verbose=0,
        callbacks=[callbacks.KLAnnealing(increment=0.1)],
    )

    print("m-EDL on MNIST + Fashion-MNIST (u) ...")
    unknown = rng.permutation(len(x_fashion))[:5000]
    x_mixed = np.concatenate([x_known, x_fashion[unknown]])
    y_mixed = np.concatenate([y_known, np.full(5000, 10)])
    medl = mlp(10, [layers.DirichletOutput("relu"), layers.UnknownClassHead()])
    medl.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=losses.EDLLoss(kl_weight=0.1)
    )
    medl.fit(x_mixed, y_mixed, batch_size=64, epochs=5, verbose=0)

    edl_report = evaluation.evaluate_uncertainty(edl, x_test, y_test)
    medl_report = evaluation.evaluate_uncertainty(medl, x_test, y_test)
    evaluation.plot_accuracy_vs_threshold(
        {
            "EDL": edl_report.accuracy_curve,
            "m-EDL (p_bar, Fig. 3b)": medl_report.accuracy_curve,
        },
        reference_lines={
            "m-EDL threshold-free accuracy for k": medl_report.threshold_free[
                "known_accuracy"
            ]
        },
        unknown_reference_lines={
            "m-EDL threshold-free recall of u": medl_report.threshold_free[
                "unknown_recall"
            ]
        },
        path=HERE / "accuracy_vs_threshold.png",
        title="MNIST (k) + Fashion-MNIST (u) test set",
    )
    evaluation.plot_uncertainty_distribution(
        {
            "EDL (trained on MNIST only)": edl_report.distribution,
            "m-EDL (trained with Fashion as u)": medl_report.distribution,
        },
        path=HERE / "uncertainty_distribution.png",
    )

    print("binary EDL and TEDL ...")
    y_binary = (y_known >= 5).astype("int64")
    x_binary_test = x_mnist_test[test_k]
    y_binary_test = (y_mnist_test[test_k] >= 5).astype("int64")
    edl_binary = mlp(2, [layers.DirichletOutput("relu")])
    edl_binary.compile(optimizer="adam", loss=losses.EDLLoss(kl_weight=0.0))
    distributions = {}

    def record(name, model, epoch):
        if epoch in (1, 3):
            alpha = model.predict(x_binary_test, verbose=0)
            distributions[f"{name}, epoch {epoch + 1}"] = (
                evaluation.uncertainty_distribution(alpha, y_binary_test)
            )

    edl_binary.fit(
        x_known,
        y_binary,
        batch_size=64,
        epochs=4,
        verbose=0,
        callbacks=[
            callbacks.KLAnnealing(increment=0.5),
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: record("EDL", edl_binary, epoch)
            ),
        ],
    )
    tedl_logits = mlp(2)
    tedl_logits.compile(
        optimizer="adam",
        loss=losses.EDLLoss(from_logits=True, evidence="elu"),
    )
    tedl_alpha = keras.Sequential([tedl_logits, layers.DirichletOutput("elu")])
    tedl_logits.fit(
        x_known,
        y_binary,
        batch_size=64,
        epochs=4,
        verbose=0,
        callbacks=[
            callbacks.TwoStageFit(switch_epoch=2),
            callbacks.KLAnnealing(increment=0.5),
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: record("TEDL", tedl_alpha, epoch)
            ),
        ],
    )
    curves = {}
    for name, model in (("EDL (ReLU)", edl_binary), ("TEDL (ELU)", tedl_alpha)):
        report = evaluation.evaluate_uncertainty(model, x_binary_test, y_binary_test)
        curves[name] = report.auc_curve
        print(
            f"{name}: ROC AUC {report.metrics['roc_auc']:.4f}, "
            f"misclassification AUROC "
            f"{report.metrics['misclassification_auroc']:.4f}"
        )
    evaluation.plot_auc_vs_threshold(
        curves,
        path=HERE / "auc_vs_threshold.png",
        title="MNIST digit >= 5, lambda increment 0.5",
    )
    evaluation.plot_uncertainty_distribution(
        distributions, path=HERE / "uncertainty_per_epoch.png"
    )

    for name, report in (("EDL", edl_report), ("m-EDL", medl_report)):
        no_evidence = report.measures["vacuity"][y_test < 10] >= 1.0
        print(
            f"{name}: share of test digits without evidence "
            f"{no_evidence.mean():.4f}"
        )
        print(
            f"{name}: "
            + ", ".join(
                f"{key} {report.threshold_free[key]:.4f}"
                for key in (
                    "known_accuracy",
                    "unknown_recall",
                    "unknown_precision",
                    "ece",
                    "misclassification_auroc",
                    "unknown_auroc",
                )
            )
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
