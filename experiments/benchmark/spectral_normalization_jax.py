"""Does `predict` see the network that training saw? DAEDL's net under JAX, with
Keras's spectral normalisation and with this library's.

Trains the benchmark's DAEDL tower (width 32, 2 epochs on 12,000 MNIST images)
once per wrapper, then compares, on 1,000 MNIST test images, `alpha_0` from
`predict` with `alpha_0` from a training-mode call of the same weights, and
writes the table to `<out>/jax_predict.md`.

    KERAS_BACKEND=jax python -m experiments.benchmark.spectral_normalization_jax
"""

import argparse
from pathlib import Path

import keras
import numpy as np

from experiments.benchmark import data as data_lib
from experiments.benchmark.methods import METHODS
from experiments.benchmark.methods import build

OUT = Path("docs/results/benchmark/spectral_normalization")


def measure(data, keras_spectral_normalization):
    keras.utils.set_random_seed(0)
    method = METHODS["daedl"]
    model, _ = build(method, [0], width=32, keras_spectral_normalization=keras_spectral_normalization)
    model.compile(keras.optimizers.Adam(1e-3), method.make_loss())
    model.fit(data["x_train"][0], data["y_train"][0], epochs=2, batch_size=64, verbose=0)
    x, y = data["x_test"][:1000], data["y_test"][:1000]
    predicted = np.asarray(model.predict(x, verbose=0), "float64")
    trained = np.asarray(keras.ops.convert_to_numpy(model(x, training=True)), "float64")
    return {
        "predict": np.median(np.log10(predicted.sum(-1))),
        "training call": np.median(np.log10(trained.sum(-1))),
        "accuracy predict": np.mean(predicted.argmax(-1) == y),
        "accuracy training call": np.mean(trained.argmax(-1) == y),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    data = data_lib.load(args.data_dir, 12000)
    lines = [
        f"Backend {keras.backend.backend()}, Keras {keras.__version__}; "
        "`KERAS_BACKEND=jax python -m experiments.benchmark.spectral_normalization_jax`.",
        "",
        "| wrapper | median log10 alpha0, predict | median log10 alpha0, training-mode call "
        "| accuracy, predict | accuracy, training-mode call |",
        "|---|---|---|---|---|",
    ]
    for label, flag in (("keras.layers.SpectralNormalization", True), ("keras_evidential.layers.SpectralNormalization", False)):
        m = measure(data, flag)
        lines.append(f"| `{label}` | {m['predict']:.2f} | {m['training call']:.2f} "
                     f"| {100 * m['accuracy predict']:.2f} | {100 * m['accuracy training call']:.2f} |")
        print(lines[-1], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "jax_predict.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
