"""Summaries of positive, right-skewed ratios (the cubic toy's epistemic
out/in ratios): the median with its distribution-free confidence interval
and the geometric mean with its t interval on the log scale, instead of a
mean ± std that a single large ratio dominates."""

import numpy as np
from scipy import stats


def median_interval(values, confidence=0.95):
    """`(median, low, high)`: the order statistics x_(k) and x_(n + 1 - k) with
    the largest k whose binomial coverage P(k <= B < n + 1 - k), B ~ Bin(n, 1/2),
    is at least `confidence` (k = 1, the range, when no narrower pair covers)."""
    x = np.sort(np.asarray(values, "float64"))
    n = x.size
    k = 1
    for candidate in range(1, n // 2 + 1):
        coverage = stats.binom.cdf(n - candidate, n, 0.5) - stats.binom.cdf(candidate - 1, n, 0.5)
        if coverage >= confidence:
            k = candidate
    return float(np.median(x)), float(x[k - 1]), float(x[n - k])


def geometric_mean_interval(values, confidence=0.95):
    """`(geometric mean, low, high)`: exp of the mean of the logs ± the t
    quantile times their standard error."""
    logs = np.log(np.asarray(values, "float64"))
    n = logs.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * logs.std(ddof=1) / np.sqrt(n)
    return float(np.exp(logs.mean())), float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))


def describe(values, digits=2):
    """"median m [lo, hi]; geo. mean g [lo, hi]" of positive ratios."""
    f = lambda triple: f"{triple[0]:.{digits}f} [{triple[1]:.{digits}f}, {triple[2]:.{digits}f}]"
    return f"median {f(median_interval(values))}; geo. mean {f(geometric_mean_interval(values))}"
