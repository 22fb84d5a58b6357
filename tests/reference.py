"""Float64 NumPy/SciPy reference of the formulas, written from REFERENCE.md.

Independent of keras_evidential: tests compare the package against these.
"""

import numpy as np
from keras import ops
from scipy.special import digamma
from scipy.special import gammaln
from scipy.special import polygamma


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


def strength(alpha):
    return alpha.sum(-1, keepdims=True)


def mse_risk(y, alpha):
    s = strength(alpha)
    p = alpha / s
    return ((y - p) ** 2 + p * (1 - p) / (s + 1)).sum(-1)


def log_risk(y, alpha):
    return (y * (np.log(strength(alpha)) - np.log(alpha))).sum(-1)


def digamma_risk(y, alpha):
    return (y * (digamma(strength(alpha)) - digamma(alpha))).sum(-1)


RISKS = {"mse": mse_risk, "log": log_risk, "digamma": digamma_risk}


def kl_to_uniform(alpha):
    k = alpha.shape[-1]
    s = alpha.sum(-1)
    return (
        gammaln(s)
        - gammaln(k)
        - gammaln(alpha).sum(-1)
        + ((alpha - 1) * (digamma(alpha) - digamma(s)[..., None])).sum(-1)
    )


def kl_to_uniform_gradient(alpha):
    """dKL/dalpha_j = (alpha_j - 1) trigamma(alpha_j) - (S - K) trigamma(S),
    by hand from `kl_to_uniform` (digamma terms cancel)."""
    k = alpha.shape[-1]
    s = alpha.sum(-1, keepdims=True)
    return (alpha - 1) * polygamma(1, alpha) - (s - k) * polygamma(1, s)


def edl_loss(y, alpha, risk="mse", kl_weight=0.0):
    """Batch mean of risk + kl_weight * KL(Dir(y + (1 - y) alpha) || Dir(1))."""
    alpha_tilde = y + (1 - y) * alpha
    return np.mean(RISKS[risk](y, alpha) + kl_weight * kl_to_uniform(alpha_tilde))


def softmax_cross_entropy(y, logits):
    z = logits - logits.max(-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return np.mean(-(y * log_p).sum(-1))


EVIDENCE = {
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "exp": lambda z: np.exp(np.clip(z, -10.0, 10.0)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))) + 1.0,
}


def float64_tolerance(tolerance, float32=1e-5):
    """`tolerance` where the backend computes float64 inputs in float64
    (TensorFlow, PyTorch); `float32` where it casts them to float32 (JAX
    without `jax_enable_x64`)."""
    x = ops.convert_to_tensor(np.ones(1))
    if np.asarray(ops.convert_to_numpy(x)).dtype == np.float64:
        return tolerance
    return max(tolerance, float32)
