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
`keras_evidential.config.disable_value_checks()` turns the checks off.
"""

from __future__ import annotations

import collections
import functools
import math
import numbers
from typing import Any
from typing import Literal
from typing import Sequence
from typing import overload

import keras
import numpy as np
from keras import ops

from keras_evidential import config
from keras_evidential.tensor_types import Tensor


# Constructor arguments
# ---------------------
# One rule for what counts as a bool, an integer and a number, used by every
# public class: a bool is `True`/`False` (NumPy's too), never a string such
# as 'False' (which is truthy); a number is a finite real that is not a bool
# and not a string. Messages take Keras's form: "`arg` must be ...
# Received: arg=...".


def check_bool(value: Any, argument: str) -> bool:
    """Returns `value` as a bool; raises unless it is `True` or `False`."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"`{argument}` must be True or False. Received: {argument}={value!r}"
        )
    return bool(value)


def check_int(value: Any, argument: str, minimum: int | None = None) -> int:
    """Returns `value` as an int; raises unless it is an integer (not a
    bool) and, where `minimum` is given, `>= minimum`."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (numbers.Integral, np.integer))
        or (minimum is not None and value < minimum)
    ):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(
            f"`{argument}` must be an integer{bound}. Received: {argument}={value!r}"
        )
    return int(value)


@overload
def check_number(
    value: Any,
    argument: str,
    low: float | None = ...,
    high: float | None = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    allow_none: Literal[False] = ...,
) -> float: ...


@overload
def check_number(
    value: Any,
    argument: str,
    low: float | None = ...,
    high: float | None = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    allow_none: bool = ...,
) -> float | None: ...


def check_number(
    value: Any,
    argument: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Returns `value` as a float (or None where `allow_none`); raises unless
    it is a finite real number inside the interval from `low` to `high`
    (`low_open` / `high_open` exclude the bound).

    Example:

    >>> keras_evidential.validation.check_number(0.5, "threshold", 0, 1)
    0.5
    """
    if value is None and allow_none:
        return None
    ok = (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, (numbers.Real, np.floating, np.integer))
        and math.isfinite(value)
    )
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ValueError(
            f"`{argument}` must be {_describe(low, high, low_open, high_open)}"
            f"{' or None' if allow_none else ''}. Received: {argument}={value!r}"
        )
    return float(value)


def check_choice(value: Any, argument: str, choices: Sequence[Any]) -> Any:
    """Returns `value`; raises unless it is one of `choices`."""
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        raise ValueError(
            f"`{argument}` must be one of {list(choices)}. "
            f"Received: {argument}={value!r}"
        )
    return value


def _describe(low, high, low_open, high_open):
    if low is not None and high is not None:
        return (
            f"a number in {'(' if low_open else '['}{low:g}, {high:g}"
            f"{')' if high_open else ']'}"
        )
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite number"


def check_finite_number(value: Any, argument: str, positive: bool) -> float:
    """`check_number` with the bound 0: `> 0` where `positive`, else `>= 0`."""
    return check_number(value, argument, low=0, low_open=positive)


def lower_bound(minimum: float) -> float:
    """The bound a value check compares concentrations against: `minimum`
    or its float32 rounding, whichever is lower.

    A head computes `alpha = e + lambda` in float32, so for `lambda = 0.7`
    it outputs float32(0.7) = 0.69999998..., which a float64 comparison with
    0.7 would refuse (a loss in float64, a metric on float64 copies of the
    predictions).
    """
    minimum = float(minimum)
    return min(minimum, float(np.float32(minimum)))


# Tensor values
# -------------


# Each check has two halves: a `*_condition` function that builds the
# condition (two reductions and a comparison) or returns None where nothing
# is to be checked, and `assert_all`, which turns the conditions met at one
# place into ONE assert. A loss checks its labels and its `y_pred` together;
# with the checks off, no reduction is even built (on eager backends it
# would run).
Condition = collections.namedtuple(
    "Condition", ["ok", "message", "argument", "minimum", "maximum"]
)


def _skipped(x):
    return (
        not config.value_checks_enabled()
        or _statically_empty(x)
        or _is_placeholder(x)
    )


def label_condition(
    labels: Tensor, num_classes: int, message: str | None = None
) -> Condition | None:
    """The condition that integer labels are class indices in `[0, num_classes)`."""
    labels = ops.convert_to_tensor(labels)
    if _skipped(labels):
        return None
    minimum, maximum = ops.min(labels), ops.max(labels)
    if message is None:
        message = (
            f"Integer labels must be class indices in [0, {num_classes}) for a "
            f"prediction with {num_classes} outputs (for an m-EDL model ending "
            f"in `UnknownClassHead` these include the unknown class, index "
            f"{num_classes - 1}; a model without that head has no output for "
            "unknown samples, so evaluate them with "
            "`keras_evidential.evaluation.evaluate_uncertainty` or the "
            "`keras_evidential.metrics`, not with this loss)."
        )
    return Condition(
        ops.logical_and(minimum >= 0, maximum < num_classes),
        message, "y_true", minimum, maximum,
    )


def one_hot_condition(y: Tensor) -> Condition | None:
    """The condition that label rows are distributions over the classes.

    Each row must sum to 1 (within 1e-3: soft labels pass) with no negative
    entry. An all-zero row, which the metrics read as a sample of an unknown
    class, has no target in a loss; a multi-hot row is no class either.
    """
    y = ops.convert_to_tensor(y)
    if _skipped(y):
        return None
    sums = ops.sum(y, axis=-1)
    low, high = ops.min(sums), ops.max(sums)
    return Condition(
        ops.logical_and(
            ops.logical_and(low >= 1.0 - 1e-3, high <= 1.0 + 1e-3), ops.min(y) >= 0.0
        ),
        "One-hot labels must be rows that sum to 1 with no negative entry (the "
        "row sums are received below). An all-zero row marks an unknown sample "
        "for the metrics, but a loss needs a class: label it K, the unknown "
        "class of an m-EDL model (`UnknownClassHead`), or leave it out; a "
        "multi-hot row is not a single class.",
        "y_true (one-hot row sums)", low, high,
    )


def concentration_condition(
    alpha: Tensor,
    argument: str = "y_pred",
    minimum: float = 1.0,
    message: str | None = None,
) -> Condition | None:
    """The condition that Dirichlet concentrations are finite and >= `minimum`.

    `minimum` is EDL's 1 by default; R-EDL's `alpha = e + lambda` needs
    `lambda` (compared as `lower_bound(lambda)`), and the `alpha = exp(z)` of
    DAEDL and F-EDL only `alpha > 0` (`minimum=0`). `message` replaces
    `concentration_error_message`'s text.
    """
    alpha = ops.convert_to_tensor(alpha)
    if _skipped(alpha):
        return None
    # Two reductions decide it: min and max propagate NaN on every backend,
    # and NaN fails both comparisons. Fewer ops than `isfinite` + `all`
    # matters, since the check runs in every training step.
    least = lower_bound(minimum)
    lowest, maximum = ops.min(alpha), ops.max(alpha)
    return Condition(
        ops.logical_and(
            lowest > least if least == 0.0 else lowest >= least,
            maximum < float("inf"),
        ),
        message or concentration_error_message(argument, least),
        argument, lowest, maximum,
    )


def finite_condition(x: Tensor, argument: str) -> Condition | None:
    """The condition that a float tensor holds no NaN or inf.

    Evidence functions hide non-finite values: ReLU(NaN) is NaN in plain
    kernels but 0 in TensorFlow's fused CPU kernels, so a NaN in the logits
    would become alpha = 1 ("I don't know") instead of an error. Every head
    therefore checks its input before the evidence function.
    """
    x = ops.convert_to_tensor(x)
    if _skipped(x):
        return None
    minimum, maximum = ops.min(x), ops.max(x)
    return Condition(
        ops.logical_and(minimum > float("-inf"), maximum < float("inf")),
        f"{argument} must be finite; it contains NaN or inf, which usually "
        "comes from NaN or inf in the input features (or a diverged model).",
        argument, minimum, maximum,
    )


def check_labels(labels: Tensor, num_classes: int, message: str | None = None) -> None:
    """Checks that integer labels are class indices in `[0, num_classes)`."""
    assert_all(label_condition(labels, num_classes, message))


def check_concentrations(
    alpha: Tensor,
    argument: str = "y_pred",
    minimum: float = 1.0,
    message: str | None = None,
) -> None:
    """Checks that Dirichlet concentrations are finite and >= `minimum`."""
    assert_all(concentration_condition(alpha, argument, minimum, message))


def check_finite(x: Tensor, argument: str) -> None:
    """Checks that a float tensor holds no NaN or inf."""
    assert_all(finite_condition(x, argument))


def concentration_error_message(argument: str = "y_pred", minimum: float = 1.0) -> str:
    """What a failed `check_concentrations` says, before the received values."""
    bound = "alpha >= 1" if minimum == 1.0 else (
        "alpha > 0" if minimum == 0.0 else f"alpha >= {minimum:g}"
    )
    return (
        f"`{argument}` must hold finite Dirichlet concentrations {bound} "
        "(the output of `DirichletOutput`); it may not contain NaN or inf. "
        "For raw logits pass `from_logits=True`."
    )


def _is_placeholder(x):
    # Keras traces a layer's output shape on the PyTorch backend with
    # tensors on the "meta" device, which hold no values to check.
    device = getattr(x, "device", None)
    return getattr(device, "type", None) == "meta"


def _statically_empty(x):
    # Eager backends (PyTorch) refuse to reduce an empty tensor. A dynamic
    # empty batch (a replica's share of a short last batch under
    # `tf.distribute`) reduces to min = +inf, max = -inf and passes.
    return any(dim == 0 for dim in x.shape)


def _message(message, argument, minimum, maximum):
    return f"{message} Received: {argument} with min={minimum}, max={maximum}"


def _raise_first_failure(oks, minimums, maximums, messages, arguments):
    for ok, message, argument, minimum, maximum in zip(
        oks, messages, arguments, minimums, maximums
    ):
        if not bool(np.asarray(ok)):
            raise ValueError(
                _message(message, argument, np.asarray(minimum), np.asarray(maximum))
            )


def assert_all(*conditions: Condition | None) -> None:
    """Fails the step if any condition is False, as one assert.

    The error names the first failing condition's argument with the
    received minimum and maximum. In a TensorFlow graph the one assert op
    prints every condition met at that place, each with its own pass flag.
    """
    present = [c for c in conditions if c is not None]
    if not present:
        return
    ok = present[0].ok
    for condition in present[1:]:
        ok = ops.logical_and(ok, condition.ok)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            # XLA ignores this op (see the module docstring). The values go
            # in as separate entries: a `tf.strings.format` op would have no
            # XLA kernel and break `jit_compile=True`. The raw op, unlike
            # `tf.debugging.Assert`, adds no `cond` around itself (which only
            # spares copying float data to the host on GPU).
            data = []
            for c in present:
                data += [c.message, f"Received: {c.argument} with min=", c.minimum,
                         "max=", c.maximum]
                if len(present) > 1:
                    data += ["(this check passed:", c.ok, ")"]
            tf.raw_ops.Assert(condition=ok, data=data, summarize=3)
            return
    elif backend == "jax":
        import jax

        values = [ok] + [v for c in present for v in (c.ok, c.minimum, c.maximum)]
        if any(isinstance(v, jax.core.Tracer) for v in values):
            jax.debug.callback(
                functools.partial(
                    _raise_first_failure,
                    messages=[c.message for c in present],
                    arguments=[c.argument for c in present],
                ),
                [c.ok for c in present],
                [c.minimum for c in present],
                [c.maximum for c in present],
            )
            return
    _raise_first_failure(
        [ops.convert_to_numpy(c.ok) for c in present],
        [ops.convert_to_numpy(c.minimum) for c in present],
        [ops.convert_to_numpy(c.maximum) for c in present],
        [c.message for c in present],
        [c.argument for c in present],
    )


def nig_condition(
    nu: Tensor, alpha: Tensor, beta: Tensor, argument: str = "y_pred"
) -> Condition | None:
    """The condition that NIG parameters are finite with `nu, beta > 0` and
    `alpha > 1`.

    `gamma` is not checked: a NaN there gives a NaN loss that Keras reports
    anyway, while a non-positive `nu` or `beta` would give a plausible-looking
    loss from the wrong branch of a logarithm's domain on some backends.
    """
    nu = ops.convert_to_tensor(nu)
    if _skipped(nu) or _shape_inference():
        return None
    low = ops.minimum(ops.min(nu), ops.min(beta))
    high = ops.maximum(
        ops.maximum(ops.max(nu), ops.max(beta)), ops.max(alpha)
    )
    alpha_min = ops.min(alpha)
    return Condition(
        ops.logical_and(
            ops.logical_and(low > 0.0, alpha_min > 1.0), high < float("inf")
        ),
        f"`{argument}` must hold finite Normal-Inverse-Gamma parameters with "
        "nu > 0, alpha > 1 and beta > 0 (the output of "
        "`NormalInverseGammaOutput`); it may not contain NaN or inf.",
        argument,
        ops.minimum(low, alpha_min - 1.0),
        high,
    )


def check_nig_parameters(
    nu: Tensor, alpha: Tensor, beta: Tensor, argument: str = "y_pred"
) -> None:
    """Checks that NIG parameters are finite with `nu, beta > 0`, `alpha > 1`."""
    assert_all(nig_condition(nu, alpha, beta, argument))


def _shape_inference():
    """Whether Keras is only inferring shapes (`compute_output_spec`).

    On PyTorch that runs the loss on tensors of ones, which are no NIG
    (`alpha = 1`), before the first real step.
    """
    from keras_evidential.keras_compat import in_symbolic_scope

    return in_symbolic_scope()


class DeclaredAttributes:
    """Refuses setting a public attribute that an object does not have.

    A loss or callback reads only the settings it declares: an attribute
    set from outside under another name (a misspelling, or one that a
    former version read, such as `loss.first_edl_epoch`) would be a silent
    no-op. The class calling `declare_attributes(self, cls)` at the end of
    its `__init__` turns the guard on for its exact instances; a user's
    subclass stays free to add attributes.
    """

    def __setattr__(self, name, value):
        if (
            not name.startswith("_")
            and self.__dict__.get("_attributes_declared", False)
            and not hasattr(self, name)
        ):
            raise AttributeError(
                f"{type(self).__name__} has no setting `{name}`, so setting "
                "it would change nothing. Pass the settings it has to its "
                f"constructor (see its docstring). Received: {name}={value!r}"
            )
        super().__setattr__(name, value)


def declare_attributes(obj: Any, cls: type) -> None:
    """Turns on `DeclaredAttributes`' guard for exact instances of `cls`."""
    if type(obj) is cls:
        obj.__dict__["_attributes_declared"] = True


def binary_label_condition(
    labels: Tensor, mask_value: float | None = None
) -> Condition | None:
    """The condition that multi-label targets are 0, 1 or `mask_value`.

    A Beta head's loss reads each label as present (1) or absent (0); a
    `mask_value` (e.g. -1) marks a missing label, left out of the loss. Any
    other value (a class index, 255, a probability of 0.5) would otherwise
    be trained on as a soft target without a word.
    """
    labels = ops.convert_to_tensor(labels)
    if _skipped(labels):
        return None
    valid = ops.logical_or(ops.equal(labels, 0), ops.equal(labels, 1))
    allowed = "0 or 1"
    if mask_value is not None:
        valid = ops.logical_or(valid, ops.equal(labels, mask_value))
        allowed = f"0, 1 or the mask value {mask_value:g}"
    return Condition(
        ops.all(valid),
        f"Multi-label targets must be {allowed} (label absent, present"
        f"{', missing' if mask_value is not None else ''}).",
        "y_true", ops.min(labels), ops.max(labels),
    )
