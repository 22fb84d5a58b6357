"""Uncertainty scores in [0, 1], higher meaning less certain.

`keras.metrics.AUC` buckets its predictions on evenly spaced thresholds in
[0, 1], so each score used by the AUROC metrics is a measure of
`keras_evidential.dirichlet` divided by its largest possible value. Dividing
by a constant does not change an AUROC; it only keeps the score inside the
buckets. The differential entropy has no lower bound, so it is not a score.
"""

import math

from keras import ops

from keras_evidential import dirichlet


def _least_confidence(alpha):
    return ops.cast(1.0, alpha.dtype) - ops.max(
        dirichlet.expected_probability(alpha), axis=-1
    )


def _per_log_k(measure):
    def score(alpha):
        return measure(alpha) / ops.cast(math.log(alpha.shape[-1]), alpha.dtype)

    return score


UNCERTAINTY_SCORES = {
    # K / S, in (0, 1].
    "vacuity": dirichlet.vacuity,
    # (K - 1) / S, in (0, (K - 1) / K].
    "epkl": dirichlet.expected_pairwise_kl,
    # In [0, 1).
    "dissonance": dirichlet.dissonance,
    # 1 - max_k p_bar_k, in [0, 1 - 1 / K].
    "least_confidence": _least_confidence,
    # The entropies are at most log K.
    "total_entropy": _per_log_k(dirichlet.total_entropy),
    "expected_entropy": _per_log_k(dirichlet.expected_entropy),
    "mutual_information": _per_log_k(dirichlet.mutual_information),
}


def validate_score(score):
    """Returns `score` if it names an uncertainty score; raises otherwise."""
    if score not in UNCERTAINTY_SCORES:
        raise ValueError(
            f"`score` must be one of {sorted(UNCERTAINTY_SCORES)}. "
            f"Received: score={score!r}"
        )
    return score


def uncertainty_score(alpha, score="vacuity", prior_weight=1.0):
    """The named score of a K-class Dirichlet, in [0, 1].

    `prior_weight` is R-EDL's `lambda` (`alpha = e + lambda`, so `alpha >=
    lambda`): the vacuity is then `lambda K / S`, in (0, 1] again. The other
    scores do not depend on it.
    """
    alpha = ops.convert_to_tensor(alpha)
    if validate_score(score) == "vacuity":
        return dirichlet.vacuity(alpha, prior_weight)
    return UNCERTAINTY_SCORES[score](alpha)
