"""The type aliases of the public API's annotations.

Keras 3 has no tensor type common to its backends (a `tf.Tensor`, a
`jax.Array`, a `torch.Tensor`, or a `keras.KerasTensor` while a functional
model is built), and Keras and the backends ship no complete stubs, so the
aliases are `Any` for the type checker: they say what an argument is for the
reader and the API reference, not a constraint mypy enforces.

Example:

>>> from keras_evidential.tensor_types import Tensor
>>> def vacuity_of(alpha: Tensor) -> Tensor:
...     return keras_evidential.dirichlet.vacuity(alpha)
>>> float(vacuity_of(np.array([1.0, 1.0, 2.0])))
0.75
"""

from __future__ import annotations

import os
from typing import Any
from typing import TypeAlias
from typing import Union


Tensor: TypeAlias = Any
"""A tensor of the Keras backend, a NumPy array, or a Python number or
nested list: whatever `keras.ops` accepts (a `keras.KerasTensor` in a
functional model)."""

ArrayLike: TypeAlias = Any
"""Anything `np.asarray` converts: a NumPy array, a list, a backend tensor
(the NumPy evaluation functions of `keras_evidential.evaluation`)."""

PathLike: TypeAlias = Union[str, "os.PathLike[str]"]
"""A file or directory path: a string or a `pathlib.Path`."""

Shape: TypeAlias = tuple[Union[int, None], ...]
"""A tensor shape as Keras passes it to `build` and `compute_output_shape`:
one entry per axis, `None` where the size is unknown (the batch)."""
