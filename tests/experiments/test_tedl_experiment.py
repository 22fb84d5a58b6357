"""Tests of the TEDL study: its measurements, the dying-ReLU detector, the runner."""

import csv
from pathlib import Path

import keras
import numpy as np
import pytest

from experiments.tedl import dying_relu
from experiments.tedl import runner

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "textpairs"


def test_evidence_diagnostics_counts_zero_samples_and_dead_units():
    evidence = np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 1.0]])
    report = dying_relu.evidence_diagnostics(evidence)
    assert report == {"zero_evidence_share": 0.5, "dead_unit_share": 0.5, "died": False}
    with pytest.raises(ValueError, match="shape"):
        dying_relu.evidence_diagnostics(np.zeros((0, 2)))


def _constant_logit_model(bias):
    """A model whose logits are `bias` for every input."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].set_weights([np.zeros((3, 2)), np.asarray(bias, dtype="float32")])
    return model


def test_dying_relu_detector_flags_a_model_whose_evidence_is_all_zero():
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    report = dying_relu.dying_relu_report(_constant_logit_model([-1.0, -2.0]), x, "relu")
    assert report == {"zero_evidence_share": 1.0, "dead_unit_share": 1.0, "died": True}


def test_dying_relu_detector_passes_models_with_evidence():
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    half = dying_relu.dying_relu_report(_constant_logit_model([1.0, -2.0]), x, "relu")
    assert half == {"zero_evidence_share": 0.0, "dead_unit_share": 0.5, "died": False}
    # The same negative logits give positive evidence through ELU + 1.
    elu = dying_relu.dying_relu_report(_constant_logit_model([-1.0, -2.0]), x, "elu")
    assert elu == {"zero_evidence_share": 0.0, "dead_unit_share": 0.0, "died": False}


def test_method_names_parse_to_stage_and_evidence():
    assert runner.parse_method("ce") == (False, None)
    assert runner.parse_method("edl") == (False, "relu")
    assert runner.parse_method("tedl") == (True, "elu")
    assert runner.parse_method("tedl-softplus") == (True, "softplus")
    assert runner.parse_method("edl-elu") == (False, "elu")
    with pytest.raises(ValueError, match="method='tedl-tanh'"):
        runner.parse_method("tedl-tanh")
    assert runner.parse_seeds("0-2,7") == [0, 1, 2, 7]
    assert runner.parse_sizes("100,full") == [100, None]


@pytest.mark.skipif(
    not (DATA / "twitter_url" / "train.tsv.gz").exists(),
    reason=f"shared text-pair data not found at {DATA}",
)
def test_short_ce_edl_tedl_run_writes_results_and_resumes(tmp_path, capsys):
    out = tmp_path / "tedl"
    model_path = tmp_path / "last.keras"
    argv = [
        "--data-dir", str(DATA), "--out", str(out), "--train-sizes", "300",
        "--max-test", "200", "--epochs", "2", "--switch-epoch", "1", "--seeds", "0",
        "--lambdas", "0.5", "--methods", "ce,edl,tedl", "--embedding-dim", "8",
        "--max-tokens", "500", "--save-model", str(model_path),
    ]
    assert runner.main(argv) == 0
    with open(out / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 2
    by = {(r["method"], int(r["epoch"])): r for r in rows}
    assert {r["train_size"] for r in rows} == {"300"}
    # TEDL: cross-entropy in epoch 1, EDL from epoch 2 with KL weight still 0
    # (annealing counts from the switch); EDL: KL weight = 1 * lambda at epoch 2.
    assert (by[("tedl", 1)]["stage"], by[("tedl", 2)]["stage"]) == ("1", "2")
    assert float(by[("tedl", 2)]["kl_weight"]) == 0.0
    assert float(by[("edl", 2)]["kl_weight"]) == pytest.approx(0.5)
    assert by[("ce", 1)]["u_mean"] == ""
    for r in rows:
        assert 0.0 <= float(r["auc"]) <= 1.0
    for r in rows:
        if r["method"] != "ce":
            assert 0.0 < float(r["u_mean"]) <= 1.0
            assert r["died"] in ("True", "False")
            shares = [float(r[f"u_hist{i}"]) for i in range(10)]
            assert sum(shares) == pytest.approx(1.0)
    for name in ("results.md", "fig2_auc_per_epoch.png",
                 "fig5_lambda_auc_twitter_url_n300.png",
                 "fig3_6_auc_vs_threshold_twitter_url_n300.png",
                 "fig4_7_uncertainty_twitter_url_n300.png"):
        assert (out / name).stat().st_size > 0
    assert "| tedl | 0.5 | 1 |" in (out / "results.md").read_text()

    # The saved model takes raw strings.
    loaded = keras.saving.load_model(model_path)
    text = np.array(["a new sentence", "another one"], dtype=object)
    assert loaded.predict([text, text], verbose=0).shape == (2, 2)

    # A restart skips the finished runs and adds nothing.
    capsys.readouterr()
    assert runner.main(argv + ["--no-report"]) == 0
    assert capsys.readouterr().out.count("skip (done)") == 3
    with open(out / "runs.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 6
