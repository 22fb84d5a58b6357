"""Exporting an evidential classifier to ONNX (optional: tf2onnx)."""

import os

from keras_evidential.export.serving import DEFAULT_UNKNOWN_LABEL
from keras_evidential.export.serving import serving_function


def export_onnx(
    model,
    filepath,
    class_names=None,
    output=None,
    evidence=None,
    unknown_class=None,
    threshold=None,
    unknown_label=DEFAULT_UNKNOWN_LABEL,
    outputs=None,
    input_signature=None,
    opset=None,
):
    """Exports an evidential model to ONNX with the serving outputs.

    The ONNX graph has the model's inputs (named after them) and the named
    outputs of the SavedModel signature: `probabilities`, `uncertainty`,
    `alpha`, `class_index` and `class_label`, or the subset named in
    `outputs` (see `export_saved_model`).
    Models with numeric inputs convert; text preprocessing inside the model
    (`TextVectorization`) has no ONNX equivalent.

    Needs the optional packages `tf2onnx` and `onnx`
    (`pip install "keras-evidential[onnx]"`); run the result with
    `onnxruntime`.

    Args:
        model: The trained model (see `serving_function`).
        filepath: Where to write the `.onnx` file.
        class_names, output, evidence, unknown_class, threshold,
        unknown_label, outputs, input_signature: see `serving_function`.
        opset: Optional ONNX opset; defaults to tf2onnx's default.

    Returns:
        `filepath`.

    Example:

    >>> keras_evidential.export.export_onnx(model, "digits.onnx",
    ...                                     threshold=0.5)
    >>> session = onnxruntime.InferenceSession("digits.onnx")
    >>> probabilities, uncertainty = session.run(
    ...     ["probabilities", "uncertainty"], {"pixels": x})
    """
    try:
        import tf2onnx
    except ImportError as error:
        raise ImportError(
            "ONNX export needs tf2onnx: pip install tf2onnx onnxruntime"
        ) from error
    import tensorflow as tf

    fn, input_signature = serving_function(
        model,
        class_names=class_names,
        output=output,
        evidence=evidence,
        unknown_class=unknown_class,
        threshold=threshold,
        unknown_label=unknown_label,
        outputs=outputs,
        input_signature=input_signature,
    )
    function = tf.function(fn, input_signature=input_signature, autograph=False)
    tf2onnx.convert.from_function(
        function,
        input_signature=input_signature,
        opset=opset,
        output_path=os.fspath(filepath),
    )
    return filepath
