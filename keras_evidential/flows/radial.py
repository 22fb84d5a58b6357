"""Radial flows (Rezende & Mohamed, 2015) and the densities they define.

A radial map moves every point towards (or away from) a centre z0 along the
line through it:

```
f(z) = z + beta h(r) (z - z0),   r = ||z - z0||,   h(r) = 1 / (alpha + r)
```

With `alpha > 0` and `beta >= -alpha` it is a bijection of R^D (Rezende &
Mohamed, appendix A.2), so a stack of them applied to a latent point, followed
by a standard normal base density, is a normalised density on R^D (change of
variables). Posterior Network's code (Charpentier et al., 2020, with Pyro's
`Radial`) uses the maps in this direction, data -> base, so the density
needs no inverse.
"""

from __future__ import annotations

import math

from keras import ops

from keras_evidential.tensor_types import Tensor


def radial_flow_parameters(
    alpha_raw: Tensor, beta_raw: Tensor
) -> tuple[Tensor, Tensor]:
    """`(alpha, beta)` of a radial map from unconstrained parameters.

    Formula:
    ```
    alpha = softplus(alpha_raw) > 0
    beta = -alpha + softplus(beta_raw) > -alpha
    ```

    The constraint `beta >= -alpha` makes the map invertible (Rezende &
    Mohamed, 2015, appendix A.2); as in Pyro's `Radial`, softplus keeps it
    strict.

    Example:

    >>> alpha, beta = keras_evidential.flows.radial_flow_parameters(0.0, 1.0)
    >>> round(float(alpha), 4), round(float(beta), 4)   # log 2, log(1 + e) - log 2
    (0.6931, 0.6201)
    """
    alpha = ops.softplus(ops.convert_to_tensor(alpha_raw))
    beta = ops.softplus(ops.convert_to_tensor(beta_raw)) - alpha
    return alpha, beta


def _norm(x):
    """`||x||` over the last axis with gradient 0 (not NaN) at `x = 0`.

    `sqrt` has an infinite derivative at 0; the inner `where` keeps it out of
    the graph there (the outer one picks the value).
    """
    squared = ops.sum(ops.square(x), axis=-1)
    positive = squared > 0
    safe = ops.where(positive, squared, ops.ones_like(squared))
    return ops.where(positive, ops.sqrt(safe), ops.zeros_like(squared))


def radial_flow(
    z: Tensor, center: Tensor, alpha_raw: Tensor, beta_raw: Tensor
) -> tuple[Tensor, Tensor]:
    """One radial map and the log of its Jacobian determinant.

    Formula:
    ```
    r = ||z - z0||,  h = 1 / (alpha + r)
    f(z) = z + beta h (z - z0)
    log |det df/dz| = (D - 1) log(1 + beta h) + log(1 + beta alpha h^2)
    ```

    (`1 + beta h + beta h'(r) r = 1 + beta alpha h^2`, Rezende & Mohamed,
    eq. 14.) `1 + beta h = (r + softplus(beta_raw)) h` is computed as that
    product's log, which stays accurate where `beta ~ -alpha`.

    Args:
        z: Points, shape `(..., D)`.
        center: The centre z0, shape broadcastable to `z`'s.
        alpha_raw: Unconstrained alpha, shape broadcastable to `z.shape[:-1]`.
        beta_raw: Unconstrained beta, likewise.

    Returns:
        `(f(z), log_det)`: shapes `(..., D)` and `(...)` after broadcasting.

    Example:

    >>> # alpha = log 2, beta = log(1 + e) - log 2 = 0.6201, r = 1: the point
    >>> # moves out by beta / (alpha + r) = 0.3662.
    >>> moved, log_det = keras_evidential.flows.radial_flow(
    ...     np.array([[1.0, 0.0]]), np.zeros(2), 0.0, 1.0)
    >>> print(ops.convert_to_numpy(moved).round(4))
    [[1.3662 0.    ]]
    >>> print(ops.convert_to_numpy(log_det).round(4))
    [0.4518]

    Reference:
    - Rezende & Mohamed, "Variational Inference with Normalizing Flows",
      ICML 2015, section 4.1 and appendix A.2
    """
    z = ops.convert_to_tensor(z)
    dtype = z.dtype
    center = ops.cast(center, dtype)
    alpha_raw, beta_raw = ops.cast(alpha_raw, dtype), ops.cast(beta_raw, dtype)
    alpha, beta = radial_flow_parameters(alpha_raw, beta_raw)
    difference = z - center
    r = _norm(difference)
    h = 1.0 / (alpha + r)
    moved = z + ops.expand_dims(beta * h, -1) * difference
    dimension = ops.cast(ops.shape(z)[-1], dtype)
    log_radial = ops.log(r + ops.softplus(beta_raw)) + ops.log(h)
    log_det = (dimension - 1.0) * log_radial + ops.log1p(beta * alpha * ops.square(h))
    return moved, log_det


def standard_normal_log_density(z: Tensor) -> Tensor:
    """`log N(z | 0, I)` over the last axis.

    Formula:
    ```
    log N(z | 0, I) = -(D log(2 pi) + ||z||^2) / 2
    ```

    Example:

    >>> value = keras_evidential.flows.standard_normal_log_density(np.zeros((1, 2)))
    >>> round(float(value[0]), 4)   # -log(2 pi)
    -1.8379
    """
    z = ops.convert_to_tensor(z)
    dimension = ops.cast(ops.shape(z)[-1], z.dtype)
    squared_norm = ops.sum(ops.square(z), axis=-1)
    return -0.5 * (dimension * math.log(2.0 * math.pi) + squared_norm)


def radial_flow_log_density(
    z: Tensor, centers: Tensor, alpha_raw: Tensor, beta_raw: Tensor
) -> Tensor:
    """Log density of `z` under a stack of radial maps and a N(0, I) base.

    Formula:
    ```
    z_0 = z,  z_l = f_l(z_{l-1})   (l = 1..L, radial maps)
    log q(z) = log N(z_L | 0, I) + sum_l log |det df_l/dz_{l-1}|
    ```

    A normalised density on R^D for any parameters (each map is a
    bijection; change of variables). The parameters may carry leading axes
    for several stacks at once, e.g. one stack per class: `centers` of
    shape `(C, L, D)` with `z` of shape `(batch, 1, D)` give `(batch, C)`.

    Args:
        z: Points, shape `(..., D)`.
        centers: The centres, shape `(..., L, D)`.
        alpha_raw: Unconstrained alphas, shape `(..., L)`.
        beta_raw: Unconstrained betas, shape `(..., L)`.

    Returns:
        The log density, shape of the broadcast leading axes.

    Example:

    >>> # beta_raw = alpha_raw gives beta = 0: every map is the identity.
    >>> log_q = keras_evidential.flows.radial_flow_log_density(
    ...     np.zeros((1, 2)), np.ones((3, 2)), np.zeros(3), np.zeros(3))
    >>> round(float(log_q[0]), 4)   # N(0 | 0, I) in 2-D: -log(2 pi)
    -1.8379

    Reference:
    - Charpentier, Zügner & Günnemann, "Posterior Network: Uncertainty
      Estimation without OOD Samples via Density-Based Pseudo-Counts",
      NeurIPS 2020, section 2.1 (radial flows per class, length 6)
    """
    z = ops.convert_to_tensor(z)
    centers = ops.cast(centers, z.dtype)
    alpha_raw, beta_raw = ops.cast(alpha_raw, z.dtype), ops.cast(beta_raw, z.dtype)
    log_det = 0.0
    for layer in range(centers.shape[-2]):
        z, layer_log_det = radial_flow(
            z, centers[..., layer, :], alpha_raw[..., layer], beta_raw[..., layer]
        )
        log_det = log_det + layer_log_det
    return standard_normal_log_density(z) + log_det
