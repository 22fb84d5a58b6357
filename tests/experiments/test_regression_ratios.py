"""The cubic toy's ratio summaries against hand-worked values and SciPy."""

import numpy as np
import pytest
from scipy import stats

from experiments.regression import ratios


def test_median_interval_uses_the_order_statistics_of_the_binomial():
    # n = 10: P(2 <= B <= 8) = 1 - 2 (1 + 10) / 1024 = 0.9785 >= 0.95, while
    # P(3 <= B <= 7) = 1 - 2 (1 + 10 + 45) / 1024 = 0.8906: the 2nd and 9th values.
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 10.0, 4.0, 8.0, 6.0]
    assert ratios.median_interval(values) == (5.5, 2.0, 9.0)
    # n = 5 cannot reach 95 % with a narrower pair than the range (coverage 1 - 2/32).
    assert ratios.median_interval([1.0, 2.0, 3.0, 4.0, 50.0]) == (3.0, 1.0, 50.0)


def test_geometric_mean_interval_is_a_t_interval_of_the_logs():
    values = np.array([0.5, 1.2, 6.0, 2.0, 0.9, 15.0, 1.1])
    mean, low, high = ratios.geometric_mean_interval(values)
    assert mean == pytest.approx(stats.gmean(values))
    logs = np.log(values)
    expected = stats.t.interval(0.95, len(logs) - 1, loc=logs.mean(), scale=stats.sem(logs))
    assert (low, high) == pytest.approx(tuple(np.exp(expected)))
    assert ratios.describe([1.0, 1.0, 1.0]).startswith("median 1.00 [1.00, 1.00]; geo. mean 1.00")
