"""The TEDL study's measurements: ROC AUC, AUC by uncertainty, dying ReLU.

Everything Dirichlet comes from `keras_evidential.dirichlet`; this module only
ranks and counts. (Once `keras_evidential.metrics` / `.evaluation` offer ROC
AUC on a vacuity-filtered subset, `auc_by_uncertainty` can call them.)
"""

import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.layers import get_evidence

# u <= threshold keeps a sample; the last threshold, 1.0, keeps every sample.
THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(1, 11))
HISTOGRAM_BINS = 10


def evidential_outputs(logits, evidence):
    """Evidence, expected probability and vacuity of logits, as NumPy arrays.

    Args:
        logits: Array `(n, K)`.
        evidence: An evidence name (`"relu"`, `"elu"`, ...) or layer.

    Returns:
        A dict with `evidence` `(n, K)`, `probability` (`alpha / S`,
        `(n, K)`) and `uncertainty` (the vacuity `K / S`, `(n,)`).
    """
    logits = ops.convert_to_tensor(np.asarray(logits, dtype="float32"))
    e = get_evidence(evidence)(logits)
    alpha = dirichlet.alpha_from_evidence(e)
    return {
        "evidence": ops.convert_to_numpy(e),
        "probability": ops.convert_to_numpy(dirichlet.expected_probability(alpha)),
        "uncertainty": ops.convert_to_numpy(dirichlet.vacuity(alpha)),
    }


def softmax_probability(logits):
    """Softmax of logits, as a NumPy array (the cross-entropy model's output)."""
    return ops.convert_to_numpy(ops.softmax(ops.convert_to_tensor(logits), axis=-1))


def roc_auc(labels, scores):
    """ROC AUC of binary `labels` ranked by `scores`; NaN with one class only.

    The Mann-Whitney form: the probability that a random positive scores
    above a random negative, ties counting one half (average ranks).
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype="float64")
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # Average 1-based rank of each distinct score, then of each sample.
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def auc_by_uncertainty(labels, scores, uncertainty, thresholds=THRESHOLDS):
    """ROC AUC on the samples whose uncertainty is at most each threshold.

    TEDL's (and EDL's) test of uncertainty quality: if uncertainty is
    meaningful, the more confident subsets (lower thresholds) rank better.

    Returns:
        Two lists over `thresholds`: the AUC (NaN where the subset holds
        fewer than two classes) and the coverage (share of samples kept).
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    uncertainty = np.asarray(uncertainty)
    aucs, coverage = [], []
    for threshold in thresholds:
        keep = uncertainty <= threshold + 1e-6
        aucs.append(roc_auc(labels[keep], scores[keep]))
        coverage.append(float(keep.mean()))
    return aucs, coverage


def uncertainty_histogram(uncertainty, bins=HISTOGRAM_BINS):
    """Share of samples in each of `bins` equal-width bins of [0, 1]."""
    counts, _ = np.histogram(np.asarray(uncertainty), bins=bins, range=(0.0, 1.0))
    return (counts / max(1, counts.sum())).tolist()


def evidence_diagnostics(evidence):
    """Dying-ReLU statistics of an evidence matrix `(n, K)`.

    Returns:
        A dict: `zero_evidence_share`, the share of samples whose total
        evidence is exactly 0 (vacuity 1, probability uniform);
        `dead_unit_share`, the share of the K output units whose evidence is
        0 on every sample (a ReLU unit there gets no gradient); `died`, True
        when the evidence is 0 everywhere.
    """
    evidence = np.asarray(evidence)
    if evidence.ndim != 2 or evidence.shape[0] == 0:
        raise ValueError(
            "`evidence` must be a non-empty matrix (samples, classes). "
            f"Received: shape={evidence.shape}"
        )
    zero = evidence == 0
    return {
        "zero_evidence_share": float(zero.all(axis=1).mean()),
        "dead_unit_share": float(zero.all(axis=0).mean()),
        "died": bool(zero.all()),
    }


def dying_relu_report(model, inputs, evidence="relu", batch_size=1024):
    """`evidence_diagnostics` of a logits model over a whole data set.

    Args:
        model: A Keras model that outputs logits.
        inputs: What `model.predict` takes (arrays or a dataset).
        evidence: The evidence function the model is trained with.
        batch_size: Prediction batch size.
    """
    logits = model.predict(inputs, batch_size=batch_size, verbose=0)
    return evidence_diagnostics(evidential_outputs(logits, evidence)["evidence"])
