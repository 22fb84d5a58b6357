"""The loss coefficients a callback schedules, held in Keras variables."""

from __future__ import annotations

import keras

from keras_evidential.validation import check_number


def coefficient_variable(value: float, name: str, dtype: str | None) -> keras.Variable:
    """A non-trainable scalar `keras.Variable` holding a loss coefficient.

    `keras_evidential.callbacks.CoefficientSchedule` (and its presets
    `KLAnnealing`, `RegularizerSchedule`) finds every compiled loss with a
    variable of that name and writes the epoch's value into it, which changes
    the compiled training step (graph mode and XLA) without retracing.
    """
    return keras.Variable(
        validate_coefficient(value, name), dtype=dtype, trainable=False, name=name
    )


def kl_weight_variable(kl_weight: float, dtype: str | None) -> keras.Variable:
    """`coefficient_variable` for the KL coefficient `kl_weight`."""
    return coefficient_variable(kl_weight, "kl_weight", dtype)


def validate_coefficient(value: float, argument: str) -> float:
    """Returns `value` as a float; raises unless it is finite and >= 0."""
    return check_number(value, argument, low=0)
