"""KL regulariser of EDL: shrink the evidence that supports wrong classes."""

from keras import ops

from keras_evidential.dirichlet import special
from keras_evidential.dirichlet.parameters import num_classes
from keras_evidential.dirichlet.parameters import strength


def misleading_alpha(y, alpha):
    """`alpha_tilde = y + (1 - y) * alpha`: the target's evidence removed."""
    return y + (1.0 - y) * alpha


def kl_to_uniform(alpha):
    """`KL(Dir(alpha) || Dir(1, ..., 1))`, reduced over the last axis.

    `lgamma(S) - lgamma(K) - sum_j lgamma(alpha_j)
    + sum_j (alpha_j - 1) (digamma(alpha_j) - digamma(S))`.
    """
    s = strength(alpha, keepdims=True)
    k = num_classes(alpha)
    log_normalizers = (
        special.lgamma(s[..., 0])
        - special.lgamma(k)
        - ops.sum(special.lgamma(alpha), axis=-1)
    )
    moments = ops.sum(
        (alpha - 1.0) * (special.digamma(alpha) - special.digamma(s)), axis=-1
    )
    return log_normalizers + moments


def misleading_evidence_kl(y, alpha):
    """EDL's regulariser `KL(Dir(alpha_tilde) || Dir(1))` per sample."""
    return kl_to_uniform(misleading_alpha(y, alpha))
