"""`.keras` round trips of every public layer, loss, metric and callback.

Loaded objects are checked against the originals and, where a formula is
involved, against the NumPy reference of REFERENCE.md (tests/reference.py).
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential import metrics as ke_metrics
from experiments.tedl import two_tower as ke_models
from keras_evidential.export import cli
from keras_evidential.layers.learned_unknown_class_head import (
    LearnedUnknownClassHead,
)
from tests import reference
from tests.test_export import KNOWN
from tests.test_export import assert_matches
from tests.test_export import digits
from tests.test_export import reference_outputs
from tests.test_export import sentences
from tests.test_export import train_medl


def round_trip(model, tmp_path, name="model.keras"):
    model.save(tmp_path / name)
    return keras.saving.load_model(tmp_path / name)


def test_every_layer_round_trips_with_its_arguments(tmp_path):
    inputs = keras.Input((6,), name="x")
    logits = keras.layers.Dense(3, name="logits")(inputs)
    evidence_layers = [
        ke.layers.EvidenceReLU(name="relu"),
        ke.layers.EvidenceSoftplus(name="softplus"),
        ke.layers.EvidenceExp(clip_value=2.0, name="exp"),
        ke.layers.EvidenceELU(offset=2.5, name="elu"),
    ]
    alpha = ke.layers.DirichletOutput(
        evidence=ke.layers.EvidenceExp(clip_value=3.0), name="dirichlet"
    )(logits)
    outputs = {layer.name: layer(logits) for layer in evidence_layers}
    outputs["alpha_plus"] = ke.layers.UnknownClassHead(name="unknown")(alpha)
    z_u = keras.layers.Dense(1, name="z_u")(inputs)
    outputs["learned"] = LearnedUnknownClassHead(
        evidence=ke.layers.EvidenceExp(clip_value=1.0), name="learned"
    )([alpha, z_u])
    model = keras.Model(inputs, outputs)

    loaded = round_trip(model, tmp_path)
    for layer in model.layers:
        twin = loaded.get_layer(layer.name)
        assert type(twin) is type(layer)
        assert twin.get_config() == layer.get_config()
    assert loaded.get_layer("dirichlet").evidence.clip_value == 3.0

    # Large logits, so that a lost clip value or offset shows.
    x = np.random.default_rng(0).normal(0, 3, (16, 6)).astype("float32")
    z = np.asarray(model.get_layer("logits")(x), np.float64)
    result = {
        k: np.asarray(v, np.float64) for k, v in loaded.predict(x, verbose=0).items()
    }
    np.testing.assert_allclose(result["relu"], np.maximum(z, 0), atol=1e-5)
    np.testing.assert_allclose(result["softplus"], np.logaddexp(0, z), rtol=1e-5)
    np.testing.assert_allclose(result["exp"], np.exp(np.clip(z, -2, 2)), rtol=1e-5)
    elu = np.where(z > 0, z, np.expm1(z))
    np.testing.assert_allclose(result["elu"], elu + 2.5, rtol=1e-5, atol=1e-6)
    alpha_ref = np.exp(np.clip(z, -3, 3)) + 1
    np.testing.assert_allclose(
        result["alpha_plus"],
        np.concatenate([alpha_ref, np.full((16, 1), 4.0)], axis=1),
        rtol=1e-5,
    )
    z_u = np.asarray(model.get_layer("z_u")(x), np.float64)
    np.testing.assert_allclose(
        result["learned"],
        np.concatenate([alpha_ref, 4.0 + np.exp(np.clip(z_u, -1, 1))], axis=1),
        rtol=1e-5,
    )


LOSSES = [
    ke.losses.EDLLoss(),
    ke.losses.EDLLoss(risk="log", kl_weight=0.3, name="log_loss"),
    ke.losses.EDLLoss(
        risk="digamma",
        kl_weight=1.0,
        from_logits=True,
        evidence=ke.layers.EvidenceELU(offset=2.0),
        stage=1,
    ),
    ke.losses.EDLLoss(from_logits=True, evidence="softplus", kl_weight=0.2),
    ke.losses.EDLLoss(from_logits=True, evidence=ke.layers.EvidenceExp(clip_value=4.0)),
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_loss_round_trips_with_its_variables(loss):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert type(restored) is ke.losses.EDLLoss
    assert restored.get_config() == loss.get_config()

    y = np.array([0, 2, 1, 1])
    raw = np.random.default_rng(1).normal(0, 2, (4, 3)).astype("float32")
    if not loss.from_logits:
        raw = np.abs(raw) + 1  # alpha
    loss_value = float(restored(y, raw))
    onehot = reference.one_hot(y, 3)
    z = raw.astype(np.float64)
    config = loss.get_config()
    if config["stage"] == 1:
        expected = reference.softmax_cross_entropy(onehot, z)
    else:
        alpha = z
        if config["from_logits"]:
            evidence = config["evidence"]["config"]
            if "clip_value" in evidence:
                clip = evidence["clip_value"]
                alpha = np.exp(np.clip(z, -clip, clip)) + 1
            else:
                name = config["evidence"]["class_name"][len("Evidence") :]
                alpha = reference.EVIDENCE[name.lower()](z) + 1
        expected = reference.edl_loss(
            onehot, alpha, config["risk"], config["kl_weight"]
        )
    assert loss_value == pytest.approx(expected, rel=1e-5)


def test_loss_variables_set_during_training_round_trip():
    loss = ke.losses.EDLLoss(from_logits=True, evidence="elu", stage=1)
    loss.kl_weight.assign(0.7)  # as KLAnnealing and TwoStageFit do
    loss.stage.assign(2)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert float(restored.kl_weight.numpy()) == pytest.approx(0.7)
    assert int(restored.stage.numpy()) == 2


def test_callbacks_round_trip_and_keep_their_schedule():
    callbacks = [
        ke.callbacks.KLAnnealing(increment=0.25, max_weight=0.6, verbose=0),
        ke.callbacks.TwoStageFit(switch_epoch=3, verbose=1),
    ]
    restored = [
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(callback)
        )
        for callback in callbacks
    ]
    for callback, twin in zip(callbacks, restored):
        assert type(twin) is type(callback)
        assert twin.get_config() == callback.get_config()

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(
        "sgd",
        ke.losses.EDLLoss(from_logits=True, evidence="elu", stage=1),
    )
    annealing, two_stage = restored
    for callback in restored:
        callback.set_model(model)
    two_stage.on_train_begin()
    weights, stages = [], []
    for epoch in range(7):
        two_stage.on_epoch_begin(epoch)
        annealing.on_epoch_begin(epoch)
        weights.append(float(model.loss.kl_weight.numpy()))
        stages.append(int(model.loss.stage.numpy()))
    # lambda_t = min(0.6, 0.25 t), t counted from the switch at epoch 3.
    assert stages == [1, 1, 1, 2, 2, 2, 2]
    np.testing.assert_allclose(weights, [0, 0, 0, 0, 0.25, 0.5, 0.6])


def metric_instances():
    return [
        ke_metrics.KnownClassAccuracy(unknown_class=True, name="known_acc"),
        ke_metrics.UnknownClassRecall(unknown_class=True, name="u_recall"),
        ke_metrics.UnknownClassPrecision(unknown_class=True, name="u_precision"),
        ke_metrics.SelectiveAccuracy(
            unknown_class=True, threshold=0.6, name="selective"
        ),
        ke_metrics.RejectionRate(unknown_class=True, threshold=0.6, name="rejected"),
        ke_metrics.ExpectedCalibrationError(num_bins=7, unknown_class=True, name="ece"),
        ke_metrics.UnknownClassAUROC(
            score="vacuity", unknown_class=True, num_thresholds=50, name="u_auroc"
        ),
        ke_metrics.MisclassificationAUROC(
            score="least_confidence", unknown_class=True, name="mis_auroc"
        ),
    ]


def test_every_metric_round_trips_its_config():
    metrics = metric_instances() + [
        ke_metrics.ThresholdedAUC(threshold=0.7, positive_class=0, name="t_auc")
    ]
    for metric in metrics:
        twin = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert type(twin) is type(metric)
        assert twin.get_config() == metric.get_config()


def test_compiled_medl_model_round_trips(tmp_path):
    model = train_medl(metrics=metric_instances())
    _, (x, y) = digits()
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    loaded = round_trip(model, tmp_path)

    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == pytest.approx(before[key], rel=1e-6, abs=1e-7), key

    # The loss against the paper's formula, over K + 1 classes.
    alpha = np.asarray(loaded.predict(x, verbose=0), np.float64)
    expected = reference.edl_loss(reference.one_hot(y, KNOWN + 1), alpha, "mse", 0.1)
    assert after["loss"] == pytest.approx(expected, rel=1e-4)
    # Open-set accuracy of the known classes: a true-k sample predicted k.
    predicted = alpha.argmax(-1)
    known = y < KNOWN
    assert after["known_acc"] == pytest.approx(
        np.mean(predicted[known] == y[known]), abs=1e-6
    )


def _tedl_model():
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((64,), name="pixels"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(KNOWN),
        ]
    )
    model.compile(
        keras.optimizers.Adam(1e-2),
        ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(offset=1.0), stage=1
        ),
    )
    return model


def _tedl_callbacks():
    return [ke.callbacks.TwoStageFit(2), ke.callbacks.KLAnnealing(0.25)]


def test_tedl_model_round_trips_mid_training(tmp_path):
    (x, y), _ = digits()
    x, y = x[y < KNOWN][:320], y[y < KNOWN][:320]
    model = _tedl_model()
    fit = dict(batch_size=64, shuffle=False, verbose=0)
    model.fit(x, y, epochs=4, callbacks=_tedl_callbacks(), **fit)
    # Epoch 3 trained stage 2 (EDL) with kl_weight = 0.25 * (3 - 2).
    assert int(model.loss.stage.numpy()) == 2
    assert float(model.loss.kl_weight.numpy()) == 0.25

    loaded = round_trip(model, tmp_path, "tedl.keras")
    assert int(loaded.loss.stage.numpy()) == 2
    assert float(loaded.loss.kl_weight.numpy()) == 0.25
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    loss = loaded.evaluate(x, y, verbose=0)
    assert loss == model.evaluate(x, y, verbose=0)
    z = np.asarray(loaded.predict(x, verbose=0), np.float64)
    alpha = np.where(z > 0, z, np.expm1(z)) + 2.0
    expected = reference.edl_loss(reference.one_hot(y, KNOWN), alpha, "mse", 0.25)
    assert loss == pytest.approx(expected, rel=1e-5)

    # Training resumes identically: same optimizer state, stage and schedule.
    history = [
        m.fit(x, y, initial_epoch=4, epochs=6, callbacks=_tedl_callbacks(), **fit)
        for m in (model, loaded)
    ]
    assert history[0].history["kl_weight"] == [0.5, 0.75]
    assert history[1].history["kl_weight"] == [0.5, 0.75]
    np.testing.assert_allclose(
        history[1].history["loss"], history[0].history["loss"], rtol=1e-6
    )
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_two_tower_text_model_round_trips_and_serves_raw_strings(tmp_path):
    """The package's sentence-pair TEDL model: .keras, then the CLI export."""
    import tensorflow as tf

    keras.utils.set_random_seed(9)
    first, labels = sentences(64, seed=13)
    second, _ = sentences(64, seed=14)
    vectorizer = ke_models.make_vectorizer(
        np.concatenate([first, second]), max_tokens=40, sequence_length=8
    )
    tokens = ke_models.build_two_tower_model(
        vectorizer.vocabulary_size(),
        sequence_length=8,
        embedding_dim=8,
        head_dim=8,
        hidden_dim=16,
        dropout=0.0,
    )
    model = ke_models.build_text_pair_model(vectorizer, tokens)
    model.compile(
        "adam",
        ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(), kl_weight=0.1
        ),
    )
    pairs = {"sentence_a": tf.constant(first), "sentence_b": tf.constant(second)}
    model.fit(pairs, labels, epochs=1, batch_size=32, verbose=0)

    loaded = round_trip(model, tmp_path, "pairs.keras")
    for name in ("token_encoder", "interaction"):
        twin = loaded.get_layer(tokens.name).get_layer(name)
        original = tokens.get_layer(name)
        assert type(twin) is type(original)
        assert twin.get_config() == original.get_config()
    logits = np.asarray(model(pairs))
    np.testing.assert_array_equal(np.asarray(loaded(pairs)), logits)
    assert loaded.evaluate(pairs, labels, verbose=0) == pytest.approx(
        model.evaluate(pairs, labels, verbose=0), rel=1e-6
    )

    # TEDL's evidence comes from the EDLLoss compiled into the file.
    argv = [str(tmp_path / "pairs.keras"), str(tmp_path / "served")]
    assert cli.main(argv + ["--class-names", "different", "paraphrase"]) == 0
    signature = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures[
        "serving_default"
    ]
    assert sorted(signature.structured_input_signature[1]) == [
        "sentence_a",
        "sentence_b",
    ]
    outputs = {k: v.numpy() for k, v in signature(**pairs).items()}
    z = logits.astype(np.float64)
    alpha = np.where(z > 0, z, np.expm1(z)) + 2.0  # ELU + 1, plus 1
    expected = reference_outputs(alpha, False, ["different", "paraphrase"])
    assert_matches(outputs, expected)
