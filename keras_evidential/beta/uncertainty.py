"""Uncertainty of a Beta prediction, per label and per sample.

Per label (shape `(..., L)`), the K = 2 cases of the Dirichlet measures in
`keras_evidential.dirichlet` (entropies in nats): `total_entropy` (of the
Bernoulli with mean p), `expected_entropy` (aleatoric) and
`mutual_information` (epistemic). The vacuity `2 / S` and the variance are
in `parameters.py`.

Per sample (shape `(...)`): the out-of-distribution scores of Aguilar,
Raducanu & Radeva (2025), which pool the evidence of all L labels, either
its maximum ("Score-Max") or its sum ("Score-Sum"), from the positive
evidence, the negative evidence or both (their `U_p`, `U_n`, `U_{p,n}`).
"""

from __future__ import annotations

from keras import ops

from keras_evidential import dirichlet
from keras_evidential.beta.parameters import _checked
from keras_evidential.beta.parameters import split_beta
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice

# The evidence a score pools, and the prior count of one label's outcomes
# it measures (Beta(1, 1) has one on each side).
OOD_EVIDENCE = {"positive": 1.0, "negative": 1.0, "both": 2.0}
OOD_REDUCTIONS = ("max", "sum")


def total_entropy(params: Tensor) -> Tensor:
    """Entropy of the expected Bernoulli, `-p log p - (1 - p) log(1 - p)`,
    per label; at most `log 2`."""
    return dirichlet.total_entropy(_checked(params))


def expected_entropy(params: Tensor) -> Tensor:
    """Expected entropy of the Bernoulli under `p ~ Beta(alpha, beta)`, per
    label: `-sum_o p_o (psi(a_o + 1) - psi(S + 1))` over the outcomes
    `(a_o) = (alpha, beta)`."""
    return dirichlet.expected_entropy(_checked(params))


def mutual_information(params: Tensor) -> Tensor:
    """Mutual information between the label and `p`, per label: the
    epistemic part, `total_entropy - expected_entropy` (>= 0)."""
    return dirichlet.mutual_information(_checked(params))


def _evidence(params, evidence):
    check_choice(evidence, "evidence", tuple(OOD_EVIDENCE))
    alpha, beta = split_beta(params)
    positive, negative = alpha - 1.0, beta - 1.0
    return {"positive": positive, "negative": negative, "both": positive + negative}[
        evidence
    ]


def score_max(params: Tensor, evidence: str = "both") -> Tensor:
    """Score-Max: the uncertainty left by the label with the most evidence.

    Formula:
    ```
    score_max = W / (W + max_l E_l)
    E_l = e+_l (positive), e-_l (negative) or e+_l + e-_l (both)
    ```

    with `W` the prior count of the pooled outcomes (1 for one side, 2 for
    both: then `score_max = min_l 2 / S_l`, the smallest per-label
    vacuity). In (0, 1]; higher means more likely out of distribution. Only
    the order of the scores enters AUROC, AUPR and FPR95, and every score
    here is a decreasing function of the pooled evidence, as the paper's.

    Args:
        params: `(alpha, beta)` per label, shape `(..., L, 2)`.
        evidence: `"both"` (default), `"positive"` or `"negative"`.

    Returns:
        The score per sample, shape `params.shape[:-2]`.

    Reference:
    - Aguilar, Raducanu, Radeva, "Multi-label out-of-distribution
      detection via evidential learning", 2025, arXiv:2502.18224
      ("OOD - score Max", based on the maximum evidence).
    """
    pooled = ops.max(_evidence(params, evidence), axis=-1)
    prior = OOD_EVIDENCE[evidence]
    return prior / (prior + pooled)


def score_sum(params: Tensor, evidence: str = "both") -> Tensor:
    """Score-Sum: the uncertainty left by the evidence of all labels.

    Formula:
    ```
    score_sum = W L / (W L + sum_l E_l)
    ```

    with `E_l` and `W` as in `score_max`. For `evidence="both"` this is the
    vacuity `2 L / sum_l S_l` of the pooled counts. In (0, 1]; higher means
    more likely out of distribution.

    Args:
        params: `(alpha, beta)` per label, shape `(..., L, 2)`.
        evidence: `"both"` (default), `"positive"` or `"negative"`.

    Returns:
        The score per sample, shape `params.shape[:-2]`.

    Reference:
    - Aguilar, Raducanu, Radeva, 2025, arXiv:2502.18224 ("OOD score -
      Sum", which considers the evidence from all outputs).
    """
    values = _evidence(params, evidence)
    prior = OOD_EVIDENCE[evidence] * ops.cast(ops.shape(values)[-1], values.dtype)
    return prior / (prior + ops.sum(values, axis=-1))


def ood_score(params: Tensor, reduction: str = "sum", evidence: str = "both") -> Tensor:
    """`score_sum` or `score_max` by name (`reduction` `"sum"` or `"max"`)."""
    check_choice(reduction, "reduction", OOD_REDUCTIONS)
    return (score_sum if reduction == "sum" else score_max)(params, evidence)
