"""The verdict rules of `PROTOCOL.md`: equivalence (TOST), one-sided Welch
tests against a published mean ± std, floored published stds, and Holm.

A published figure is a mean and std over `published_runs` runs (5 in the
Re-EDL and DAEDL tables); ours are the seeds of one row. Every test is
Welch's, with Satterthwaite's degrees of freedom; a published std of 0 makes
it the one-sample t-test against the published mean.
"""

import math

import numpy as np
from scipy import stats

MARGIN_PP = 0.5  # the pre-registered equivalence margin, in percentage points
ALPHA = 0.05
PUBLISHED_RUNS = 5
# Published figures whose std is printed with one decimal ("99.87 ± 0.0",
# DAEDL Table 2); every other published std has two.
ONE_DECIMAL_STDS = {("daedl", "fmnist_aupr")}


def printed_decimals(method_name, figure):
    """How many decimals the paper printed for the std of `figure`."""
    return 1 if (method_name, figure) in ONE_DECIMAL_STDS else 2


def floored_std(std, decimals):
    """A published std no smaller than the largest value that prints as 0 at
    `decimals` decimals: a printed 0.00 is < 0.005, so 0.005 is used; a
    printed "± 0.0" gives 0.05. Non-zero stds are kept as printed."""
    return max(float(std), 0.5 * 10.0 ** -decimals)


def _welch(ours, mean, std, published_runs):
    """`(mean difference, standard error, degrees of freedom)` of our values
    against a published mean ± std."""
    ours = np.asarray([v for v in ours if np.isfinite(v)], "float64")
    n = ours.size
    ours_var, theirs_var = ours.var(ddof=1) / n, float(std) ** 2 / published_runs
    se2 = ours_var + theirs_var
    df = se2**2 / (ours_var**2 / (n - 1) + theirs_var**2 / (published_runs - 1))
    return ours.mean() - mean, math.sqrt(se2), df


def one_sided_p(ours, mean, std, alternative, shift=0.0, published_runs=PUBLISHED_RUNS):
    """Welch p of H1: ours - published > shift (`"greater"`) or < shift
    (`"less"`); None with under 2 finite values of ours."""
    if np.isfinite(ours).sum() < 2:
        return None
    diff, se, df = _welch(ours, mean, std, published_runs)
    if se == 0.0:
        return 0.0 if (diff > shift if alternative == "greater" else diff < shift) else 1.0
    t = (diff - shift) / se
    return float(stats.t.sf(t, df) if alternative == "greater" else stats.t.cdf(t, df))


def tost_p(ours, mean, std, margin=MARGIN_PP, published_runs=PUBLISHED_RUNS):
    """Two one-sided tests of equivalence within ±`margin`: the larger of
    the p of H1: diff > -margin and of H1: diff < +margin."""
    lower = one_sided_p(ours, mean, std, "greater", -margin, published_runs)
    upper = one_sided_p(ours, mean, std, "less", margin, published_runs)
    return None if lower is None else max(lower, upper)


def holm(pvalues):
    """Holm's step-down adjusted p-values, in the input order (None stays None)."""
    indexed = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m, adjusted, running = len(indexed), list(pvalues), 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(tost, higher, lower, alpha=ALPHA, margin=MARGIN_PP):
    """The protocol's wording from Holm-adjusted p-values."""
    if tost is None:
        return "no test (fewer than 2 seeds)"
    parts = []
    if tost < alpha:
        parts.append(f"equivalent within ±{margin:g} pp")
    if higher < alpha:
        parts.append("higher")
    if lower < alpha:
        parts.append("lower")
    return ", and ".join(parts) if parts else "inconclusive"


def compare(figures, margin=MARGIN_PP, alpha=ALPHA):
    """Verdicts of one table's comparisons, Holm within each test's family.

    Args:
        figures: A list of dicts with `ours` (our values, in %), `mean`,
            `std` (printed published std) and `decimals` (its printed
            precision).

    Returns:
        One dict per figure: the std used (floored), the raw and Holm
        p-values of TOST, "higher" and "lower", the verdict, and the verdict
        with the printed std (`verdict_printed_std`) for the sensitivity.
    """
    results = []
    for std_of in (lambda f: floored_std(f["std"], f["decimals"]), lambda f: float(f["std"])):
        raw = {
            "tost": [tost_p(f["ours"], f["mean"], std_of(f), margin) for f in figures],
            "higher": [one_sided_p(f["ours"], f["mean"], std_of(f), "greater") for f in figures],
            "lower": [one_sided_p(f["ours"], f["mean"], std_of(f), "less") for f in figures],
        }
        adjusted = {name: holm(p) for name, p in raw.items()}
        results.append([
            {
                "std_used": std_of(f),
                **{f"{name}_p": raw[name][i] for name in raw},
                **{f"{name}_holm": adjusted[name][i] for name in raw},
                "verdict": verdict(adjusted["tost"][i], adjusted["higher"][i], adjusted["lower"][i], alpha, margin),
            }
            for i, f in enumerate(figures)
        ])
    floored, printed = results
    for row, other in zip(floored, printed):
        row["verdict_printed_std"] = other["verdict"]
    return floored
