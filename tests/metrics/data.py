"""The open-set data the metric tests share."""

import numpy as np
from keras import ops


def open_set_data(seed=0, n=600, k=4, unknown_class=False, unknown_share=0.25):
    """alpha with informative evidence for known samples, labels K = unknown."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[rng.random(n) < unknown_share] = k
    alpha = 1.0 + rng.gamma(0.8, 2.0, (n, k))
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.gamma(1.5, 6.0, known.sum())
    if unknown_class:
        alpha = np.concatenate([alpha, np.full((n, 1), k + 1.0)], axis=1)
    return alpha.astype("float32"), labels


def daedl_data(rng, n=400):
    """Binary labels plus unknown (2) and DAEDL-like `alpha = exp(z) > 0`:
    many concentrations below 1, S < K mostly on the unknown samples."""
    labels = rng.integers(0, 3, n)
    log_strength = np.where(labels < 2, 1.5, -0.5) + rng.normal(0.0, 1.0, n)
    share = rng.uniform(0.3, 1.0, n)
    alpha = np.exp(log_strength)[:, None] * np.stack([share, 1 - share + 1e-3], -1)
    flip = rng.random(n) < 0.5
    alpha[flip] = alpha[flip, ::-1]
    return labels, alpha.astype("float32")


def result(metric):
    return float(ops.convert_to_numpy(metric.result()))
