"""The result reports' statistics: each seed counted once, stds over seeds.

Hand-worked examples: the expected numbers are computed by hand below, not by
the report code.
"""

import numpy as np

from experiments.medl import report as medl_report
from experiments.tedl import report as tedl_report


def _medl_row(seed, train_rate, test_rate, acc_k):
    return {
        "model": "medl",
        "train_u": "emnist",
        "test_u": "fashion",
        "seed": float(seed),
        "train_rate": train_rate,
        "test_rate": test_rate,
        "acc_k": acc_k,
        "acc_u": 0.5,
    }


def test_table6_all_cells_std_is_over_per_seed_means():
    rates = (0.25, 0.5, 0.75)
    cells = [(a, b) for a in rates for b in rates]
    # Seed 0: 0.9 in every cell. Seed 1: 0.6 in one cell, 0.9 elsewhere, so
    # its mean is (8 * 0.9 + 0.6) / 9 = 0.8667. Over seeds: mean 0.88333, std
    # |0.9 - 0.86667| / sqrt(2) = 0.02357 (over the 18 rows it would be 0.0728).
    rows = [_medl_row(0, a, b, 0.9) for a, b in cells]
    rows += [_medl_row(1, a, b, 0.6 if i == 0 else 0.9) for i, (a, b) in enumerate(cells)]
    values = medl_report.table6_values(rows, "medl", "emnist", "fashion", key="acc_k")
    mean, std, n = medl_report.stats(values)
    assert n == 2
    np.testing.assert_allclose([mean, std], [0.883333, 0.023570], atol=1e-6)


def _tedl_run(method, lam, seed, auc, died=False):
    row = {
        "task": "twitter_url",
        "train_size": "100",
        "method": method,
        "evidence": "relu",
        "lam": str(lam),
        "seed": str(seed),
        "config": "test",
        "epoch": "1",
        "auc": str(auc),
        "died": str(died),
        "run_s": "1",
    }
    return tedl_report.Run([row])


def test_seed_tests_count_each_seed_once_and_repeat_without_dead_runs():
    # CE 0.8 for every seed, one CE run reused at both lambdas. EDL per seed at
    # lambda 0.1 / 0.5: seed 0 0.70 / 0.72, seed 1 0.75 / 0.77, seed 2 0.5 / 0.5
    # (died). CE - EDL per seed over the lambdas: 0.09, 0.04, 0.30, so
    # +0.1433 over 3 seeds (not 6 pairs); without seed 2: 0.09, 0.04, mean
    # +0.0650, std 0.05 / sqrt(2) = 0.0354.
    edl = {0: (0.70, 0.72), 1: (0.75, 0.77), 2: (0.5, 0.5)}
    runs = [_tedl_run("ce", 0.0, seed, 0.8) for seed in edl]
    for seed, aucs in edl.items():
        for lam, auc in zip((0.1, 0.5), aucs):
            runs.append(_tedl_run("edl", lam, seed, auc, died=seed == 2))
            runs.append(_tedl_run("tedl", lam, seed, 0.79 - 0.01 * seed))
    groups = next(iter(tedl_report._index(runs).values()))
    lines = tedl_report._seed_tests_table(groups)
    ce_edl = [line for line in lines if line.startswith("| CE - EDL")]
    assert ce_edl[0].startswith("| CE - EDL | 3 | +0.1433 ± ")
    assert ce_edl[0].split(" | ")[3] == "3/3"
    assert ce_edl[1].startswith("| CE - EDL, without seed 2 (an EDL run died) | 2 ")
    assert "+0.0650 ± 0.0354 | 2/2" in ce_edl[1]
    # CE - TEDL involves no dead run: it is not repeated.
    assert sum(line.startswith("| CE - TEDL") for line in lines) == 1
