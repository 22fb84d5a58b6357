"""The Normal-Inverse-Gamma (NIG) parameters and their layout.

A NIG over `(mu, sigma^2)` has four parameters per target: the mean
`gamma`, `nu > 0` (virtual observations of the mean), `alpha > 1` and
`beta > 0` (shape and scale of the inverse-gamma over `sigma^2`). A model
predicting `T` targets outputs them concatenated on the last axis,

```
y_pred[..., 0:T]   = gamma
y_pred[..., T:2T]  = nu
y_pred[..., 2T:3T] = alpha
y_pred[..., 3T:4T] = beta
```

the layout of Amini et al.'s `DenseNormalGamma`, so that `y_true` has the
rank of `y_pred` and `T` entries on its last axis, for any output rank (a
pixel-wise head `(batch, H, W, 4T)` works like a dense one `(batch, 4T)`).
"""

from __future__ import annotations

import collections

from keras import ops

from keras_evidential.tensor_types import Tensor


NIGParameters = collections.namedtuple(
    "NIGParameters", ["gamma", "nu", "alpha", "beta"]
)


def num_targets(y_pred: Tensor) -> Tensor:
    """`T`, the number of targets of a NIG output with `4T` entries on the last axis.

    Raises:
        ValueError: If the last axis is unknown or not a positive multiple of 4.
    """
    size = y_pred.shape[-1]
    if size is None or size % 4 != 0 or size == 0:
        raise ValueError(
            "A Normal-Inverse-Gamma prediction holds (gamma, nu, alpha, beta) "
            "concatenated on its last axis, so that axis must be a positive "
            f"multiple of 4. Received: y_pred with shape {tuple(y_pred.shape)}"
        )
    return size // 4


def split_nig(y_pred: Tensor) -> Tensor:
    """The `NIGParameters(gamma, nu, alpha, beta)` of a NIG output, each `(..., T)`."""
    y_pred = ops.convert_to_tensor(y_pred)
    num_targets(y_pred)
    return NIGParameters(*ops.split(y_pred, 4, axis=-1))


def concat_nig(gamma: Tensor, nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """The inverse of `split_nig`: the four parameters on the last axis."""
    return ops.concatenate([gamma, nu, alpha, beta], axis=-1)


def total_evidence(nu: Tensor, alpha: Tensor) -> Tensor:
    """`Phi = 2 nu + alpha`, the total evidence of Amini et al. (2020), Eq. (4) of Meinert et al."""
    return 2.0 * nu + alpha


def as_tensors(*values: Tensor) -> Tensor:
    """`values` as backend tensors (PyTorch does not mix NumPy arrays and tensors)."""
    return tuple(ops.convert_to_tensor(v) for v in values)


def nig_from_outputs(outputs: Tensor, epsilon: float = 1e-6) -> Tensor:
    """NIG parameters from unconstrained outputs `(..., 4T)` in the NIG layout.

    Formula (Amini et al. 2020; Meinert et al. 2023, Eq. 6):
    ```
    gamma = z_gamma
    nu    = softplus(z_nu) + epsilon
    alpha = softplus(z_alpha) + 1 + epsilon
    beta  = softplus(z_beta) + epsilon
    ```

    `epsilon` keeps `nu`, `beta > 0` and `alpha > 1` where softplus
    underflows to 0 (below about -100 in float32), so the loss stays finite
    for any finite output.
    """
    z_gamma, z_nu, z_alpha, z_beta = split_nig(outputs)
    return concat_nig(
        z_gamma,
        ops.softplus(z_nu) + epsilon,
        ops.softplus(z_alpha) + (1.0 + epsilon),
        ops.softplus(z_beta) + epsilon,
    )
