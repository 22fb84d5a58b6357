"""Deprecated names of 1.0's renames: they warn and keep working until 2.0.

Each alias is a subclass of the new class registered under the old name, so
code that builds it and `.keras` files saved before 1.0 (whose configs name
the old class) still load, with a `DeprecationWarning` naming the new name.
The full table is in CHANGELOG.md.
"""

import functools
import warnings

import keras

REMOVED_IN = "2.0"


def deprecated_class(new_class, old_name, module):
    """A subclass of `new_class` named `old_name` that warns when built."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"`{old_name}` is deprecated and will be removed in {REMOVED_IN}: "
            f"use `{new_class.__name__}` (same arguments).",
            DeprecationWarning,
            stacklevel=2,
        )
        new_class.__init__(self, *args, **kwargs)

    alias = type(
        old_name,
        (new_class,),
        {"__init__": __init__, "__module__": module,
         "__doc__": f"Deprecated alias of `{new_class.__name__}` (removed in {REMOVED_IN})."},
    )
    return keras.saving.register_keras_serializable(package="keras_evidential")(alias)


def deprecated_function(new_function, old_name):
    """`new_function` under `old_name`, warning at each call."""

    @functools.wraps(new_function)
    def alias(*args, **kwargs):
        warnings.warn(
            f"`{old_name}` is deprecated and will be removed in {REMOVED_IN}: "
            f"use `{new_function.__name__}` (same arguments).",
            DeprecationWarning,
            stacklevel=2,
        )
        return new_function(*args, **kwargs)

    alias.__name__ = old_name
    alias.__doc__ = f"Deprecated alias of `{new_function.__name__}` (removed in {REMOVED_IN})."
    return alias
