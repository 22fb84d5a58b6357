"""`serialize`, `deserialize` and `get` for a namespace, as Keras's have.

Each public namespace (`layers`, `losses`, `metrics`, `callbacks`) offers the
three functions over its own classes, like `keras.metrics.get`.
"""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Sequence

import keras


def namespace_functions(
    objects: Sequence[type], kind: str, base_class: type
) -> tuple[Callable[[Any], dict[str, Any]], Callable[..., Any], Callable[[Any], Any]]:
    """The namespace's `(serialize, deserialize, get)` over `objects`.

    Args:
        objects: The namespace's public classes.
        kind: What they are, for messages (e.g. `"metric"`).
        base_class: The Keras base class every object derives from.
    """
    by_name = {cls.__name__: cls for cls in objects}
    by_name.update({_snake_case(cls.__name__): cls for cls in objects})

    def serialize(obj: Any) -> dict[str, Any]:
        """The Keras config of an instance, as `keras.saving.serialize_keras_object`."""
        return keras.saving.serialize_keras_object(obj)

    def deserialize(
        config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
    ) -> Any:
        """Rebuilds an instance from `serialize`'s config (or a class name)."""
        return keras.saving.deserialize_keras_object(
            config, module_objects=by_name, custom_objects=custom_objects
        )

    def get(identifier: Any) -> Any:
        """An instance from an instance, a class name or a config dict.

        Returns `identifier` itself if it is already an instance, and None
        for None.
        """
        if identifier is None or isinstance(identifier, base_class):
            return identifier
        if isinstance(identifier, str) and identifier in by_name:
            return by_name[identifier]()
        if isinstance(identifier, dict):
            obj = deserialize(identifier)
            if isinstance(obj, base_class):
                return obj
        raise ValueError(
            f"Could not interpret {kind} identifier: expected one of "
            f"{sorted(cls.__name__ for cls in objects)}, a config dict or an "
            f"instance. Received: identifier={identifier!r}"
        )

    return serialize, deserialize, get


def _snake_case(name: str) -> str:
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i and (not name[i - 1].isupper() or (
            i + 1 < len(name) and name[i + 1].islower()
        )):
            out.append("_")
        out.append(char.lower())
    return "".join(out)
