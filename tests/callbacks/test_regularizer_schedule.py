"""RegularizerSchedule changes lambda inside the compiled training step."""

import keras
import numpy as np
import pytest

import keras_evidential as ke


def _model(loss):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"),
                              ke.layers.NormalInverseGammaOutput(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    return model


@pytest.mark.parametrize("cls", [ke.losses.EvidentialRegressionLoss, ke.losses.MeinertRegressionLoss])
def test_schedule_reaches_the_compiled_step(cls):
    """With a frozen model (learning rate 0), the epoch loss moves only with lambda."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 2)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    weights = [0.0, 0.0, 5.0]
    model = _model(cls(0.0))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0,
                        callbacks=[ke.callbacks.RegularizerSchedule(lambda t: weights[t])])
    loss = history.history["loss"]
    assert history.history["regularizer_weight"] == weights
    assert loss[0] == pytest.approx(loss[1], rel=1e-6)
    assert loss[2] > loss[1] + 1e-3


def test_bad_use_is_named():
    with pytest.raises(ValueError, match="schedule="):
        ke.callbacks.RegularizerSchedule(0.1)
    model = _model("mse")
    with pytest.raises(ValueError, match="EvidentialRegressionLoss"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 4)), epochs=1, verbose=0,
                  callbacks=[ke.callbacks.RegularizerSchedule(lambda t: 0.1)])
    model = _model(ke.losses.EvidentialRegressionLoss())
    with pytest.raises(ValueError, match="schedule"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0,
                  callbacks=[ke.callbacks.RegularizerSchedule(lambda t: -1.0)])
