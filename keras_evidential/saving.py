"""Loading `.keras` files that use keras_evidential, with errors that help.

`keras.saving.load_model` finds this package's classes only once the package
is imported (Keras imports the modules of its own packages, not others').
`load_model` here imports them all, and when loading fails because of a
custom object (one not registered in this process, or one replaced through
`custom_objects` by a class that cannot rebuild it), it says which objects the
file needs, which of them this process lacks and how to provide them.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import keras

# Importing these registers every class of the package with Keras.
from keras_evidential import callbacks  # noqa: F401
from keras_evidential import layers  # noqa: F401
from keras_evidential import losses  # noqa: F401
from keras_evidential import metrics  # noqa: F401
from keras_evidential.tensor_types import PathLike


PACKAGE = "keras_evidential"


def load_model(
    filepath: PathLike,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> keras.Model:
    """`keras.saving.load_model` with this package's classes registered.

    Args:
        filepath: Path of a `.keras` file.
        custom_objects: Optional dict mapping names to the classes or
            functions the file uses besides Keras's and this package's
            (e.g. a user-defined evidence layer).
        compile: Whether to compile the model after loading (restores the
            `EDLLoss` with its `kl_weight` and `stage`). Defaults to `True`.
        safe_mode: Keras's `safe_mode`: refuse to deserialize lambdas.

    Returns:
        The Keras model.

    Raises:
        FileNotFoundError: There is no file at `filepath`.
        ValueError: The file is not a complete `.keras` archive (truncated
            or corrupt), or could not be rebuilt because of a custom object;
            the message lists the custom objects the file needs, those this
            process does not know, and Keras's own error.

    Example:

    >>> import os, tempfile
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput(),
    ...     keras_evidential.layers.UnknownClassHead()])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.EDLLoss(kl_weight=0.25))
    >>> path = os.path.join(tempfile.mkdtemp(), "medl.keras")
    >>> model.save(path)
    >>> loaded = keras_evidential.saving.load_model(path)
    >>> type(loaded.loss).__name__, float(loaded.loss.kl_weight.numpy())
    ('EDLLoss', 0.25)
    """
    _check_archive(filepath)
    try:
        return keras.saving.load_model(
            filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )
    except (TypeError, ValueError) as error:
        needed = saved_custom_objects(filepath)
        if not needed:
            raise
        raise ValueError(_explain(filepath, needed, custom_objects, error)) from error


def _check_archive(filepath):
    """Names what is wrong with a file Keras would call "not found"."""
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        return  # Keras's own formats and errors (e.g. a SavedModel folder).
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file. Received: filepath={path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            "The file exists but is not a readable .keras archive (a zip "
            "file): it may be truncated or corrupt, e.g. from an interrupted "
            f"save or copy. Received: filepath={path!r} "
            f"({os.path.getsize(path)} bytes)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(
            "The file exists but its .keras archive cannot be read: it may be "
            f"truncated or corrupt. Received: filepath={path!r} ({error})"
        ) from None
    if bad is not None or "config.json" not in names:
        raise ValueError(
            "The file is a zip archive but not a complete .keras model "
            f"({'a corrupt member: ' + bad if bad else 'no config.json'}). "
            f"Received: filepath={path!r}"
        )


def saved_custom_objects(filepath: PathLike) -> list[str]:
    """The registered names (`"package>Name"`) of the custom objects a file uses.

    Returns an empty list for anything but a readable `.keras` archive.
    """
    try:
        with zipfile.ZipFile(filepath) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    names = set()
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("registered_name")
            if isinstance(name, str) and ">" in name:
                names.add(name)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(names)


def _is_known(registered_name, custom_objects):
    short_name = registered_name.split(">", 1)[1]
    return (
        keras.saving.get_registered_object(registered_name) is not None
        or registered_name in custom_objects
        or short_name in custom_objects
    )


def _explain(filepath, needed, custom_objects, error):
    custom_objects = dict(custom_objects or {})
    missing = [name for name in needed if not _is_known(name, custom_objects)]
    lines = [f"Could not load the model in {filepath}."]
    if missing:
        lines.append(
            "It uses custom objects that this process does not know: "
            f"{', '.join(missing)}. Import the module that defines each one "
            "(its class decorated with "
            "`@keras.saving.register_keras_serializable(package=...)`), or "
            "pass it in `custom_objects`, e.g. "
            f"custom_objects={{{missing[0]!r}: "
            f"{missing[0].split('>', 1)[1]}}}" " (Keras looks a registered class up "
            "by its full registered name)."
        )
    else:
        lines.append(
            "Every custom object it uses is known, so one of them could not "
            "be rebuilt from its saved config: check that the classes in "
            "`custom_objects` (and any registered under the same names) are "
            "the ones the model was saved with, or a compatible version of "
            f"{PACKAGE}."
        )
    lines.append(f"The file uses: {', '.join(needed)}.")
    # Keras's message goes on with the whole model config: keep its start.
    keras_message = str(error).strip().splitlines()[0][:400] if str(error) else ""
    lines.append(
        f"Received: custom_objects={sorted(custom_objects) or None}. "
        f"Keras's error: {type(error).__name__}: {keras_message}"
    )
    return " ".join(lines)
