"""Many independent EDL / m-EDL trials trained at once as one Keras model.

The paper's network is tiny (784-32-32-K), so on a CPU one trial spends most
of its time in per-step overhead, not arithmetic. Here S trials ("towers")
are stacked into one model whose weights have a leading tower axis: every
step runs S independent forward/backward passes in a few batched matmuls.

How this matches the paper's protocol for every tower (see docs/medl.md):
- Data: each tower has its own mixed training set (its own seed), shuffled
  every epoch with its own RNG; as Keras's `validation_split=0.1`, its last
  10 % (before shuffling) is the validation set. The model's input is, per
  batch row, one sample index per tower; the images are gathered from a
  shared uint8 bank inside the model.
- Loss: the sum over towers of each tower's batch-mean EDL loss. Tower s's
  weights get the gradient of tower s's loss only, and Adam works
  elementwise, so each tower follows exactly the updates of training it
  alone (same batch size 64, lr 1e-3, same step count for bias correction).
- Early stopping: per tower, the rule of `keras.callbacks.EarlyStopping(
  monitor="val_loss", patience=3, min_delta=1e-3)` (restore_best_weights
  False, as the reference code) is applied to the tower's own validation
  loss. When it fires, the tower's weights at the end of that epoch are
  saved; the tower keeps computing (its results are unused) until every
  tower has stopped or 100 epochs have passed, and the saved weights are put
  back. A stopped tower therefore ends exactly where a lone trial would.
"""

import dataclasses
import math
import time

import keras
import numpy as np
from keras import ops

from keras_evidential import layers as evidential_layers
from keras_evidential.layers.learned_unknown_class_head import (
    LearnedUnknownClassHead,
)
from keras_evidential.losses import EDLLoss

HEADS = ("edl", "medl", "medl-learned")


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The paper's training protocol (docs/formulas.md, m-EDL)."""

    hidden_units: int = 32
    batch_size: int = 64
    learning_rate: float = 1e-3
    validation_split: float = 0.1
    patience: int = 3
    min_delta: float = 1e-3
    max_epochs: int = 100
    kl_weight: float = 0.1
    steps_per_execution: int = 64


class ImageBank(keras.layers.Layer):
    """Gathers images by index from a uint8 bank: `(B, S)` -> `(S, B, D)`."""

    def __init__(self, bank, **kwargs):
        super().__init__(**kwargs)
        # A variable, not a constant: XLA would fold a constant bank of
        # ~150 MB into the compiled step for minutes.
        self.bank = self.add_weight(
            shape=(len(bank), int(np.prod(bank.shape[1:]))),
            dtype="uint8",
            initializer="zeros",
            trainable=False,
            name="bank",
        )
        self.bank.assign(bank.reshape(len(bank), -1))
        self.built = True

    def call(self, index):
        images = ops.take(self.bank, ops.transpose(index), axis=0)
        return ops.cast(images, self.compute_dtype) / 255.0

    def compute_output_shape(self, input_shape):
        return (input_shape[1], input_shape[0], int(self.bank.shape[1]))


class ParallelDense(keras.layers.Layer):
    """S independent Dense layers: `(S, B, n_in)` -> `(S, B, units)`."""

    def __init__(self, towers, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.towers = towers
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(self.towers, input_shape[-1], self.units),
            initializer="glorot_uniform",
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.towers, 1, self.units), initializer="zeros", name="bias"
        )

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)


class PerTowerLoss(keras.losses.Loss):
    """Sum over towers of an elementwise loss; `y_pred` is `(B, S, C)`."""

    def __init__(self, loss, **kwargs):
        super().__init__(name=loss.name, **kwargs)
        self.loss = loss

    def call(self, y_true, y_pred):
        return ops.sum(self.loss.call(y_true, y_pred), axis=-1)


def build_model(bank, towers, head="medl", num_classes=10, protocol=Protocol()):
    """The paper's MLP, `towers` times: index `(B, S)` -> alpha `(B, S, C)`.

    `head`: `"edl"` (C = K), `"medl"` (`UnknownClassHead`, C = K + 1) or
    `"medl-learned"` (`LearnedUnknownClassHead`, C = K + 1).
    """
    if head not in HEADS:
        raise ValueError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    index = keras.Input((towers,), dtype="int32")
    x = ImageBank(bank)(index)
    for _ in range(2):
        x = ParallelDense(towers, protocol.hidden_units, "relu")(x)
    k = num_classes
    if head == "medl-learned":
        logits = ParallelDense(towers, k + 1)(x)
        alpha = evidential_layers.DirichletOutput("relu")(logits[..., :k])
        alpha = LearnedUnknownClassHead("relu")([alpha, logits[..., k:]])
    else:
        alpha = evidential_layers.DirichletOutput("relu")(ParallelDense(towers, k)(x))
        if head == "medl":
            alpha = evidential_layers.UnknownClassHead()(alpha)
    outputs = ops.transpose(alpha, (1, 0, 2))
    return keras.Model(index, outputs)


def compile_model(model, protocol=Protocol(), jit_compile=True):
    """Adam and the per-tower sum of EDL losses (KL weight constant 0.1)."""
    model.compile(
        optimizer=keras.optimizers.Adam(protocol.learning_rate),
        loss=PerTowerLoss(EDLLoss(kl_weight=protocol.kl_weight)),
        steps_per_execution=protocol.steps_per_execution,
        jit_compile=jit_compile,
    )


def reset(model, seeds):
    """Fresh trials: new weights per tower from its seed, a fresh optimizer.

    Kernels are Glorot-uniform and biases zero (Keras's Dense defaults),
    drawn per tower from its own seed, so a trial's initial weights do not
    depend on which other trials share the model. Adam's moments and step
    counter go back to zero without recompiling the model.
    """
    parallel = [l for l in model.layers if isinstance(l, ParallelDense)]
    rngs = [np.random.default_rng(seed) for seed in seeds]
    for layer in parallel:
        kernel = np.empty(layer.kernel.shape, dtype="float32")
        limit = math.sqrt(6.0 / (kernel.shape[1] + kernel.shape[2]))
        for s, rng in enumerate(rngs):
            kernel[s] = rng.uniform(-limit, limit, kernel.shape[1:])
        layer.kernel.assign(kernel)
        layer.bias.assign(np.zeros(layer.bias.shape, dtype="float32"))
    if model.optimizer is not None and model.optimizer.built:
        for variable in model.optimizer.variables:
            if variable.name != "learning_rate":
                variable.assign(np.zeros(variable.shape, dtype=variable.dtype))


def _tower_weights(model):
    return [w.numpy() for w in model.trainable_weights]


@dataclasses.dataclass
class TowerResult:
    epochs: int  # epochs trained (stopped_epoch + 1, or max_epochs)
    best_val_loss: float
    final_val_loss: float


def fit_towers(
    model,
    train_index,
    train_labels,
    seeds,
    protocol=Protocol(),
    progress=None,
):
    """Trains every tower with the paper's protocol and per-tower stopping.

    Args:
        model: From `build_model` with S towers, compiled by
            `compile_model` and initialised by `reset`.
        train_index: int `(N, S)`: each tower's mixed training set as bank
            indices (the order before any shuffling).
        train_labels: int `(N, S)`.
        seeds: S ints: each tower's shuffling seed.
        protocol: `Protocol`.
        progress: Optional callable `progress(epoch, active_towers, seconds)`.

    Returns:
        A list of S `TowerResult`; the model holds each tower's final weights.
    """
    n, towers = train_index.shape
    split = int(math.ceil(n * (1.0 - protocol.validation_split)))
    x_fit, y_fit = train_index[:split], train_labels[:split]
    x_val, y_val = train_index[split:], train_labels[split:]
    edl = model.loss.loss
    rngs = [np.random.default_rng(seed) for seed in seeds]
    best = [None] * towers
    wait = [0] * towers
    stopped = [None] * towers
    saved = [None] * towers
    final_val = [math.nan] * towers
    for epoch in range(protocol.max_epochs):
        start = time.perf_counter()
        order = np.stack([rng.permutation(split) for rng in rngs], axis=1)
        x_epoch = np.take_along_axis(x_fit, order, axis=0)
        y_epoch = np.take_along_axis(y_fit, order, axis=0)
        model.fit(
            x_epoch,
            y_epoch,
            batch_size=protocol.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        val_loss = validation_loss(model, edl, x_val, y_val)
        weights = None
        for s in range(towers):
            if stopped[s] is not None:
                continue
            final_val[s] = val_loss[s]
            wait[s] += 1
            if best[s] is None or val_loss[s] + protocol.min_delta < best[s]:
                best[s], wait[s] = val_loss[s], 0
            elif wait[s] >= protocol.patience and epoch > 0:
                stopped[s] = epoch
                if weights is None:
                    weights = _tower_weights(model)
                saved[s] = [w[s].copy() for w in weights]
        active = sum(s is None for s in stopped)
        if progress is not None:
            progress(epoch, active, time.perf_counter() - start)
        if not active:
            break
    if any(w is not None for w in saved):
        weights = _tower_weights(model)
        for s, tower in enumerate(saved):
            if tower is not None:
                for w, value in zip(weights, tower):
                    w[s] = value
        for variable, value in zip(model.trainable_weights, weights):
            variable.assign(value)
    return [
        TowerResult(
            epochs=(stopped[s] + 1) if stopped[s] is not None else epoch + 1,
            best_val_loss=float(best[s]),
            final_val_loss=float(final_val[s]),
        )
        for s in range(towers)
    ]


def predict_alpha(model, index, batch_size=2048):
    """alpha `(N, S, C)` for bank indices `(N, S)`."""
    return model.predict(index, batch_size=batch_size, verbose=0)


def validation_loss(model, edl, index, labels):
    """Each tower's mean EDL loss over its validation samples, shape `(S,)`."""
    if len(index) == 0:
        return np.full(index.shape[1], np.nan)
    alpha = predict_alpha(model, index)
    loss = edl.call(ops.convert_to_tensor(labels), ops.convert_to_tensor(alpha))
    return ops.convert_to_numpy(ops.mean(loss, axis=0))
