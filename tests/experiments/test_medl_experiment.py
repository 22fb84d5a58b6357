"""The m-EDL reproduction: scoring, the tower trainer, the learned head, and a
short end-to-end run of the command."""

import csv

import keras
import numpy as np
import pytest

from experiments.medl import scoring
from experiments.medl import towers
from keras_evidential.layers.learned_unknown_class_head import (
    LearnedUnknownClassHead,
)


# --- scoring, against hand-worked examples --------------------------------

# K = 2. Rows: (alpha, label). Vacuity K / S: 2/12, 2/4, 2/2, 2/22.
ALPHA = np.array([[10.0, 2.0], [1.0, 3.0], [1.0, 1.0], [1.0, 21.0]])
LABELS = np.array([0, 0, 2, 2])  # label 2 = u


def _assert_hand_worked_threshold_columns(s):
    # t = 0.3: accepted rows 0 (right) and 3 (a u sample, wrong).
    assert s["acc_k@0.30"] == 0.5  # 1 of the 2 true-k samples
    assert s["acc_k_ref@0.30"] == 0.5  # 1 right of 2 accepted
    assert s["acc_u@0.30"] == 0.5  # row 2 of the u rows 2, 3 rejected
    assert s["acc_u_prec@0.30"] == 0.5  # rejected rows 1 (k) and 2 (u)
    # t = 1: nothing rejected.
    assert s["acc_k@1.00"] == 0.5 and s["acc_u@1.00"] == 0.0
    assert np.isnan(s["acc_u_prec@1.00"])
    assert len([c for c in s if "@" in c]) == len(scoring.CURVE_COLUMNS)


def test_edl_scores_by_hand():
    s = scoring.score(ALPHA, LABELS, "edl")
    _assert_hand_worked_threshold_columns(s)
    # Threshold-free EDL: argmax p_bar -> 0, 1, 0 (tie), 1; no u predicted.
    assert s["acc_k"] == 0.5 and s["acc_u"] == 0.0


def test_unknown_class_scores_by_hand():
    # alpha+ = (alpha, K + 1 = 3): p_hat argmax -> 0, u, u, 1. The threshold
    # columns use the known-class alpha, so they equal EDL's.
    alpha_plus = np.concatenate([ALPHA, np.full((4, 1), 3.0)], axis=1)
    s = scoring.score(alpha_plus, LABELS, "medl")
    _assert_hand_worked_threshold_columns(s)
    assert s["acc_k"] == 0.5 and s["acc_u"] == 0.5


# --- the tower model: towers are independent trials -----------------------


def _tiny_bank():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (64, 2, 2), dtype=np.uint8)


@pytest.mark.large  # a few seconds of training: the large lane
def test_towers_train_independently():
    bank = _tiny_bank()
    protocol = towers.Protocol(hidden_units=4, batch_size=8, max_epochs=1)
    labels = np.random.default_rng(1).integers(0, 3, 64)
    index = np.stack([np.arange(64), np.arange(64)[::-1]], 1).astype(np.int32)

    def train(model, columns, seeds):
        towers.compile_model(model, protocol, jit_compile=False)
        towers.reset(model, seeds)
        return towers.fit_towers(
            model, index[:, columns], labels[index[:, columns]], seeds, protocol
        )

    pair = towers.build_model(bank, 2, "medl", 2, protocol)
    train(pair, [0, 1], [11, 12])
    alone = towers.build_model(bank, 1, "medl", 2, protocol)
    train(alone, [1], [12])
    # Tower 1 of the pair ended where the same trial trained alone ends.
    for w_pair, w_alone in zip(pair.trainable_weights, alone.trainable_weights):
        np.testing.assert_allclose(w_pair.numpy()[1], w_alone.numpy()[0], atol=1e-5)
    test = np.arange(64).reshape(-1, 1).astype(np.int32)
    alpha = towers.predict_alpha(pair, np.repeat(test, 2, 1))
    assert alpha.shape == (64, 2, 3)
    # UnknownClassHead: alpha_u = K + 1.
    np.testing.assert_allclose(alpha[..., -1], 3.0)


def test_early_stopping_matches_keras_rule():
    # A learning rate of 0 keeps the validation loss flat: Keras's
    # EarlyStopping(patience=3) stops at epoch index 3, i.e. after 4 epochs.
    bank = _tiny_bank()
    protocol = towers.Protocol(
        hidden_units=4, batch_size=16, max_epochs=20, learning_rate=0.0
    )
    model = towers.build_model(bank, 1, "edl", 2, protocol)
    towers.compile_model(model, protocol, jit_compile=False)
    towers.reset(model, [0])
    labels = (np.arange(64) % 2).reshape(-1, 1).astype(np.int32)
    results = towers.fit_towers(
        model, np.arange(64).reshape(-1, 1).astype(np.int32), labels, [0], protocol
    )
    assert results[0].epochs == 4


# --- LearnedUnknownClassHead ----------------------------------------------


def test_learned_head_formula():
    head = LearnedUnknownClassHead()
    alpha = np.array([[1.0, 4.0, 2.0], [5.0, 1.0, 1.0]])
    logit = np.array([[2.5], [-1.0]])
    out = keras.ops.convert_to_numpy(head([alpha, logit]))
    # alpha_u = K + 1 + relu(z_u) with K = 3.
    np.testing.assert_allclose(out, [[1.0, 4.0, 2.0, 6.5], [5.0, 1.0, 1.0, 4.0]])


def test_learned_head_serializes_in_a_model(tmp_path):
    inputs = keras.Input((3,))
    logits = keras.layers.Dense(3)(inputs)
    from keras_evidential.layers import DirichletOutput

    alpha = DirichletOutput()(logits[..., :2])
    outputs = LearnedUnknownClassHead("softplus", name="u_head")([alpha, logits[..., 2:]])
    model = keras.Model(inputs, outputs)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config = loaded.get_layer("u_head").get_config()
    assert config["evidence"]["class_name"] == "EvidenceSoftplus"


def test_learned_head_rejects_bad_inputs():
    with pytest.raises(ValueError, match="input_shape"):
        LearnedUnknownClassHead()([np.ones((2, 3)), np.ones((2, 2))])


# --- end to end -------------------------------------------------------------


def test_medl_command_end_to_end(shared_data, tmp_path):
    from experiments.medl import runner

    out = tmp_path / "medl"
    argv = [
        "run", "--studies", "q1", "--seeds", "1", "--towers", "1",
        "--train-size", "1200", "--test-size", "400", "--max-epochs", "4",
        "--no-jit", "--data-dir", str(shared_data), "--out", str(out),
    ]  # fmt: skip
    assert runner.main(argv) == 0
    with open(out / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # Q1 trains EDL and m-EDL once; each is tested on the 7 test sets.
    assert sorted({r["model"] for r in rows}) == ["edl", "medl"]
    assert len(rows) == 14
    for row in rows:
        assert 0.0 <= float(row["acc_k"]) <= 1.0
        assert 1 <= int(row["epochs"]) <= 4
        assert int(row["n_test"]) == 400
        share = int(row["n_test_unknown"]) / 400
        expected = {0.0: 0.0, 0.25: 0.2, 0.5: 1 / 3, 0.75: 3 / 7}[float(row["test_rate"])]
        assert abs(share - expected) < 0.1
        # EDL's recall of u can only fall as the threshold rises.
        recall = [float(row[scoring.curve_column("acc_u", t)]) for t in scoring.THRESHOLDS]
        if row["test_u"] != "none":
            assert all(a >= b for a, b in zip(recall, recall[1:]))
    edl_clean = [r for r in rows if r["model"] == "edl" and r["test_u"] == "none"][0]
    # Even four short epochs on 1,080 digits beat chance (10 %) clearly.
    assert float(edl_clean["acc_k"]) > 0.3
    tables = (out / "tables.md").read_text()
    assert "## Q1" in tables and "| none | 0 % | none | 0 % | 1/1 |" in tables
    assert (out / "figures" / "q1.png").stat().st_size > 10000
    assert "start:" in (out / "runs.log").read_text()
    # Resuming skips the finished trainings: nothing is appended.
    assert runner.main(argv + ["--no-report"]) == 0
    with open(out / "trials.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 14
