"""The quantile function of the Student-t, in `keras.ops` (any backend)."""

from __future__ import annotations

import numbers

import keras
from keras import ops

from keras_evidential.nig.parameters import as_tensors
from keras_evidential.nig.predictive import student_t_two_sided_tail
from keras_evidential.tensor_types import Tensor

# Bisection halves the bracket once per step: 30 steps leave 1e-9 of the
# bracket, below float32's resolution of w; 60 steps, below float64's.
_BISECTION_STEPS = {"float32": 30, "float64": 60}


def student_t_quantile(
    probability: Tensor, loc: Tensor, scale: Tensor, df: Tensor
) -> Tensor:
    """`F^-1(probability)` of `St(loc, scale, df)`, elementwise.

    Formula: with `tau = 2 min(p, 1 - p)`, the standardised quantile
    `z >= 0` solves `tail(z) = tau`, where
    `tail(z) = I_{df / (df + z^2)}(df / 2, 1 / 2)` is the two-sided tail
    (`student_t_two_sided_tail`); then `F^-1(p) = loc + sign(p - 1/2) z scale`.

    Found by bisection on `w = z / (1 + z)` in `[0, 1)`, on which the tail is
    decreasing: no inverse incomplete beta function is needed, so it runs on
    every backend and inside a served model. `p = 0` and `p = 1` give
    `-inf` and `+inf`'s float32 stand-in (the bracket's end, `z ~ 1e9`).

    Args:
        probability: Levels in `(0, 1)`.
        loc, scale, df: The Student-t's location, scale (> 0) and degrees
            of freedom (> 0), broadcastable with `probability`.

    Example:

    >>> q = keras_evidential.nig.student_t_quantile(0.975, 0.0, 1.0, 4.0)
    >>> print(np.round(keras.ops.convert_to_numpy(q), 4))  # scipy: 2.7764
    2.7764
    """
    (df,) = as_tensors(df)
    dtype = keras.backend.standardize_dtype(df.dtype)
    # Numbers straight into df's dtype: 0.95 rounded to float32 first would
    # move a float64 quantile by ~1e-7.
    probability, loc, scale = (
        ops.cast(ops.convert_to_tensor(v, dtype if _is_number(v) else None), dtype)
        for v in (probability, loc, scale)
    )
    shape = ops.shape(probability + loc + scale + df)
    # `where`, not `ops.minimum`: on PyTorch (Keras 3.15) the latter turns
    # float64 into float32.
    tail_target = 2.0 * ops.where(probability < 0.5, probability, 1.0 - probability)
    low = ops.zeros(shape, dtype)
    high = ops.ones(shape, dtype)
    zero, one = ops.zeros(shape, dtype), ops.ones(shape, dtype)
    for _ in range(_BISECTION_STEPS.get(dtype, 30)):
        middle = 0.5 * (low + high)
        z = middle / (1.0 - middle)
        # The tail at z still exceeds the target: the quantile lies above z.
        above = student_t_two_sided_tail(z, zero, one, df) > tail_target
        low = ops.where(above, middle, low)
        high = ops.where(above, high, middle)
    middle = 0.5 * (low + high)
    z = middle / (1.0 - middle)
    return loc + ops.where(probability >= 0.5, z, -z) * scale


def _is_number(value):
    return isinstance(value, numbers.Real)
