"""Fitting the scale factor of a NIG regressor's Student-t predictive."""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_evidential import nig
from keras_evidential.calibration.search import minimise_positive
from keras_evidential.layers.calibration import scale_student_t
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_nig_parameters


def student_t_scale_nll(
    y_true: ArrayLike, y_pred: ArrayLike, factor: float = 1.0
) -> float:
    """Mean Student-t NLL of the targets with the predictive scale times `factor`.

    Example:

    >>> # gamma 0, nu 1, alpha 1.5, beta 0.75: St(0, scale 1, df 3) at y = 0,
    >>> # -log(Gamma(2) / (Gamma(1.5) sqrt(3 pi)))
    >>> round(keras_evidential.calibration.student_t_scale_nll(
    ...     [[0.0]], [[0.0, 1.0, 1.5, 0.75]]), 4)
    1.0009
    """
    y, y_pred = _inputs(y_true, y_pred)
    return _nll(y, y_pred, factor)


def _inputs(y_true, y_pred):
    # float64 where the backend computes it, as in `classification`.
    y_pred = ops.convert_to_tensor(np.asarray(y_pred, "float64"))
    _, nu, alpha, beta = nig.split_nig(y_pred)
    check_nig_parameters(nu, alpha, beta)
    y = np.asarray(y_true, "float64")
    if y.ndim == len(nu.shape) - 1:
        y = y[..., None]
    if y.shape != tuple(nu.shape) or y.size == 0:
        raise ValueError(
            "`y_true` must hold one value per target, shape (..., T) for "
            f"y_pred (..., 4T). Received: y_true.shape={np.shape(y_true)}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    y = ops.convert_to_tensor(y)
    check_finite(y, "y_true")
    return y, y_pred


def _nll(y, y_pred, factor):
    loc, scale, df = nig.student_t_predictive(*nig.split_nig(scale_student_t(y_pred, factor)))
    return float(ops.mean(nig.student_t_nll(y, loc, scale, df)))


def fit_student_t_scale(
    y_true: ArrayLike, y_pred: ArrayLike, low: float = 1e-3, high: float = 1e3
) -> float:
    """The factor `s` on the Student-t scale minimising the NLL of the targets.

    Formula:
    ```
    s = argmin_s mean_i -log St(y_i | gamma_i, s w_i, 2 alpha_i),
    w = sqrt(beta (1 + nu) / (alpha nu))
    ```

    A one-dimensional search in `log s` over `[low, high]`. The result goes
    into `keras_evidential.layers.StudentTScaling(s)` (`beta' = s^2 beta`).

    Args:
        y_true: `(N, T)` (or `(N,)`) targets of the calibration set.
        y_pred: `(N, 4T)` NIG parameters predicted for them.
        low, high: The search range of `s`. Defaults to `[1e-3, 1e3]`.

    Returns:
        The factor, a float.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_t(4.0, size=(4000, 1)) * 3.0  # scale 3, df 4
    >>> y_pred = np.tile([0.0, 1.0, 2.0, 1.0], (4000, 1))  # scale 1, df 4
    >>> s = keras_evidential.calibration.fit_student_t_scale(y, y_pred)
    >>> 2.8 < s < 3.2
    True

    Reference:
    - Laves, Ihler, Fast, Kahrs, Ortmaier, "Well-calibrated regression
      uncertainty in medical imaging with deep learning", MIDL 2020 (one
      scale factor fitted by NLL)
    """
    y, y_pred = _inputs(y_true, y_pred)
    return minimise_positive(
        lambda factor: _nll(y, y_pred, factor), low, high, argument="factor"
    )
