"""The JAX data-parallel setups under `tf.distribute.MirroredStrategy`.

    python tests/scripts/mirrored_states.py OUT.json

Trains the setups of tests/scripts/distribution_setups.py whose state is
aggregated over replicas (DAEDL with `FitDensity`, spectral normalisation
with `DeadEvidenceMonitor`, m-EDL with the streaming metrics), from the same
data and initial weights as tests/scripts/jax_data_parallel.py, mirrored over
2 logical CPU devices, and writes what the JAX script records for them. The
logical devices must be configured before TensorFlow initializes, hence a
separate process.
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
from distribution_setups import BATCH_SIZE  # noqa: E402
from distribution_setups import EPOCHS  # noqa: E402
from distribution_setups import StepRecorder  # noqa: E402
from distribution_setups import build  # noqa: E402
from distribution_setups import data  # noqa: E402
from distribution_setups import recorded  # noqa: E402
from distribution_setups import results_after_fit  # noqa: E402

SETUPS = ("daedl", "dead", "medl")


def main():
    x, labels, targets = data()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync}
    for setup in SETUPS:
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model, callbacks, y = build(setup, x, labels, targets)
        recorder = StepRecorder()
        model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=False, verbose=0,
            callbacks=callbacks + [recorder],
        )
        result = recorded(recorder)
        result.update(results_after_fit(setup, model, callbacks, x, y))
        out[setup] = result
    out["exact_metric_refused"] = exact_metric_refused(strategy, x, labels)
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


def exact_metric_refused(strategy, x, labels):
    """Whether an exact `UnknownClassAUROC` is refused under the strategy
    (its buffer would be summed across replicas into a wrong figure)."""
    import keras_evidential as ke

    with strategy.scope():
        keras.utils.set_random_seed(0)
        model, _, y = build("medl", x, labels, None)
        model.compile(optimizer="sgd", loss=ke.losses.EDLLoss(),
                      metrics=[ke.metrics.UnknownClassAUROC(unknown_class=True)])
    try:
        model.evaluate(x, y, batch_size=BATCH_SIZE, verbose=0)
    except ValueError as error:
        return "num_thresholds" in str(error)
    return False


if __name__ == "__main__":
    main()
