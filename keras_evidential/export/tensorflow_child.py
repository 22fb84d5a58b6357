"""The TensorFlow child process of `via_tensorflow`: reloads a `.keras`
file and runs the requested exporters (internal).

`python -m keras_evidential.export.tensorflow_child REQUEST.json`, with
`KERAS_BACKEND=tensorflow`; REQUEST.json holds `model` and `exports`, a list
of `format`, `target` and the exporter's `options`.
"""

from __future__ import annotations

import json
import sys
from typing import Callable
from typing import Sequence

import keras

from keras_evidential.export.litert import export_litert
from keras_evidential.export.onnx import export_onnx
from keras_evidential.export.serving import export_saved_model
from keras_evidential.saving import load_model
from keras_evidential.tensor_types import PathLike


EXPORTERS: dict[str, Callable[..., PathLike]] = dict(
    saved_model=export_saved_model, onnx=export_onnx, litert=export_litert
)


def write_exports(model, exports):
    """Runs each `(export_format, target, options)` export of `model` in this
    process; returns the paths written."""
    return [
        EXPORTERS[export_format](model, target, **options)
        for export_format, target, options in exports
    ]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as f:
        request = json.load(f)
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "The export child needs KERAS_BACKEND=tensorflow. Received: "
            f"keras.backend.backend()={keras.backend.backend()!r}"
        )
    model = load_model(request["model"])
    exports = [(e["format"], e["target"], e["options"]) for e in request["exports"]]
    # The last lines of the output, one path a line: the parent returns them.
    print("\n".join(str(path) for path in write_exports(model, exports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
