"""A small two-tower ("TwinBERT-like") text-pair classifier that outputs logits.

One `TokenEncoder` (shared weights) encodes both sentences, `PairInteraction`
combines the two encodings (with their cosine similarity, TwinBERT's score),
and a `Dense(num_classes)` head returns logits, the input of
`EDLLoss(from_logits=True)`, `TwoStageFit` and softmax cross-entropy alike.

Training runs on token ids (`build_two_tower_model`), so the text is
vectorised once; `build_text_pair_model` puts the fitted `TextVectorization`
in front, giving a model on raw strings whose vocabulary is saved with it.
"""

import keras
from keras import ops

ENCODERS = ("transformer", "gru", "cnn")


@keras.saving.register_keras_serializable(package="keras_evidential")
class TokenEncoder(keras.layers.Layer):
    """Embeds a padded token-id sequence and pools it into one vector.

    Formula:
    ```
    h = encoder(embedding(tokens) [+ position embedding])
    output = sum_t m_t h_t / max(1, sum_t m_t),   m_t = (tokens_t != 0)
    ```

    Token id 0 is padding (as `TextVectorization` emits it) and is left out
    of the mean.

    Args:
        vocabulary_size: Integer, the number of token ids (including 0 and
            the out-of-vocabulary id 1).
        sequence_length: Integer, the padded sequence length.
        embedding_dim: Integer, the width of the embeddings and the output.
        encoder: `"transformer"` (one pre-norm self-attention block with a
            learned position embedding), `"gru"` (a bidirectional GRU) or
            `"cnn"` (one width-3 convolution). Defaults to `"transformer"`.
        num_heads: Integer, attention heads of the transformer block.
        hidden_dim: Integer, width of the transformer's feed-forward layer.
        dropout: Float in [0, 1), dropout rate inside the encoder.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Input shape: `(batch, sequence_length)` integer token ids.
    Output shape: `(batch, embedding_dim)`.

    Example:

    >>> encoder = TokenEncoder(vocabulary_size=100, sequence_length=8)
    >>> encoder(np.array([[5, 7, 2, 0, 0, 0, 0, 0]])).shape  # (1, 64)

    Reference:
    - [Lu, Jiao, Zhang, 2020 (TwinBERT)](https://arxiv.org/abs/2002.06275)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length=32,
        embedding_dim=64,
        encoder="transformer",
        num_heads=2,
        hidden_dim=128,
        dropout=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if encoder not in ENCODERS:
            raise ValueError(
                f"`encoder` must be one of {ENCODERS}. Received: encoder={encoder!r}"
            )
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("sequence_length", sequence_length),
            ("embedding_dim", embedding_dim),
            ("num_heads", num_heads),
            ("hidden_dim", hidden_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.encoder = encoder
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, dtype=policy, name="embedding"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=policy)
        if encoder == "transformer":
            self.position_embedding = keras.layers.Embedding(
                sequence_length, embedding_dim, dtype=policy, name="position"
            )
            self.attention_norm = keras.layers.LayerNormalization(dtype=policy)
            self.attention = keras.layers.MultiHeadAttention(
                num_heads,
                embedding_dim // num_heads,
                dropout=dropout,
                dtype=policy,
                name="attention",
            )
            self.ffn_norm = keras.layers.LayerNormalization(dtype=policy)
            self.ffn_hidden = keras.layers.Dense(
                hidden_dim, activation="gelu", dtype=policy
            )
            self.ffn_output = keras.layers.Dense(embedding_dim, dtype=policy)
        elif encoder == "gru":
            self.recurrent = keras.layers.Bidirectional(
                keras.layers.GRU(embedding_dim // 2, return_sequences=True),
                dtype=policy,
            )
        else:
            self.convolution = keras.layers.Conv1D(
                embedding_dim, 3, padding="same", activation="relu", dtype=policy
            )

    def build(self, input_shape):
        length = input_shape[-1]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"Input sequences are longer than sequence_length="
                f"{self.sequence_length}. Received: input_shape={input_shape}"
            )
        embedded = tuple(input_shape) + (self.embedding_dim,)
        self.embedding.build(input_shape)
        if self.encoder == "transformer":
            self.position_embedding.build((length,))
            self.attention_norm.build(embedded)
            self.attention.build(embedded, embedded)
            self.ffn_norm.build(embedded)
            self.ffn_hidden.build(embedded)
            self.ffn_output.build(embedded[:-1] + (self.hidden_dim,))
        elif self.encoder == "gru":
            self.recurrent.build(embedded)
        else:
            self.convolution.build(embedded)
        self.built = True

    def call(self, tokens, training=None):
        mask = ops.not_equal(tokens, 0)
        x = self.embedding(tokens)
        if self.encoder == "transformer":
            positions = ops.arange(ops.shape(tokens)[-1])
            x = x + self.position_embedding(positions)
            x = self.dropout_layer(x, training=training)
            h = self.attention_norm(x)
            x = x + self.attention(
                h, h, attention_mask=mask[:, None, :], training=training
            )
            h = self.ffn_hidden(self.ffn_norm(x))
            x = x + self.dropout_layer(self.ffn_output(h), training=training)
        elif self.encoder == "gru":
            x = self.recurrent(self.dropout_layer(x, training=training), mask=mask)
        else:
            x = self.convolution(self.dropout_layer(x, training=training))
        weights = ops.cast(mask, x.dtype)[..., None]
        count = ops.maximum(ops.sum(weights, axis=-2), ops.cast(1.0, x.dtype))
        return ops.sum(x * weights, axis=-2) / count

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "encoder": self.encoder,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "dropout": self.dropout,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class PairInteraction(keras.layers.Layer):
    """Interaction features of two encodings, including their cosine.

    Formula:
    ```
    output = concat(u, v, |u - v|, u * v, cos(u, v))
    ```

    `cos(u, v)` is TwinBERT's relevance score; the element-wise features let
    the head learn more than a single similarity.

    Input shape: a list of two tensors `(batch, d)`.
    Output shape: `(batch, 4 * d + 1)`.

    Example:

    >>> PairInteraction()([np.ones((1, 2)), np.ones((1, 2))])
    >>> # -> [[1., 1., 1., 1., 0., 0., 1., 1., 1.]]
    """

    def call(self, inputs):
        u, v = inputs
        cosine = ops.sum(
            ops.normalize(u, axis=-1) * ops.normalize(v, axis=-1),
            axis=-1,
            keepdims=True,
        )
        return ops.concatenate([u, v, ops.abs(u - v), u * v, cosine], axis=-1)

    def compute_output_shape(self, input_shape):
        shape_u = tuple(input_shape[0])
        return shape_u[:-1] + (4 * shape_u[-1] + 1,)


def build_two_tower_model(
    vocabulary_size,
    sequence_length=32,
    num_classes=2,
    embedding_dim=64,
    head_dim=64,
    encoder="transformer",
    num_heads=2,
    hidden_dim=128,
    dropout=0.1,
    name="two_tower_tokens",
):
    """The two-tower classifier on token ids: `[tokens_a, tokens_b] -> logits`.

    Args:
        vocabulary_size: Integer, the vectoriser's vocabulary size.
        sequence_length: Integer, the padded sequence length.
        num_classes: Integer >= 2, the width of the logits.
        embedding_dim: Integer, the encoder width.
        head_dim: Integer, the width of the hidden layer of the head.
        encoder: `"transformer"`, `"gru"` or `"cnn"` (see `TokenEncoder`).
        num_heads: Integer, attention heads of the transformer encoder.
        hidden_dim: Integer, feed-forward width of the transformer encoder.
        dropout: Float, dropout in the encoder and before the head.
        name: The model's name.

    Returns:
        A functional `keras.Model` with inputs `tokens_a`, `tokens_b` (int32,
        `(batch, sequence_length)`) and logits of shape `(batch, num_classes)`.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` must be an integer >= 2. Received: num_classes={num_classes!r}"
        )
    tokens_a = keras.Input((sequence_length,), dtype="int32", name="tokens_a")
    tokens_b = keras.Input((sequence_length,), dtype="int32", name="tokens_b")
    encode = TokenEncoder(
        vocabulary_size,
        sequence_length=sequence_length,
        embedding_dim=embedding_dim,
        encoder=encoder,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        dropout=dropout,
        name="token_encoder",
    )
    features = PairInteraction(name="interaction")([encode(tokens_a), encode(tokens_b)])
    x = keras.layers.Dropout(dropout)(features)
    x = keras.layers.Dense(head_dim, activation="relu", name="head_hidden")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model([tokens_a, tokens_b], logits, name=name)


def make_vectorizer(texts, max_tokens=20000, sequence_length=32, standardize="lower"):
    """A `TextVectorization` layer fitted on `texts`.

    Args:
        texts: An array or list of training strings (both sides of the pairs).
        max_tokens: Integer, the vocabulary size including padding and OOV.
        sequence_length: Integer, the output length (padded or truncated).
        standardize: Passed to `TextVectorization`. The default `"lower"`
            keeps punctuation tokens of the already tokenised corpora.

    Returns:
        The adapted layer.
    """
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize,
        output_mode="int",
        output_sequence_length=sequence_length,
        name="vectorizer",
    )
    vectorizer.adapt(list(map(str, texts)), batch_size=4096)
    return vectorizer


def build_text_pair_model(vectorizer, token_model, name="two_tower"):
    """Wraps a token-id model so that it takes two raw strings.

    The vectoriser (and so its vocabulary) becomes part of the model and is
    saved with it; an exported model takes raw sentences.

    Args:
        vectorizer: A fitted `TextVectorization` with `output_mode="int"`.
        token_model: A model from `build_two_tower_model`.
        name: The model's name.

    Returns:
        A functional `keras.Model` with string inputs `sentence_a` and
        `sentence_b` of shape `(batch,)`, returning `token_model`'s logits.
    """
    sentence_a = keras.Input((), dtype="string", name="sentence_a")
    sentence_b = keras.Input((), dtype="string", name="sentence_b")
    logits = token_model([vectorizer(sentence_a), vectorizer(sentence_b)])
    return keras.Model([sentence_a, sentence_b], logits, name=name)
