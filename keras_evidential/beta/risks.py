"""The EDL loss terms of a Bernoulli label under a Beta, per label.

Each is the K = 2 case of the Dirichlet term in `keras_evidential.dirichlet`
with the one-hot target `(y, 1 - y)` (present, absent): Sensoy et al.'s
Bayes risks (2018, eqs. 3-5) and their KL regulariser, as used for
multi-label evidence by Aguilar, Raducanu & Radeva (2025). With
`p = alpha / S`:

```
mse     = (y - p)^2 + ((1 - y) - (1 - p))^2 + 2 p (1 - p) / (S + 1)
        = 2 (y - p)^2 + 2 p (1 - p) / (S + 1)
log     = y (log S - log alpha) + (1 - y) (log S - log beta)
digamma = y (psi(S) - psi(alpha)) + (1 - y) (psi(S) - psi(beta))
KL      = KL(Beta(alpha~, beta~) || Beta(1, 1)),
          (alpha~, beta~) = (1, beta) for y = 1 and (alpha, 1) for y = 0
```
"""

from __future__ import annotations

from keras_evidential import dirichlet
from keras_evidential.beta.parameters import _checked
from keras_evidential.beta.parameters import bernoulli_targets
from keras_evidential.tensor_types import Tensor

RISKS = tuple(sorted(dirichlet.RISKS))


def beta_risk(y: Tensor, params: Tensor, risk: str = "mse") -> Tensor:
    """The Bayes risk of 0/1 labels `y` (shape `(..., L)`) under
    `Beta(alpha, beta)` (`params`, shape `(..., L, 2)`), per label.

    Args:
        y: Float 0/1 labels of shape `params.shape[:-1]` (soft labels in
            [0, 1] also work).
        params: `(alpha, beta)` per label, each >= 1.
        risk: `"mse"` (sum of squares over both outcomes), `"log"` or
            `"digamma"`.

    Returns:
        The risk per label, shape `(..., L)`.
    """
    return dirichlet.RISKS[risk](bernoulli_targets(y), _checked(params))


def misleading_evidence_kl(y: Tensor, params: Tensor) -> Tensor:
    """`KL(Beta(alpha~, beta~) || Beta(1, 1))` per label: the evidence for the
    wrong outcome, measured against the uniform Beta.

    `(alpha~, beta~) = y + (1 - y) (alpha, beta)` over (present, absent): the
    evidence of the true outcome removed, as EDL's Dirichlet regulariser.
    """
    return dirichlet.misleading_evidence_kl(bernoulli_targets(y), _checked(params))
