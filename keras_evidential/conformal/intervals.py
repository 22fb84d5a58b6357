"""ConformalInterval: split-conformal intervals for NIG regressors, as a layer."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.conformal.quantile import conformal_quantile
from keras_evidential.conformal.thresholds import add_thresholds
from keras_evidential.conformal.thresholds import as_floats
from keras_evidential.nig.parameters import num_targets
from keras_evidential.nig.parameters import split_nig
from keras_evidential.nig.predictive import student_t_predictive
from keras_evidential.nig.quantile import student_t_quantile
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_number

METHODS = ("standardized", "quantile")


def base_interval(
    y_pred: Tensor, method: str = "standardized", level: float = 0.9
) -> tuple[Tensor, Tensor, Tensor]:
    """The interval that calibration widens, with its unit: `(lower, upper, unit)`.

    `"standardized"`: the Student-t's `loc` (a point, `lower = upper = loc`)
    in units of its `scale`. `"quantile"`: the central interval of level
    `level` of the Student-t predictive, `loc -+ t_df^-1((1 + level) / 2)
    scale`, in the target's units (unit 1).
    """
    check_choice(method, "method", METHODS)
    loc, scale, df = student_t_predictive(*split_nig(y_pred))
    if method == "standardized":
        return loc, loc, scale
    half_width = student_t_quantile(0.5 + 0.5 * level, 0.0, scale, df)
    return loc - half_width, loc + half_width, ops.ones_like(scale)


def interval_scores(
    y: Tensor, y_pred: Tensor, method: str = "standardized", level: float = 0.9
) -> Tensor:
    """The non-conformity score of targets `y` under NIG predictions, `(n, T)`.

    Formula:
    ```
    standardized: s = |y - loc| / scale               (Student-t residual)
    quantile:     s = max(lower - y, y - upper)        (CQR on the predictive)
    ```

    with `(loc, scale, df)` the NIG's Student-t predictive and
    `[lower, upper]` its central interval of level `level`. Each is the
    amount by which `base_interval` must grow, in its unit, to reach `y`.

    Example:

    >>> y_pred = np.array([[0.0, 1.0, 2.0, 1.0]])  # gamma, nu, alpha, beta
    >>> s = keras_evidential.conformal.interval_scores(np.array([[1.0]]), y_pred)
    >>> print(np.round(keras.ops.convert_to_numpy(s), 4))  # scale = 1
    [[1.]]

    Reference:
    - Romano, Patterson & Candès, "Conformalized quantile regression",
      NeurIPS 2019
    - Lei, G'Sell, Rinaldo, Tibshirani & Wasserman, "Distribution-free
      predictive inference for regression", JASA 113 (2018) (scaled residuals)
    """
    lower, upper, unit = base_interval(y_pred, method, level)
    y = ops.cast(ops.convert_to_tensor(y), lower.dtype)
    # `where`, not `ops.maximum`: on PyTorch (Keras 3.15) the latter turns
    # float64 into float32.
    below, above = lower - y, y - upper
    return ops.where(below > above, below, above) / unit


@keras.saving.register_keras_serializable(package="keras_evidential")
class ConformalInterval(keras.layers.Layer):
    """Split-conformal prediction intervals from a NIG head: `(lower, upper)`.

    Formula:
    ```
    [lower - q_hat unit, upper + q_hat unit]
    ```

    with `base_interval` and `q_hat`, one per target, the
    `conformal_quantile` of the calibration `interval_scores`: the interval
    holds a new target with probability `>= 1 - alpha`. `"standardized"`
    gives `loc -+ q_hat scale`; `"quantile"` widens (or narrows, `q_hat < 0`)
    the Student-t's central interval by `q_hat`. Make it with
    `ConformalInterval.calibrate`; append it to the trained model to serve
    the bounds.

    Input: the NIG head's output `(batch, 4T)`. Output: `(lower, upper)`, each
    `(batch, T)`.

    Args:
        thresholds: `q_hat`, one number or one per target.
        method: `"standardized"` or `"quantile"`.
        level: The central level of the `"quantile"` base interval.

    Example:

    >>> y_pred = np.array([[0.0, 1.0, 2.0, 1.0]] * 3)
    >>> interval = keras_evidential.conformal.ConformalInterval.calibrate(
    ...     y_pred, np.array([[0.5], [-1.0], [2.0]]), alpha=0.5)
    >>> lower, upper = interval(y_pred[:1])  # k = ceil(4 * 0.5) = 2: q = 1
    >>> print(keras.ops.convert_to_numpy(lower), keras.ops.convert_to_numpy(upper))
    [[-1.]] [[1.]]

    Reference:
    - Angelopoulos & Bates, "Conformal Prediction: A Gentle Introduction",
      Found. Trends Mach. Learn. 16(4) (2023), Sec. 2.2-2.3
    """

    def __init__(
        self,
        thresholds: ArrayLike,
        method: str = "standardized",
        level: float = 0.9,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=kwargs.pop("dtype", "float32"), **kwargs)
        self.method = check_choice(method, "method", METHODS)
        self.level = check_number(level, "level", 0, 1, low_open=True, high_open=True)
        self.thresholds = add_thresholds(self, thresholds, "target")
        self._build_at_init()

    @classmethod
    def calibrate(
        cls,
        y_pred: ArrayLike,
        y: ArrayLike,
        alpha: float,
        method: str = "standardized",
        level: float | None = None,
    ) -> ConformalInterval:
        """Fits `q_hat` per target on a held-out calibration set.

        Args:
            y_pred: The NIG head's outputs on the calibration inputs, `(n, 4T)`.
            y: Their targets, `(n, T)` (or `(n,)` for one target).
            alpha: Miscoverage level in `(0, 1)`.
            method: `"standardized"` or `"quantile"`.
            level: The `"quantile"` base interval's level; `1 - alpha` if None.

        Returns:
            A `ConformalInterval` layer.
        """
        alpha = check_number(alpha, "alpha", 0, 1, low_open=True, high_open=True)
        level = check_number(
            1.0 - alpha if level is None else level, "level", 0, 1,
            low_open=True, high_open=True,
        )
        y_pred = np.asarray(ops.convert_to_numpy(y_pred), dtype="float32")
        y = np.asarray(y, dtype="float32").reshape(y_pred.shape[0], -1)
        if y.shape[1] != num_targets(y_pred):
            raise ValueError(
                f"`y` must have one column per target ({num_targets(y_pred)}). "
                f"Received: y with shape {y.shape}"
            )
        scores = ops.convert_to_numpy(interval_scores(y, y_pred, method, level))
        thresholds = [
            conformal_quantile(scores[:, t], alpha) for t in range(y.shape[1])
        ]
        return cls(thresholds, method=method, level=level)

    def call(self, inputs: Tensor) -> Tensor:
        lower, upper, unit = base_interval(
            ops.cast(inputs, self.compute_dtype), self.method, self.level
        )
        widening = ops.cast(self.thresholds, unit.dtype) * unit
        return lower - widening, upper + widening

    def compute_output_spec(
        self, inputs: keras.KerasTensor
    ) -> tuple[keras.KerasTensor, keras.KerasTensor]:
        shape = tuple(inputs.shape[:-1]) + (num_targets(inputs),)
        return (keras.KerasTensor(shape, dtype=self.compute_dtype),
                keras.KerasTensor(shape, dtype=self.compute_dtype))

    def thresholds_list(self) -> list[float]:
        """The fitted thresholds as Python floats."""
        return as_floats(self.thresholds)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(thresholds=self.thresholds_list(), method=self.method,
                      level=self.level)
        return config
