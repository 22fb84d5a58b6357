"""The m-EDL paper's accuracies, as CSV columns, from `keras_evidential.evaluation`.

Definitions (docs/formulas.md, m-EDL and the reference code), with the
`accuracy_vs_threshold` curve each column comes from:
- m-EDL, threshold-free: predict argmax over the K + 1 classes of p_hat.
  `acc_k` (`known_accuracy`): share of true-k samples predicted as their
  class (predicting u is wrong). `acc_u` (`unknown_recall`): share of true-u
  samples predicted u.
- EDL with an uncertainty threshold t (an m-EDL model uses its known-class
  p_bar and vacuity, as in the paper's Fig. 3b): a sample whose vacuity
  u = K / S exceeds t is rejected (taken as u), the others get argmax p_bar.
  `acc_k@t` (`known_accuracy`): share of true-k samples accepted and
  classified right. `acc_k_ref@t` (`selective_accuracy`): the reference
  code's "accuracy for k", correct predictions among the accepted samples
  (true-u samples accepted count as wrong). `acc_u@t` (`unknown_recall`):
  share of true-u samples rejected. `acc_u_prec@t` (`unknown_precision`):
  the reference code's "accuracy for u", share of the rejected samples that
  are truly u.
"""

from keras_evidential.evaluation import accuracy_vs_threshold

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))
# CSV column prefix -> the `accuracy_vs_threshold` curve it holds.
CURVES = {
    "acc_k": "known_accuracy",
    "acc_k_ref": "selective_accuracy",
    "acc_u": "unknown_recall",
    "acc_u_prec": "unknown_precision",
}


def curve_column(name, threshold):
    return f"{name}@{threshold:.2f}"


CURVE_COLUMNS = tuple(curve_column(c, t) for c in CURVES for t in THRESHOLDS)


def score(alpha, labels, head):
    """All scores of one trial on one test set.

    `head` is `"edl"` (alpha `(N, K)`) or an m-EDL head (alpha `(N, K + 1)`,
    the last column u). Labels are integers, K meaning u. The threshold-free
    `acc_k` and `acc_u` are EDL's at threshold 1 (nothing is rejected) and
    m-EDL's argmax over K + 1.
    """
    unknown_class = head != "edl"
    curves = accuracy_vs_threshold(
        alpha, labels, THRESHOLDS + (None,), unknown_class=unknown_class
    )
    scores = {
        curve_column(name, t): float(curves[key][i])
        for name, key in CURVES.items()
        for i, t in enumerate(THRESHOLDS)
    }
    scores["acc_k"] = float(curves["known_accuracy"][-1])
    scores["acc_u"] = float(curves["unknown_recall"][-1])
    return scores
