"""Single device vs `keras.distribution` on 4 JAX host devices.

    python tests/scripts/jax_data_parallel.py OUT.json

Trains every setup of tests/scripts/distribution_setups.py (EDL, m-EDL with
streaming metrics, TEDL, NIG regression, DAEDL, spectral normalisation with a
dead ReLU unit) from the same initial weights with plain SGD, once on one
device and once under `DataParallel` over the 4 devices; EDL also under
`ModelParallel` on a 2 x 2 mesh, and once more under `DataParallel` with a
wrapped `model.train_step`. Writes to OUT.json, per run: the weights before
training, every step's logged loss and the weights after it, the epoch logs,
how often the loss was traced and how the traced batch was sharded, and what
the setup is compared on after `fit` (fitted density, monitor history,
metric states, the callbacks' feature passes on 126 samples); also the data,
for the float64 reference in the test.

JAX reads `XLA_FLAGS` once, when it initializes, so the host devices must be
requested before JAX is imported: hence a separate process.
"""

import contextlib
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "jax"
DEVICES = 4
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + f" --xla_force_host_platform_device_count={DEVICES}"
)

import jax  # noqa: E402
import keras  # noqa: E402
from distribution_setups import BATCH_SIZE  # noqa: E402
from distribution_setups import EPOCHS  # noqa: E402
from distribution_setups import SETUPS  # noqa: E402
from distribution_setups import UNKNOWN  # noqa: E402
from distribution_setups import StepRecorder  # noqa: E402
from distribution_setups import build  # noqa: E402
from distribution_setups import data  # noqa: E402
from distribution_setups import recorded  # noqa: E402
from distribution_setups import results_after_fit  # noqa: E402

import keras_evidential as ke  # noqa: E402

# A feature set whose size no batch of 32 divides by 4 devices evenly
# (30 samples in the last batch).
INDIVISIBLE = 126


def count_traces(model):
    """Counts how often JAX traces the model's loss (once per compilation of
    a train or test step) and records how the traced batch is sharded.

    Keras also calls the loss once on symbolic tensors to build the model's
    compiled losses; only the calls on JAX tracers are counted. The count
    hooks the loss object, not `model.train_step`: JAX caches a trace by the
    function it jits, and giving it one persistent function would change the
    very retracing that is measured (see `stale_after_wrapping`).
    """
    traces = {"loss": 0}
    for loss in keras.tree.flatten(model.loss):
        call = loss.call

        def traced(y_true, y_pred, call=call):
            if isinstance(y_pred, jax.core.Tracer):
                traces["loss"] += 1

                def record(sharding):
                    traces["batch_devices"] = len(sharding.device_set)
                    traces["batch_shard_rows"] = sharding.shard_shape(y_pred.shape)[0]

                jax.debug.inspect_array_sharding(y_pred, callback=record)
            return call(y_true, y_pred)

        loss.call = traced
    return traces


def outcome(fn):
    """`fn()`'s result, or the error it raised as `{"error": ...}`."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 - recorded for the test
        return {"error": f"{type(error).__name__}: {error}"[:500]}


def indivisible_density(model, x, labels):
    callback = ke.callbacks.FitDensity(
        x[:INDIVISIBLE], labels[:INDIVISIBLE] % UNKNOWN, batch_size=BATCH_SIZE
    )
    callback.set_model(model)
    callback.on_train_end()
    return results_after_fit("daedl", model, [], x, None)["density"]


def indivisible_dead(model, x):
    callback = ke.callbacks.DeadEvidenceMonitor(
        x[:INDIVISIBLE], warn=False, batch_size=BATCH_SIZE
    )
    callback.set_model(model)
    callback.on_epoch_end(0, {})
    return callback.history[-1]


def run(setup, distribution, arrays):
    x, labels, targets = arrays
    scope = distribution.scope() if distribution else contextlib.nullcontext()
    with scope:
        keras.utils.set_random_seed(0)
        model, callbacks, y = build(setup, x, labels, targets)
        traces = count_traces(model)
        recorder = StepRecorder()
        start = time.perf_counter()
        model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=False, verbose=0,
            callbacks=callbacks + [recorder],
        )
        result = recorded(recorder)
        result["fit_seconds"] = time.perf_counter() - start
        result["fit_traces"] = dict(traces)
        result.update(
            weight_shardings=sorted(
                {str(v.value.sharding.spec) for v in model.trainable_variables}
            ) if distribution else None,
        )
        result.update(results_after_fit(setup, model, callbacks, x, y))
        result["traces_after_evaluate"] = dict(traces)
        # The feature passes of the callbacks on a set that 4 devices cannot
        # split evenly, from the trained weights.
        if setup == "daedl":
            result["indivisible_density"] = outcome(
                lambda: indivisible_density(model, x, labels)
            )
        if setup == "dead":
            result["indivisible_dead"] = outcome(lambda: indivisible_dead(model, x))
    return result


def model_parallel():
    """A 2 x 2 mesh: batches split in 2, the hidden layer's units in 2."""
    mesh = keras.distribution.DeviceMesh(
        shape=(2, 2), axis_names=("batch", "model"), devices=jax.devices()
    )
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*hidden.*kernel"] = (None, "model")
    layout_map[".*hidden.*bias"] = ("model",)
    return keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name="batch"
    )


def stale_after_wrapping(distribution, arrays):
    """The EDL setup under `distribution` with `model.train_step` replaced by
    a wrapper (as a profiler or step counter would do): the steps' losses
    and weights, to check that `KLAnnealing`'s values still reach them."""
    x, labels, targets = arrays
    with distribution.scope():
        model, callbacks, y = build("edl", x, labels, targets)
        train_step = model.train_step

        def wrapped(state, batch):
            return train_step(state, batch)

        model.train_step = wrapped
        recorder = StepRecorder()
        model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=False, verbose=0,
            callbacks=callbacks + [recorder],
        )
    return recorded(recorder)


def main():
    assert len(jax.devices()) == DEVICES, jax.devices()
    arrays = data()
    x, labels, targets = arrays
    out = {
        "devices": len(jax.devices()),
        "data": {
            "x": x.tolist(), "labels": labels.tolist(), "targets": targets.tolist()
        },
    }
    for setup in SETUPS:
        single = run(setup, None, arrays)
        parallel = run(
            setup, keras.distribution.DataParallel(devices=jax.devices()), arrays
        )
        out[setup] = {"single": single, "parallel": parallel}
        if setup == "edl":
            out[setup]["model_parallel"] = run(setup, model_parallel(), arrays)
            out["edl_wrapped_train_step"] = stale_after_wrapping(
                keras.distribution.DataParallel(devices=jax.devices()), arrays
            )
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
