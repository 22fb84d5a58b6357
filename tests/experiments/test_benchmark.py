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


def test_verdict_table_tests_complete_rows_and_names_incomplete_ones():
    from experiments.benchmark import verdicts
    from experiments.benchmark.report import verdict_table

    ours = [99.83, 99.86, 99.88, 99.83, 99.82]
    text = verdict_table({
        "daedl": [{"seed": str(s), "fmnist_alpha0_aupr_in": v / 100} for s, v in enumerate(ours)],
        "iedl": [{"seed": "0", "accuracy": 0.99, "fmnist_alpha0_aupr_in": 0.99}],
    })
    # DAEDL's "99.87 ± 0.0" is tested with the floored std 0.05, alone in its family.
    p = verdicts.tost_p(ours, 99.87, 0.05)
    assert f"| DAEDL | FMNIST AUPR (alpha0) | 99.84 ± 0.03 | 99.87 ± 0.00 (0.05) | -0.03 | {p:.2g} ({p:.2g}) |" in text
    assert "Incomplete, no verdict: I-EDL (1/5 seeds)." in text


def test_report_command_names_the_folder_and_configuration():
    from experiments.benchmark.report import report_command

    runner = "python -m experiments.benchmark.runner --methods daedl --epochs 8 --out results/benchmark/w64"
    assert report_command([runner], "e8_w64_nall", {"e8_w64_nall"}) == (
        "python -m experiments.benchmark.report --out results/benchmark/w64")
    assert report_command(["python -m experiments.benchmark.runner --epochs 8"], "e8", {"e8", "e6"}) == (
        "python -m experiments.benchmark.report --config e8")


def test_each_seed_has_its_own_split_and_batch_order_whatever_the_pack():
    import numpy as np

    from experiments.benchmark.data import seed_split
    from experiments.benchmark.runner import SeedBatches

    splits = {seed: seed_split(100, seed) for seed in (1, 3)}
    for train, val in splits.values():
        assert (len(train), len(val)) == (80, 20)
        assert sorted(np.r_[train, val]) == list(range(100))
    assert set(splits[1][1]) != set(splits[3][1])
    x = {s: np.arange(10, dtype="float32") + 100 * s for s in (1, 3)}
    alone, packed = SeedBatches(x, x, [3], 4), SeedBatches(x, x, [1, 3], 4)
    for epoch in (0, 1):
        alone.set_epoch(epoch)
        packed.set_epoch(epoch)
        seen = np.concatenate([alone[i][0][0] for i in range(len(alone))])
        assert sorted(seen) == list(range(300, 310))  # every sample once per epoch
        assert all(np.array_equal(alone[i][0][0], packed[i][0][1]) for i in range(3))
        assert not np.array_equal(packed[0][0][0] - 100, packed[0][0][1] - 300)
        if epoch == 0:
            first_order = seen
    assert not np.array_equal(first_order, seen)  # a new order each epoch


# Large: CI installs PyTorch after the fast lane.
@pytest.mark.large
def test_torch_initialiser_draws_from_pytorchs_default_range():
    torch = pytest.importorskip("torch")
    import keras
    import numpy as np

    from experiments.benchmark.methods import initializers

    # PyTorch's own Linear(36, 8192): its weights and biases span +-1/sqrt(36).
    # 8,192 biases put the two samples' mean |b| within 1 % (s.d.) of each other.
    reference = torch.nn.Linear(36, 8192)
    layer = keras.layers.Dense(8192, **initializers("torch", 36))
    layer.build((None, 36))
    for ours, theirs in ((layer.kernel, reference.weight), (layer.bias, reference.bias)):
        ours = np.abs(keras.ops.convert_to_numpy(ours))
        theirs = np.abs(theirs.detach().numpy())
        assert ours.max() <= theirs.max() * 1.01
        assert ours.max() >= theirs.max() * 0.95
        assert ours.mean() == pytest.approx(theirs.mean(), rel=0.05)
    assert initializers("keras", 36) == {}


@pytest.mark.large
def test_ce_first_rows_start_the_kl_at_zero_at_the_first_evidential_epoch():
    import keras
    import numpy as np

    from experiments.benchmark import runner
    from experiments.benchmark.methods import METHODS

    # 3 epochs: round(3 / 3) = 1 cross-entropy epoch, then KL annealed over
    # ceil(3 / 2) = 2 epochs from the switch: min(1, (epoch - 1) / 2).
    args = runner.parse(["--epochs", "3", "--width", "4", "--seeds", "0", "--steps-per-execution", "1"])
    args.deadline = None
    rng = np.random.default_rng(0)
    data = {
        "x_train": {0: rng.random((64, 28, 28, 1), dtype="float32")}, "y_train": {0: np.arange(64) % 10},
        "x_val": {0: rng.random((32, 28, 28, 1), dtype="float32")}, "y_val": {0: np.arange(32) % 10},
    }
    # TEDL takes the same path (`warmup_ce_share`); CE -> R-EDL is the row whose
    # switch the conclusion is about.
    model, *_, history = runner.train(METHODS["tedl_redl"], [0], data, args)
    assert history.epoch == [1, 2]
    assert history.history["kl_weight"] == pytest.approx([0.0, 0.5])
    assert float(keras.ops.convert_to_numpy(model.loss[0].kl_weight)) == pytest.approx(0.5)


@pytest.mark.large
def test_gpu_protocol_runs_rows_side_by_side_and_reports(shared_data, tmp_path):
    from experiments.benchmark import gpu_protocol

    readme, failed = gpu_protocol.main([
        "--rows", "softmax", "tedl", "--seeds", "0", "1", "--epochs", "2", "--width", "4",
        "--train-size", "500", "--budget-s", "400", "--backend", "tensorflow", "--no-jit",
        "--data-dir", str(shared_data), "--out", str(tmp_path),
    ])
    assert failed == []
    rows = list(csv.DictReader(open(tmp_path / "runs.csv")))
    assert sorted((r["method"], r["seed"]) for r in rows) == [
        ("softmax", "0"), ("softmax", "1"), ("tedl", "0"), ("tedl", "1")]
    # The published schedule at 60 epochs is StepLR(15) and 10 KL epochs;
    # this toy keeps the protocol's shape: PyTorch init, per-seed splits,
    # both seeds of a row in one model.
    assert {(r["init"], r["split"], r["pack"], r["value_checks"]) for r in rows} == {
        ("torch", "per_seed", "2", "False")}
    assert "TOST" in readme.read_text()
    assert "wall" in (tmp_path / "gpu_protocol.log").read_text()


@pytest.mark.large
def test_a_row_interrupted_after_an_epoch_continues_where_it_stopped(tmp_path):
    import time

    import numpy as np

    from experiments.benchmark import runner
    from experiments.benchmark.methods import METHODS

    args = runner.parse(["--epochs", "2", "--width", "4", "--seeds", "0", "--steps-per-execution", "1"])
    rng = np.random.default_rng(0)
    data = {
        "x_train": {0: rng.random((64, 28, 28, 1), dtype="float32")}, "y_train": {0: np.arange(64) % 10},
        "x_val": {0: rng.random((32, 28, 28, 1), dtype="float32")}, "y_val": {0: np.arange(32) % 10},
    }
    method = METHODS["edl_softplus"]
    args.deadline = None
    whole, *_ = runner.train(method, [0], data, args)
    # A deadline already passed stops the run after its first epoch.
    args.deadline = time.time()
    _, best, *_ = runner.train(method, [0], data, args, checkpoint=tmp_path / "row")
    assert best.last_epoch == 1
    args.deadline = None
    resumed, best, _, _, history = runner.train(method, [0], data, args, checkpoint=tmp_path / "row")
    assert history.epoch == [1]  # only the second epoch trained in this call
    assert best.last_epoch == 2 and [t["epoch"] for t in best.traces[0]] == [1, 2]
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
