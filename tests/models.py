"""Trained models and the serving outputs' reference, shared by several tests.

The export, ONNX, saving and gRPC tests train the same small models on
sklearn's 8x8 digits (and a toy sentiment task) and check every served output
against `reference_outputs`, a float64 NumPy computation from the model's raw
output (alpha or logits) written from docs/formulas.md.
"""

import keras
import numpy as np
import tensorflow as tf

import keras_evidential as ke

KNOWN = 5
DIGIT_NAMES = ["zero", "one", "two", "three", "four"]
TEXT_NAMES = ["negative", "positive"]
ELU_OFFSET = 1.5


# --- models ------------------------------------------------------------------


def digits():
    """sklearn's 8x8 digits: digits 0-4 are known, 5-9 are unknown (label 5)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = np.minimum(y, KNOWN)
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def digits_body(units):
    inputs = keras.Input((64,), name="pixels")
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    return inputs, keras.layers.Dense(units)(hidden)


def train_edl():
    """K-class EDL on the known digits."""
    keras.utils.set_random_seed(1)
    (x, y), _ = digits()
    inputs, logits = digits_body(KNOWN)
    model = keras.Model(inputs, ke.layers.DirichletOutput("relu")(logits))
    model.compile(keras.optimizers.Adam(1e-2), ke.losses.EDLLoss(kl_weight=0.1))
    model.fit(x[y < KNOWN], y[y < KNOWN], epochs=3, batch_size=64, verbose=0)
    return model


def train_medl(metrics=()):
    """m-EDL: digits 5-9 trained as the unknown class (index K)."""
    keras.utils.set_random_seed(2)
    (x, y), _ = digits()
    inputs, logits = digits_body(KNOWN)
    alpha = ke.layers.DirichletOutput("relu")(logits)
    model = keras.Model(inputs, ke.layers.UnknownClassHead()(alpha))
    model.compile(
        keras.optimizers.Adam(1e-2),
        ke.losses.EDLLoss(kl_weight=0.1),
        metrics=list(metrics),
    )
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    return model


def train_tedl():
    """TEDL: a logits model, cross-entropy then EDL with ELU evidence."""
    keras.utils.set_random_seed(3)
    (x, y), _ = digits()
    inputs, logits = digits_body(KNOWN)
    model = keras.Model(inputs, logits)
    loss = ke.losses.EDLLoss(
        from_logits=True,
        evidence=ke.layers.EvidenceELU(offset=ELU_OFFSET),
        stage=1,
    )
    model.compile("adam", loss)
    model.fit(
        x[y < KNOWN],
        y[y < KNOWN],
        epochs=3,
        batch_size=64,
        verbose=0,
        callbacks=[ke.callbacks.TwoStageFit(1), ke.callbacks.KLAnnealing(0.5)],
    )
    return model


POSITIVE = ["good", "great", "love", "excellent", "happy"]
NEGATIVE = ["bad", "awful", "hate", "terrible", "sad"]
NEUTRAL = ["the", "movie", "was", "plot", "actors", "really", "quite", "a"]


def sentences(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = []
    for label in labels:
        words = list(rng.choice(NEUTRAL, rng.integers(3, 6)))
        words += list(rng.choice(POSITIVE if label else NEGATIVE, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return np.array(texts), labels


def text_inputs():
    texts, _ = sentences(6, seed=9)
    # Out-of-vocabulary words, an empty string and mixed case.
    extra = ["zebra quantum", "", "GOOD movie but Bad acting"]
    return np.concatenate([texts, np.array(extra)])


def train_text():
    """A TEDL text model that takes raw strings."""
    keras.utils.set_random_seed(4)
    texts, labels = sentences(256, seed=5)
    inputs = keras.Input((), dtype="string", name="text")
    vectorize = keras.layers.TextVectorization(
        output_sequence_length=8, vocabulary=POSITIVE + NEGATIVE + NEUTRAL
    )
    hidden = keras.layers.Embedding(len(POSITIVE + NEGATIVE + NEUTRAL) + 2, 8)(
        vectorize(inputs)
    )
    hidden = keras.layers.GlobalAveragePooling1D()(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model.compile(
        "adam",
        ke.losses.EDLLoss(
            from_logits=True,
            evidence=ke.layers.EvidenceELU(offset=ELU_OFFSET),
            kl_weight=0.1,
        ),
    )
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(32)
    model.fit(dataset, epochs=3, verbose=0, shuffle=False)
    return model


def raw_output(model, x):
    """The Keras model's own output (alpha or logits) as float64."""
    return np.asarray(model(tf.constant(x), training=False), np.float64)


# --- the independent reference ------------------------------------------------


def reference_outputs(
    raw, logits, class_names, threshold=None, unknown_label="unknown"
):
    """The serving outputs from the model's raw output, written from the paper.

    `raw` is alpha, or logits (with ELU + ELU_OFFSET evidence) for `logits`.
    With len(raw[0]) == K + 1 the last column is m-EDL's unknown class.
    """
    raw = np.asarray(raw, np.float64)
    if logits:
        alpha = np.where(raw > 0, raw, np.expm1(raw)) + ELU_OFFSET + 1.0
    else:
        alpha = raw
    k = len(class_names)
    probabilities = alpha / alpha.sum(-1, keepdims=True)
    uncertainty = k / alpha[:, :k].sum(-1)
    index = probabilities.argmax(-1)
    if threshold is not None:
        index = np.where(uncertainty > threshold, k, index)
    labels = np.array(list(class_names) + [unknown_label])[index]
    return {
        "probabilities": probabilities,
        "uncertainty": uncertainty,
        "alpha": alpha,
        "class_index": index,
        "class_label": labels,
    }


def middle_threshold(model, x, logits, k):
    """A threshold between two central uncertainties, so rows fall both ways."""
    u = reference_outputs(raw_output(model, x), logits, ["c"] * k)
    u = np.sort(u["uncertainty"])
    return float((u[len(u) // 2 - 1] + u[len(u) // 2]) / 2)


def assert_matches(outputs, expected, atol=1e-6):
    assert set(outputs) == set(expected)
    for name in ("probabilities", "uncertainty", "alpha"):
        np.testing.assert_allclose(
            np.asarray(outputs[name], np.float64),
            expected[name],
            rtol=atol,
            atol=atol,
            err_msg=name,
        )
    np.testing.assert_array_equal(outputs["class_index"], expected["class_index"])
    labels = [
        label.decode() if isinstance(label, bytes) else label
        for label in np.asarray(outputs["class_label"]).tolist()
    ]
    assert labels == expected["class_label"].tolist()


# --- served signatures ----------------------------------------------------------


def load_signature(path):
    return tf.saved_model.load(path).signatures["serving_default"]


def call_signature(signature, input_name, x):
    outputs = signature(**{input_name: tf.constant(x)})
    return {name: tensor.numpy() for name, tensor in outputs.items()}


# --- tests --------------------------------------------------------------------
