"""The split-conformal quantile of calibration scores, and its coverage band."""

from __future__ import annotations

import fractions
import math

import numpy as np

from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_number


def conformal_rank(num_scores: int, alpha: float) -> int:
    """`k = ceil((n + 1)(1 - alpha))`: which order statistic is the threshold.

    Computed in exact rational arithmetic from `alpha`'s shortest decimal
    form, so that `n = 9, alpha = 0.7` gives `k = 3` (floating point
    would give `ceil(3.0000000000000004) = 4`, a needlessly larger set).
    `k > n` means that no finite threshold reaches the level: every label
    (or the whole real line) is in the set.
    """
    alpha = check_number(alpha, "alpha", 0, 1, low_open=True, high_open=True)
    exact = (num_scores + 1) * (1 - fractions.Fraction(repr(alpha)))
    return math.ceil(exact)


def conformal_quantile(scores: ArrayLike, alpha: float) -> float:
    """The split-conformal threshold: the `ceil((n + 1)(1 - alpha))`-th
    smallest of the `n` calibration scores.

    Formula:
    ```
    q_hat = s_(k),   k = ceil((n + 1)(1 - alpha)),   q_hat = +inf if k > n
    ```

    With exchangeable calibration and test points, the set
    `{y : s(x, y) <= q_hat}` holds the true label with probability
    `>= 1 - alpha` (Vovk et al. 2005; Angelopoulos & Bates 2023, Thm. 1).
    Ties: the order statistic is taken with every repeated score counted
    (`np.sort`), and a test label whose score equals `q_hat` is in the set
    (`<=`), so ties never lower the coverage; the upper bound
    `1 - alpha + 1 / (n + 1)` needs distinct scores (a randomised score
    gives them almost surely).

    Args:
        scores: The `n` calibration scores (the score of each calibration
            point's true label), any shape; read as float64.
        alpha: The miscoverage level in `(0, 1)`.

    Returns:
        The threshold as a Python float (`inf` when `k > n`, including `n = 0`).

    Example:

    >>> keras_evidential.conformal.conformal_quantile([0.3, 0.1, 0.2, 0.4], 0.4)
    0.3

    (`k = ceil(5 * 0.6) = 3`: the third smallest.)

    Reference:
    - Angelopoulos & Bates, "Conformal Prediction: A Gentle Introduction",
      Found. Trends Mach. Learn. 16(4) (2023), Sec. 1
    """
    scores = np.sort(np.asarray(scores, dtype="float64").ravel())
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            "`scores` must be finite. Received: scores with "
            f"{int(np.sum(~np.isfinite(scores)))} non-finite entries"
        )
    k = conformal_rank(scores.size, alpha)
    if k > scores.size:
        return math.inf
    return float(scores[k - 1])  # k >= 1, since alpha < 1


def coverage_band(num_scores: int, alpha: float) -> tuple[float, float]:
    """`(1 - alpha, 1 - alpha + 1 / (n + 1))`: where the expected coverage of
    split conformal lies, the upper end for distinct scores.

    The expected coverage is exactly `k / (n + 1)`,
    `k = ceil((n + 1)(1 - alpha))`, for distinct exchangeable scores
    (Angelopoulos & Bates 2023, Thm. D.1), which this band brackets.

    Example:

    >>> keras_evidential.conformal.coverage_band(9, 0.1)
    (0.9, 1.0)
    """
    alpha = check_number(alpha, "alpha", 0, 1, low_open=True, high_open=True)
    return 1.0 - alpha, 1.0 - alpha + 1.0 / (num_scores + 1)
