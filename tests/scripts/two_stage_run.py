"""A small TEDL run with BackupAndRestore, for tests/integration/test_interrupted_training.py.

    python tests/scripts/two_stage_run.py WORKDIR [--hang-after-epoch N]

Trains 6 epochs (stage 1 for epochs 0-1, stage 2 from epoch 2, KL annealed by
0.25 per stage-2 epoch) on fixed synthetic data, backing up to WORKDIR/backup.
Appends one JSON line per epoch (epoch, stage, kl_weight, loss) to
WORKDIR/epochs.jsonl and writes the final weights to WORKDIR/weights.npz. With
`--hang-after-epoch N` it writes WORKDIR/ready after the backup of epoch N and
then waits to be killed.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_evidential as ke  # noqa: E402

EPOCHS = 6
SWITCH_EPOCH = 2
INCREMENT = 0.25


class EpochRecord(keras.callbacks.Callback):
    def __init__(self, workdir, hang_after_epoch):
        super().__init__()
        self.workdir = workdir
        self.hang_after_epoch = hang_after_epoch

    def on_epoch_end(self, epoch, logs=None):
        record = {
            "epoch": epoch,
            "stage": logs["stage"],
            "kl_weight": logs["kl_weight"],
            "loss": float(logs["loss"]),
        }
        with open(self.workdir / "epochs.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        if epoch == self.hang_after_epoch:
            (self.workdir / "ready").touch()
            while True:  # the test kills this process now
                time.sleep(1)


def training_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    return x, y


def build_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(), stage=1
        ),
    )
    return model


def train(workdir, last_callbacks=()):
    """Trains a new model under BackupAndRestore in `workdir`; its weights.

    `last_callbacks` run after the backup of each epoch (the test's
    interruption).
    """
    x, y = training_data()
    model = build_model()
    model.fit(
        x,
        y,
        batch_size=32,
        epochs=EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=[
            ke.callbacks.TwoStageFit(switch_epoch=SWITCH_EPOCH),
            ke.callbacks.KLAnnealing(increment=INCREMENT),
            keras.callbacks.BackupAndRestore(str(Path(workdir) / "backup")),
            *last_callbacks,
        ],
    )
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--hang-after-epoch", type=int, default=-1)
    args = parser.parse_args()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    # After BackupAndRestore, so that the backup of the epoch exists.
    weights = train(args.workdir, [EpochRecord(args.workdir, args.hang_after_epoch)])
    np.savez(args.workdir / "weights.npz", *weights)


if __name__ == "__main__":
    main()
