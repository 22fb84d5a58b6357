"""KL regulariser of EDL: shrink the evidence that supports wrong classes."""

import math

from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import with_strength


@renamed_argument("prior_weight", "prior_concentration")
def misleading_alpha(y, alpha, prior_concentration=1.0):
    """`alpha_tilde = prior_concentration * y + (1 - y) * alpha`: the target's evidence removed.

    `prior_concentration` is R-EDL's `lambda` (`alpha = e + lambda`); the default 1
    is EDL's `y + (1 - y) * alpha`.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return prior_concentration * y + (1.0 - y) * alpha


def kl_to_uniform(alpha):
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


def misleading_evidence_kl(y, alpha):
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


def dirichlet_kl(alpha, beta):
    """`KL(Dir(alpha) || Dir(beta))`, reduced over the last axis.

    Formula:
    ```
    KL = lgamma(S_a) - sum_j lgamma(alpha_j) - lgamma(S_b) + sum_j lgamma(beta_j)
         + sum_j (alpha_j - beta_j) (digamma(alpha_j) - digamma(S_a))
       = sum_j D(beta_j, alpha_j) - D(S_b, S_a),
    D(b, a) = lgamma(b) - lgamma(a) - (b - a) digamma(a) >= 0
    ```

    with `S_a = sum_j alpha_j`, `S_b = sum_j beta_j`; `beta` broadcasts
    against `alpha` (a scalar gives the symmetric `Dir(beta, ..., beta)`).
    The reverse KL of Prior Networks (Malinin & Gales, 2019) is
    `dirichlet_kl(alpha, target)`; R-EDL's regulariser is
    `dirichlet_kl(misleading_alpha(y, alpha, lambda), lambda)`.

    Why the second form: in float32 the first one's lgamma terms of size
    `S log S` cancel to a KL of size ~`S delta^2` (`delta` the relative
    difference of `alpha` and `beta`), which left 0.4-1.7 % relative error at
    S = 1e2..1e6. `D` is the Bregman divergence of the convex `lgamma` (the
    KL of an exponential family); `_lgamma_bregman` computes it from
    `b - a` without any large term, to ~1e-6 relative, so the KL keeps
    ~1e-7 of `sum_j D_j + D_S`: measured 1e-7..1.4e-6 relative for S from
    1e-2 to 1e6 and K up to 100 (`experiments/kl_accuracy`). Only where
    `alpha` and `beta` are near-proportional at large S (`alpha = 2 beta`)
    do the two sums cancel to the KL's O(K) size; the error there is
    ~2e-8 S (0.15-0.44 at S = 2e7, where the lgamma form gave ~1e-7 S log S).

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
    # S_b - S_a as the sum of the differences: the first-order terms of the
    # D's cancel only if they use the same differences.
    difference = beta - alpha
    difference_and_s = ops.concatenate(
        [difference, ops.sum(difference, axis=-1, keepdims=True)], axis=-1
    )
    divergences, far = _lgamma_bregman(beta_and_s, alpha_and_s, difference_and_s)
    # D = divergences - far * (b - a). Where an entry and S are both far,
    # the linear terms cancel analytically (sum_j (b_j - a_j) = S_b - S_a):
    # with alpha >> beta they are ~S_a and the KL only ~S_b log K.
    far_s = far[..., k]
    linear = ops.where(
        far_s,
        ops.sum(ops.where(far[..., :k], 0.0, difference), axis=-1),
        -ops.sum(ops.where(far[..., :k], difference, 0.0), axis=-1),
    )
    # KL >= 0; rounding must not make it (and the loss) negative.
    value = ops.relu(
        ops.sum(divergences[..., :k], axis=-1) - divergences[..., k] + linear
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


# Upward recurrence steps before Stirling's series, as in `special`: from
# a + 4 >= 4 on, the omitted 1/(1680 x^7) term of lgamma is below 1e-7 of D.
_SHIFT = 4

# atanh(u) - u = u^3 sum_i u^(2i) / (2i + 3); 7 terms reach 1e-8 relative for
# |u| <= 1/3 (b / a in [1/2, 2]), where the series is used. (A bound of 1/5
# with 5 terms saves 4 ops but leaves the direct forms more of the range
# where they cancel: 3x the error for alpha = 2 beta.)
_ATANH_SERIES = tuple(1.0 / (2 * i + 3) for i in range(7))
_SERIES_BOUND = 1.0 / 3.0


def _log1p_excesses(difference, b, a):
    """`a * psi1(x)` and `phi(x)`, `x = (b - a) / a = difference / a`.

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
    series = _ATANH_SERIES[-1]
    for coefficient in reversed(_ATANH_SERIES[:-1]):
        series = coefficient + u_squared * series
    atanh_excess = u * u_squared * series
    log_ratio = ops.log(b / a)
    near = ops.abs(u) <= _SERIES_BOUND
    phi = ops.where(
        near, 2.0 * atanh_excess - u_squared * total / a, log_ratio - difference / a
    )
    # The direct a psi1 without its linear term -difference: the caller
    # adds it back (or cancels it analytically) where `near` is false.
    a_psi1 = ops.where(
        near, u_squared * total + 2.0 * b * atanh_excess, b * log_ratio
    )
    return a_psi1, phi, ops.logical_not(near)


def _lgamma_bregman(b, a, difference):
    """`lgamma(b) - lgamma(a) - (b - a) digamma(a)` for a, b > 0, elementwise.

    With `lgamma(x) = lgamma(x + 4) - sum_{k<4} log(x + k)` and Stirling's
    series for the shifted arguments `a' = a + 4`, `b' = b + 4`:

    ```
    D(b, a) = a' psi1(x') - phi(x') / 2 + D_omega(b', a') - sum_{k<4} phi(x_k)
    ```

    with `x_k = (b - a) / (a + k)`, `x' = x_4`, and `omega(x) = 1/(12 x)
    - 1/(360 x^3) + 1/(1260 x^5)` Stirling's remainder, whose Bregman
    divergence is written in `p = x'`, `w = (b - a) / (a' b')` and `1 / b'`
    so that nothing overflows (finite for any float32 a, b). Every part is >= 0 except omega's small x^-3 term
    and is computed from `difference = b - a`, so D is accurate to ~1e-6
    relative, also where a, b ~ 1e6 and D ~ 1e-6 a.

    Returns `(D + far * (b - a), far)`: the linear term of the direct form,
    `-(b - a)` where `far`, is left to the caller.
    """
    # The five arguments of `_log1p_excesses` side by side on a new last
    # axis: one pass of its ops instead of five (op count is what costs in
    # eager mode and in small graphs).
    shifts = ops.cast(ops.arange(_SHIFT + 1), a.dtype)
    difference = ops.expand_dims(difference, -1)
    a_psi1, phi, far = _log1p_excesses(
        difference, ops.expand_dims(b, -1) + shifts, ops.expand_dims(a, -1) + shifts
    )
    difference = difference[..., 0]
    phi_weights = ops.convert_to_tensor([-1.0] * _SHIFT + [-0.5], a.dtype)
    a_shifted = a + float(_SHIFT)
    b_shifted = b + float(_SHIFT)
    a_reciprocal = 1.0 / a_shifted
    b_reciprocal = 1.0 / b_shifted
    p = difference * a_reciprocal
    w = p * b_reciprocal
    # Stirling remainder's divergence in p = (b - a) / a', w = (b - a) /
    # (a' b') (|w| <= 1/4) and 1 / b': the x^-3 and x^-5 terms, written in
    # rho = a' / b' and q = (b - a) / b', had products ~rho^3 that
    # overflowed float32 (NaN) once a' / b' >~ 1e12.
    omega = p * w / 12.0 + ops.square(w) * (
        (6.0 * a_reciprocal + w * (2.0 + 3.0 * p)) / -360.0
        + (
            b_reciprocal
            * (b_reciprocal * (15.0 * b_reciprocal + 40.0 * w) + 45.0 * ops.square(w))
            + ops.square(w) * w * (24.0 + 5.0 * p)
        )
        / 1260.0
    )
    divergence = a_psi1[..., _SHIFT] + ops.sum(phi * phi_weights, axis=-1) + omega
    return divergence, far[..., _SHIFT]
