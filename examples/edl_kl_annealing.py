"""Classic EDL with the annealed KL term (README usage 2).

lambda_t = min(1, t * increment); the value of every epoch is in History.

    python examples/edl_kl_annealing.py --epochs 20
"""

import argparse

import keras
import numpy as np
from _sample import digits_and_fashion

import keras_evidential as ke


def main(epochs):
    (x, y), (x_test, y_test), _, x_fashion_test = digits_and_fashion()
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),
        ke.layers.DirichletOutput(evidence="relu"),
    ])
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss())
    history = model.fit(x, y, epochs=epochs, verbose=2,
                        callbacks=[ke.callbacks.KLAnnealing(increment=0.1)])

    vacuity = lambda inputs: keras.ops.convert_to_numpy(
        ke.dirichlet.vacuity(model.predict(inputs, verbose=0)))
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test))
    print(f"KL weight per epoch: {np.round(history.history['kl_weight'], 2).tolist()}")
    print(f"test accuracy {accuracy:.3f}; mean vacuity: digits "
          f"{vacuity(x_test).mean():.3f}, Fashion-MNIST {vacuity(x_fashion_test).mean():.3f}")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    main(parser.parse_args().epochs)
