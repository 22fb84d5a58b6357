"""Accuracies of the m-EDL paper, counted with NumPy from Dirichlet outputs.

Every Dirichlet quantity comes from `keras_evidential.dirichlet`; this module
only counts. (It is the one place to switch to `keras_evidential.evaluation`
once that API exists.)

Definitions (REFERENCE.md section 2 and the reference code):
- m-EDL, threshold-free: predict argmax over the K + 1 classes of p_hat.
  `acc_k`: share of true-k samples predicted as their class (predicting u is
  wrong). `acc_u`: share of true-u samples predicted u (a recall).
- EDL with an uncertainty threshold t: a sample whose vacuity u = K / S
  exceeds t is rejected (taken as u), the others get argmax p_bar.
  `acc_k@t`: share of true-k samples accepted and classified right (the same
  recall as m-EDL's `acc_k`). `acc_k_ref@t`: the reference code's "accuracy
  for k": correct predictions among the accepted samples (true-u samples
  accepted count as wrong). `acc_u@t`: share of true-u samples rejected
  (recall). `acc_u_prec@t`: the reference code's "accuracy for u": share of
  the rejected samples that are truly u (a precision).
"""

import numpy as np
from keras import ops

from keras_evidential import dirichlet

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))
CURVES = ("acc_k", "acc_k_ref", "acc_u", "acc_u_prec")


def curve_column(name, threshold):
    return f"{name}@{threshold:.2f}"


CURVE_COLUMNS = tuple(curve_column(c, t) for c in CURVES for t in THRESHOLDS)


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator else float("nan")


def threshold_scores(alpha, labels, thresholds=THRESHOLDS):
    """EDL's accuracies against an uncertainty threshold.

    Args:
        alpha: K-class concentrations `(N, K)` (for an m-EDL model: its first
            K columns, which give p_bar and the vacuity, as in the paper's
            Fig. 3b).
        labels: int `(N,)`; label K means u.
        thresholds: Uncertainty thresholds.

    Returns:
        A dict `{curve_column(name, t): value}` for the names in `CURVES`.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    labels = np.asarray(labels)
    k = alpha.shape[-1]
    vacuity = ops.convert_to_numpy(dirichlet.vacuity(alpha))
    vacuity = vacuity.reshape(len(alpha))
    pred = np.argmax(
        ops.convert_to_numpy(dirichlet.expected_probability(alpha)), axis=-1
    )
    is_u = labels == k
    correct = pred == labels
    n_u = int(is_u.sum())
    n_k = len(labels) - n_u
    scores = {}
    for t in thresholds:
        accept = vacuity <= t
        reject = ~accept
        scores[curve_column("acc_k", t)] = _ratio((accept & correct).sum(), n_k)
        scores[curve_column("acc_k_ref", t)] = _ratio(
            (accept & correct).sum(), accept.sum()
        )
        scores[curve_column("acc_u", t)] = _ratio((reject & is_u).sum(), n_u)
        scores[curve_column("acc_u_prec", t)] = _ratio(
            (reject & is_u).sum(), reject.sum()
        )
    return scores


def unknown_class_scores(alpha_plus, labels):
    """m-EDL's threshold-free accuracies from `(N, K + 1)` concentrations."""
    alpha_plus = np.asarray(alpha_plus, dtype=np.float64)
    labels = np.asarray(labels)
    k = alpha_plus.shape[-1] - 1
    pred = np.argmax(
        ops.convert_to_numpy(dirichlet.expected_probability(alpha_plus)), axis=-1
    )
    is_u = labels == k
    return {
        "acc_k": _ratio((pred == labels)[~is_u].sum(), (~is_u).sum()),
        "acc_u": _ratio((pred == k)[is_u].sum(), is_u.sum()),
    }


def score(alpha, labels, head):
    """All scores of one trial on one test set.

    `head` is `"edl"` (alpha `(N, K)`; its threshold-free accuracies are
    those at threshold 1, where nothing is rejected) or an m-EDL head
    (alpha `(N, K + 1)`).
    """
    if head == "edl":
        scores = threshold_scores(alpha, labels)
        scores["acc_k"] = scores[curve_column("acc_k", 1.0)]
        scores["acc_u"] = scores[curve_column("acc_u", 1.0)]
        return scores
    scores = threshold_scores(np.asarray(alpha)[:, :-1], labels)
    scores.update(unknown_class_scores(alpha, labels))
    return scores
