"""The loss coefficients a callback schedules, held in Keras variables."""

import keras

from keras_evidential.losses.edl_loss import validate_kl_weight


def kl_weight_variable(kl_weight, dtype):
    """A non-trainable scalar `keras.Variable` named `kl_weight`.

    `KLAnnealing` finds every compiled loss with such a `kl_weight` attribute
    and writes the epoch's coefficient into it, which changes the compiled
    training step (graph mode and XLA) without retracing.
    """
    validate_kl_weight(kl_weight)
    return keras.Variable(
        float(kl_weight), dtype=dtype, trainable=False, name="kl_weight"
    )


def validate_coefficient(value, argument):
    """Returns `value` as a float; raises unless it is finite and >= 0."""
    validate_kl_weight(value, argument)
    return float(value)
