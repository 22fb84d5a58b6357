"""KL regulariser of EDL: shrink the evidence that supports wrong classes."""

from __future__ import annotations

import math

from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import with_strength
from keras_evidential.tensor_types import Tensor


@renamed_argument("prior_weight", "prior_concentration")
def misleading_alpha(
    y: Tensor, alpha: Tensor, prior_concentration: float = 1.0
) -> Tensor:
    """`alpha_tilde = prior_concentration * y + (1 - y) * alpha`: the target's evidence removed.

    `prior_concentration` is R-EDL's `lambda` (`alpha = e + lambda`); the default 1
    is EDL's `y + (1 - y) * alpha`.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return prior_concentration * y + (1.0 - y) * alpha


def kl_to_uniform(alpha: Tensor) -> Tensor:
    """`KL(Dir(alpha) || Dir(1, ..., 1))`, reduced over the last axis.

    `lgamma(S) - lgamma(K) - sum_j lgamma(alpha_j)
    + sum_j (alpha_j - 1) (digamma(alpha_j) - digamma(S))`.

    With `h(x) = x digamma(x) - lgamma(x) - x` and `sum_j alpha_j = S` this is
    `sum_j [h(alpha_j) - digamma(alpha_j)] - h(S) + K digamma(S) - lgamma(K)`,
    the form computed here, each part shifted by its value at alpha = 1 so
    that `KL(Dir(1) || Dir(1))` is exactly 0 and no result is negative (`special.gamma_terms` gives `h` without its
    terms of size `alpha log(alpha)`, which cancel exactly), so float32 stays
    accurate (about 1e-5 relative) up to alpha ~ 1e8 instead of losing all
    digits past ~1e4.

    The gradient is given in closed form,
    `dKL/dalpha_j = (alpha_j - 1) trigamma(alpha_j) - (S - K) trigamma(S)`:
    differentiating the expression above op by op would evaluate the special
    functions' series again for every entry and double the number of small
    ops in every step (210 instead of 102 for loss and gradient).
    """
    return _kl_to_uniform_with_gradient(ops.convert_to_tensor(alpha))


@ops.custom_gradient
def _kl_to_uniform_with_gradient(alpha):
    value, d_alpha = _kl_to_uniform_and_gradient(alpha)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return ops.expand_dims(upstream, -1) * d_alpha

    return value, grad


def _kl_to_uniform_and_gradient(alpha):
    # Under `tf.function` and `jax.jit` the gradient is pruned where unused.
    k = alpha.shape[-1]
    alpha_and_s = with_strength(alpha)
    terms = special.gamma_terms(alpha_and_s)
    alpha_terms = terms.x_digamma_minus_lgamma[..., :k] - terms.digamma[..., :k]
    s = alpha_and_s[..., k:]
    s_terms = k * terms.digamma[..., k:] - terms.x_digamma_minus_lgamma[..., k:]
    # Each part relative to its value at alpha = 1 (g(1) = h(1) - digamma(1)
    # = -1; at S = K the S part is lgamma(K) + K), and exactly 0 there: the
    # KL of Dir(1, ..., 1) is 0, and float32 sums of the unshifted terms
    # (each of size lgamma(K)) left errors of ~1e-6 that made the loss of a
    # perfect prediction negative.
    alpha_part = ops.sum(ops.where(alpha == 1.0, 0.0, alpha_terms + 1.0), axis=-1)
    s_part = ops.where(s == float(k), 0.0, s_terms - (math.lgamma(k) + k))[..., 0]
    # KL >= 0; rounding near alpha = 1 must not make it (and the loss)
    # negative.
    # (relu, not maximum(., 0.0), which returns float32 on PyTorch.)
    value = ops.relu(alpha_part + s_part)
    # (alpha_j - 1) trigamma(alpha_j) - (S - K) trigamma(S)
    d_alpha = (alpha - 1.0) * terms.trigamma[..., :k] - (
        s - float(k)
    ) * terms.trigamma[..., k:]
    return value, d_alpha


def misleading_evidence_kl(y: Tensor, alpha: Tensor) -> Tensor:
    """EDL's regulariser `KL(Dir(alpha_tilde) || Dir(1))` per sample.

    `alpha_tilde = misleading_alpha(y, alpha)`; the gradient is
    `kl_to_uniform`'s, times `1 - y` for `alpha` and `1 - alpha` for `y`,
    given directly rather than through `misleading_alpha`'s ops.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return _misleading_evidence_kl_with_gradient(y, alpha)


@ops.custom_gradient
def _misleading_evidence_kl_with_gradient(y, alpha):
    value, d_alpha_tilde = _kl_to_uniform_and_gradient(misleading_alpha(y, alpha))

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        d_alpha_tilde_scaled = ops.expand_dims(upstream, -1) * d_alpha_tilde
        return (1.0 - alpha) * d_alpha_tilde_scaled, (1.0 - y) * d_alpha_tilde_scaled

    return value, grad


def dirichlet_kl(alpha: Tensor, beta: Tensor) -> Tensor:
    """`KL(Dir(alpha) || Dir(beta))`, reduced over the last axis.

    Formula:
    ```
    KL = lgamma(S_a) - sum_j lgamma(alpha_j) - lgamma(S_b) + sum_j lgamma(beta_j)
         + sum_j (alpha_j - beta_j) (digamma(alpha_j) - digamma(S_a))
       = sum_j D(beta_j, alpha_j) - D(S_b, S_a)
       = S_b KL(beta / S_b || alpha / S_a) + sum_j G(beta_j, alpha_j) - G(S_b, S_a),
    D(b, a) = lgamma(b) - lgamma(a) - (b - a) digamma(a) >= 0
    ```

    with `S_a = sum_j alpha_j`, `S_b = sum_j beta_j`; `beta` broadcasts
    against `alpha` (a scalar gives the symmetric `Dir(beta, ..., beta)`).
    The reverse KL of Prior Networks (Malinin & Gales, 2019) is
    `dirichlet_kl(alpha, target)`; R-EDL's regulariser is
    `dirichlet_kl(misleading_alpha(y, alpha, lambda), lambda)`.

    Why the last form: `D` is the Bregman divergence of the convex `lgamma`
    (the KL of an exponential family), and with `lgamma(x) = (x log x - x)
    + g(x)` it splits into the Bregman divergences of both parts. Those of
    `x log x - x` sum to the categorical KL of the normalised vectors, a sum
    of terms >= 0; `G`, that of the convex `g(x) ~ -log(x) / 2`, is O(1)
    where b / a is, however large a and b (`_kl_parts`). Both are computed
    from `beta - alpha` without any term of size S, so nothing cancels
    much. The first form's lgamma terms of size `S log S` left 0.4-1.7 %
    relative error in float32 at S = 1e2..1e6, and the D's (~S each), for
    nearly proportional alpha and beta (alpha = 2 beta, where the KL is
    O(K)), 10-50 % at entries 1e5..1e6.

    Accuracy (against mpmath): `|error| <= 1e-4 KL + 8 eps C`, with `eps`
    the dtype's machine epsilon and `C = sum_j (alpha_j |dKL/dalpha_j| +
    beta_j |dKL/dbeta_j|)`, by how much a relative change of eps in the
    inputs (their rounding) moves the KL; so the relative error is <= 1e-3
    wherever `eps C <= 1e-4 KL`. Measured in float32: each KL within 4e-6
    relative or within 0.4 eps C (alpha = c beta (1 + delta) for c = 1,
    2, 0.37, entries 1e3..1e7, K = 2..100). Float64 inputs are computed in
    float64 (longer series): measured <= 1e-13 relative.

    The gradient is given in closed form:
    `dKL/dalpha_j = (alpha_j - beta_j) trigamma(alpha_j) - (S_a - S_b) trigamma(S_a)`,
    `dKL/dbeta_j = digamma(beta_j) - digamma(S_b) - digamma(alpha_j) + digamma(S_a)`.
    """
    alpha = ops.convert_to_tensor(alpha)
    beta = ops.cast(ops.convert_to_tensor(beta), alpha.dtype) + ops.zeros_like(alpha)
    return _dirichlet_kl_with_gradient(alpha, beta)


@ops.custom_gradient
def _dirichlet_kl_with_gradient(alpha, beta):
    k = alpha.shape[-1]
    alpha_and_s = with_strength(alpha)
    beta_and_s = with_strength(beta)
    # S_b - S_a as the sum of the differences: S's column is then exactly 0
    # where alpha = beta, like the entries'.
    difference = beta - alpha
    difference_and_s = ops.concatenate(
        [difference, ops.sum(difference, axis=-1, keepdims=True)], axis=-1
    )
    categorical, divergences = _kl_parts(beta_and_s, alpha_and_s, difference_and_s)
    # KL >= 0; rounding must not make it (and the loss) negative.
    value = ops.relu(
        ops.sum(categorical[..., :k] + divergences[..., :k], axis=-1)
        - divergences[..., k]
    )

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        upstream = ops.expand_dims(upstream, -1)
        # One pass of the special functions over [alpha, S_a, beta, S_b].
        terms = special.gamma_terms(
            ops.concatenate([alpha_and_s, beta_and_s], axis=-1)
        )
        trigamma, digamma = terms.trigamma, terms.digamma
        d_alpha = (
            difference_and_s[..., k:] * trigamma[..., k : k + 1]
            - difference * trigamma[..., :k]
        )
        d_beta = (
            digamma[..., k + 1 : 2 * k + 1]
            - digamma[..., 2 * k + 1 :]
            - digamma[..., :k]
            + digamma[..., k : k + 1]
        )
        return upstream * d_alpha, upstream * d_beta

    return value, grad


def _kl_parts(b, a, difference):
    """`C` and `G` of `KL = sum_j (C_j + G_j) - G_S`, over `[..., K + 1]`.

    `a`, `b` are alpha and beta with their sums S_a, S_b as last column and
    `difference = b - a`. Splitting `lgamma = f + g` with `f(x) = x log x - x`:

    - `C_j = b_j log(b_j / a'_j) - b_j + a'_j >= 0`, `a' = a S_b / S_a`
      (alpha rescaled to beta's total), sums to the f part,
      `sum_j D_f(b_j, a_j) - D_f(S_b, S_a) = S_b KL(beta / S_b || alpha / S_a)`;
      C's last column is not used.
    - `G = D_g(b, a)`, the Bregman divergence of the convex
      `g(x) = lgamma(x) - f(x) ~ -log(x) / 2`, which is O(1) where
      b / a is, however large a and b (D_f is ~b): with `lgamma(x) =
      lgamma(x + n) - sum_{i<n} log(x + i)` and Stirling's series at `x + n`,

      ```
      G(b, a) = b phi(-n v / b) + (n - 1/2) phi(v) - sum_{i<n} phi(x_i)
                + D_omega(b + n, a + n)
      ```

      with `x_i = (b - a) / (a + i)`, `v = x_n`, `phi(x) = log1p(x) - x`
      and omega Stirling's remainder (`b phi(-n v / b) + n phi(v)` is
      `D_f(b + n, a + n) - D_f(b, a)`).

    Every part is small and no sum of them cancels much: where alpha and
    beta are nearly proportional at large S, the D's of `lgamma` itself
    (~S each) cancelled to a KL of O(K), losing ~2e-8 S in float32.
    """
    precision = special.accuracy(a.dtype)
    shift, stirling_terms = special.series_length(a.dtype)
    k = a.shape[-1] - 1
    a_shifted = a + float(shift)
    b_shifted = b + float(shift)
    v = difference / a_shifted
    a_rescaled = a * (b[..., k:] / a[..., k:])
    # The arguments of `_log1p_excesses` side by side on a new last axis
    # (one pass of its ops): x_0 .. x_n, then -n v / b, then C's.
    a_psi1, phi = _log1p_excesses(
        ops.stack(
            [difference] * (shift + 1) + [-float(shift) * v, b - a_rescaled],
            axis=-1,
        ),
        ops.stack(
            [b]
            + [b + float(i) for i in range(1, shift)]
            + [b_shifted, a * (b_shifted / a_shifted), b],
            axis=-1,
        ),
        ops.stack(
            [a]
            + [a + float(i) for i in range(1, shift)]
            + [a_shifted, b, a_rescaled],
            axis=-1,
        ),
        _ATANH_TERMS[precision],
    )
    phi_weights = ops.convert_to_tensor([-1.0] * shift + [shift - 0.5], a.dtype)
    divergence = (
        ops.sum(phi[..., : shift + 1] * phi_weights, axis=-1)
        + b * phi[..., shift + 1]
        + _stirling_remainder_bregman(
            b_shifted, a_shifted, difference, stirling_terms
        )
    )
    return a_psi1[..., shift + 2], divergence


# Terms of the series of atanh(u) - u = u^3 sum_i u^(2i) / (2i + 3) for
# |u| <= 1/3 (b / a in [1/2, 2]): 7 reach 4e-8 relative, 17 reach 5e-17.
# (A bound of 1/5 with 5 terms saves 4 float32 ops but leaves the direct
# forms more of the range where they cancel.)
_ATANH_TERMS = {"float32": 7, "float64": 17}
_SERIES_BOUND = 1.0 / 3.0


def _log1p_excesses(difference, b, a, terms):
    """`a psi1(x)` and `phi(x)`, `x = (b - a) / a = difference / a`.

    `phi(x) = log1p(x) - x <= 0` and `psi1(x) = (1 + x) log1p(x) - x >= 0`,
    both ~`x^2 / 2` near 0, where the direct forms cancel: there, with
    `u = x / (2 + x) = difference / (a + b)` and `log1p(x) = 2 atanh(u)`,
    `phi = -u^2 (a + b) / a + 2 A` and `a psi1 = u^2 (a + b) + 2 b A`, with
    `A = atanh(u) - u` from its series (no cancellation). Elsewhere
    (|u| > 1/3: b / a outside [1/2, 2]) the direct forms lose at most a
    factor 4 and use `log(b / a)`, accurate also for b << a.
    """
    total = a + b
    u = difference / total
    u_squared = ops.square(u)
    coefficients = tuple(1.0 / (2 * i + 3) for i in range(terms))
    series = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        series = coefficient + u_squared * series
    atanh_excess = u * u_squared * series
    log_ratio = ops.log(b / a)
    near = ops.abs(u) <= _SERIES_BOUND
    phi = ops.where(
        near, 2.0 * atanh_excess - u_squared * total / a, log_ratio - difference / a
    )
    a_psi1 = ops.where(
        near, u_squared * total + 2.0 * b * atanh_excess, b * log_ratio - difference
    )
    return a_psi1, phi


def _stirling_remainder_bregman(b, a, difference, terms):
    """`omega(b) - omega(a) - (b - a) omega'(a)` for a, b >= 4, elementwise.

    `omega(y) = sum_m c_m y^-(2m - 1)` is Stirling's remainder
    (`special.stirling_coefficients`). The divergence of each power
    `y^-n` is `b^-n - a^-n + n (b - a) a^-(n + 1) = p q P_n` with
    `p = (b - a) / a`, `q = (b - a) / b` and the positive sum
    `P_n = sum_{l<n} (n - l) a^-(n - l) b^-l`, so nothing cancels, and
    nothing overflows for any finite a, b (`|p q| <= max(a / b, b / a)`,
    `P_n <= n^2 / 4^n`): the direct form cancelled, and the products of
    an earlier form, ~(a / b)^3, overflowed float32 once a / b >~ 1e12.
    `P_n = (P_(n-1) + T_(n-1)) / a` with `T_n = sum_{l<=n} a^-(n-l) b^-l
    = T_(n-1) / a + b^-n`.
    """
    coefficients = special.stirling_coefficients(terms)
    a_reciprocal = 1.0 / a
    b_reciprocal = 1.0 / b
    polynomial = a_reciprocal  # P_1
    complete = a_reciprocal + b_reciprocal  # T_1
    b_power = b_reciprocal
    remainder = coefficients[0] * polynomial
    for n in range(2, 2 * terms):
        polynomial = a_reciprocal * (polynomial + complete)
        if n % 2:
            remainder = remainder + coefficients[n // 2] * polynomial
        if n + 1 < 2 * terms:
            b_power = b_power * b_reciprocal
            complete = a_reciprocal * complete + b_power
    return (difference * a_reciprocal) * (difference * b_reciprocal) * remainder
