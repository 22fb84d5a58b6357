"""The UCI summary's gaps and paired tests against hand-worked values and SciPy."""

import math

import keras
import pytest
from scipy import stats


@pytest.fixture
def summary(monkeypatch):
    # `uci` defaults KERAS_BACKEND to jax for its own runs; keep this process's backend.
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())
    from experiments.regression import summary

    return summary


def test_gap_is_in_combined_standard_errors(summary):
    # yacht's published RMSE is 1.57 ± 0.56. Ours: mean 2, s.e. 1 / sqrt(3).
    difference, z = summary.gap([1.0, 2.0, 3.0], "yacht", "rmse")
    assert difference == pytest.approx(0.43)
    assert z == pytest.approx(0.43 / math.sqrt(1 / 3 + 0.56**2))


def test_floor_replaces_a_published_standard_error_printed_zero(summary):
    # kin8nm's published RMSE is 0.09 ± 0.00; the floor only acts on a published s.e. below it.
    values = [0.08, 0.082, 0.084]
    se = 0.002 / math.sqrt(3)
    assert summary.gap(values, "kin8nm", "rmse")[1] == pytest.approx(-0.008 / se)
    assert summary.gap(values, "kin8nm", "rmse", 0.005)[1] == pytest.approx(
        -0.008 / math.sqrt(se**2 + 0.005**2))
    assert summary.gap([1.0, 2.0, 3.0], "yacht", "rmse", 0.005) == summary.gap(
        [1.0, 2.0, 3.0], "yacht", "rmse")


def test_paired_tests_pair_by_split_and_correct_for_every_comparison(summary):
    base = [1.0, 2.0, 3.0, 4.0]
    other = [0.5, 1.7, 2.4, 3.8]  # lower on every split
    rows = []
    for loss in summary.LOSSES:
        values = base if loss == "der_amini" else other
        # The other losses' rows in reverse split order: pairs are by split, not by position.
        order = range(4) if loss == "der_amini" else reversed(range(4))
        for split in order:
            rows.append({"dataset": "yacht", "loss": loss, "split": str(split),
                         "rmse": values[split], "nll": values[split]})
    text = summary.paired_tests(summary.group(rows, "dataset", "loss"))
    # 1 dataset x 2 metrics x 3 other losses.
    assert text.startswith("6 comparisons, Bonferroni threshold 0.05/6 = 0.0083")
    p = stats.ttest_rel(other, base).pvalue
    assert 0.0083 < p < 0.05
    line = next(l for l in text.splitlines() if "| yacht | rmse | gaussian |" in l)
    assert f"| {sum(other) / 4 - sum(base) / 4:+.4f} | 4/4 | {p:.2g} |" in line
    assert line.endswith("| p < 0.05, not after correction |")
