"""Class-conditional Gaussian densities of features (DAEDL's GDA).

Yoon & Kim (ICML 2024), section 3.3: after training, one Gaussian per class
is fitted to the training features; at test time the log density of a
feature vector, min-max normalised by the training set's range, scales the
logits.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from keras_evidential.tensor_types import Tensor


def fit_class_gaussians(
    features: Tensor, labels: Tensor, num_classes: int, jitter: float = 1e-6
) -> Tensor:
    """GDA's parameters from training features (NumPy, float64).

    Formula:
    ```
    w_c = N_c / N,  mu_c = mean of class c's features,
    Sigma_c = their covariance (divisor N_c - 1) + jitter * mean(diag) * I
    ```

    The small `jitter` keeps `Sigma_c` positive definite when features are
    collinear (e.g. a ReLU layer's dead units); the paper's formula is the
    `jitter=0` case.

    Args:
        features: `(N, H)` training features.
        labels: `(N,)` integer labels in `[0, num_classes)` (leave unknown
            samples out first).
        num_classes: C.
        jitter: Relative ridge added to every covariance.

    Returns:
        `(log_weights (C,), means (C, H), precision_cholesky (C, H, H))`, where
        `precision_cholesky[c] = L` with `L L^T = Sigma_c^{-1}`, as float32.

    Raises:
        ValueError: if a label is outside `[0, num_classes)`, a class has
            fewer than 2 samples or not more samples than feature dimensions,
            or the shapes differ.
    """
    features = np.asarray(features, dtype="float64")
    labels = np.asarray(labels).reshape(-1)
    if features.ndim != 2 or features.shape[0] != labels.shape[0]:
        raise ValueError(
            "Expected `features` of shape (N, H) and `labels` of shape (N,). "
            f"Received: features.shape={features.shape}, labels.shape={labels.shape}"
        )
    if labels.size and not (labels.min() >= 0 and labels.max() < num_classes):
        # A label outside the classes (e.g. K, an unknown sample) would join
        # no class yet count in N: weights summing to less than 1.
        raise ValueError(
            f"`labels` must be class indices in [0, {num_classes}). Received: "
            f"labels with min={labels.min()}, max={labels.max()}"
        )
    h = features.shape[1]
    log_weights, means, cholesky = [], [], []
    for c in range(num_classes):
        members = features[labels == c]
        if len(members) < 2:
            raise ValueError(
                f"Every class needs at least 2 training samples to fit its "
                f"Gaussian. Received: {len(members)} samples of class {c}"
            )
        if len(members) <= h:
            # Fewer than H + 1 samples give a singular covariance, held up
            # only by the jitter: held-out features off the samples' span
            # fall far below the training densities (s = 0, a flat Dirichlet).
            raise ValueError(
                "Every class needs more training samples than feature "
                "dimensions to fit a full-rank Gaussian. Received: "
                f"{len(members)} training samples of class {c} for "
                f"{h}-dimensional features"
            )
        mean = members.mean(axis=0)
        covariance = np.cov(members, rowvar=False).reshape(h, h)
        ridge = jitter * max(float(np.mean(np.diag(covariance))), 1e-12)
        covariance = covariance + ridge * np.eye(h)
        precision = np.linalg.inv(covariance)
        precision = 0.5 * (precision + precision.T)
        log_weights.append(math.log(len(members) / len(features)))
        means.append(mean)
        cholesky.append(np.linalg.cholesky(precision))
    return (
        np.asarray(log_weights, "float32"),
        np.asarray(means, "float32"),
        np.asarray(cholesky, "float32"),
    )


def gaussian_mixture_log_density(
    features: Tensor, log_weights: Tensor, means: Tensor, precision_cholesky: Tensor
) -> Tensor:
    """`log sum_c w_c N(z | mu_c, Sigma_c)` per sample (`keras.ops`).

    With `L_c L_c^T = Sigma_c^{-1}`: `log N = -H/2 log(2 pi) + log|L_c|
    - |L_c^T (z - mu_c)|^2 / 2`; the mixture is a log-sum-exp over classes.
    """
    features = ops.convert_to_tensor(features)
    log_weights, means, precision_cholesky = (
        ops.cast(ops.convert_to_tensor(t), features.dtype)
        for t in (log_weights, means, precision_cholesky)
    )
    h = features.shape[-1]
    centred = features[..., None, :] - means  # (..., C, H)
    projected = ops.einsum("...ch,chk->...ck", centred, precision_cholesky)
    log_det = ops.sum(
        ops.log(ops.diagonal(precision_cholesky, axis1=-2, axis2=-1)), axis=-1
    )
    per_class = (
        log_weights
        + log_det
        - 0.5 * ops.sum(ops.square(projected), axis=-1)
        - 0.5 * h * math.log(2.0 * math.pi)
    )
    return ops.logsumexp(per_class, axis=-1)


def normalized_density(log_density: Tensor, d_min: Tensor, d_max: Tensor) -> Tensor:
    """DAEDL's `s = clip((log p - d_min) / (d_max - d_min), 0, 1)`."""
    log_density = ops.convert_to_tensor(log_density)
    return ops.clip((log_density - d_min) / (d_max - d_min), 0.0, 1.0)
