"""Aleatoric and epistemic uncertainty of a NIG prediction, both conventions.

Amini et al. (2020), Eq. 5 — variances, in squared target units:

```
aleatoric_amini = E[sigma^2] = beta / (alpha - 1)
epistemic_amini = Var[mu]    = beta / (nu (alpha - 1))
```

Meinert, Gawlikowski & Lavin (2023), Eq. 10 — standard-deviation-like:

```
aleatoric_meinert = w_St = sqrt(beta (1 + nu) / (alpha nu))   (target units)
epistemic_meinert = 1 / sqrt(nu)                              (unitless)
```

Meinert et al. show that Amini's `E[sigma^2]` does not fit the data noise
and that the shape of the epistemic uncertainty lives in `nu` alone; the two
conventions are kept side by side (`sqrt` of Amini's values is in the
target's units, like `aleatoric_meinert`).
"""

from __future__ import annotations

from keras import ops

from keras_evidential.nig.parameters import as_tensors
from keras_evidential.nig.predictive import student_t_width
from keras_evidential.tensor_types import Tensor


def aleatoric_amini(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """`E[sigma^2] = beta / (alpha - 1)` (Amini et al. 2020, Eq. 5). `nu` is unused."""
    del nu
    alpha, beta = as_tensors(alpha, beta)
    return beta / (alpha - 1.0)


def epistemic_amini(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """`Var[mu] = beta / (nu (alpha - 1))` (Amini et al. 2020, Eq. 5)."""
    return aleatoric_amini(nu, alpha, beta) / ops.convert_to_tensor(nu)


def aleatoric_meinert(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """`u_al = w_St = sqrt(beta (1 + nu) / (alpha nu))` (Meinert et al. 2023, Eq. 10)."""
    return student_t_width(nu, alpha, beta)


def epistemic_meinert(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """`u_ep = 1 / sqrt(nu)` (Meinert et al. 2023, Eq. 10). `alpha`, `beta` are unused."""
    del alpha, beta
    return ops.rsqrt(ops.convert_to_tensor(nu))


def predictive_variance(nu: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """Variance of the Student-t predictive: `E[sigma^2] + Var[mu] = beta (1 + nu) / (nu (alpha - 1))`."""
    return aleatoric_amini(nu, alpha, beta) + epistemic_amini(nu, alpha, beta)


UNCERTAINTIES = {
    "aleatoric_amini": aleatoric_amini,
    "epistemic_amini": epistemic_amini,
    "aleatoric_meinert": aleatoric_meinert,
    "epistemic_meinert": epistemic_meinert,
}
