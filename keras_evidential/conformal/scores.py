"""Non-conformity scores of every label of a classifier's output (`keras.ops`).

Each function returns a score per sample and label, shape `(batch, K)`: a
label is in the conformal set where its score is `<= q_hat`, and a
calibration point contributes the score of its true label. Higher scores
conform less. For m-EDL models (`UnknownClassHead`) the K + 1 probabilities
score the unknown class like any other, so "unknown" can be in a set.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.dirichlet.parameters import belief
from keras_evidential.dirichlet.parameters import expected_probability
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice

INPUTS = ("probabilities", "logits", "alpha")


def probabilities_from(outputs: Tensor, inputs: str) -> Tensor:
    """The class probabilities of a head's `outputs`.

    `inputs="probabilities"` takes them as they are, `"logits"` applies the
    softmax, `"alpha"` takes the Dirichlet's mean `alpha / S`.
    """
    check_choice(inputs, "inputs", INPUTS)
    outputs = ops.convert_to_tensor(outputs)
    if inputs == "logits":
        return ops.softmax(outputs, axis=-1)
    if inputs == "alpha":
        return expected_probability(outputs)
    return outputs


def lac_scores(probabilities: Tensor) -> Tensor:
    """LAC (least ambiguous set-valued classifier): `s(x, k) = 1 - p_k(x)`.

    Example:

    >>> s = keras_evidential.conformal.lac_scores(np.array([[0.7, 0.2, 0.1]]))
    >>> print(np.round(keras.ops.convert_to_numpy(s), 2))
    [[0.3 0.8 0.9]]

    Reference:
    - Sadinle, Lei & Wasserman, "Least ambiguous set-valued classifiers with
      bounded error levels", JASA 114 (2019)
    """
    return 1.0 - ops.convert_to_tensor(probabilities)


def aps_scores(probabilities: Tensor, randomization: float | Tensor = 1.0) -> Tensor:
    """APS: the probability mass ranked above label k, plus `u p_k`.

    Formula:
    ```
    s(x, k, u) = sum_j p_j [j ranked before k] + u p_k
    ```

    `u = 1` is the deterministic score (the cumulative mass up to and
    including k); `u ~ U(0, 1)` per sample is Romano et al.'s randomised
    score; `u = 0` scores each label by the mass strictly above it, which
    puts the label that crosses the threshold into the set ("include the
    last label", Angelopoulos et al. 2021). Ranks: by decreasing
    probability, equal probabilities by increasing label index, the same on
    every backend (no sort: a pairwise comparison, `O(K^2)` per sample).

    Args:
        probabilities: `(batch, K)`.
        randomization: `u`, a number or a `(batch, 1)` tensor in `[0, 1]`.

    Example:

    >>> s = keras_evidential.conformal.aps_scores(np.array([[0.2, 0.5, 0.3]]))
    >>> print(np.round(keras.ops.convert_to_numpy(s), 2))
    [[1.  0.5 0.8]]

    Reference:
    - Romano, Sesia & Candès, "Classification with valid and adaptive
      coverage", NeurIPS 2020
    """
    probabilities = ops.convert_to_tensor(probabilities)
    mass_above, _ = _mass_and_rank(probabilities)
    return mass_above + ops.cast(randomization, probabilities.dtype) * probabilities


def raps_scores(
    probabilities: Tensor,
    randomization: float | Tensor = 1.0,
    penalty: float = 0.0,
    regularization_rank: int = 0,
) -> Tensor:
    """RAPS: APS plus `penalty` per rank beyond `regularization_rank`.

    Formula:
    ```
    s(x, k, u) = aps(x, k, u) + lambda max(0, o(x, k) - k_reg)
    ```

    with `o(x, k)` the 1-based rank of label k (ties as in `aps_scores`),
    `lambda = penalty`, `k_reg = regularization_rank`.

    Example:

    >>> s = keras_evidential.conformal.raps_scores(
    ...     np.array([[0.2, 0.5, 0.3]]), penalty=0.1, regularization_rank=1)
    >>> print(np.round(keras.ops.convert_to_numpy(s), 2))
    [[1.2 0.5 0.9]]

    Reference:
    - Angelopoulos, Bates, Malik & Jordan, "Uncertainty sets for image
      classifiers using conformal prediction", ICLR 2021, Eq. (3)
    """
    probabilities = ops.convert_to_tensor(probabilities)
    mass_above, rank = _mass_and_rank(probabilities)
    excess_rank = ops.relu(rank - float(regularization_rank))
    return (
        mass_above
        + ops.cast(randomization, probabilities.dtype) * probabilities
        + float(penalty) * excess_rank
    )


def belief_scores(alpha: Tensor, prior_concentration: float = 1.0) -> Tensor:
    """Evidential score: `s(x, k) = 1 - b_k(x)`, one minus the belief mass.

    Formula:
    ```
    b_k = (alpha_k - lambda) / S,   s(x, k) = 1 - b_k = u + sum_{j != k} b_j
    ```

    Unlike LAC's `1 - p_k = 1 - b_k - u / K`, the score keeps all the
    vacuity `u = lambda K / S`: the set `{k : b_k >= 1 - q_hat}` asks for
    evidence, not only probability, so an input with little evidence gets a
    larger set. Belief masses and vacuity are the evidential quantities the
    ECP scores are built from (Karimi & Samavi 2024); ECP's exact score,
    which combines them with an uncertainty surprisal and an expected
    utility, could not be sourced for this package, so this is the belief
    score alone (see docs/conformal.md).

    Args:
        alpha: Dirichlet concentrations `(batch, K)` (K + 1 for m-EDL).
        prior_concentration: `lambda` of `alpha = e + lambda` (R-EDL's prior
            weight; 1 for EDL).

    Example:

    >>> s = keras_evidential.conformal.belief_scores(np.array([[7.0, 2.0, 1.0]]))
    >>> print(np.round(keras.ops.convert_to_numpy(s), 2))  # S = 10
    [[0.4 0.9 1. ]]

    Reference:
    - Sensoy, Kaplan & Kandemir, "Evidential deep learning to quantify
      classification uncertainty", NeurIPS 2018 (belief masses)
    - Karimi & Samavi, "Evidential uncertainty sets in deep classifiers
      using conformal prediction", COPA 2024, PMLR 230
    """
    return 1.0 - belief(alpha, prior_concentration)


def _mass_and_rank(probabilities):
    """Per label k: the mass of the labels ranked before k, and k's 1-based rank."""
    p_k = ops.expand_dims(probabilities, -1)  # (batch, K, 1): label k
    p_j = ops.expand_dims(probabilities, -2)  # (batch, 1, K): label j
    num_classes = probabilities.shape[-1]
    index = ops.arange(num_classes)
    earlier_index = ops.expand_dims(index, -1) > ops.expand_dims(index, 0)  # j < k
    before = ops.logical_or(
        p_j > p_k, ops.logical_and(ops.equal(p_j, p_k), earlier_index)
    )
    before = ops.cast(before, probabilities.dtype)
    mass_above = ops.sum(before * p_j, axis=-1)
    rank = 1.0 + ops.sum(before, axis=-1)
    return mass_above, rank
