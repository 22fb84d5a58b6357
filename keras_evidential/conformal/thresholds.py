"""The fitted conformal thresholds, held by a layer as a non-trainable weight."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.tensor_types import ArrayLike


def add_thresholds(
    layer: keras.layers.Layer, thresholds: ArrayLike, per: str
) -> keras.Variable:
    """Adds `thresholds` (a number, or one per `per`: "label", "target") to
    `layer` as a non-trainable float32 weight and returns it.

    A weight, so the fitted thresholds travel with the model's variables
    (SavedModel, `.keras`); the layers put them in their config too, so a
    layer rebuilt from its config alone is never silently unfitted.
    """
    values = np.atleast_1d(np.asarray(thresholds, dtype="float64"))
    if values.ndim != 1 or values.size == 0 or np.any(np.isnan(values)):
        raise ValueError(
            "`thresholds` must be a number or a list of numbers (one per "
            f"{per}; inf allowed). Received: thresholds={thresholds!r}"
        )
    return layer.add_weight(
        shape=values.shape,
        initializer=keras.initializers.Constant(values.astype("float32")),
        trainable=False,
        name="thresholds",
    )


def as_floats(weight: Any) -> list[float]:
    """A thresholds weight as a list of Python floats (for configs)."""
    return [float(v) for v in ops.convert_to_numpy(weight)]
