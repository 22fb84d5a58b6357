"""Dirichlet parameters and the quantities of subjective logic built on them.

Notation (Sensoy et al., 2018): K classes, evidence e >= 0, concentration
alpha = e + 1, Dirichlet strength S = sum_k alpha_k. Every function reduces over
the last axis and keeps the leading (batch) axes.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.tensor_types import Tensor


@renamed_argument("prior_weight", "prior_concentration")
def alpha_from_evidence(evidence: Tensor, prior_concentration: float = 1.0) -> Tensor:
    """Dirichlet concentration `alpha = evidence + prior_concentration`.

    The default `prior_concentration=1` is EDL's `alpha = e + 1`; R-EDL (Chen et al.,
    2024) treats it as a hyperparameter `lambda` (0.1 on MNIST).
    """
    evidence = ops.convert_to_tensor(evidence)
    return evidence + ops.cast(prior_concentration, evidence.dtype)


def num_classes(alpha: Tensor) -> Tensor:
    """K, the size of the last axis, as a float of `alpha`'s dtype."""
    alpha = ops.convert_to_tensor(alpha)
    return ops.cast(ops.shape(alpha)[-1], alpha.dtype)


def strength(alpha: Tensor, keepdims: bool = False) -> Tensor:
    """Dirichlet strength `S = sum_k alpha_k`."""
    alpha = ops.convert_to_tensor(alpha)
    return ops.sum(alpha, axis=-1, keepdims=keepdims)


def with_strength(alpha: Tensor) -> Tensor:
    """`[alpha_1, ..., alpha_K, S]`: one tensor for the per-entry functions.

    The KL regulariser, the digamma risk and their gradients apply the same
    special functions to every `alpha_j` and to `S`; one call on the
    concatenation instead of two halves the number of ops, the main cost of
    the loss for small batches in graph mode.
    """
    alpha = ops.convert_to_tensor(alpha)
    if alpha.shape[-1] is None:
        raise ValueError(
            "`alpha` needs a known number of classes (last axis). "
            f"Received: alpha.shape={tuple(alpha.shape)}"
        )
    return ops.concatenate([alpha, strength(alpha, keepdims=True)], axis=-1)


def expected_probability(alpha: Tensor) -> Tensor:
    """Mean of Dir(alpha): `p_bar = alpha / S`."""
    alpha = ops.convert_to_tensor(alpha)
    return alpha / strength(alpha, keepdims=True)


@renamed_argument("prior_weight", "prior_concentration")
def belief(alpha: Tensor, prior_concentration: float = 1.0) -> Tensor:
    """Belief masses `b_k = (alpha_k - lambda) / S`; they sum to `1 - vacuity`.

    `prior_concentration` is R-EDL's `lambda` (`alpha = e + lambda`, so
    `b_k = e_k / S`); the default 1 is EDL's `(alpha_k - 1) / S`.
    """
    alpha = ops.convert_to_tensor(alpha)
    return (alpha - ops.cast(prior_concentration, alpha.dtype)) / strength(alpha, keepdims=True)


@renamed_argument("prior_weight", "prior_concentration")
def vacuity(alpha: Tensor, prior_concentration: float = 1.0) -> Tensor:
    """Uncertainty mass `u = prior_concentration * K / S`, in (0, 1].

    With R-EDL's prior weight `lambda` (`alpha = e + lambda`) the vacuous
    opinion has `S = lambda K`, so `u = lambda K / S`; the default 1 is EDL's
    `K / S`.
    """
    alpha = ops.convert_to_tensor(alpha)
    return ops.cast(prior_concentration, alpha.dtype) * num_classes(alpha) / strength(alpha)


def add_unknown_class(alpha: Tensor) -> Tensor:
    """m-EDL's extension from K to K + 1 classes (Nagahama, 2023).

    Extending the vacuity `b_u = K / S` as a belief `(alpha_u - 1) / S` gives
    `alpha_u = K + 1`, appended as the last class. The mean of the result is
    `p_hat`: `p_hat_k = alpha_k / S+`, `p_hat_u = (K + 1) / S+`, summing to 1.
    Since `p_hat_u = (K + 1) / S+` it equals the vacuity of the extended
    Dirichlet, so `vacuity` applies to both forms.
    """
    alpha = ops.convert_to_tensor(alpha)
    k = num_classes(alpha)
    alpha_u = ops.ones_like(alpha[..., :1]) * (k + ops.cast(1.0, alpha.dtype))
    return ops.concatenate([alpha, alpha_u], axis=-1)


def known_class_probability(p_hat: Tensor) -> Tensor:
    """Map m-EDL's K + 1 probabilities back to EDL's K-class expectation.

    `p_bar_k = p_hat_k / (1 - p_hat_u)`; e.g. `p_hat = (0.5, 0.3, 0.2)` gives
    `p_bar = (0.625, 0.375)`.
    """
    p_hat = ops.convert_to_tensor(p_hat)
    p_known = p_hat[..., :-1]
    return p_known / ops.sum(p_known, axis=-1, keepdims=True)
