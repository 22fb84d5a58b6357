"""Float64 NumPy/SciPy references of the evidential family, from the papers.

Independent of keras_evidential: written from the papers' equations (and,
where possible, from a different route than the package takes, e.g. the
Fisher determinant of the explicit matrix, the flexible Dirichlet's moments
from its mixture form, the Gaussian mixture from `scipy.stats`).
"""

import numpy as np
from scipy import stats
from scipy.special import digamma
from scipy.special import gammaln
from scipy.special import logsumexp
from scipy.special import polygamma


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


def fisher_matrix(alpha):
    """`I(alpha) = diag(psi1(alpha)) - psi1(S) 1 1^T` (Deng et al., App. A.1)."""
    k = alpha.shape[-1]
    return np.diag(polygamma(1, alpha)) - polygamma(1, alpha.sum()) * np.ones((k, k))


def log_fisher_determinant(alpha):
    """`log |I(alpha)|` per row, from the explicit matrix (slogdet)."""
    alpha = np.atleast_2d(np.asarray(alpha, "float64"))
    out = []
    for row in alpha:
        sign, logdet = np.linalg.slogdet(fisher_matrix(row))
        assert sign > 0
        out.append(logdet)
    return np.asarray(out)


def fisher_mse(y, alpha):
    """I-EDL eq. 5: `sum_j [(y_j - a_j/S)^2 + a_j (S - a_j) / (S^2 (S+1))] psi1(a_j)`."""
    s = alpha.sum(-1, keepdims=True)
    return (
        ((y - alpha / s) ** 2 + alpha * (s - alpha) / (s**2 * (s + 1)))
        * polygamma(1, alpha)
    ).sum(-1)


def kl_dirichlet(alpha, beta):
    """`KL(Dir(alpha) || Dir(beta))` per row."""
    beta = np.broadcast_to(beta, alpha.shape)
    sa, sb = alpha.sum(-1), beta.sum(-1)
    return (
        gammaln(sa)
        - gammaln(alpha).sum(-1)
        - gammaln(sb)
        + gammaln(beta).sum(-1)
        + ((alpha - beta) * (digamma(alpha) - digamma(sa)[..., None])).sum(-1)
    )


def kl_to_uniform(alpha):
    return kl_dirichlet(alpha, np.ones_like(alpha))


def iedl_loss(y, alpha, fisher_weight, kl_weight):
    alpha_tilde = y + (1 - y) * alpha
    return np.mean(
        fisher_mse(y, alpha)
        - fisher_weight * log_fisher_determinant(alpha)
        + kl_weight * kl_to_uniform(alpha_tilde)
    )


def relaxed_edl_loss(y, alpha, lam, kl_weight=None):
    """R-EDL eqs. 12 and 16: MSE of the projected probability + KL to Dir(lambda)."""
    s = alpha.sum(-1, keepdims=True)
    risk = ((y - alpha / s) ** 2).sum(-1)
    if kl_weight is not None:
        risk = risk + kl_weight * kl_dirichlet(lam * y + (1 - y) * alpha, np.full_like(alpha, lam))
    return np.mean(risk)


def mse_risk(y, alpha):
    s = alpha.sum(-1, keepdims=True)
    p = alpha / s
    return ((y - p) ** 2 + p * (1 - p) / (s + 1)).sum(-1)


def log_risk(y, alpha):
    return (y * (np.log(alpha.sum(-1, keepdims=True)) - np.log(alpha))).sum(-1)


def red_loss(y, alpha, risk="mse", kl_weight=0.0, weight=1.0):
    """EDL loss minus `weight * (K / S) * log(alpha_y - 1)` (Pandey & Yu, 2023;
    the authors' code writes `log(e_y)` as the logit `z_y` of exp evidence)."""
    k = alpha.shape[-1]
    vacuity = k / alpha.sum(-1)
    base = {"mse": mse_risk, "log": log_risk}[risk](y, alpha)
    kl = kl_to_uniform(y + (1 - y) * alpha)
    return np.mean(base + kl_weight * kl - weight * vacuity * (np.log(alpha - 1) * y).sum(-1))


def daedl_loss(y, alpha, kl_weight=0.0):
    return np.mean(mse_risk(y, alpha) + kl_weight * kl_to_uniform(y + (1 - y) * alpha))


def prior_network_loss(labels, alpha, target_concentration):
    """Reverse KL to `1 + c * onehot(y)`; label K -> flat `Dir(1)`."""
    k = alpha.shape[-1]
    target = 1.0 + target_concentration * np.eye(k + 1)[labels][:, :k]
    return np.mean(kl_dirichlet(alpha, target))


def flexible_moments(alpha, p, tau):
    """Mean and variance of `FD = sum_j p_j Dir(alpha + tau e_j)`, from the mixture."""
    k = alpha.shape[-1]
    mean = np.zeros_like(alpha)
    second = np.zeros_like(alpha)
    for j in range(k):
        a = alpha + tau * np.eye(k)[j]
        s = a.sum(-1, keepdims=True)
        mean += p[..., j : j + 1] * a / s
        second += p[..., j : j + 1] * a * (a + 1) / (s * (s + 1))
    return mean, second - mean**2


def fedl_loss(y, alpha, p, tau):
    mean, variance = flexible_moments(alpha, p, tau)
    return np.mean(((y - mean) ** 2 + variance).sum(-1) + ((y - p) ** 2).sum(-1))


def gda_log_density(features, labels, queries, num_classes):
    """`log sum_c (N_c / N) N(q | mu_c, Sigma_c)` with `scipy.stats`."""
    parts = []
    for c in range(num_classes):
        members = features[labels == c]
        mean = members.mean(0)
        cov = np.cov(members, rowvar=False)
        parts.append(
            np.log(len(members) / len(features))
            + stats.multivariate_normal(mean, cov).logpdf(queries)
        )
    return logsumexp(np.stack(parts, -1), axis=-1)
