"""Keras metrics of evidential regressors: RMSE, NLL, CRPS and interval coverage.

Every metric takes the model output `y_pred`, NIG parameters of shape
`(..., 4T)` (the output of `NormalInverseGammaOutput`), and the targets
`y_true` of shape `(..., T)`. They are in the units of `y_true`: for a model
trained on a standardised target, append `NormalInverseGammaRescaling` and
evaluate on the raw target.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import nig
from keras_evidential.losses.evidential_regression import _targets_like
from keras_evidential.tensor_types import Tensor


def _predictive(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    # float16 / bfloat16 (mixed precision) are scored in float32; float64
    # stays float64 (the scores of large-df or far-from-0 predictions need it).
    if keras.backend.standardize_dtype(y_pred.dtype) != "float64":
        y_pred = ops.cast(y_pred, "float32")
    gamma, nu, alpha, beta = nig.split_nig(y_pred)
    y = _targets_like(y_true, gamma)
    return (y,) + tuple(nig.student_t_predictive(gamma, nu, alpha, beta))


def student_t_nll_per_sample(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Mean over targets of `-log St(y | gamma, w_St, 2 alpha)`, per sample."""
    return _mean_over_targets(nig.student_t_nll(*_predictive(y_true, y_pred)))


def student_t_crps_per_sample(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Mean over targets of the Student-t predictive's CRPS, per sample."""
    return _mean_over_targets(nig.student_t_crps(*_predictive(y_true, y_pred)))


def _mean_over_targets(values):
    # Not `ops.mean`: on PyTorch (Keras 3.15) it reduces float64 in float32.
    return ops.sum(values, axis=-1) / values.shape[-1]


def interval_coverage_per_sample(
    y_true: Tensor, y_pred: Tensor, level: float = 0.95
) -> Tensor:
    """Fraction of targets inside the central `level` interval of the predictive, per sample.

    `y` is inside exactly when `1 - level <= tail`, `tail = 1 - |2 F(y) - 1|`.
    """
    inside = nig.student_t_two_sided_tail(*_predictive(y_true, y_pred)) >= 1.0 - level
    return ops.mean(ops.cast(inside, "float32"), axis=-1)


def _check_level(level):
    if not (isinstance(level, (int, float)) and not isinstance(level, bool)
            and 0.0 < level < 1.0):
        raise ValueError(f"`level` must be a number in (0, 1). Received: level={level!r}")


@keras.saving.register_keras_serializable(package="keras_evidential")
class NIGRootMeanSquaredError(keras.metrics.RootMeanSquaredError):
    """Root mean squared error of the predicted mean `gamma`.

    Formula:
    ```
    RMSE = sqrt(mean_{i,t} (y_it - gamma_it)^2)
    ```

    Args:
        name: Optional name of the metric. Defaults to `"rmse"`.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> m = keras_evidential.metrics.NIGRootMeanSquaredError()
    >>> m.update_state([[1.0], [3.0]], [[0.0, 1, 2, 1], [3.0, 1, 2, 1]])
    >>> float(m.result())
    0.7071067690849304

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600), Table 1
    """

    def __init__(self, name: str = "rmse", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        y_pred = ops.convert_to_tensor(y_pred)
        gamma = nig.split_nig(y_pred).gamma
        return super().update_state(_targets_like(y_true, gamma), gamma, sample_weight)


@keras.saving.register_keras_serializable(package="keras_evidential")
class NIGNegativeLogLikelihood(keras.metrics.MeanMetricWrapper):
    """Negative log-likelihood of the targets under the NIG's Student-t predictive.

    Formula:
    ```
    NLL = mean_{i,t} -log St(y_it | gamma, sqrt(beta (1 + nu) / (nu alpha)), 2 alpha)
    ```

    In nats; add `log(std)` to compare with NLLs reported on a target
    scaled by `std`. Lower is better.

    Args:
        name: Optional name of the metric. Defaults to `"nll"`.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> m = keras_evidential.metrics.NIGNegativeLogLikelihood()
    >>> m.update_state([[0.0]], [[0.0, 1.0, 2.0, 1.0]])
    >>> round(float(m.result()), 4)
    0.9808

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600), Eq. 8 and Table 1
    """

    def __init__(self, name: str = "nll", dtype: str | None = None) -> None:
        super().__init__(student_t_nll_per_sample, name=name, dtype=dtype)
        # Lower is better: lets `EarlyStopping` / `ModelCheckpoint` infer
        # mode="min" (Keras reads `_direction`).
        self._direction = "down"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="keras_evidential")
class NIGContinuousRankedProbabilityScore(keras.metrics.MeanMetricWrapper):
    """Continuous ranked probability score of the NIG's Student-t predictive.

    Formula (closed form, Jordan, Krüger & Lerch 2019), `z = (y - gamma) / w_St`,
    `df = 2 alpha`, `F`, `f` the standard Student-t CDF and density:
    ```
    CRPS = w_St [ z (2 F(z) - 1) + 2 f(z) (df + z^2) / (df - 1)
                  - 2 sqrt(df) B(1/2, df - 1/2) / ((df - 1) B(1/2, df/2)^2) ]
    ```

    In the target's units; lower is better.

    Args:
        name: Optional name of the metric. Defaults to `"crps"`.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> m = keras_evidential.metrics.NIGContinuousRankedProbabilityScore()
    >>> m.update_state([[0.0]], [[0.0, 1.0, 2.0, 1.0]])
    >>> round(float(m.result()), 4)
    0.2637

    Reference:
    - Gneiting & Raftery, "Strictly proper scoring rules, prediction, and
      estimation", JASA 102 (2007)
    - Jordan, Krüger & Lerch, "Evaluating probabilistic forecasts with
      scoringRules", J. Stat. Softw. 90 (2019)
    """

    def __init__(self, name: str = "crps", dtype: str | None = None) -> None:
        super().__init__(student_t_crps_per_sample, name=name, dtype=dtype)
        # Lower is better: lets `EarlyStopping` / `ModelCheckpoint` infer
        # mode="min" (Keras reads `_direction`).
        self._direction = "down"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="keras_evidential")
class NIGIntervalCoverage(keras.metrics.MeanMetricWrapper):
    """Fraction of targets inside the central `level` interval of the Student-t predictive.

    Formula:
    ```
    coverage = mean_{i,t} 1[ |2 F(y_it) - 1| <= level ]
    ```

    A calibrated model covers a fraction `level` of the targets; below it,
    the uncertainty is too small. `keras_evidential.evaluation.coverage_curve`
    gives the curve over many levels. Neither higher nor lower is better,
    so the metric declares no direction: a callback monitoring it needs
    `mode=`.

    Args:
        level: Float in (0, 1), the interval's probability. Defaults to `0.95`.
        name: Optional name of the metric. Defaults to `"coverage_95"` for
            the default level (the percentage in the name).
        dtype: Optional dtype of the metric's result.

    Example:

    >>> m = keras_evidential.metrics.NIGIntervalCoverage(level=0.5)
    >>> m.update_state([[0.1], [5.0]], [[0.0, 1, 2, 1], [0.0, 1, 2, 1]])
    >>> float(m.result())
    0.5

    Reference:
    - Kuleshov, Fenner & Ermon, "Accurate uncertainties for deep learning
      using calibrated regression", ICML 2018
    """

    def __init__(
        self, level: float = 0.95, name: str | None = None, dtype: str | None = None
    ) -> None:
        _check_level(level)
        self.level = float(level)
        super().__init__(
            interval_coverage_per_sample,
            name=name or f"coverage_{round(100 * self.level):g}",
            dtype=dtype,
            level=self.level,
        )

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "name": self.name, "dtype": self.dtype}
