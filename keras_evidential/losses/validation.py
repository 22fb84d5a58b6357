"""Value checks on labels and concentrations that fail loudly on every backend.

Shape errors are raised while tracing. Value errors (a label out of range, an
`alpha` below 1 or not finite) can only be seen when the step runs, and an
out-of-range label would otherwise be silently one-hot encoded as all zeros.
How the check fails depends on where the step runs:

- Eagerly (direct calls, `run_eagerly=True`, the PyTorch backend): a
  `ValueError` at once.
- In a TensorFlow graph (`model.fit` on TensorFlow without XLA, the default on
  CPU): a `tf.errors.InvalidArgumentError` at the first bad batch.
- Under JAX `jit` (every `model.fit` on JAX): a host callback raises the
  `ValueError`, surfacing as a `JaxRuntimeError` whose text contains it.
- Under TensorFlow XLA (`jit_compile=True`, the default on GPU/TPU): XLA drops
  assert ops, so the value checks do not run; shape checks still do.

Each message names the argument and the received minimum and maximum.
"""

import functools

import keras
import numpy as np
from keras import ops


def check_labels(labels, num_classes):
    """Checks that integer labels are class indices in `[0, num_classes)`."""
    labels = ops.convert_to_tensor(labels)
    if _statically_empty(labels):
        return
    minimum, maximum = ops.min(labels), ops.max(labels)
    _check(
        ops.logical_and(minimum >= 0, maximum < num_classes),
        f"Integer labels must be class indices in [0, {num_classes}) for a "
        f"prediction with {num_classes} outputs (with `UnknownClassHead`, "
        f"index {num_classes - 1} is the unknown class).",
        "y_true",
        minimum,
        maximum,
    )


def check_concentrations(alpha, argument="y_pred", minimum=1.0):
    """Checks that Dirichlet concentrations are finite and >= `minimum`.

    `minimum` is EDL's 1 by default; R-EDL's `alpha = e + lambda` needs
    `lambda`, and the `alpha = exp(z)` of DAEDL and F-EDL only `alpha > 0`
    (`minimum=0`).
    """
    alpha = ops.convert_to_tensor(alpha)
    if _statically_empty(alpha):
        return
    # Two reductions decide it: min and max propagate NaN on every backend,
    # and NaN fails both comparisons. Fewer ops than `isfinite` + `all`
    # matters, since the check runs in every training step.
    least = float(minimum)
    lowest, maximum = ops.min(alpha), ops.max(alpha)
    _check(
        ops.logical_and(
            lowest > least if least == 0.0 else lowest >= least,
            maximum < float("inf"),
        ),
        concentration_error_message(argument, least),
        argument,
        lowest,
        maximum,
    )


def concentration_error_message(argument="y_pred", minimum=1.0):
    """What a failed `check_concentrations` says, before the received values."""
    bound = "alpha >= 1" if minimum == 1.0 else (
        "alpha > 0" if minimum == 0.0 else f"alpha >= {minimum:g}"
    )
    return (
        f"`{argument}` must hold finite Dirichlet concentrations {bound} "
        "(the output of `DirichletOutput`); it may not contain NaN or inf. "
        "For raw logits pass `from_logits=True`."
    )


def _statically_empty(x):
    # Eager backends (PyTorch) refuse to reduce an empty tensor. A dynamic
    # empty batch (a replica's share of a short last batch under
    # `tf.distribute`) reduces to min = +inf, max = -inf and passes.
    return any(dim == 0 for dim in x.shape)


def _message(message, argument, minimum, maximum):
    return f"{message} Received: {argument} with min={minimum}, max={maximum}"


def _raise_unless(ok, message, argument, minimum, maximum):
    if not bool(np.asarray(ok)):
        raise ValueError(
            _message(message, argument, np.asarray(minimum), np.asarray(maximum))
        )


def _check(ok, message, argument, minimum, maximum):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            # XLA ignores this op (see the module docstring). The values go
            # in as separate entries: a `tf.strings.format` op would have no
            # XLA kernel and break `jit_compile=True`. The raw op, unlike
            # `tf.debugging.Assert`, adds no `cond` around itself (which only
            # spares copying float data to the host on GPU): one op instead
            # of ten in every training step.
            tf.raw_ops.Assert(
                condition=ok,
                data=[message, f"Received: {argument} with min=", minimum,
                      "max=", maximum],
                summarize=3,
            )
            return
    elif backend == "jax":
        import jax

        if any(isinstance(t, jax.core.Tracer) for t in (ok, minimum, maximum)):
            jax.debug.callback(
                functools.partial(
                    _raise_unless, message=message, argument=argument
                ),
                ok,
                minimum=minimum,
                maximum=maximum,
            )
            return
    _raise_unless(
        ops.convert_to_numpy(ok),
        message,
        argument,
        ops.convert_to_numpy(minimum),
        ops.convert_to_numpy(maximum),
    )
