"""Predicting a callback's own samples in full batches."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_evidential.tensor_types import ArrayLike


def predict_in_full_batches(model: keras.Model, x: ArrayLike, batch_size: int) -> Any:
    """`model.predict(x, batch_size)` with every batch full.

    Under `keras.distribution.DataParallel` (JAX) each batch is split over
    the devices, and a short last batch (126 samples in batches of 32 on 4
    devices leaves 30) cannot be split. The arrays are padded to a multiple
    of `batch_size` by repeating the last sample and the padding's
    predictions are dropped; predictions are row-wise, so the others are
    unchanged. Inputs that are not arrays (datasets) are predicted as given.
    """
    leaves = keras.tree.flatten(x)
    if not leaves or not all(isinstance(a, np.ndarray) for a in leaves):
        return model.predict(x, batch_size=batch_size, verbose=0)
    n = len(leaves[0])
    padding = -n % batch_size
    if padding:
        x = keras.tree.map_structure(
            lambda a: np.concatenate([a, np.repeat(a[-1:], padding, axis=0)]), x
        )
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    return keras.tree.map_structure(lambda a: a[:n], outputs)
