"""Deprecated names of 1.0's renames: they warn and keep working until 2.0.

Each alias is a subclass of the new class registered under the old name, so
code that builds it and `.keras` files saved before 1.0 (whose configs name
the old class) still load, with a `DeprecationWarning` naming the new name.
The full table is in CHANGELOG.md.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any
from typing import Callable
from typing import TypeVar

import keras


REMOVED_IN = "2.0"
# A decorated function keeps its signature for type checkers.
FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])


def deprecated_class(new_class: type[Any], old_name: str, module: str | None) -> type:
    """A subclass of `new_class` named `old_name` that warns when built."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
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


def deprecated_function(
    new_function: Callable[..., Any], old_name: str
) -> Callable[..., Any]:
    """`new_function` under `old_name`, warning at each call."""

    @functools.wraps(new_function)
    def alias(*args: Any, **kwargs: Any) -> Any:
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


def renamed_argument(old: str, new: str) -> Callable[[FunctionT], FunctionT]:
    """A decorator: the keyword `old` is accepted as `new`, with a warning.

    Also maps a config saved before the rename (`from_config` passes it as
    a keyword).
    """

    def decorate(function):
        def rename(kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise ValueError(
                        f"`{old}` is the deprecated name of `{new}`: pass one. "
                        f"Received: {old}={kwargs[old]!r}, {new}={kwargs[new]!r}"
                    )
                warnings.warn(
                    f"The argument `{old}` is deprecated and will be removed in "
                    f"{REMOVED_IN}: use `{new}`.",
                    DeprecationWarning,
                    stacklevel=4,
                )
                kwargs[new] = kwargs.pop(old)
            return kwargs

        if function.__code__.co_varnames[:1] == ("self",):
            # Keras reads a layer's `__init__` argument names (the first must
            # be `self`) to record its constructor arguments.
            @functools.wraps(function)
            def method(self, *args, **kwargs):
                return function(self, *args, **rename(kwargs))

            # typeshed's `functools.wraps` result declares no `__signature__`.
            signature = inspect.signature(function)
            method.__signature__ = signature  # type: ignore[attr-defined]
            return method

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return function(*args, **rename(kwargs))

        return wrapper

    return decorate


def renamed_attribute(old: str, new: str) -> property:
    """A read-only property `old` that returns `new`, with a warning."""

    def getter(self: Any) -> Any:
        warnings.warn(
            f"`{old}` is deprecated and will be removed in {REMOVED_IN}: use `{new}`.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    return property(getter, doc=f"Deprecated alias of `{new}` (removed in {REMOVED_IN}).")
