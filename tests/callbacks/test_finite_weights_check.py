"""FiniteWeightsCheck: NaN features that poison the weights fail training."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.callbacks.fitting import data


def hidden_relu_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3), ke.layers.DirichletOutput()])


@pytest.mark.parametrize("every_n_batches", [None, 1])
def test_nan_feature_fails_training(every_n_batches):
    x, labels = data()
    x[5, 2] = np.nan
    model = hidden_relu_model()
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.1))
    with pytest.raises(Exception, match="NaN or inf|not finite"):
        model.fit(x, labels, batch_size=16, epochs=1, verbose=0,
                  callbacks=[ke.callbacks.FiniteWeightsCheck(every_n_batches)])


def test_names_the_variable_and_stops_at_the_batch():
    """With every_n_batches=1 the error comes after the first poisoned batch
    (batch 0 holds the NaN) and names a variable of the first layer."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("elsewhere ReLU(NaN) = NaN fails the head's check first")
    x, labels = data()
    x[5, 2] = np.nan
    model = hidden_relu_model()
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.1))
    with pytest.raises(ValueError, match=r"dense.*not finite after batch 0"):
        model.fit(x, labels, batch_size=16, epochs=1, verbose=0, shuffle=False,
                  callbacks=[ke.callbacks.FiniteWeightsCheck(every_n_batches=1)])


def test_clean_training_passes():
    x, labels = data()
    model = hidden_relu_model()
    model.compile(optimizer="adam", loss=ke.losses.EDLLoss(kl_weight=0.1))
    model.fit(x, labels, batch_size=16, epochs=2, verbose=0,
              callbacks=[ke.callbacks.FiniteWeightsCheck(every_n_batches=2)])


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_every_n_batches_is_checked(bad):
    with pytest.raises(ValueError, match="every_n_batches"):
        ke.callbacks.FiniteWeightsCheck(bad)
