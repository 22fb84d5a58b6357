"""Small models and a full-batch `fit` for the callback tests."""

import keras
import numpy as np

import keras_evidential as ke


N, D, K = 64, 6, 3


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)).astype("float32"), rng.integers(0, K, N)


def alpha_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(K), ke.layers.DirichletOutput("softplus")])


def logits_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(K)])


def full_batch_fit(model, x, y, epochs, callbacks):
    return model.fit(x, y, batch_size=N, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
