"""The flexible Dirichlet FD(alpha, p, tau) of F-EDL (Yoon & Kim, NeurIPS 2025).

`FD(alpha, p, tau) = sum_k p_k Dir(alpha + tau e_k)`: a mixture of K
Dirichlets that share the evidence `alpha > 0` and move a common extra mass
`tau > 0` to class k with probability `p_k` (`p` on the simplex).

A model with `FlexibleDirichletOutput` outputs the three parameters packed in
one tensor of width `2K + 1`: `[alpha_1..alpha_K, p_1..p_K, tau]`;
`split_flexible_parameters` unpacks it.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.tensor_types import Tensor


def split_flexible_parameters(params: Tensor) -> Tensor:
    """`(alpha, p, tau)` from the packed `(..., 2K + 1)` tensor; `tau` keeps a last axis of 1."""
    params = ops.convert_to_tensor(params)
    width = params.shape[-1]
    if width is None or width < 5 or width % 2 == 0:
        raise ValueError(
            "Expected flexible Dirichlet parameters packed as "
            "[alpha (K), p (K), tau (1)] with K >= 2, a last axis of odd "
            f"width 2K + 1 >= 5. Received: shape={tuple(params.shape)}"
        )
    k = (width - 1) // 2
    return params[..., :k], params[..., k : 2 * k], params[..., 2 * k :]


def flexible_expected_probability(alpha: Tensor, p: Tensor, tau: Tensor) -> Tensor:
    """`E[pi_k] = (alpha_k + tau p_k) / (alpha_0 + tau)`: the predictive probability."""
    alpha, p, tau = (ops.convert_to_tensor(t) for t in (alpha, p, tau))
    total = ops.sum(alpha, axis=-1, keepdims=True) + tau
    return (alpha + tau * p) / total


def flexible_equivalent_alpha(alpha: Tensor, p: Tensor, tau: Tensor) -> Tensor:
    """`alpha + tau p`: the Dirichlet with F-EDL's mean (Yoon & Kim, eq. in App. D).

    Its mean is `flexible_expected_probability` and its strength
    `alpha_0 + tau`, so the metrics and evaluation written for `alpha` can
    score an F-EDL model by this; its variance is not the FD's.
    """
    alpha, p, tau = (ops.convert_to_tensor(t) for t in (alpha, p, tau))
    return alpha + tau * p


def flexible_variance(alpha: Tensor, p: Tensor, tau: Tensor) -> Tensor:
    """`Var[pi_k]` under `FD(alpha, p, tau)`, per class.

    Formula:
    ```
    Var[pi_k] = (alpha_k + tau p_k)(alpha_0 - alpha_k + tau (1 - p_k))
                / ((alpha_0 + tau)^2 (alpha_0 + tau + 1))
                + tau^2 p_k (1 - p_k) / ((alpha_0 + tau)(alpha_0 + tau + 1))
    ```

    Reference:
    - Yoon & Kim, F-EDL, NeurIPS 2025, Appendix A.1
    """
    alpha, p, tau = (ops.convert_to_tensor(t) for t in (alpha, p, tau))
    total = ops.sum(alpha, axis=-1, keepdims=True) + tau
    # Written with the mean m = (alpha + tau p) / total and tau / total:
    # the products of the textbook form overflow float32 past total ~ 1e19.
    mean = (alpha + tau * p) / total
    return mean * (1.0 - mean) / (total + 1.0) + (
        (tau / total) * (tau / (total + 1.0)) * p * (1.0 - p)
    )


def flexible_expected_squared_error(
    y: Tensor, alpha: Tensor, p: Tensor, tau: Tensor
) -> Tensor:
    """`E_{pi ~ FD}[||y - pi||^2] = sum_k (y_k - E[pi_k])^2 + Var[pi_k]`, per sample."""
    y = ops.convert_to_tensor(y)
    mean = flexible_expected_probability(alpha, p, tau)
    return ops.sum(
        ops.square(y - mean) + flexible_variance(alpha, p, tau), axis=-1
    )


def flexible_epistemic_uncertainty(alpha: Tensor, p: Tensor, tau: Tensor) -> Tensor:
    """F-EDL's epistemic uncertainty `EU = sum_k Var[pi_k]` (label-wise variance).

    Formula:
    ```
    EU = sum_k E[pi_k](1 - E[pi_k]) / (alpha_0 + tau + 1)
         + tau^2 p_k (1 - p_k) / ((alpha_0 + tau)(alpha_0 + tau + 1))
    ```

    The variance of `E[y_k | pi]` summed over classes; the paper's OOD score.
    """
    return ops.sum(flexible_variance(alpha, p, tau), axis=-1)


def flexible_total_uncertainty(alpha: Tensor, p: Tensor, tau: Tensor) -> Tensor:
    """`TU = 1 - sum_k E[pi_k]^2`; the aleatoric part is `TU - EU`."""
    mean = flexible_expected_probability(alpha, p, tau)
    return 1.0 - ops.sum(ops.square(mean), axis=-1)
