"""Global settings of keras-evidential, in the manner of `keras.config`."""

from __future__ import annotations


_value_checks = True


def enable_value_checks() -> None:
    """Turns the value checks on labels and concentrations back on (the default).

    The checks (`keras_evidential.validation`) raise a clear error for a label
    out of range or an `alpha` that is not a finite concentration, instead of
    letting it become a plausible-looking wrong loss. They are traced into a
    compiled training step, so a change applies to models compiled after it.

    Example:

    >>> keras_evidential.config.disable_value_checks()
    >>> keras_evidential.config.enable_value_checks()
    >>> keras_evidential.config.value_checks_enabled()
    True
    """
    global _value_checks
    _value_checks = True


def disable_value_checks() -> None:
    """Turns the value checks off, trading their safety for speed.

    Each check reduces a tensor and, under JAX `jit`, calls back to the host
    in every training step, which stalls an accelerator between steps (see
    `docs/performance.md` for the measured cost). Disable them only for a
    pipeline whose labels and model are already known to be valid. A change
    applies to models compiled after it.

    Example:

    >>> keras_evidential.config.disable_value_checks()
    >>> keras_evidential.config.value_checks_enabled()
    False
    >>> keras_evidential.config.enable_value_checks()
    """
    global _value_checks
    _value_checks = False


def value_checks_enabled() -> bool:
    """Whether the value checks on labels and concentrations run."""
    return _value_checks
