"""Exporting an evidential classifier to ONNX (optional: tf2onnx)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any
from typing import Sequence

import keras

from keras_evidential.export.beta import beta_onnx_outputs
from keras_evidential.export.beta import is_beta_model
from keras_evidential.export.serving import DEFAULT_UNKNOWN_LABEL
from keras_evidential.export.serving import serving_function
from keras_evidential.export.via_tensorflow import export_from_any_backend
from keras_evidential.tensor_types import PathLike


def export_onnx(
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
    opset: int | None = None,
) -> PathLike:
    """Exports an evidential model to ONNX with the serving outputs.

    The ONNX graph has the model's inputs (named after them) and the named
    outputs of the SavedModel signature: `probabilities`, `uncertainty`,
    `alpha`, `class_index` and `class_label`, or the subset named in
    `outputs` (see `export_saved_model`).
    Models with numeric inputs convert; text preprocessing inside the model
    (`TextVectorization`) has no ONNX equivalent.

    Needs the optional packages `tf2onnx` and `onnx`
    (`pip install "keras-evidential[onnx]"`); run the result with
    `onnxruntime`. From the JAX or PyTorch backend the model is exported
    from a TensorFlow child process (see `export_saved_model`).

    Args:
        model: The trained model (see `serving_function`).
        filepath: Where to write the `.onnx` file.
        class_names, output, evidence, unknown_class, threshold,
        unknown_label, outputs, input_signature: see `serving_function`.
        opset: Optional ONNX opset; defaults to tf2onnx's default.

    Returns:
        `filepath`.

    Example:

    >>> import os, tempfile
    >>> import onnxruntime
    >>> model = keras.Sequential([
    ...     keras.Input((4,), name="pixels"), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> path = keras_evidential.export.export_onnx(
    ...     model, os.path.join(tempfile.mkdtemp(), "digits.onnx"), threshold=0.5)
    >>> session = onnxruntime.InferenceSession(path)
    >>> probabilities, uncertainty = session.run(
    ...     ["probabilities", "uncertainty"], {"pixels": np.zeros((2, 4), "float32")})
    >>> print(probabilities[0], uncertainty)  # zero inputs: alpha = (1, 1, 1)
    [0.33333334 0.33333334 0.33333334] [1. 1.]
    """
    # Checked here, before a child process starts under JAX or PyTorch.
    if importlib.util.find_spec("tf2onnx") is None:
        raise ImportError("ONNX export needs tf2onnx: pip install tf2onnx onnxruntime")
    if is_beta_model(model):
        outputs = beta_onnx_outputs(outputs)
    options = dict(class_names=class_names, output=output, evidence=evidence,
                   unknown_class=unknown_class, threshold=threshold,
                   unknown_label=unknown_label, outputs=outputs,
                   input_signature=input_signature, opset=opset)
    return export_from_any_backend("onnx", _write_onnx, model, filepath, options)


def _write_onnx(model, filepath, opset, **options):
    import tensorflow as tf
    import tf2onnx

    fn, input_signature = serving_function(model, **options)
    function = tf.function(fn, input_signature=input_signature, autograph=False)
    tf2onnx.convert.from_function(
        function,
        input_signature=input_signature,
        opset=opset,
        output_path=os.fspath(filepath),
    )
    return filepath
