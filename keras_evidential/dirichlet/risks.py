"""The Bayes risks of EDL (Sensoy et al., 2018, eqs. 3-5), per sample.

Each takes one-hot targets `y` and concentrations `alpha` of the same shape and
returns the risk summed over the last axis.
"""

from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import strength
from keras_evidential.dirichlet.parameters import with_strength


def sum_of_squares_risk(y, alpha):
    """`sum_j (y_j - p_j)^2 + p_j (1 - p_j) / (S + 1)`, with `p = alpha / S`.

    The risk both m-EDL and TEDL use ("MSE").
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    s = strength(alpha, keepdims=True)
    p = alpha / s
    error = ops.square(y - p)
    variance = p * (1.0 - p) / (s + 1.0)
    return ops.sum(error + variance, axis=-1)


def log_risk(y, alpha):
    """Type-II maximum likelihood: `sum_j y_j (log S - log alpha_j)`."""
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    s = strength(alpha, keepdims=True)
    return ops.sum(y * (ops.log(s) - ops.log(alpha)), axis=-1)


def digamma_risk(y, alpha):
    """Expected cross-entropy: `sum_j y_j (digamma(S) - digamma(alpha_j))`.

    The gradient is given in closed form,
    `d/dalpha_j = (sum_i y_i) trigamma(S) - y_j trigamma(alpha_j)`, with
    `special.trigamma`: the backends' own gradient of digamma is a general
    `polygamma` (a Hurwitz zeta series), the slowest op of a large batch.
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    return _digamma_risk_with_gradient(y, alpha)


@ops.custom_gradient
def _digamma_risk_with_gradient(y, alpha):
    k = alpha.shape[-1]
    alpha_and_s = with_strength(alpha)
    digammas = special.digamma(alpha_and_s)
    d_y = digammas[..., k:] - digammas[..., :k]
    value = ops.sum(y * d_y, axis=-1)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        upstream = ops.expand_dims(upstream, -1)
        trigammas = special.trigamma(alpha_and_s)
        y_total = ops.sum(y, axis=-1, keepdims=True)
        d_alpha = y_total * trigammas[..., k:] - y * trigammas[..., :k]
        return upstream * d_y, upstream * d_alpha

    return value, grad


RISKS = {
    "mse": sum_of_squares_risk,
    "log": log_risk,
    "digamma": digamma_risk,
}
