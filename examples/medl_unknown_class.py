"""m-EDL: a classifier with an explicit "unknown" class (README usage 1).

Trains the m-EDL author's MLP on MNIST digits (classes 0-9) plus Fashion-MNIST
images labelled 10 ("unknown"), then predicts by argmax over 11 classes: no
uncertainty threshold. Runs on the sample shipped with the package.

    python examples/medl_unknown_class.py --epochs 100
"""

import argparse

import keras
import numpy as np
from _sample import digits_and_fashion

import keras_evidential as ke


def main(epochs):
    (x_digits, y_digits), (x_test, y_test), x_fashion, x_fashion_test = digits_and_fashion()
    x = np.concatenate([x_digits, x_fashion])
    y = np.concatenate([y_digits, np.full(len(x_fashion), 10)])  # 10 = unknown
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]

    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10),
        ke.layers.DirichletOutput(evidence="relu"),   # logits -> alpha = evidence + 1
        ke.layers.UnknownClassHead(),                 # alpha (K) -> alpha (K+1), alpha_u = K + 1
    ])
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.1), metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=epochs, validation_split=0.1, verbose=2,
              callbacks=[keras.callbacks.EarlyStopping(patience=3, min_delta=1e-3)])

    digits_pred = model.predict(x_test, verbose=0).argmax(-1)
    fashion_pred = model.predict(x_fashion_test, verbose=0).argmax(-1)
    acc_known = float(np.mean(digits_pred == y_test))
    acc_unknown = float(np.mean(fashion_pred == 10))
    print(f"accuracy on known digits: {acc_known:.3f}; "
          f"Fashion-MNIST images predicted 'unknown': {acc_unknown:.3f}")
    return acc_known, acc_unknown


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=100)
    main(parser.parse_args().epochs)
