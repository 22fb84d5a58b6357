"""The MNIST benchmark harness: its schedules and report arithmetic, and the
whole run on a tiny budget (needs the offline data)."""

import csv

import pytest


def test_short_runs_keep_most_epochs_at_the_first_learning_rate():
    from experiments.benchmark.runner import schedules

    # (lr step epoch, KL annealing epochs): the protocol's at 60 epochs; a
    # short run steps after ceil(0.8 E) epochs and anneals over ceil(E / 2).
    assert schedules(60) == (15, 10)
    assert schedules(8) == (7, 4)
    assert schedules(10) == (8, 5)
    assert schedules(1) == (1, 1)


def test_wall_hours_sums_the_invocations_of_one_config():
    from experiments.benchmark.report import wall_hours

    log = [
        "[2026-01-01 00:00:00 +      0s] start: python -m x config=a machine={}",
        "[2026-01-01 00:30:00 +   1800s] softmax seed 0: acc 0.99",
        "[2026-01-01 01:00:00 +      0s] start: python -m x config=b machine={}",
        "[2026-01-01 01:10:00 +    600s] done",
        "[2026-01-01 02:00:00 +      0s] start: python -m x config=a machine={}",
        "[2026-01-01 02:00:05 +      5s] data: ...",
        "[2026-01-01 03:30:05 +   5405s] done",
    ]
    assert wall_hours(log, "a") == pytest.approx((1800 + 5405) / 3600)
    assert wall_hours(log, "b") == pytest.approx(600 / 3600)


@pytest.mark.large
def test_runner_and_report_end_to_end(shared_data, tmp_path):
    from experiments.benchmark import report
    from experiments.benchmark import runner

    args = runner.parse([
        "--methods", "softmax", "daedl", "fedl", "medl", "--epochs", "1", "--train-size", "1000", "--width", "8",
        "--seeds", "0", "--data-dir", str(shared_data), "--out", str(tmp_path),
    ])
    runner.run(args)
    rows = list(csv.DictReader(open(tmp_path / "runs.csv")))
    assert [r["method"] for r in rows] == ["softmax", "daedl", "fedl", "medl"]
    for row in rows:
        assert 0.0 <= float(row["accuracy"]) <= 1.0
        assert 0.0 <= float(row["fmnist_max_probability_aupr_in"]) <= 1.0
    # Resumable: a rerun trains nothing and appends nothing.
    runner.run(args)
    assert len(list(csv.DictReader(open(tmp_path / "runs.csv")))) == 4
    readme = report.report(tmp_path)
    text = readme.read_text()
    assert "With outlier exposure" in text and "m-EDL" in text
    for name in ("aupr.png", "reliability.png", "histograms.png", "summary.csv"):
        assert (tmp_path / name).exists()


def test_evaluate_counts_lost_classes_and_dead_evidence():
    import numpy as np

    from experiments.benchmark.methods import METHODS
    from experiments.benchmark.runner import evaluate

    # 20 test samples, two per class; class 9 has no evidence anywhere, so
    # its samples go to class 0 (the argmax of a tie): one lost class, one
    # dead unit, and the two class-9 samples have zero total evidence.
    labels = np.repeat(np.arange(10), 2)
    alpha = np.ones((20, 10))
    alpha[np.arange(18), labels[:18]] = 50.0
    ood = np.ones((20, 10)) + np.eye(10)[np.arange(20) % 9]
    row, _ = evaluate(METHODS["edl_relu"], alpha, labels, {"fmnist": ood})
    assert row["collapsed_classes"] == 1
    assert row["dead_units"] == 1
    assert row["zero_evidence_fraction"] == 0.1
    assert row["accuracy"] == 0.9


def test_welch_against_published_matches_the_formula():
    # Welch's t with Satterthwaite's degrees of freedom, written out.
    import numpy as np
    from scipy import stats

    from experiments.benchmark.report import welch_against_published

    ours = np.array([99.80, 99.76, 99.66, 99.82, 99.69])
    va, vb = ours.var(ddof=1) / 5, 0.09**2 / 5
    t = (ours.mean() - 99.65) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 4)
    expected = 2 * stats.t.sf(abs(t), df)
    assert welch_against_published(ours, 99.65, 0.09) == pytest.approx(expected, rel=1e-9)
    assert 0.05 < expected < 0.15  # above the published mean, not significantly
    assert welch_against_published([99.7], 99.65, 0.09) is None


def test_paired_pairs_runs_by_seed(tmp_path):
    from scipy import stats

    from experiments.benchmark import paired

    def write(folder, method, config, accuracies):
        folder.mkdir()
        with (folder / "runs.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["method", "seed", "config", "accuracy"])
            for seed, accuracy in accuracies.items():
                writer.writerow([method, seed, config, accuracy])

    # Seed 3 has no partner and must be left out; B lists its seeds in another order.
    write(tmp_path / "a", "daedl", "e25", {0: 0.99, 1: 0.98, 2: 0.97, 3: 0.5})
    write(tmp_path / "b", "daedl", "e15", {2: 0.95, 0: 0.98, 1: 0.98})
    seeds, table = paired.compare(f"{tmp_path / 'a'}:daedl", f"{tmp_path / 'b'}:daedl", ["accuracy"])
    assert seeds == [0, 1, 2]
    # Differences 1, 0, 2 pp: mean 1, std 1, t = 1 / (1 / sqrt 3) on 2 degrees of freedom.
    column, a, b, diff, wins, t_p, _ = table[0]
    assert (column, a, b, diff, wins) == ("accuracy", "98.00 ± 1.00", "97.00 ± 1.73", "+1.00 ± 1.00", "2/3")
    assert float(t_p) == pytest.approx(2 * stats.t.sf(3**0.5, 2), rel=5e-3)
    # A column the runs lack is named, not dropped or compared over fewer seeds.
    _, table = paired.compare(f"{tmp_path / 'a'}:daedl:e25", f"{tmp_path / 'b'}:daedl", ["ece15"])
    assert table == [["ece15", "-", "-", "not in every run", "-", "-", "-"]]
    with pytest.raises(ValueError, match="no runs of redl"):
        paired.compare(f"{tmp_path / 'a'}:daedl", f"{tmp_path / 'b'}:redl", ["accuracy"])
    write(tmp_path / "c", "daedl", "e15", {4: 0.9})
    with pytest.raises(ValueError, match="share 0 seed"):
        paired.compare(f"{tmp_path / 'a'}:daedl", f"{tmp_path / 'c'}:daedl", ["accuracy"])


def test_configuration_names_value_checks_off_only_where_rows_say_so():
    from experiments.benchmark.report import describe_configuration

    base = {"epochs": "8", "width": "32", "pack": "5"}
    # Rows from before the column (empty) ran with the checks on TensorFlow's default.
    before, on, off = {**base, "value_checks": ""}, {**base, "value_checks": "True"}, {**base, "value_checks": "False"}
    assert "value checks" not in describe_configuration("c", [before, on])
    assert "value checks off" in describe_configuration("c", [off, off])
    mixed = describe_configuration("c", [on, {**off, "method": "daedl"}])
    assert "value checks off in the daedl rows" in mixed


def test_target_lines_test_each_published_figure():
    from scipy import stats

    from experiments.benchmark.report import target_lines

    ours = [99.83, 99.86, 99.88, 99.83, 99.82]
    text = target_lines({"daedl": [{"fmnist_alpha0_aupr_in": v / 100} for v in ours]})
    # DAEDL's published std is 0.0, so Welch's test is the one-sample t-test against 99.87.
    p = stats.ttest_1samp(ours, 99.87).pvalue
    assert f"DAEDL, FMNIST AUPR: ours 99.84 ± 0.03 vs published 99.87 ± 0.00: gap -0.03 pp" in text
    assert f"Welch's t-test against it: p = {p:.2g}, not significant at 0.05" in text


def test_report_command_names_the_folder_and_configuration():
    from experiments.benchmark.report import report_command

    runner = "python -m experiments.benchmark.runner --methods daedl --epochs 8 --out docs/results/benchmark/w64"
    assert report_command([runner], "e8_w64_nall", {"e8_w64_nall"}) == (
        "python -m experiments.benchmark.report --out docs/results/benchmark/w64")
    assert report_command(["python -m experiments.benchmark.runner --epochs 8"], "e8", {"e8", "e6"}) == (
        "python -m experiments.benchmark.report --config e8")
