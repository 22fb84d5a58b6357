"""The Bayes risks of EDL (Sensoy et al., 2018, eqs. 3-5), per sample.

Each takes one-hot targets `y` and concentrations `alpha` of the same shape and
returns the risk summed over the last axis.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import strength
from keras_evidential.dirichlet.parameters import with_strength
from keras_evidential.tensor_types import Tensor


def sum_of_squares_risk(y: Tensor, alpha: Tensor) -> Tensor:
    """`sum_j (y_j - p_j)^2 + p_j (1 - p_j) / (S + 1)`, with `p = alpha / S`.

    The risk both m-EDL and TEDL use ("MSE"). Since `sum_j p_j = 1` it equals
    `|y|^2 - 2 y.p + c |p|^2 + 1 / (S + 1)` with `c = S / (S + 1)`, which gives
    its gradient in closed form:
    `d/dalpha_j = (2 / S) (c (p_j - |p|^2) - y_j + y.p)
    + (|p|^2 - 1) / (S + 1)^2` and `d/dy_j = 2 (y_j - p_j)`. Differentiated op
    by op, the risk's gradient is twice as many small ops, which decide the
    cost of a small network's training step in graph mode.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return _sum_of_squares_risk_with_gradient(y, alpha)


@ops.custom_gradient
def _sum_of_squares_risk_with_gradient(y, alpha):
    s = strength(alpha, keepdims=True)
    p = alpha / s
    inv_s_plus_1 = 1.0 / (s + 1.0)
    c = s * inv_s_plus_1
    p_squared = ops.sum(ops.square(p), axis=-1, keepdims=True)
    y_dot_p = ops.sum(y * p, axis=-1, keepdims=True)
    # The unexpanded sum: accurate where y ~ p and the risk is tiny.
    value = ops.sum(ops.square(y - p) + p * (1.0 - p) * inv_s_plus_1, axis=-1)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        upstream = ops.expand_dims(upstream, -1)
        d_alpha = (2.0 / s) * (c * (p - p_squared) - y + y_dot_p) + (
            p_squared - 1.0
        ) * ops.square(inv_s_plus_1)
        return upstream * 2.0 * (y - p), upstream * d_alpha

    return value, grad


def log_risk(y: Tensor, alpha: Tensor) -> Tensor:
    """Type-II maximum likelihood: `sum_j y_j (log S - log alpha_j)`."""
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    s = strength(alpha, keepdims=True)
    return ops.sum(y * (ops.log(s) - ops.log(alpha)), axis=-1)


def digamma_risk(y: Tensor, alpha: Tensor) -> Tensor:
    """Expected cross-entropy: `sum_j y_j (digamma(S) - digamma(alpha_j))`.

    The gradient is given in closed form,
    `d/dalpha_j = (sum_i y_i) trigamma(S) - y_j trigamma(alpha_j)`, with
    `special.gamma_terms`: the backends' own gradient of digamma is a general
    `polygamma` (a Hurwitz zeta series), the slowest op of a large batch.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return _digamma_risk_with_gradient(y, alpha)


@ops.custom_gradient
def _digamma_risk_with_gradient(y, alpha):
    k = alpha.shape[-1]
    alpha_and_s = with_strength(alpha)
    terms = special.gamma_terms(alpha_and_s)
    d_y = terms.digamma[..., k:] - terms.digamma[..., :k]
    value = ops.sum(y * d_y, axis=-1)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        upstream = ops.expand_dims(upstream, -1)
        y_total = ops.sum(y, axis=-1, keepdims=True)
        d_alpha = (
            y_total * terms.trigamma[..., k:] - y * terms.trigamma[..., :k]
        )
        return upstream * d_y, upstream * d_alpha

    return value, grad


def projected_squared_error(y: Tensor, alpha: Tensor) -> Tensor:
    """`sum_j (y_j - alpha_j / S)^2`: the squared error of the mean alone.

    R-EDL's and Re-EDL's empirical risk (Chen et al., 2024, eq. 12): the
    sum-of-squares risk without its variance term
    `sum_j p_j (1 - p_j) / (S + 1)`, which the authors find drives the
    evidence to grow without bound. With `p = alpha / S` a probability vector
    it is also the Brier score of `p`.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    p = alpha / strength(alpha, keepdims=True)
    return ops.sum(ops.square(y - p), axis=-1)


RISKS = {
    "mse": sum_of_squares_risk,
    "log": log_risk,
    "digamma": digamma_risk,
}
