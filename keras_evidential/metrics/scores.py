"""Uncertainty scores in [0, 1], higher meaning less certain.

The bucketed approximation of the ranking metrics (`num_thresholds`) splits
[0, 1] into equal-width buckets, so each score is a measure of
`keras_evidential.dirichlet` divided by its largest possible value. Dividing
by a constant does not change a ranking figure; it only keeps the score
inside the buckets. The differential entropy has no lower bound, so it is
not a score.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.deprecation import renamed_argument
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_concentrations


def _least_confidence(alpha):
    # `initial`: Keras's TensorFlow `max` asserts on an empty batch without it.
    return ops.cast(1.0, alpha.dtype) - ops.max(
        dirichlet.expected_probability(alpha), axis=-1, initial=0.0
    )


def _per_log_k(measure):
    def score(alpha):
        return measure(alpha) / ops.cast(math.log(alpha.shape[-1]), alpha.dtype)

    return score


UNCERTAINTY_SCORES = {
    # K / S, in (0, 1] for alpha >= 1 (see `uncertainty_score` for others).
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


def validate_score(score: str) -> str:
    """Returns `score` if it names an uncertainty score; raises otherwise."""
    return check_choice(score, "score", sorted(UNCERTAINTY_SCORES))


# The scores that depend on the head's prior: `c / S` grows without bound as
# alpha falls below 1, and the dissonance's beliefs are `(alpha - lambda) / S`.
PRIOR_DEPENDENT_SCORES = ("vacuity", "epkl", "dissonance")


@renamed_argument("prior_weight", "prior_concentration")
def uncertainty_score(
    alpha: Tensor,
    score: str = "vacuity",
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> Tensor:
    """The named score of a K-class Dirichlet, in [0, 1].

    `prior_concentration` is R-EDL's `lambda` (`alpha = e + lambda`, so `alpha >=
    lambda`): the vacuity is then `lambda K / S` and the EPKL `lambda (K - 1)
    / S`, in (0, 1] again. `minimum_alpha` (None: `prior_concentration`) is the
    smallest concentration of the head. Where it is below `prior_concentration`
    (0 for DAEDL's and F-EDL's `alpha = exp(z) > 0`), `K / S` is unbounded,
    so these two scores are taken of `alpha + prior_concentration - minimum_alpha`,
    whose concentrations are `>= prior_concentration`: e.g. `K / (S + K)` for
    DAEDL, in (0, 1), which orders samples as `K / S` does. The other scores
    do not depend on the prior.
    """
    alpha = ops.convert_to_tensor(alpha)
    if validate_score(score) not in PRIOR_DEPENDENT_SCORES:
        return UNCERTAINTY_SCORES[score](alpha)
    if minimum_alpha is not None and minimum_alpha < prior_concentration:
        alpha = alpha + ops.cast(prior_concentration - minimum_alpha, alpha.dtype)
    if score == "vacuity":
        return dirichlet.vacuity(alpha, prior_concentration)
    if score == "dissonance":
        return dirichlet.dissonance(alpha, prior_concentration)
    return ops.cast(prior_concentration, alpha.dtype) * dirichlet.expected_pairwise_kl(alpha)


@renamed_argument("prior_weight", "prior_concentration")
def checked_uncertainty_score(
    alpha: Tensor,
    score: str,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> Tensor:
    """`uncertainty_score`, after checking that a prior-dependent score gets
    concentrations `>= minimum_alpha` (None: `prior_concentration`; 0: `> 0`).

    Below that bound the score would leave [0, 1]: a plausible-looking wrong
    figure (clipped into ties by buckets), as R-EDL's alpha scored with EDL's
    `prior_concentration=1` would give. The other scores need finite `alpha > 0`.
    """
    if validate_score(score) not in PRIOR_DEPENDENT_SCORES:
        check_concentrations(alpha, "y_pred", 0.0)
    else:
        minimum = prior_concentration if minimum_alpha is None else minimum_alpha
        bound = "alpha > 0" if minimum == 0 else f"alpha >= {minimum:g}"
        check_concentrations(
            alpha,
            "y_pred",
            minimum,
            message=(
                f"`y_pred` must hold finite Dirichlet concentrations {bound} "
                f"for the score {score!r} (prior_concentration={prior_concentration:g}, "
                f"minimum_alpha={minimum_alpha!r}). For R-EDL's alpha = e + "
                "lambda pass prior_concentration=lambda; for alpha that is only > 0 "
                "(DAEDL, F-EDL) minimum_alpha=0; "
                "keras_evidential.metrics.for_model(model, ...) reads both "
                "from the model."
            ),
        )
    return uncertainty_score(alpha, score, prior_concentration, minimum_alpha)


def metric_uncertainty(metric: keras.metrics.Metric, alpha: Tensor) -> Tensor:
    """`checked_uncertainty_score` of `alpha` (the known classes') with a
    metric's `score`, `prior_concentration` and `minimum_alpha`."""
    return checked_uncertainty_score(
        alpha, metric.score, metric.prior_concentration, metric.minimum_alpha
    )
