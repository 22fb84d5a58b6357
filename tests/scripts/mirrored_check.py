"""Single device vs `tf.distribute.MirroredStrategy` on 2 logical CPUs.

    python tests/scripts/mirrored_check.py OUT.json

For two setups (m-EDL with KLAnnealing; TEDL with TwoStageFit and
KLAnnealing) trains the same model from the same initial weights with plain
SGD, once on one device and once mirrored over two logical CPU devices, and
records every step's logged loss and weight update (-lr * gradient). Writes the
largest differences between the two runs to OUT.json. The logical devices must
be configured before TensorFlow initializes, hence a separate process.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_evidential as ke  # noqa: E402

LEARNING_RATE = 0.5
EPOCHS = 3


class StepRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses, self.updates, self.kl_weights, self.stages = [], [], [], []

    def _weights(self):
        return [keras.ops.convert_to_numpy(w).copy() for w in self.model.trainable_weights]

    def on_train_batch_begin(self, batch, logs=None):
        self._before = self._weights()

    def on_train_batch_end(self, batch, logs=None):
        after = self._weights()
        self.updates.append([a - b for a, b in zip(after, self._before)])
        self.losses.append(float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.kl_weights.append(logs["kl_weight"])
        self.stages.append(logs.get("stage"))


def build(setup, initial_weights):
    layers = [
        keras.Input((6,)),
        keras.layers.Dense(8, activation="tanh"),
        keras.layers.Dense(3),
    ]
    if setup == "medl":
        layers += [ke.layers.DirichletOutput("softplus"), ke.layers.UnknownClassHead()]
        loss = ke.losses.EDLLoss(kl_weight=0.0)
        callbacks = [ke.callbacks.KLAnnealing(increment=0.5)]
    else:
        loss = ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(), stage=1
        )
        callbacks = [
            ke.callbacks.TwoStageFit(switch_epoch=1),
            ke.callbacks.KLAnnealing(increment=0.5),
        ]
    model = keras.Sequential(layers)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=loss)
    return model, callbacks


def run(setup, strategy, initial_weights, x, y):
    with strategy.scope():
        model, callbacks = build(setup, initial_weights)
    recorder = StepRecorder()
    model.fit(
        x, y, batch_size=32, epochs=EPOCHS, shuffle=False, verbose=0,
        callbacks=callbacks + [recorder],
    )
    return recorder


def main():
    out = {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6)).astype("float32")
    for setup in ["medl", "tedl"]:
        keras.utils.set_random_seed(0)
        classes = 4 if setup == "medl" else 3  # label 3 = unknown in m-EDL
        y = rng.integers(0, classes, size=len(x))
        initial = build(setup, None)[0].get_weights()
        single = run(setup, tf.distribute.OneDeviceStrategy("/cpu:0"), initial, x, y)
        mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        mirrored = run(setup, mirrored_strategy, initial, x, y)
        out[setup] = {
            "replicas": mirrored_strategy.num_replicas_in_sync,
            "steps": len(single.losses),
            "max_loss_diff": float(
                np.max(np.abs(np.subtract(single.losses, mirrored.losses)))
            ),
            "max_gradient_diff": float(
                max(
                    np.max(np.abs(a - b)) / LEARNING_RATE
                    for sa, sb in zip(single.updates, mirrored.updates)
                    for a, b in zip(sa, sb)
                )
            ),
            "max_gradient": float(
                max(np.max(np.abs(a)) / LEARNING_RATE for s in single.updates for a in s)
            ),
            "kl_weights": [single.kl_weights, mirrored.kl_weights],
            "stages": [single.stages, mirrored.stages],
        }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
