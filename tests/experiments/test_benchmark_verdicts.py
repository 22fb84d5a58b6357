"""The benchmark's verdict statistics (`experiments/benchmark/verdicts.py`)
against SciPy and hand-worked values."""

import numpy as np
import pytest
from scipy import stats

from experiments.benchmark import verdicts

OURS = [99.80, 99.76, 99.66, 99.82, 99.69]


def test_floored_std_takes_the_largest_std_that_prints_as_zero():
    assert verdicts.floored_std(0.0, 2) == 0.005  # "± 0.00"
    assert verdicts.floored_std(0.0, 1) == 0.05  # "± 0.0"
    assert verdicts.floored_std(0.03, 2) == 0.03  # a non-zero std is kept
    assert verdicts.printed_decimals("daedl", "fmnist_aupr") == 1
    assert verdicts.printed_decimals("re_edl", "accuracy") == 2


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_welch_matches_scipy(alternative):
    expected = stats.ttest_ind_from_stats(
        np.mean(OURS), np.std(OURS, ddof=1), 5, 99.65, 0.09, 5, equal_var=False, alternative=alternative
    ).pvalue
    assert verdicts.one_sided_p(OURS, 99.65, 0.09, alternative) == pytest.approx(expected, rel=1e-9)
    # A published std of 0: the one-sample t-test.
    expected = stats.ttest_1samp(OURS, 99.65, alternative=alternative).pvalue
    assert verdicts.one_sided_p(OURS, 99.65, 0.0, alternative) == pytest.approx(expected, rel=1e-9)
    assert verdicts.one_sided_p([99.7], 99.65, 0.09, alternative) is None


def test_tost_is_the_larger_of_two_shifted_one_sided_welch_tests():
    # H0: diff <= -0.5 tested by moving our mean up by the margin; H0: diff >= +0.5 by moving it down.
    sd = np.std(OURS, ddof=1)
    lower = stats.ttest_ind_from_stats(np.mean(OURS) + 0.5, sd, 5, 99.65, 0.09, 5, equal_var=False,
                                       alternative="greater").pvalue
    upper = stats.ttest_ind_from_stats(np.mean(OURS) - 0.5, sd, 5, 99.65, 0.09, 5, equal_var=False,
                                       alternative="less").pvalue
    assert verdicts.tost_p(OURS, 99.65, 0.09) == pytest.approx(max(lower, upper), rel=1e-9)
    # 0.3 pp above with a tiny spread is inside a 0.5 margin, not inside a 0.1 one.
    ours = [99.94, 99.95, 99.96, 99.95, 99.95]
    assert verdicts.tost_p(ours, 99.65, 0.01) < 0.01
    assert verdicts.tost_p(ours, 99.65, 0.01, margin=0.1) > 0.99


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005, 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04).
    adjusted = verdicts.holm([0.01, 0.04, 0.03, None, 0.005])
    assert adjusted[3] is None
    assert [adjusted[i] for i in (0, 1, 2, 4)] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert verdicts.holm([0.6, 0.5]) == [1.0, 1.0]


def test_compare_words_the_verdict_and_shows_the_printed_std_sensitivity():
    # 0.04 pp below a published "99.87 ± 0.0": with the floored std (0.05)
    # only equivalence holds; with the printed 0 the one-sample test also
    # finds it lower.
    ours = [99.83, 99.82, 99.84, 99.83, 99.83]
    (row,) = verdicts.compare([{"ours": ours, "mean": 99.87, "std": 0.0, "decimals": 1}])
    assert row["std_used"] == 0.05
    assert row["lower_p"] == pytest.approx(verdicts.one_sided_p(ours, 99.87, 0.05, "less"))
    assert row["lower_p"] > 0.05
    assert row["verdict"] == "equivalent within ±0.5 pp"
    assert stats.ttest_1samp(ours, 99.87, alternative="less").pvalue < 0.05
    assert row["verdict_printed_std"] == "equivalent within ±0.5 pp, and lower"
    # Holm within the table: two figures, the smaller p doubled.
    far = [98.0, 98.3, 97.9, 98.1, 98.2]
    rows = verdicts.compare([{"ours": ours, "mean": 99.87, "std": 0.0, "decimals": 1},
                             {"ours": far, "mean": 99.0, "std": 0.2, "decimals": 2}])
    p = [r["lower_p"] for r in rows]
    assert [r["lower_holm"] for r in rows] == pytest.approx(verdicts.holm(p))
    assert rows[1]["verdict"] == "lower"
    assert verdicts.verdict(0.2, 0.5, 0.6) == "inconclusive"
