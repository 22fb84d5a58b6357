"""The Student-t predictive distribution of a NIG, and its scores.

Integrating `mu` and `sigma^2` out of `N(y | mu, sigma^2) NIG(mu, sigma^2)`
gives a Student-t with `2 alpha` degrees of freedom,

```
p(y) = St(y | loc=gamma, scale^2=beta (1 + nu) / (nu alpha), df=2 alpha)
```

(Amini et al. 2020, Eq. 8; Meinert et al. 2023, Eq. 2). Every function here
takes the Student-t as `(loc, scale, df)`, so the Gaussian (`df -> inf`) of
the mean-variance baseline is scored by the Gaussian functions beside them.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.nig.parameters import as_tensors
from keras_evidential.tensor_types import Tensor


def student_t_predictive(
    gamma: Tensor, nu: Tensor, alpha: Tensor, beta: Tensor
) -> Tensor:
    """`(loc, scale, df)` of the NIG's Student-t marginal.

    `scale = w_St = sqrt(beta (1 + nu) / (alpha nu))`, the width Meinert et al.
    use as aleatoric uncertainty; `df = 2 alpha > 2`, so the variance
    `scale^2 df / (df - 2) = beta (1 + nu) / (nu (alpha - 1))` is finite.
    """
    gamma, nu, alpha, beta = as_tensors(gamma, nu, alpha, beta)
    return gamma, student_t_width(nu, alpha, beta), 2.0 * alpha


def student_t_width(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """`w_St = sqrt(beta (1 + nu) / (alpha nu))` (Meinert et al. 2023, Eq. 9)."""
    return ops.exp(0.5 * _log_width_squared(*as_tensors(nu, alpha, beta)))


def _log_width_squared(nu, alpha, beta):
    # In logs, so that neither the product nor the quotient overflows float32
    # for nu or beta far from 1. `log(1 + nu)`, not `log1p`: the absolute
    # error is the same next to `-log(nu)`, and ONNX has no Log1p (serving).
    return ops.log(beta) + ops.log(1.0 + nu) - ops.log(alpha) - ops.log(nu)


def student_t_nll(y: Tensor, loc: Tensor, scale: Tensor, df: Tensor) -> Tensor:
    """Negative log density of `St(y | loc, scale, df)`, elementwise.

    Formula:
    ```
    -log p = lgamma(df/2) - lgamma((df + 1)/2) + log(scale) + log(pi df) / 2
             + (df + 1)/2 log(1 + ((y - loc) / scale)^2 / df)
    ```

    Computed as `log(2 pi) / 2 - r(df / 2) + log(scale) + ...` with
    `r(a) = lgamma(a + 1/2) - lgamma(a) - log(a) / 2` (`_log_gamma_half_step`):
    the two lgamma terms, each ~`a log a`, cancel to `log(a) / 2`, which in
    float32 left an error of ~1e-7 `a log a` (0.3 nats at df = 4e5).
    """
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    half_df = 0.5 * df
    z = (y - loc) / scale
    return (
        0.5 * math.log(2.0 * math.pi)
        - _log_gamma_half_step(half_df)
        + ops.log(scale)
        + (half_df + 0.5) * ops.log1p(ops.square(z) / df)
    )


# `r(a) = lgamma(a + 1/2) - lgamma(a) - log(a) / 2` from its asymptotic
# series for a >= 10, `sum_k (2^(1-k) - 2) B_k / (k (k - 1) a^(k-1))` over
# even k (the Bernoulli-polynomial expansion of lgamma(a + h) - lgamma(a)
# at h = 1/2): -1/(8a) + 1/(192 a^3) - 1/(640 a^5) + 17/(14336 a^7) - ...
# At a = 10 two terms leave 1.6e-8 (float32), six 1e-15 (float64).
_HALF_STEP_SWITCH = 10.0
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)
_HALF_STEP_SERIES = tuple(
    (2.0 ** (1 - k) - 2.0) * b / (k * (k - 1))
    for k, b in zip(range(2, 14, 2), _BERNOULLI)
)


def _series_terms(x, float32_terms, float64_terms):
    return float64_terms if _is_float64(x) else float32_terms


def _like(x, value):
    # Clamps are `ops.where(cond, x, _like(x, value))`: on the PyTorch
    # backend (Keras 3.15) `ops.maximum` and `ops.minimum` of float64
    # tensors return float32.
    return ops.convert_to_tensor(value, x.dtype)


def _is_float64(x):
    return keras.backend.standardize_dtype(x.dtype) == "float64"


def _log_gamma_half_step(a):
    """`r(a) = lgamma(a + 1/2) - lgamma(a) - log(a) / 2`, elementwise, a > 0.

    Small (`-1 / (8a)` for large a) where the direct difference loses every
    digit: lgamma(a + 1/2) and lgamma(a) are ~`a log a`. The asymptotic
    series for a >= 10, the backend's lgamma below (each branch's input
    clamped, so the unused one is finite and passes no NaN gradient).
    """
    coefficients = _HALF_STEP_SERIES[: _series_terms(a, 2, 6)]
    large = a >= _HALF_STEP_SWITCH
    t = 1.0 / ops.where(large, a, _like(a, _HALF_STEP_SWITCH))
    t_squared = ops.square(t)
    series = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        series = coefficient + t_squared * series
    direct = special.lgamma(a + 0.5) - special.lgamma(a) - 0.5 * ops.log(a)
    return ops.where(large, t * series, direct)


def nig_nll(
    y: Tensor, gamma: Tensor, nu: Tensor, alpha: Tensor, beta: Tensor
) -> Tensor:
    """The NIG's negative log marginal likelihood: `-log St(y | gamma, w_St, 2 alpha)`.

    The NLL term of Amini et al. (2020), Eq. 8, written as a Student-t:

    ```
    -log p = 1/2 log(pi / nu) - alpha log(Omega)
             + (alpha + 1/2) log((y - gamma)^2 nu + Omega)
             + lgamma(alpha) - lgamma(alpha + 1/2),   Omega = 2 beta (1 + nu)
    ```
    """
    return student_t_nll(y, *student_t_predictive(gamma, nu, alpha, beta))


def gaussian_nll(y: Tensor, mean: Tensor, variance: Tensor) -> Tensor:
    """`-log N(y | mean, variance) = log(2 pi variance) / 2 + (y - mean)^2 / (2 variance)`."""
    y, mean, variance = as_tensors(y, mean, variance)
    return 0.5 * (
        math.log(2.0 * math.pi) + ops.log(variance) + ops.square(y - mean) / variance
    )


def student_t_two_sided_tail(
    y: Tensor, loc: Tensor, scale: Tensor, df: Tensor
) -> Tensor:
    """`1 - |2 F(y) - 1|`: the probability outside the central interval reaching `y`.

    `y` lies inside the central interval of level `c` exactly when
    `1 - tail <= c`. With `x = df / (df + z^2)`, `z = (y - loc) / scale`,
    `tail = I_x(df/2, 1/2)` (the regularised incomplete beta function).

    For large `df` (>= 100 in float32, >= 1e4 in float64) `x` is within
    `z^2 / df` of 1, and `betainc` (which takes `x`, not `1 - x`) lost the
    digits of `1 - x`: 20 % error at df = 4e6. There Hill's (1970) normal
    approximation is used, `tail = erfc(w / sqrt(2))` with
    `w = sqrt(v) (1 + (v + 3 + (((-0.4 v - 3.3) v - 24) v - 85.5)
    / (0.8 v^2 + 100 + b)) / b)`, `v = (df - 1/2) log(1 + z^2 / df)`,
    `b = 48 (df - 1/2)^2`: relative error 2e-6 at df = 100, below 1e-12
    from df = 1e4 on, in the tails too.

    Reference:
    - Hill, "Algorithm 395: Student's t-distribution", CACM 13 (1970)
    """
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    return _two_sided_tail(ops.square((y - loc) / scale), df)


def _two_sided_tail(z_squared, df):
    switch = 1e4 if _is_float64(df) else 100.0
    large = df >= switch
    small_df = ops.where(large, _like(df, switch), df)
    incomplete_beta = betainc(
        0.5 * small_df, ops.full_like(df, 0.5), small_df / (small_df + z_squared)
    )
    large_df = ops.where(large, df, _like(df, switch))
    shifted = large_df - 0.5
    b = 48.0 * ops.square(shifted)
    v = shifted * ops.log1p(z_squared / large_df)
    correction = (((-0.4 * v - 3.3) * v - 24.0) * v - 85.5) / (
        0.8 * ops.square(v) + 100.0 + b
    )
    w = ops.sqrt(v) * ((correction + v + 3.0) / b + 1.0)
    normal = special.erfc(w * math.sqrt(0.5))
    return ops.where(large, normal, incomplete_beta)


def student_t_cdf(y: Tensor, loc: Tensor, scale: Tensor, df: Tensor) -> Tensor:
    """`F(y)` of `St(loc, scale, df)`: `1 - tail / 2` above `loc`, `tail / 2` below."""
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    tail = student_t_two_sided_tail(y, loc, scale, df)
    return ops.where(y >= loc, 1.0 - 0.5 * tail, 0.5 * tail)


def student_t_crps(y: Tensor, loc: Tensor, scale: Tensor, df: Tensor) -> Tensor:
    """The continuous ranked probability score of `St(loc, scale, df)` at `y`, df > 1.

    Formula (Jordan, Krüger & Lerch 2019, `crps_t`), `z = (y - loc) / scale`:
    ```
    CRPS = scale [ z (2 F(z) - 1) + 2 f(z) (df + z^2) / (df - 1)
                   - 2 sqrt(df) B(1/2, df - 1/2) / ((df - 1) B(1/2, df/2)^2) ]
    ```
    with `F`, `f` the standard Student-t CDF and density and `B` the beta
    function. In the target's units; lower is better.
    """
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    z = (y - loc) / scale
    z2 = ops.square(z)
    half_df = 0.5 * df
    # f(z) = exp(r(df/2)) / sqrt(2 pi) (1 + z^2 / df)^(-(df + 1) / 2) and the
    # constant term 2 sqrt(df) B(1/2, df - 1/2) / ((df - 1) B(1/2, df/2)^2)
    # = df / (df - 1) sqrt(df / (df - 1/2)) exp(2 r(df/2) - r(df - 1/2))
    # / sqrt(pi), with `r` from `_log_gamma_half_step` (B(1/2, b) =
    # sqrt(pi / b) exp(-r(b))): the lgamma differences, each ~df log df,
    # cancel analytically. Written from the lgammas, float32 lost every digit
    # past df ~ 1e5 (CRPS 0.381 instead of 0.234, and negative values).
    r_half_df = _log_gamma_half_step(half_df)
    log_density = (
        r_half_df
        - 0.5 * math.log(2.0 * math.pi)
        - (half_df + 0.5) * ops.log1p(z2 / df)
    )
    tail = _two_sided_tail(z2, df)
    # z (2 F(z) - 1) = |z| (1 - tail)
    term_abs = ops.abs(z) * (1.0 - tail)
    term_density = 2.0 * ops.exp(log_density) * (df + z2) / (df - 1.0)
    term_const = (
        df
        / (df - 1.0)
        * ops.sqrt(df / (df - 0.5))
        * ops.exp(2.0 * r_half_df - _log_gamma_half_step(df - 0.5))
        / math.sqrt(math.pi)
    )
    # CRPS > 0; rounding where the terms nearly cancel must not make it negative.
    return scale * ops.relu(term_abs + term_density - term_const)


def gaussian_crps(y: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """CRPS of `N(mean, std^2)` at `y`: `std [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]`."""
    y, mean, std = as_tensors(y, mean, std)
    z = (y - mean) / std
    pdf = ops.exp(-0.5 * ops.square(z)) / math.sqrt(2.0 * math.pi)
    return std * (z * ops.erf(z / math.sqrt(2.0)) + 2.0 * pdf - 1.0 / math.sqrt(math.pi))


def betainc(a: Tensor, b: Tensor, x: Tensor) -> Tensor:
    """The regularised incomplete beta function `I_x(a, b)`, elementwise.

    TensorFlow and JAX have it as an op; on PyTorch (eager) it is SciPy's,
    without gradients (it is used by metrics, not by losses).
    """
    name = keras.backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.math.betainc(a, b, x)
    if name == "jax":
        import jax.scipy.special as jsp

        return jsp.betainc(a, b, x)
    import numpy as np
    from scipy import special as scipy_special

    x = ops.convert_to_tensor(x)
    value = scipy_special.betainc(
        *(np.asarray(ops.convert_to_numpy(v), "float64") for v in (a, b, x))
    )
    return ops.convert_to_tensor(value.astype(keras.backend.standardize_dtype(x.dtype)))
