"""Tests of the two-tower text-pair model: shapes, features, saving, learning."""

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from experiments.tedl.two_tower import PairInteraction
from experiments.tedl.two_tower import TokenEncoder
from experiments.tedl.two_tower import build_text_pair_model
from experiments.tedl.two_tower import build_two_tower_model
from experiments.tedl.two_tower import make_vectorizer

WORDS = "red green blue cat dog bird tree lake hill road car ship".split()


@pytest.mark.parametrize("encoder", ["transformer", "gru", "cnn"])
def test_token_model_maps_two_token_sequences_to_logits(encoder):
    model = build_two_tower_model(
        vocabulary_size=30, sequence_length=6, embedding_dim=8, head_dim=8,
        hidden_dim=16, encoder=encoder, num_classes=3,
    )
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 30, size=(5, 6)).astype("int32")
    logits = model.predict([tokens, tokens[::-1]], verbose=0)
    assert logits.shape == (5, 3)
    assert np.all(np.isfinite(logits))
    encoder_layer = model.get_layer("token_encoder")
    assert encoder_layer(tokens).shape == (5, 8)


def test_both_towers_share_one_encoder():
    model = build_two_tower_model(vocabulary_size=30, sequence_length=6, embedding_dim=8)
    encoders = [layer for layer in model.layers if isinstance(layer, TokenEncoder)]
    assert len(encoders) == 1
    # Equal sentences give equal encodings: |u - v| = 0 and cos(u, v) = 1.
    tokens = np.array([[3, 4, 5, 0, 0, 0]], dtype="int32")
    u = encoders[0](tokens)
    features = model.get_layer("interaction")([u, u])
    np.testing.assert_allclose(features[0, 16:24], 0.0, atol=1e-6)
    np.testing.assert_allclose(features[0, -1], 1.0, atol=1e-5)


def test_pair_interaction_against_numpy():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(4, 3)).astype("float32")
    v = rng.normal(size=(4, 3)).astype("float32")
    cosine = np.sum(u * v, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    expected = np.concatenate([u, v, np.abs(u - v), u * v, cosine[:, None]], axis=1)
    got = keras.ops.convert_to_numpy(PairInteraction()([u, v]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert PairInteraction().compute_output_shape([(None, 3), (None, 3)]) == (None, 13)


def test_padding_is_left_out_of_the_mean():
    # With the CNN encoder and a single-token sentence, the only unmasked
    # position sees padding on both sides: its output is one position, so the
    # pooled vector must equal that position's activation, not its average
    # with the padded positions.
    layer = TokenEncoder(vocabulary_size=10, sequence_length=4, embedding_dim=5,
                         encoder="cnn", dropout=0.0)
    tokens = np.array([[7, 0, 0, 0]], dtype="int32")
    pooled = keras.ops.convert_to_numpy(layer(tokens))
    embedded = keras.ops.convert_to_numpy(layer.embedding(tokens))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.convolution.weights)
    # "same" padding, width 3: position 0 sees [zero pad, x0, x1].
    window = np.stack([np.zeros(5), embedded[0, 0], embedded[0, 1]])
    first = np.maximum(np.einsum("kc,kcf->f", window, kernel) + bias, 0.0)
    np.testing.assert_allclose(pooled[0], first, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"encoder": "lstm"}, "encoder='lstm'"),
        ({"embedding_dim": 0}, "embedding_dim=0"),
        ({"dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenEncoder(vocabulary_size=10, **kwargs)


def test_num_classes_below_two_is_rejected():
    with pytest.raises(ValueError, match="num_classes=1"):
        build_two_tower_model(vocabulary_size=10, num_classes=1)


def test_token_encoder_config_round_trip():
    layer = TokenEncoder(vocabulary_size=50, sequence_length=7, embedding_dim=6,
                         encoder="gru", num_heads=3, hidden_dim=9, dropout=0.2)
    clone = TokenEncoder.from_config(layer.get_config())
    for name in ("vocabulary_size", "sequence_length", "embedding_dim", "encoder",
                 "num_heads", "hidden_dim", "dropout"):
        assert getattr(clone, name) == getattr(layer, name)


def _synthetic_pairs(n, seed):
    """Pairs labelled 1 when both sentences share their first word."""
    rng = np.random.default_rng(seed)
    a, b, y = [], [], []
    for _ in range(n):
        first = rng.choice(WORDS, size=4)
        label = int(rng.integers(0, 2))
        second = rng.choice(WORDS, size=4)
        second[0] = first[0] if label else rng.choice([w for w in WORDS if w != first[0]])
        a.append(" ".join(first))
        b.append(" ".join(second))
        y.append(label)
    return np.array(a, dtype=object), np.array(b, dtype=object), np.array(y)


def test_string_model_saves_with_its_vocabulary_and_takes_raw_text(tmp_path):
    a, b, y = _synthetic_pairs(64, seed=0)
    vectorizer = make_vectorizer(np.concatenate([a, b]), max_tokens=40, sequence_length=8)
    token_model = build_two_tower_model(
        vectorizer.vocabulary_size(), sequence_length=8, embedding_dim=8, encoder="cnn"
    )
    model = build_text_pair_model(vectorizer, token_model)
    path = tmp_path / "two_tower.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    # `predict` takes string arrays of dtype object (as `TextPairs` holds them).
    x = [
        np.array(["red cat tree", "an unseen word"], dtype=object),
        np.array(["red dog", "blue"], dtype=object),
    ]
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6
    )
    assert loaded.get_layer("vectorizer").get_vocabulary() == vectorizer.get_vocabulary()
    assert loaded.predict(x, verbose=0).shape == (2, 2)

    # The exported SavedModel (TF Serving's format) also takes raw strings.
    import tensorflow as tf

    model.export(tmp_path / "export", format="tf_saved_model", verbose=False)
    restored = tf.saved_model.load(str(tmp_path / "export"))  # keep a reference
    served = restored.serve(
        [tf.constant(x[0].astype(str)), tf.constant(x[1].astype(str))]
    )
    np.testing.assert_allclose(
        served.numpy(), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6
    )


@pytest.mark.large  # a few seconds of training: the large lane
def test_the_model_learns_a_learnable_pair_rule():
    keras.utils.set_random_seed(0)
    a, b, y = _synthetic_pairs(1500, seed=1)
    test_a, test_b, test_y = _synthetic_pairs(300, seed=2)
    vectorizer = make_vectorizer(np.concatenate([a, b]), max_tokens=40, sequence_length=8)
    token_model = build_two_tower_model(
        vectorizer.vocabulary_size(), sequence_length=8, embedding_dim=16, encoder="cnn"
    )
    model = build_text_pair_model(vectorizer, token_model)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit([a, b], y, batch_size=64, epochs=8, verbose=0)
    logits = model.predict([test_a, test_b], verbose=0)
    assert roc_auc_score(test_y, logits[:, 1] - logits[:, 0]) > 0.9


@pytest.mark.large
def test_two_tower_text_model_round_trips_and_serves_raw_strings(tmp_path):
    """The sentence-pair TEDL model: .keras, then the CLI export."""
    import tensorflow as tf

    import keras_evidential as ke
    from keras_evidential.export import cli
    from tests.models import assert_matches
    from tests.models import reference_outputs
    from tests.models import sentences

    keras.utils.set_random_seed(9)
    first, labels = sentences(64, seed=13)
    second, _ = sentences(64, seed=14)
    vectorizer = make_vectorizer(
        np.concatenate([first, second]), max_tokens=40, sequence_length=8
    )
    tokens = build_two_tower_model(
        vectorizer.vocabulary_size(),
        sequence_length=8,
        embedding_dim=8,
        head_dim=8,
        hidden_dim=16,
        dropout=0.0,
    )
    model = build_text_pair_model(vectorizer, tokens)
    model.compile(
        "adam",
        ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(), kl_weight=0.1
        ),
    )
    pairs = {"sentence_a": tf.constant(first), "sentence_b": tf.constant(second)}
    model.fit(pairs, labels, epochs=1, batch_size=32, verbose=0)

    model.save(tmp_path / "pairs.keras")
    loaded = keras.saving.load_model(tmp_path / "pairs.keras")
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
