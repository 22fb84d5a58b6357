"""The m-EDL paper's mixing of an unknown class into the known set."""

import numpy as np
import pytest

from keras_evidential.data import mix_unknown_class
from keras_evidential.data import mix_indices
from experiments.data.datasets import split_pool

LABELS = np.repeat(np.arange(10), 100)  # 1,000 known samples, 100 per class


@pytest.mark.parametrize("rate", [0.25, 0.5, 0.75])
def test_adds_int_rate_times_n_known_unknown_samples(rate):
    added = int(rate * 1000)
    # Keeping every sample shows the composition before subsampling.
    m = mix_indices(LABELS, 5000, rate, 1000 + added, seed=3)
    assert m.n_unknown == added == m.n_unknown_added
    np.testing.assert_array_equal(np.bincount(m.labels), [100] * 10 + [added])
    assert not m.resampled and m.unique_unknown_share == 1.0


def test_subsampling_to_target_size():
    m = mix_indices(LABELS, 5000, 0.5, 600, seed=1)
    assert len(m.index) == len(m.labels) == 600
    # Hypergeometric draw of 600 out of 1,000 known + 500 unknown: mean 200,
    # sd ~ 9.8; five sd either side.
    assert 150 < m.n_unknown < 250
    # No sample is taken twice when the pool is large enough.
    assert len(np.unique(m.index)) == 600


def test_labels_follow_the_sources():
    x_known = np.arange(1000)[:, None] * np.ones((1, 3), dtype=np.int64)
    x_unknown = -1 - np.arange(400)[:, None] * np.ones((1, 3), dtype=np.int64)
    x, y, m = mix_unknown_class(x_known, LABELS, x_unknown, 0.25, 900, seed=5)
    known = y < 10
    np.testing.assert_array_equal(y[known], LABELS[x[known, 0]])
    assert (y[~known] == 10).all() and (x[~known] < 0).all()
    assert m.n_unknown == int((~known).sum())


def test_same_seed_same_mixture_other_seed_other_mixture():
    a = mix_indices(LABELS, 5000, 0.5, 1000, seed=7)
    b = mix_indices(LABELS, 5000, 0.5, 1000, seed=7)
    c = mix_indices(LABELS, 5000, 0.5, 1000, seed=8)
    np.testing.assert_array_equal(a.index, b.index)
    assert not np.array_equal(a.index, c.index)


def test_small_pool_is_resampled_with_replacement():
    m = mix_indices(LABELS, 100, 0.75, 1750, seed=0)
    assert m.resampled and m.n_unknown == 750
    assert m.n_unique_unknown <= 100
    assert m.unique_unknown_share == pytest.approx(m.n_unique_unknown / 750)


def test_rate_zero_is_a_permutation_of_the_known_set():
    m = mix_indices(LABELS, 0, 0.0, 1000, seed=2)
    np.testing.assert_array_equal(np.sort(m.index), np.arange(1000))
    assert m.n_unknown == 0 and m.unique_unknown_share == 1.0


def test_disjoint_pools():
    train, test = split_pool(10000, 2500, seed=0)
    assert len(train) == 2500 and len(test) == 7500
    assert not np.intersect1d(train, test).size
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(10000))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="target_size=2000"):
        mix_indices(LABELS, 100, 0.5, 2000, seed=0)
    with pytest.raises(ValueError, match="rate=-0.1"):
        mix_indices(LABELS, 100, -0.1, 500, seed=0)
    with pytest.raises(ValueError, match="first_size=11"):
        split_pool(10, 11, seed=0)
