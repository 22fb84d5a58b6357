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

import math

import keras
from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.nig.parameters import as_tensors


def student_t_predictive(gamma, nu, alpha, beta):
    """`(loc, scale, df)` of the NIG's Student-t marginal.

    `scale = w_St = sqrt(beta (1 + nu) / (alpha nu))`, the width Meinert et al.
    use as aleatoric uncertainty; `df = 2 alpha > 2`, so the variance
    `scale^2 df / (df - 2) = beta (1 + nu) / (nu (alpha - 1))` is finite.
    """
    gamma, nu, alpha, beta = as_tensors(gamma, nu, alpha, beta)
    return gamma, student_t_width(nu, alpha, beta), 2.0 * alpha


def student_t_width(nu, alpha, beta):
    """`w_St = sqrt(beta (1 + nu) / (alpha nu))` (Meinert et al. 2023, Eq. 9)."""
    return ops.exp(0.5 * _log_width_squared(*as_tensors(nu, alpha, beta)))


def _log_width_squared(nu, alpha, beta):
    # In logs, so that neither the product nor the quotient overflows float32
    # for nu or beta far from 1. `log(1 + nu)`, not `log1p`: the absolute
    # error is the same next to `-log(nu)`, and ONNX has no Log1p (serving).
    return ops.log(beta) + ops.log(1.0 + nu) - ops.log(alpha) - ops.log(nu)


def student_t_nll(y, loc, scale, df):
    """Negative log density of `St(y | loc, scale, df)`, elementwise.

    Formula:
    ```
    -log p = lgamma(df/2) - lgamma((df + 1)/2) + log(scale) + log(pi df) / 2
             + (df + 1)/2 log(1 + ((y - loc) / scale)^2 / df)
    ```
    """
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    half_df = 0.5 * df
    z = (y - loc) / scale
    return (
        special.lgamma(half_df)
        - special.lgamma(half_df + 0.5)
        + ops.log(scale)
        + 0.5 * ops.log(math.pi * df)
        + (half_df + 0.5) * ops.log1p(ops.square(z) / df)
    )


def nig_nll(y, gamma, nu, alpha, beta):
    """The NIG's negative log marginal likelihood: `-log St(y | gamma, w_St, 2 alpha)`.

    The NLL term of Amini et al. (2020), Eq. 8, written as a Student-t:

    ```
    -log p = 1/2 log(pi / nu) - alpha log(Omega)
             + (alpha + 1/2) log((y - gamma)^2 nu + Omega)
             + lgamma(alpha) - lgamma(alpha + 1/2),   Omega = 2 beta (1 + nu)
    ```
    """
    return student_t_nll(y, *student_t_predictive(gamma, nu, alpha, beta))


def gaussian_nll(y, mean, variance):
    """`-log N(y | mean, variance) = log(2 pi variance) / 2 + (y - mean)^2 / (2 variance)`."""
    y, mean, variance = as_tensors(y, mean, variance)
    return 0.5 * (
        math.log(2.0 * math.pi) + ops.log(variance) + ops.square(y - mean) / variance
    )


def student_t_two_sided_tail(y, loc, scale, df):
    """`1 - |2 F(y) - 1|`: the probability outside the central interval reaching `y`.

    `y` lies inside the central interval of level `c` exactly when
    `1 - tail <= c`. With `x = df / (df + z^2)`, `z = (y - loc) / scale`,
    `tail = I_x(df/2, 1/2)` (the regularised incomplete beta function).
    """
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    z = (y - loc) / scale
    return betainc(0.5 * df, ops.full_like(df, 0.5), df / (df + ops.square(z)))


def student_t_cdf(y, loc, scale, df):
    """`F(y)` of `St(loc, scale, df)`: `1 - tail / 2` above `loc`, `tail / 2` below."""
    y, loc, scale, df = as_tensors(y, loc, scale, df)
    tail = student_t_two_sided_tail(y, loc, scale, df)
    return ops.where(y >= loc, 1.0 - 0.5 * tail, 0.5 * tail)


def student_t_crps(y, loc, scale, df):
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
    half = ops.full_like(df, 0.5)
    log_density = (
        special.lgamma(half_df + 0.5)
        - special.lgamma(half_df)
        - 0.5 * ops.log(math.pi * df)
        - (half_df + 0.5) * ops.log1p(z2 / df)
    )
    tail = betainc(half_df, half, df / (df + z2))
    # z (2 F(z) - 1) = |z| (1 - tail)
    term_abs = ops.abs(z) * (1.0 - tail)
    term_density = 2.0 * ops.exp(log_density) * (df + z2) / (df - 1.0)
    log_beta_a = _log_beta(half, df - 0.5)
    log_beta_b = _log_beta(half, half_df)
    term_const = 2.0 * ops.exp(
        0.5 * ops.log(df) + log_beta_a - 2.0 * log_beta_b
    ) / (df - 1.0)
    return scale * (term_abs + term_density - term_const)


def gaussian_crps(y, mean, std):
    """CRPS of `N(mean, std^2)` at `y`: `std [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]`."""
    y, mean, std = as_tensors(y, mean, std)
    z = (y - mean) / std
    pdf = ops.exp(-0.5 * ops.square(z)) / math.sqrt(2.0 * math.pi)
    return std * (z * ops.erf(z / math.sqrt(2.0)) + 2.0 * pdf - 1.0 / math.sqrt(math.pi))


def _log_beta(a, b):
    return special.lgamma(a) + special.lgamma(b) - special.lgamma(a + b)


def betainc(a, b, x):
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
