"""Exporting an evidential model to LiteRT (TFLite), for phones and the edge."""

from __future__ import annotations

import os
import tempfile
from typing import Any
from typing import Sequence

import keras

from keras_evidential.export.serving import DEFAULT_UNKNOWN_LABEL
from keras_evidential.export.serving import SIGNATURE_NAME
from keras_evidential.export.serving import serving_archive
from keras_evidential.export.via_tensorflow import export_from_any_backend
from keras_evidential.tensor_types import PathLike


def export_litert(
    model: keras.Model,
    filepath: PathLike,
    class_names: Sequence[str] | None = None,
    output: str | None = None,
    evidence: str | keras.layers.Layer | None = None,
    unknown_class: bool | None = None,
    threshold: float | None = None,
    unknown_label: str = DEFAULT_UNKNOWN_LABEL,
    outputs: Sequence[str] | None = None,
    input_signature: Any = None,
) -> PathLike:
    """Exports an evidential model to a LiteRT (`.tflite`) flat buffer.

    The file has one signature, `serving_default`, with the model's inputs
    (named after them) and the serving outputs of `export_saved_model`: for
    a classifier `probabilities`, `uncertainty`, `alpha`, `class_index` and
    `class_label`; for a Normal-Inverse-Gamma regressor the mean, the
    aleatoric and epistemic uncertainties and the four parameters
    (`REGRESSION_OUTPUT_NAMES`), or the subset named in `outputs`. The
    conversion uses LiteRT's built-in operators only, so the file runs in
    the plain LiteRT runtime (`pip install ai-edge-litert`).

    The SavedModel's input check (a request with NaN or inf fails instead
    of being answered) has no LiteRT operator and is left out: such an
    input gets NaN probabilities and uncertainty and a meaningless
    `class_index`, so check inputs on the device.

    From the JAX or PyTorch backend the model is exported from a TensorFlow
    child process (see `export_saved_model`).

    Args:
        model: The trained model (see `serving_function`).
        filepath: Where to write the `.tflite` file.
        class_names, output, evidence, unknown_class, threshold,
        unknown_label, outputs, input_signature: see `serving_function`.

    Returns:
        `filepath`.

    Example:

    >>> import os, tempfile
    >>> from ai_edge_litert.interpreter import Interpreter
    >>> model = keras.Sequential([
    ...     keras.Input((4,), name="pixels"), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> path = keras_evidential.export.export_litert(
    ...     model, os.path.join(tempfile.mkdtemp(), "digits.tflite"),
    ...     outputs=["probabilities", "uncertainty"])
    >>> serve = Interpreter(model_path=path).get_signature_runner()
    >>> result = serve(pixels=np.zeros((2, 4), "float32"))
    >>> print(result["probabilities"][0], result["uncertainty"])  # alpha = 1
    [0.33333334 0.33333334 0.33333334] [1. 1.]
    """
    options = dict(class_names=class_names, output=output, evidence=evidence,
                   unknown_class=unknown_class, threshold=threshold,
                   unknown_label=unknown_label, outputs=outputs,
                   input_signature=input_signature)
    return export_from_any_backend("litert", _write_litert, model, filepath, options)


def _write_litert(model, filepath, **options):
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="keras_evidential_litert_") as work:
        # Converted from a SavedModel: converted from a concrete function
        # of the live model, the file served NaN (TF 2.21).
        serving_archive(model, **options).write_out(work, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            work, signature_keys=[SIGNATURE_NAME]
        )
        flat_buffer = converter.convert()
    with open(os.fspath(filepath), "wb") as f:
        f.write(flat_buffer)
    return filepath

