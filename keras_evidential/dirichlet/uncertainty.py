"""Uncertainty measures of a Dirichlet prediction.

Pure functions on the concentrations `alpha` (shape `(..., K)`), reduced over
the last axis. Vacuity `K / S`, belief masses, the strength `S` and the mean
`p_bar` live in `parameters.py`; m-EDL's `p_hat` is the mean of
`add_unknown_class(alpha)`, its `p_hat_u` that Dirichlet's vacuity, and
`known_class_probability` maps `p_hat` back to `p_bar`.

Entropies are in nats. Notation: `S = alpha0 = sum_k alpha_k`,
`p_bar = alpha / S`, `psi` the digamma function.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import belief
from keras_evidential.dirichlet.parameters import expected_probability
from keras_evidential.dirichlet.parameters import num_classes
from keras_evidential.dirichlet.parameters import strength
from keras_evidential.tensor_types import Tensor


def total_entropy(alpha: Tensor) -> Tensor:
    """Entropy of the expected categorical: `-sum_k p_bar_k log p_bar_k`.

    Total predictive uncertainty; at most `log K`. `alpha >= 1` keeps every
    `p_bar_k > 0`, so the log is finite.
    """
    alpha = ops.convert_to_tensor(alpha)
    p = expected_probability(alpha)
    return -ops.sum(p * ops.log(p), axis=-1)


def expected_entropy(alpha: Tensor) -> Tensor:
    """Expected entropy of `p ~ Dir(alpha)`: the aleatoric part.

    `E[H(p)] = -sum_k p_bar_k (psi(alpha_k + 1) - psi(S + 1))`.
    """
    alpha = ops.convert_to_tensor(alpha)
    s = strength(alpha, keepdims=True)
    one = ops.cast(1.0, alpha.dtype)
    return -ops.sum(
        (alpha / s) * (special.digamma(alpha + one) - special.digamma(s + one)),
        axis=-1,
    )


def mutual_information(alpha: Tensor) -> Tensor:
    """Mutual information between the label and `p`: the epistemic part.

    `total_entropy - expected_entropy`, >= 0 in exact arithmetic; in float32
    a Dirichlet with a very large strength can give values a few ulp below 0.
    """
    alpha = ops.convert_to_tensor(alpha)
    return total_entropy(alpha) - expected_entropy(alpha)


def expected_pairwise_kl(alpha: Tensor) -> Tensor:
    """EPKL, the expected KL between two draws of `Dir(alpha)`: `(K - 1) / S`.

    `E_{p, q ~ Dir(alpha)}[KL(Cat(p) || Cat(q))]` (Malinin & Gales, 2019).
    """
    alpha = ops.convert_to_tensor(alpha)
    return (num_classes(alpha) - ops.cast(1.0, alpha.dtype)) / strength(alpha)


def differential_entropy(alpha: Tensor) -> Tensor:
    """Differential entropy of `Dir(alpha)` over the simplex.

    `log B(alpha) + (S - K) psi(S) - sum_k (alpha_k - 1) psi(alpha_k)`, with
    `log B(alpha) = sum_k lgamma(alpha_k) - lgamma(S)`. At most 0 (the uniform
    `Dir(1)`), and unbounded below as the Dirichlet sharpens.
    """
    alpha = ops.convert_to_tensor(alpha)
    s = strength(alpha)
    one = ops.cast(1.0, alpha.dtype)
    log_beta = ops.sum(special.lgamma(alpha), axis=-1) - special.lgamma(s)
    return (
        log_beta
        + (s - num_classes(alpha)) * special.digamma(s)
        - ops.sum((alpha - one) * special.digamma(alpha), axis=-1)
    )


def _divide_or_zero(numerator, denominator):
    """`numerator / denominator`, and 0 where the denominator is 0.

    `ops.where` differentiates both branches, so the denominator is made safe
    first: a bare division would put NaN into the gradient at 0 / 0.
    """
    nonzero = denominator > 0
    safe = ops.where(nonzero, denominator, ops.ones_like(denominator))
    return ops.where(nonzero, numerator / safe, ops.zeros_like(numerator))


@renamed_argument("prior_weight", "prior_concentration")
def dissonance(alpha: Tensor, prior_concentration: float = 1.0) -> Tensor:
    """Dissonance of the belief masses (Josang, Subjective Logic, 2016).

    Formula:
    ```
    diss = sum_k b_k * sum_{j != k} b_j Bal(b_j, b_k) / sum_{j != k} b_j
    Bal(b_j, b_k) = 1 - |b_j - b_k| / (b_j + b_k)
    ```

    with `b = belief(alpha, prior_concentration)` (R-EDL's `lambda`; 1 for EDL).
    High when evidence is strong but split between
    classes (conflict), low when it supports one class or is absent (then
    the opinion is vacuous, not dissonant). `Bal` is 0 where
    `b_j + b_k = 0`, and a class's term is 0 where all other beliefs are 0;
    both are computed so that gradients stay finite there. In [0, 1).
    Memory grows as `K^2` per sample.
    """
    alpha = ops.convert_to_tensor(alpha)
    b = belief(alpha, prior_concentration)
    b_j = b[..., None, :]
    b_k = b[..., :, None]
    balance = ops.cast(1.0, b.dtype) - _divide_or_zero(ops.abs(b_j - b_k), b_j + b_k)
    balance = ops.where(b_j + b_k > 0, balance, ops.zeros_like(balance))
    k = ops.shape(b)[-1]
    off_diagonal = ops.cast(1.0, b.dtype) - ops.eye(k, dtype=b.dtype)
    supported = ops.sum(off_diagonal * b_j * balance, axis=-1)
    others = ops.sum(off_diagonal * b_j, axis=-1)
    return ops.sum(b * _divide_or_zero(supported, others), axis=-1)
