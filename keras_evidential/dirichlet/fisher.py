"""The Fisher information of a Dirichlet and I-EDL's terms built on it.

Deng et al. (ICML 2023), eq. 5 and Appendix A.1: the Fisher information
matrix of `Dir(alpha)` is `I(alpha) = diag(psi1(alpha)) - psi1(S) 1 1^T`
(`psi1` the trigamma function), whose log-determinant is

```
log |I(alpha)| = sum_j log psi1(alpha_j) + log(1 - psi1(S) sum_j 1 / psi1(alpha_j))
```
"""

from __future__ import annotations

from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import strength
from keras_evidential.dirichlet.parameters import with_strength
from keras_evidential.tensor_types import Tensor


# Where `g(x) = 1 / psi1(x) - x + 1/2` switches from the direct difference to
# its asymptotic series: below it the difference loses at most ~x * 2e-7 to
# float32 rounding; above it the series' first omitted term is < 1e-9.
_SERIES_FROM = 10.0

# `g(x) = sum_i c_i / x^i`, i = 1..6, from `1 / psi1(x)` with
# `psi1(x) ~ 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1)` (inverted with SymPy).
_G_SERIES = (1 / 12, 1 / 24, -1 / 720, -11 / 480, -113 / 12096, 527 / 24192)


def trigamma(x: Tensor) -> Tensor:
    """`psi1(x)`, the derivative of digamma, for x > 0 (`special.gamma_terms`)."""
    return special.gamma_terms(ops.convert_to_tensor(x)).trigamma


def _inverse_trigamma_excess(x, trigamma_x):
    """`g(x) = 1 / psi1(x) - (x - 1/2)`, accurate for every x > 0.

    `1 / psi1(x) ~ x - 1/2` for large x, so the log-determinant's inner term,
    which is `psi1(S) ((K - 1) / 2 + g(S) - sum_j g(alpha_j))`, would be a
    difference of numbers near `S` computed directly; with `g` it is not.
    """
    direct = 1.0 / trigamma_x - x + 0.5
    u = 1.0 / ops.maximum(x, _SERIES_FROM)
    series = _G_SERIES[-1]
    for coefficient in reversed(_G_SERIES[:-1]):
        series = coefficient + u * series
    return ops.where(x < _SERIES_FROM, direct, u * series)


def log_fisher_determinant(alpha: Tensor) -> Tensor:
    """`log |I(alpha)|` of `Dir(alpha)`, reduced over the last axis.

    Formula:
    ```
    log |I(alpha)| = sum_j log psi1(alpha_j)
                     + log(1 - psi1(S) sum_j 1 / psi1(alpha_j))
    ```

    The second log's argument is `psi1(S) (1 / psi1(S) - sum_j 1 / psi1(alpha_j))`,
    which cancels to ~(K - 1) / (2 S) as the Dirichlet sharpens; it is
    computed as `psi1(S) ((K - 1) / 2 + g(S) - sum_j g(alpha_j))` with
    `g(x) = 1 / psi1(x) - x + 1/2` (a short asymptotic series for x >= 10), so
    it stays accurate in float32 for alpha up to ~1e8.

    Reference:
    - Deng et al., I-EDL, ICML 2023, eq. 7
    """
    alpha = ops.convert_to_tensor(alpha)
    k = alpha.shape[-1]
    alpha_and_s = with_strength(alpha)
    psi1 = trigamma(alpha_and_s)
    excess = _inverse_trigamma_excess(alpha_and_s, psi1)
    inner = (
        0.5 * (float(k) - 1.0)
        + excess[..., k]
        - ops.sum(excess[..., :k], axis=-1)
    )
    return (
        ops.sum(ops.log(psi1[..., :k]), axis=-1)
        + ops.log(psi1[..., k])
        + ops.log(inner)
    )


def fisher_sum_of_squares_risk(y: Tensor, alpha: Tensor) -> Tensor:
    """I-EDL's Fisher-weighted expected squared error, per sample.

    Formula:
    ```
    L_I-MSE = sum_j [(y_j - alpha_j / S)^2
                     + alpha_j (S - alpha_j) / (S^2 (S + 1))] psi1(alpha_j)
    ```

    EDL's sum-of-squares risk with every class's term weighted by its Fisher
    information `psi1(alpha_j)`: a class with little evidence weighs more.

    Reference:
    - Deng et al., I-EDL, ICML 2023, eq. 5
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    s = strength(alpha, keepdims=True)
    p = alpha / s
    variance = p * (1.0 - p) / (s + 1.0)
    return ops.sum((ops.square(y - p) + variance) * trigamma(alpha), axis=-1)
