"""The evidence regularisers and Meinert's alternative loss.

Each is per element (one target of one sample); the loss classes in
`keras_evidential.losses.evidential_regression` combine them with
`nig_nll`.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.nig.parameters import as_tensors
from keras_evidential.nig.parameters import total_evidence
from keras_evidential.nig.predictive import student_t_width
from keras_evidential.tensor_types import Tensor


def amini_regularizer(y: Tensor, gamma: Tensor, nu: Tensor, alpha: Tensor) -> Tensor:
    """`|y - gamma| (2 nu + alpha)` (Amini et al. 2020, Eq. 9)."""
    y, gamma, nu, alpha = as_tensors(y, gamma, nu, alpha)
    return ops.abs(y - gamma) * total_evidence(nu, alpha)


def meinert_regularizer(
    y: Tensor, gamma: Tensor, nu: Tensor, alpha: Tensor, beta: Tensor, p: float = 1.0
) -> Tensor:
    """`|(y - gamma) / w_St|^p (2 nu + alpha)` (Meinert et al. 2023, Eq. 11).

    The residual in units of the Student-t width, so that noisy regions do
    not leak into the epistemic uncertainty.
    """
    y, gamma, nu, alpha, beta = as_tensors(y, gamma, nu, alpha, beta)
    scaled = ops.abs(y - gamma) / student_t_width(nu, alpha, beta)
    if p == 1:
        return scaled * total_evidence(nu, alpha)
    if p == 2:
        return ops.square(scaled) * total_evidence(nu, alpha)
    return ops.power(scaled, p) * total_evidence(nu, alpha)


def meinert_alternative_loss(
    y: Tensor, gamma: Tensor, nu: Tensor, beta: Tensor, weight: Tensor
) -> Tensor:
    """`log sigma^2 + (1 + weight nu) (y - gamma)^2 / sigma^2`, `sigma^2 = beta / nu`.

    Meinert et al. (2023), Eq. 12: a Gaussian likelihood whose variance
    `beta / nu` carries `nu` as the epistemic proxy, regularised like Eq. 11
    with `p = 2`. `alpha` is not used.
    """
    y, gamma, nu, beta = as_tensors(y, gamma, nu, beta)
    log_variance = ops.log(beta) - ops.log(nu)
    # nu / beta first: the product (1 + weight nu) r^2 nu overflows float32
    # at nu ~ beta ~ 1e19, where the loss itself is finite.
    return log_variance + (1.0 + weight * nu) * (ops.square(y - gamma) * (nu / beta))


def gaussian_variance(nu: Tensor, beta: Tensor) -> Tensor:
    """`sigma^2 = beta / nu`: the predictive variance under Meinert's alternative loss."""
    nu, beta = as_tensors(nu, beta)
    return beta / nu
