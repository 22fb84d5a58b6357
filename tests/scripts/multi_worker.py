"""One worker of a 2-worker `MultiWorkerMirroredStrategy` m-EDL run.

    python tests/scripts/multi_worker.py TASK_INDEX PORT0,PORT1 OUT_DIR

Both workers run on 127.0.0.1. Each trains the same m-EDL model (3 known
classes plus the unknown class u, KLAnnealing) on synthetic data, sharded by
the strategy, and writes OUT_DIR/worker<TASK_INDEX>.npz with its final weights,
per-epoch losses and training accuracy over the K + 1 classes.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
task_index = int(sys.argv[1])
ports = sys.argv[2].split(",")
os.environ["TF_CONFIG"] = json.dumps(
    {
        "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
        "task": {"type": "worker", "index": task_index},
    }
)

import tensorflow as tf  # noqa: E402

# Created before any other TensorFlow op, as MultiWorkerMirroredStrategy needs.
strategy = tf.distribute.MultiWorkerMirroredStrategy()

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_evidential as ke  # noqa: E402


class MultiWorkerSequential(keras.Sequential):
    """Works around Keras 3.15 reducing each step's logs across workers with
    `strategy.reduce("MEAN", value, axis=0)`, which fails for scalars: the
    logs are returned with shape (1,) and come back as scalars."""

    def train_step(self, data):
        logs = super().train_step(data)
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def synthetic_data():
    """Three Gaussian known classes and a far-away cluster labelled u = 3."""
    rng = np.random.default_rng(0)
    centers = np.array([[3, 0], [-3, 0], [0, 3], [0, -6]], np.float32)
    labels = rng.integers(0, 4, size=512)
    x = centers[labels] + rng.normal(size=(512, 2)).astype(np.float32)
    return x, labels


def main():
    out_dir = sys.argv[3]
    keras.utils.set_random_seed(0)
    x, y = synthetic_data()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y)).batch(64).with_options(options)
    )
    # Keras 3.15's `fit` reduces the first (x, y) batch with
    # `strategy.reduce`, which MultiWorkerMirroredStrategy cannot do for a
    # nested structure (keras-team/keras#20585). A model constructed outside
    # the scope skips that step; its variables are still created, mirrored,
    # inside the scope by `build`.
    model = MultiWorkerSequential(
        [
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("relu"),
            ke.layers.UnknownClassHead(),
        ]
    )
    with strategy.scope():
        model.build((None, 2))
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss=ke.losses.EDLLoss(kl_weight=0.0),
        )
        model.optimizer.build(model.trainable_variables)
        history = model.fit(
            dataset,
            epochs=8,
            verbose=0,
            callbacks=[ke.callbacks.KLAnnealing(increment=0.1)],
        )
    predictions = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1)
    np.savez(
        os.path.join(out_dir, f"worker{task_index}.npz"),
        losses=np.array(history.history["loss"]),
        kl_weights=np.array(history.history["kl_weight"]),
        accuracy=np.mean(predictions == y),
        replicas=strategy.num_replicas_in_sync,
        **{f"w{i}": keras.ops.convert_to_numpy(w) for i, w in enumerate(model.weights)},
    )


if __name__ == "__main__":
    main()
