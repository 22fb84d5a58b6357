"""TEDL: cross-entropy first, then EDL with ELU evidence, in one fit (usage 3).

A binary task from the shipped sample: digit 4 versus digit 9.

    python examples/tedl_two_stage.py --epochs 10
"""

import argparse

import keras
import numpy as np
from _sample import digits_and_fashion

import keras_evidential as ke


def four_versus_nine(x, y):
    keep = (y == 4) | (y == 9)
    return x[keep], (y[keep] == 9).astype("int64")


def main(epochs, switch_epoch):
    (x, y), (x_test, y_test), _, _ = digits_and_fashion()
    x, y = four_versus_nine(x, y)
    x_test, y_test = four_versus_nine(x_test, y_test)

    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(2),                                         # raw logits
    ])
    model.compile(optimizer="adam",
                  loss=ke.losses.EDLLoss(from_logits=True, evidence=ke.layers.EvidenceELU()))
    history = model.fit(x, y, epochs=epochs, verbose=2,
                        callbacks=[ke.callbacks.TwoStageFit(switch_epoch=switch_epoch),
                                   ke.callbacks.KLAnnealing(increment=0.1)])

    logits = model.predict(x_test, verbose=0)
    alpha = ke.dirichlet.alpha_from_evidence(ke.dirichlet.elu_evidence(logits))
    accuracy = float(np.mean(logits.argmax(-1) == y_test))
    print(f"stage per epoch: {history.history['stage']}")
    print(f"test accuracy {accuracy:.3f}; mean vacuity "
          f"{keras.ops.convert_to_numpy(ke.dirichlet.vacuity(alpha)).mean():.3f}")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--switch-epoch", type=int, default=4)
    args = parser.parse_args()
    main(args.epochs, args.switch_epoch)
