"""NumPy-in, NumPy-out evaluation of evidential predictions.

Every function takes `alpha` (the model output, shape `(N, K)` or, with
`unknown_class=True`, `(N, K + 1)`) and integer labels of shape `(N,)` in
`[0, K]`, K marking unknown samples (one-hot labels also work, see
`keras_evidential.metrics.predictions`). They compute with the same `keras.ops`
functions, metric classes and estimators (`keras_evidential.metrics.ranking`)
as `keras_evidential.metrics`, so a figure here equals the metric's value
over the same data; where a figure is undefined (e.g. unknown recall without
unknown samples) both return NaN.

The prior of the head: every function takes `prior_concentration` (R-EDL's
`lambda`, `DirichletOutput(prior_concentration=lambda)`: `alpha = e + lambda`,
vacuity `lambda K / S`; 1, EDL's, by default) and `minimum_alpha` (the
smallest valid concentration, `prior_concentration` by default; 0 for heads whose
alpha is only > 0: DAEDL's `DensityAwareDirichlet`, or F-EDL's equivalent
alpha). `alpha` below it, NaN or infinite, is refused.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.deprecation import renamed_argument
from keras_evidential.labels import open_set_labels
from keras_evidential.layers.evidence import get as get_evidence
from keras_evidential.metrics import ranking
from keras_evidential.metrics.auc import MisclassificationAUROC
from keras_evidential.metrics.auc import ThresholdedAUC
from keras_evidential.metrics.auc import UnknownClassAUROC
from keras_evidential.metrics.calibration import ExpectedCalibrationError
from keras_evidential.metrics.detection import BrierScore
from keras_evidential.metrics.detection import MisclassificationAUPR
from keras_evidential.metrics.detection import UnknownClassAUPR
from keras_evidential.metrics.detection import UnknownClassFPR
from keras_evidential.metrics.open_set import KnownClassAccuracy
from keras_evidential.metrics.open_set import RejectionRate
from keras_evidential.metrics.open_set import SelectiveAccuracy
from keras_evidential.metrics.open_set import UnknownClassPrecision
from keras_evidential.metrics.open_set import UnknownClassRecall
from keras_evidential.metrics.open_set import open_set_counts
from keras_evidential.metrics.predictions import known_alpha
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import predict_labels
from keras_evidential.metrics.predictions import validate_threshold
from keras_evidential.metrics.scores import uncertainty_score
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_number
from keras_evidential.validation import lower_bound


# Vacuity thresholds 0, 0.05, ..., 1 (m-EDL's code uses steps of 0.1).
DEFAULT_THRESHOLDS = np.round(np.linspace(0.0, 1.0, 21), 10)

_RATIO_METRICS = {
    "known_accuracy": KnownClassAccuracy,
    "selective_accuracy": SelectiveAccuracy,
    "rejection_rate": RejectionRate,
    "unknown_recall": UnknownClassRecall,
    "unknown_precision": UnknownClassPrecision,
}


def alpha_from_outputs(
    outputs: ArrayLike, evidence: str | keras.layers.Layer | None = None
) -> np.ndarray:
    """Dirichlet `alpha` from model outputs, as a float32 NumPy array.

    Args:
        outputs: The model's outputs.
        evidence: None if the outputs already are `alpha` (a model ending in
            `DirichletOutput`); for a model that outputs logits (trained with
            `EDLLoss(from_logits=True)`, e.g. TEDL), the evidence function of
            its loss: a name such as `"elu"` or an `Evidence` layer.
    """
    # Imported here: `model_kind` imports the losses, which import metrics.
    from keras_evidential.model_kind import ModelKind

    outputs = np.asarray(outputs, dtype="float32")
    if evidence is None:
        return outputs
    # `ModelKind.to_alpha`: the one definition of logits -> alpha.
    kind = ModelKind("logits", False, outputs.shape[-1], get_evidence(evidence))
    return np.asarray(ops.convert_to_numpy(kind.to_alpha(outputs)), "float32")


def _validate_prior_concentration(prior_concentration):
    return check_number(prior_concentration, "prior_concentration", low=0, low_open=True)


def _validate_minimum_alpha(minimum_alpha, prior_concentration):
    value = check_number(minimum_alpha, "minimum_alpha", low=0, allow_none=True)
    return prior_concentration if value is None else value


def _checked_alpha(alpha, prior_concentration, minimum_alpha):
    """`alpha` as a float32 tensor, and `prior_concentration` as a float; raises
    unless every concentration is finite and at least `minimum_alpha`."""
    prior_concentration = _validate_prior_concentration(prior_concentration)
    minimum = _validate_minimum_alpha(minimum_alpha, prior_concentration)
    alpha = np.asarray(alpha, dtype="float32")
    if alpha.ndim != 2:
        raise ValueError(
            "Expected `alpha` of shape (num_samples, num_classes). "
            f"Received: alpha.shape={alpha.shape}"
        )
    if not np.isfinite(alpha).all():
        raise ValueError(
            "Expected finite Dirichlet concentrations `alpha`. Received: "
            f"{np.size(alpha) - np.isfinite(alpha).sum()} NaN or infinite values"
        )
    if minimum == 0:
        in_range = alpha.min(initial=np.inf) > 0
        expected = "alpha > 0 (minimum_alpha=0)"
    else:
        # The bound of every concentration check (float32 rounding of
        # `e + lambda` is not below the prior).
        in_range = alpha.min(initial=np.inf) >= lower_bound(minimum)
        expected = f"alpha >= prior_concentration={prior_concentration}"
        if minimum != prior_concentration:
            expected = f"alpha >= minimum_alpha={minimum}"
    if not in_range:
        raise ValueError(
            f"Expected Dirichlet concentrations {expected} (the output of "
            "DirichletOutput(prior_concentration=...)). For a model that outputs "
            "logits, pass its evidence function (e.g. evidence='elu'); for "
            "R-EDL's alpha = e + lambda pass prior_concentration=lambda, for alpha "
            "that is only > 0 (DAEDL, F-EDL) minimum_alpha=0. "
            f"Received: min(alpha)={alpha.min()}, prior_concentration={prior_concentration}"
        )
    return ops.convert_to_tensor(alpha), prior_concentration


def _tensors(alpha, labels, unknown_class, prior_concentration, minimum_alpha):
    alpha, prior_concentration = _checked_alpha(alpha, prior_concentration, minimum_alpha)
    labels = open_set_labels(np.asarray(labels), alpha, unknown_class)
    return alpha, labels, prior_concentration


def _ratio(counts, metric_class):
    denominator = float(counts[metric_class.denominator])
    if denominator == 0:
        return float("nan")
    return float(counts[metric_class.numerator]) / denominator


def _counts(alpha, labels, unknown_class, threshold, prior_concentration):
    predictions = predict_labels(alpha, unknown_class, threshold, prior_concentration)
    counts = open_set_counts(
        labels, predictions, num_known_classes(alpha, unknown_class)
    )
    return {key: float(ops.convert_to_numpy(value)) for key, value in counts.items()}


def _figure(metric, alpha, labels):
    """The metric's value over all of `alpha` (NaN where undefined)."""
    metric.update_state(labels, alpha)
    return float(ops.convert_to_numpy(metric.result()))


def _exact(n):
    """Ranking-metric arguments that hold all `n` samples (the exact figure)."""
    return {"max_samples": max(int(n), 1)}


def roc_auc(
    labels: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike = None
) -> float:
    """Exact ROC AUC of binary `labels` ranked by `scores`; NaN with one class.

    The Mann-Whitney form: the probability that a random positive scores
    above a random negative, ties counting one half, as scikit-learn's
    `roc_auc_score` (`keras_evidential.metrics.ranking.roc_auc`, the
    estimator of the AUROC metrics).
    """
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    positive, negative = ranking.weights_of(labels, sample_weight)
    return float(ranking.roc_auc(scores, positive, negative))


def label_indices(
    alpha: ArrayLike, labels: ArrayLike, unknown_class: bool = False
) -> np.ndarray:
    """Integer labels in `[0, K]` (K = unknown) from integer or one-hot ones.

    Only `alpha`'s shape is read.
    """
    alpha = ops.convert_to_tensor(np.asarray(alpha, dtype="float32"))
    labels = open_set_labels(np.asarray(labels), alpha, unknown_class)
    return ops.convert_to_numpy(labels)


@renamed_argument("prior_weight", "prior_concentration")
def predicted_labels(
    alpha: ArrayLike,
    unknown_class: bool = False,
    threshold: float | None = None,
    prior_concentration: float = 1.0,
) -> np.ndarray:
    """Predictions in `[0, K]`, K = "unknown" (see `keras_evidential.labels`).

    With a threshold, "unknown" where the vacuity `prior_concentration K / S`
    exceeds it.
    """
    alpha = ops.convert_to_tensor(np.asarray(alpha, dtype="float32"))
    threshold = validate_threshold(threshold)
    prior_concentration = _validate_prior_concentration(prior_concentration)
    return ops.convert_to_numpy(
        predict_labels(alpha, unknown_class, threshold, prior_concentration)
    )


@renamed_argument("prior_weight", "prior_concentration")
def uncertainty_measures(
    alpha: ArrayLike,
    unknown_class: bool = False,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, np.ndarray]:
    """Per-sample uncertainty measures, as NumPy arrays of shape `(N,)`.

    Keys: `strength` (S of the known classes), `vacuity` (`prior_concentration K /
    S`), `dissonance`, `total_entropy`, `expected_entropy`,
    `mutual_information`, `epkl`, `differential_entropy`, `confidence`
    (`max_k p_bar_k`), and, with `unknown_class=True`, `unknown_probability`
    (m-EDL's `p_hat_u`).

    Args:
        alpha: Model outputs, `(N, K)` or `(N, K + 1)`.
        unknown_class: Whether `alpha` comes from `UnknownClassHead`.
        prior_concentration: The head's prior weight `lambda` (see the module
            docstring). Defaults to 1 (EDL).
        minimum_alpha: The smallest valid `alpha`; None (default) means
            `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).
    """
    alpha, prior_concentration = _checked_alpha(alpha, prior_concentration, minimum_alpha)
    known = known_alpha(alpha, unknown_class)
    measures = {
        "strength": dirichlet.strength(known),
        "vacuity": dirichlet.vacuity(known, prior_concentration),
        "dissonance": dirichlet.dissonance(known, prior_concentration),
        "total_entropy": dirichlet.total_entropy(known),
        "expected_entropy": dirichlet.expected_entropy(known),
        "mutual_information": dirichlet.mutual_information(known),
        "epkl": dirichlet.expected_pairwise_kl(known),
        "differential_entropy": dirichlet.differential_entropy(known),
        "confidence": ops.max(dirichlet.expected_probability(known), axis=-1),
    }
    if unknown_class:
        # p_hat_u = alpha_u / S+: (K + 1) / S+ for `UnknownClassHead`, and
        # (K + 1 + e_u) / S+ for `LearnedUnknownClassHead`.
        measures["unknown_probability"] = alpha[:, -1] / dirichlet.strength(alpha)
    return {key: ops.convert_to_numpy(value) for key, value in measures.items()}


@renamed_argument("prior_weight", "prior_concentration")
def accuracy_vs_threshold(
    alpha: ArrayLike,
    labels: ArrayLike,
    thresholds: ArrayLike | None = None,
    unknown_class: bool = False,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, np.ndarray]:
    """Open-set accuracies as functions of the vacuity threshold.

    At threshold `t` a sample whose vacuity exceeds `t` is predicted
    "unknown" (m-EDL models use their known-class `p_bar`, Fig. 3b of
    Nagahama, 2023).

    Args:
        alpha: Model outputs, `(N, K)` or `(N, K + 1)`.
        labels: Integer labels `(N,)`, K = unknown.
        thresholds: Increasing vacuity thresholds. Defaults to
            `DEFAULT_THRESHOLDS` (0 to 1 by 0.05). A `None` entry gives the
            threshold-free predictions (EDL `argmax`, m-EDL `argmax` over
            K + 1), reported with threshold NaN.
        unknown_class: Whether `alpha` comes from `UnknownClassHead`.
        prior_concentration: The head's prior weight `lambda` (R-EDL; `alpha = e +
            lambda`): the vacuity is `lambda K / S`. Defaults to 1 (EDL).
        minimum_alpha: The smallest valid `alpha`; None (default) means
            `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).

    Returns:
        A dict of arrays, one value per threshold: `threshold`; `coverage`
        (share kept); `rejection_rate`; `selective_accuracy` (accuracy of the
        kept samples, m-EDL's Fig. 3 EDL curve); `known_accuracy` (known
        samples kept and right, per known sample); `unknown_recall` and
        `unknown_precision` of the "unknown" predictions.
        `known_accuracy`, `coverage` and `rejection_rate` are monotone in
        the threshold, `unknown_recall` too (decreasing); the other two
        depend on how well vacuity ranks errors.
    """
    alpha, labels, prior_concentration = _tensors(
        alpha, labels, unknown_class, prior_concentration, minimum_alpha
    )
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    thresholds = [validate_threshold(t) for t in thresholds]
    curve: dict[str, list[float]] = {name: [] for name in ("coverage", *_RATIO_METRICS)}
    for threshold in thresholds:
        counts = _counts(alpha, labels, unknown_class, threshold, prior_concentration)
        curve["coverage"].append(counts["accepted"] / max(counts["total"], 1.0))
        for name, metric_class in _RATIO_METRICS.items():
            curve[name].append(_ratio(counts, metric_class))
    thresholds = np.asarray(
        [np.nan if t is None else t for t in thresholds], dtype=float
    )
    return {"threshold": thresholds, **{k: np.asarray(v) for k, v in curve.items()}}


@renamed_argument("prior_weight", "prior_concentration")
def auc_vs_threshold(
    alpha: ArrayLike,
    labels: ArrayLike,
    thresholds: ArrayLike | None = None,
    unknown_class: bool = False,
    positive_class: int = 1,
    num_thresholds: int | None = None,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, Any]:
    """TEDL's ROC AUC on the samples with vacuity `<= t`, for each `t`.

    Binary tasks only (K = 2). Unknown samples are left out.

    Args:
        alpha: Model outputs, `(N, 2)` or `(N, 3)` with `unknown_class=True`.
        labels: Integer labels in {0, 1} (2 = unknown, left out).
        thresholds: Increasing vacuity thresholds. Defaults to
            `DEFAULT_THRESHOLDS`.
        unknown_class: Whether `alpha` comes from `UnknownClassHead`.
        positive_class: The class whose `p_bar` ranks the samples.
        num_thresholds: None (default) for the exact AUC, or a number of
            buckets of `ThresholdedAUC`'s approximation.
        prior_concentration: The head's prior weight `lambda` (R-EDL; `alpha = e +
            lambda`): the vacuity is `lambda K / S`. Defaults to 1 (EDL).
        minimum_alpha: The smallest valid `alpha`; None (default) means
            `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).

    Returns:
        A dict of arrays: `threshold`, `auc` (NaN where the kept samples lack
        a class), `kept` (number of samples) and `coverage` (their share of
        the known samples).
    """
    alpha, labels, prior_concentration = _tensors(
        alpha, labels, unknown_class, prior_concentration, minimum_alpha
    )
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    thresholds = np.asarray([validate_threshold(t) for t in thresholds], float)
    vacuity = ops.convert_to_numpy(
        dirichlet.vacuity(known_alpha(alpha, unknown_class), prior_concentration)
    )
    label_array = ops.convert_to_numpy(labels)
    known = label_array < 2
    aucs: list[float] = []
    kept: list[int] = []
    for threshold in thresholds:
        covered = known & (vacuity <= np.asarray(threshold, vacuity.dtype))
        metric = ThresholdedAUC(
            threshold=threshold,
            positive_class=positive_class,
            unknown_class=unknown_class,
            num_thresholds=num_thresholds,
            prior_concentration=prior_concentration,
            minimum_alpha=minimum_alpha,
            **_exact(len(label_array)),
        )
        aucs.append(_figure(metric, alpha, labels))
        kept.append(int(covered.sum()))
    kept_counts = np.asarray(kept)
    return {
        "threshold": thresholds,
        "auc": np.asarray(aucs),
        "kept": kept_counts,
        "coverage": kept_counts / max(int(known.sum()), 1),
    }


@renamed_argument("prior_weight", "prior_concentration")
def uncertainty_distribution(
    alpha: ArrayLike,
    labels: ArrayLike,
    bins: int = 20,
    unknown_class: bool = False,
    score: str = "vacuity",
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, np.ndarray]:
    """Histogram of an uncertainty score, split by outcome (TEDL's Fig. 4).

    Groups: known samples predicted right and wrong (threshold-free
    prediction: EDL `argmax`, m-EDL `argmax` over K + 1, so a known sample
    taken as "unknown" counts as wrong), and unknown samples.

    Args:
        alpha: Model outputs, `(N, K)` or `(N, K + 1)`.
        labels: Integer labels `(N,)`, K = unknown.
        bins: Number of equal-width bins on [0, 1].
        unknown_class: Whether `alpha` comes from `UnknownClassHead`.
        score: A name of `keras_evidential.metrics.UNCERTAINTY_SCORES`.
        prior_concentration: The head's prior weight `lambda` (R-EDL; `alpha = e +
            lambda`): the vacuity is `lambda K / S`. Defaults to 1 (EDL).
        minimum_alpha: The smallest valid `alpha`; None (default) means
            `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).

    Returns:
        A dict of arrays: `bin_left`, `bin_right` (`bins` values each), and
        the counts `correct`, `misclassified` and `unknown` per bin.
    """
    alpha, labels, prior_concentration = _tensors(
        alpha, labels, unknown_class, prior_concentration, minimum_alpha
    )
    k = num_known_classes(alpha, unknown_class)
    values = ops.convert_to_numpy(
        uncertainty_score(known_alpha(alpha, unknown_class), score, prior_concentration)
    )
    predictions = ops.convert_to_numpy(predict_labels(alpha, unknown_class))
    label_array = ops.convert_to_numpy(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    known = label_array < k
    groups = {
        "correct": known & (predictions == label_array),
        "misclassified": known & (predictions != label_array),
        "unknown": ~known,
    }
    histogram = {
        name: np.histogram(np.clip(values[mask], 0.0, 1.0), bins=edges)[0]
        for name, mask in groups.items()
    }
    return {"bin_left": edges[:-1], "bin_right": edges[1:], **histogram}


@renamed_argument("prior_weight", "prior_concentration")
def uncertainty_metrics(
    alpha: ArrayLike,
    labels: ArrayLike,
    unknown_class: bool = False,
    threshold: float | None = None,
    num_bins: int = 15,
    num_thresholds: int | None = None,
    prior_concentration: float = 1.0,
    minimum_alpha: float | None = None,
) -> dict[str, float]:
    """Scalar figures of an evidential classifier on labelled data.

    Each figure is the value of the metric of the same name (with its
    default score) over all samples: `model.evaluate` with that metric
    compiled gives the same number.

    Args:
        alpha: Model outputs, `(N, K)` or `(N, K + 1)`.
        labels: Integer labels `(N,)`, K = unknown.
        unknown_class: Whether `alpha` comes from `UnknownClassHead`.
        threshold: None (threshold-free predictions: EDL `argmax`, m-EDL
            `argmax` over K + 1) or a vacuity threshold for the open-set
            figures.
        num_bins: Bins of the expected calibration error.
        num_thresholds: None (default) for the exact ranking figures, or the
            number of buckets of their approximation (see `RankingMetric`).
        prior_concentration: The head's prior weight `lambda` (R-EDL; `alpha = e +
            lambda`): the vacuity is `lambda K / S`. Defaults to 1 (EDL).
        minimum_alpha: The smallest valid `alpha`; None (default) means
            `prior_concentration`, 0 means `alpha > 0` (DAEDL, F-EDL).

    Returns:
        A dict of floats (NaN where undefined): `known_accuracy`,
        `selective_accuracy`, `rejection_rate`, `unknown_recall`,
        `unknown_precision` (at `threshold`), `ece`, `brier_score`,
        `misclassification_auroc` (vacuity), `misclassification_aupr`
        (least confidence), `unknown_auroc`, `unknown_aupr` (AUPR-In) and
        `unknown_fpr95` (of the vacuity), `roc_auc` (binary tasks only),
        and `mean_<measure>` for every measure of `uncertainty_measures`
        over all samples.
    """
    alpha, labels, prior_concentration = _tensors(
        alpha, labels, unknown_class, prior_concentration, minimum_alpha
    )
    threshold = validate_threshold(threshold)
    k = num_known_classes(alpha, unknown_class)
    counts = _counts(alpha, labels, unknown_class, threshold, prior_concentration)
    figures = {
        name: _ratio(counts, metric_class)
        for name, metric_class in _RATIO_METRICS.items()
    }
    n = int(alpha.shape[0])
    output: dict[str, Any] = {"unknown_class": unknown_class}
    prior: dict[str, Any] = {
        "prior_concentration": prior_concentration,
        "minimum_alpha": minimum_alpha,
    }
    ranked = {**output, **prior, "num_thresholds": num_thresholds, **_exact(n)}
    for metric in (
        ExpectedCalibrationError(num_bins=num_bins, **output),
        BrierScore(**output),
        MisclassificationAUROC(**ranked),
        MisclassificationAUPR(**ranked),
        UnknownClassAUROC(**ranked),
        UnknownClassAUPR(**ranked),
        UnknownClassFPR(**ranked),
    ):
        figures[metric.name] = _figure(metric, alpha, labels)
    if k == 2:
        figures["roc_auc"] = _figure(ThresholdedAUC(**ranked), alpha, labels)
    for name, values in uncertainty_measures(
        ops.convert_to_numpy(alpha), unknown_class, prior_concentration, minimum_alpha
    ).items():
        figures[f"mean_{name}"] = float(np.mean(values))
    return figures
