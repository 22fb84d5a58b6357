"""The calibration experiment's statistics, against hand-worked examples."""

from experiments.calibration import run


def test_holm_adjusts_by_rank_and_stays_monotone():
    # Sorted: 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> 0.06 (monotone).
    assert run.holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert run.holm([None, 0.2]) == [None, 0.2]


def test_verdicts_need_significance():
    lower = {"mean_diff": 0.5}
    assert run.verdict(lower, 0.01, "lowers", "raises") == "lowers"
    assert run.verdict({"mean_diff": -0.5}, 0.01, "lowers", "raises") == "raises"
    assert run.verdict(lower, 0.2, "lowers", "raises") == "no significant difference"
    assert run.verdict(lower, None, "lowers", "raises") == "no significant difference"
