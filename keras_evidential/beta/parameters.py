"""Beta parameters of a binary or multi-label evidential prediction.

Notation (Aguilar, Raducanu & Radeva, 2025): for label l, positive evidence
`e+_l >= 0` and negative evidence `e-_l >= 0`, `alpha_l = e+_l + 1`,
`beta_l = e-_l + 1`, strength `S_l = alpha_l + beta_l`. The parameters of
all labels are one tensor `params` of shape `(..., L, 2)`: `params[..., 0]`
is alpha (label present), `params[..., 1]` beta (label absent). Read as the
concentrations of a Dirichlet over the two outcomes (present, absent), each
row is the K = 2 case of `keras_evidential.dirichlet`.
"""

from __future__ import annotations

from keras import ops

from keras_evidential import dirichlet
from keras_evidential.tensor_types import Tensor


def _checked(params):
    params = ops.convert_to_tensor(params)
    if len(params.shape) < 2 or params.shape[-1] != 2:
        raise ValueError(
            "Beta parameters must have shape (..., L, 2): (alpha, beta) for "
            "each of L labels, as `BetaOutput` outputs. "
            f"Received: params.shape={tuple(params.shape)}"
        )
    return params


def split_beta(params: Tensor) -> tuple[Tensor, Tensor]:
    """`(alpha, beta)`, each of shape `(..., L)`, from `params` `(..., L, 2)`."""
    params = _checked(params)
    return params[..., 0], params[..., 1]


def beta_parameters(alpha: Tensor, beta: Tensor) -> Tensor:
    """`params` of shape `(..., L, 2)` from `alpha` and `beta` of shape `(..., L)`."""
    return ops.stack([ops.convert_to_tensor(alpha), ops.convert_to_tensor(beta)], axis=-1)


def bernoulli_targets(y: Tensor) -> Tensor:
    """`(y, 1 - y)` on a last axis of 2: a 0/1 label as the one-hot target of
    the K = 2 Dirichlet (present, absent)."""
    y = ops.convert_to_tensor(y)
    return ops.stack([y, 1.0 - y], axis=-1)


def strength(params: Tensor) -> Tensor:
    """`S_l = alpha_l + beta_l`, shape `(..., L)`."""
    return dirichlet.strength(_checked(params))


def expected_probability(params: Tensor) -> Tensor:
    """Mean of `Beta(alpha_l, beta_l)`: `p_l = alpha_l / (alpha_l + beta_l)`.

    The probability that label l is present; shape `(..., L)`.
    """
    params = _checked(params)
    return dirichlet.expected_probability(params)[..., 0]


def vacuity(params: Tensor) -> Tensor:
    """Per-label uncertainty mass `u_l = 2 / (alpha_l + beta_l)`, in (0, 1].

    The K = 2 case of the Dirichlet vacuity `K / S`: 1 without evidence
    (`Beta(1, 1)`), falling as positive or negative evidence grows.
    """
    return dirichlet.vacuity(_checked(params))


def variance(params: Tensor) -> Tensor:
    """Variance of `Beta(alpha_l, beta_l)`: `alpha beta / (S^2 (S + 1))`."""
    alpha, beta = split_beta(params)
    s = alpha + beta
    return alpha * beta / (ops.square(s) * (s + 1.0))
