"""What both conformal benchmarks share: the coverage band check, Holm's
adjustment and the verdict words (protocol in README.md)."""

import math

import numpy as np

import keras_evidential as ke


def coverage_se(n_calibration, alpha, n_test, repetitions):
    """Standard error of a mean coverage over `repetitions` splits, treated as
    independent: one split's coverage is Binomial(m, C) / m with
    C ~ Beta(k, n + 1 - k), k = ceil((n + 1)(1 - alpha))."""
    k = ke.conformal.conformal_rank(n_calibration, alpha)
    a, b = k, n_calibration + 1 - k
    mean = a / (a + b)
    var_c = a * b / ((a + b) ** 2 * (a + b + 1))
    return math.sqrt((var_c + (mean * (1 - mean) - var_c) / n_test) / repetitions)


def coverage_verdict(mean, n_calibration, alpha, n_test, repetitions, upper_required):
    """"in band", "below band" or "above band" (3 standard errors of slack);
    where the upper end is not required, "above band" reads "above (conservative)"."""
    low, high = ke.conformal.coverage_band(n_calibration, alpha)
    slack = 3 * coverage_se(n_calibration, alpha, n_test, repetitions)
    if mean < low - slack:
        return "below band"
    if mean > high + slack:
        return "above band" if upper_required else "above (conservative)"
    return "in band"


def holm(p_values):
    """Holm's step-down adjusted p-values, in the input order (None stays None)."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    present.sort()
    adjusted = [None] * len(p_values)
    running = 0.0
    m = len(present)
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def difference_verdict(mean_diff, adjusted_p, smaller="smaller", larger="larger"):
    if adjusted_p is not None and adjusted_p < 0.05:
        return smaller if mean_diff < 0 else larger
    return "no significant difference"


def fmt(values, digits=3):
    """`"mean ± std"` with `digits` decimals, more where the mean is below 0.1
    (naval's widths are ~0.002)."""
    v = np.asarray(values, float)
    scale = abs(v.mean())
    if 0 < scale < 0.1:
        digits += int(math.ceil(-math.log10(scale))) - 1
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1) if v.size > 1 else 0.0:.{digits}f}"
