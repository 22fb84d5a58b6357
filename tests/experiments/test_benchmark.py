"""The MNIST benchmark harness end to end on a tiny budget (needs the offline data)."""

import csv

import pytest

pytestmark = pytest.mark.large


def test_runner_and_report_end_to_end(shared_data, tmp_path):
    from experiments.benchmark import report
    from experiments.benchmark import runner

    args = runner.parse([
        "--methods", "softmax", "daedl", "fedl", "medl", "--epochs", "1", "--train-size", "300",
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
