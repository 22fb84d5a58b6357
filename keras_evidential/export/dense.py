"""Exporting a dense (per-pixel) evidential model for TF Serving: the class
map and the uncertainty maps of every request, one value per pixel."""

from __future__ import annotations

from typing import Any
from typing import Sequence

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.export.outputs import selected_outputs
from keras_evidential.export.outputs import version_directory
from keras_evidential.export.serving import SIGNATURE_NAME
from keras_evidential.export.serving import _input_signature
from keras_evidential.layers.dirichlet_uncertainty_maps import UNKNOWN_MAP_NAME
from keras_evidential.layers.dirichlet_uncertainty_maps import uncertainty_maps
from keras_evidential.model_kind import model_kind
from keras_evidential.tensor_types import PathLike
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations


DENSE_OUTPUT_NAMES = (
    "class_map",
    "vacuity",
    "entropy",
    "mutual_information",
    "probabilities",
)
# Served in addition for an m-EDL model (ending in an unknown-class head).
UNKNOWN_OUTPUT_NAMES = DENSE_OUTPUT_NAMES + (UNKNOWN_MAP_NAME,)


def dense_outputs(
    alpha: Tensor, vacuity: Tensor | None = None, unknown_class: bool = False
) -> dict[str, Tensor]:
    """The per-pixel serving outputs of dense Dirichlets `(batch, ..., K)`.

    Formula:
    ```
    class_map          = argmax_k alpha_k                  (int64)
    vacuity            = K / S                             (or the head's own)
    entropy            = H[p_bar],  p_bar = alpha / S      (total uncertainty)
    mutual_information = H[p_bar] - E_Dir[H[p]]            (epistemic)
    probabilities      = p_bar
    ```

    With `unknown_class` (m-EDL: `alpha` holds K + 1 columns, the last the
    unknown class u), the class map is the argmax over the K + 1 classes (K
    meaning "unknown", as m-EDL predicts), `probabilities` is `p_hat` over
    the K + 1 classes, vacuity, entropy and mutual information are those of
    the K known classes, and `unknown_probability` (`p_hat_u` per pixel) is
    the unknown class's own map (`DirichletUncertaintyMaps`).

    Args:
        alpha: Dirichlet concentrations of shape `(batch, ..., K)`.
        vacuity: Optional per-pixel vacuity to serve instead of `K / S`
            (R-EDL's `lambda K / S`; see `ModelKind.uncertainty`).
        unknown_class: Whether `alpha`'s last column is m-EDL's unknown
            class.

    Returns:
        A dict of TensorFlow tensors; the maps have shape `(batch, ...)`.
    """
    import tensorflow as tf

    outputs = uncertainty_maps(alpha, unknown_class=unknown_class)
    if vacuity is not None:
        outputs["vacuity"] = vacuity
    # Not `ops.argmax` (no ONNX equivalent of its negative-zero fix).
    outputs["class_map"] = tf.argmax(alpha, axis=-1, output_type="int64")
    outputs["probabilities"] = dirichlet.expected_probability(alpha)
    return outputs


def export_dense_saved_model(
    model: keras.Model,
    base_dir: PathLike,
    version: int = 1,
    outputs: Sequence[str] | None = None,
    input_signature: Any = None,
    verbose: int = False,
) -> str:
    """Exports a dense evidential model (e.g. a segmenter ending in
    `DirichletOutput` over `(batch, H, W, K)`) as a SavedModel for TF Serving.

    Writes `<base_dir>/<version>/` with the signature `serving_default`,
    whose outputs are `DENSE_OUTPUT_NAMES` (or the subset `outputs`): the
    class map (int64 `(batch, H, W)`), the uncertainty maps `vacuity`,
    `entropy` and `mutual_information` (float32 `(batch, H, W)`) and the
    expected `probabilities` (float32 `(batch, H, W, K)`). See
    `dense_outputs` for the formulas. An m-EDL model (ending in
    `UnknownClassHead` or `LearnedUnknownClassHead`) serves its unknown
    class as its own map, `unknown_probability` (`p_hat_u`), and its class
    map predicts K ("unknown") where u wins. A request whose output holds
    NaN or inf fails instead of being answered.

    Args:
        model: A built Keras model whose output is per-pixel `alpha` (its
            output layer `DirichletOutput`, R-EDL's prior included, or an
            unknown-class head after it).
        base_dir: The model's base directory in TF Serving.
        version: Positive integer, the version subdirectory; must not exist.
        outputs: Optional subset of `DENSE_OUTPUT_NAMES` (of
            `UNKNOWN_OUTPUT_NAMES` for an m-EDL model). Defaults to all.
        input_signature: Optional list of `tf.TensorSpec` (only for a
            subclassed model not called yet).
        verbose: Whether to print the exported endpoint.

    Returns:
        The path of the version directory.

    Example:

    >>> import os, tempfile
    >>> inputs = keras.Input((8, 8, 1), name="image")
    >>> model = keras.Model(inputs, keras_evidential.layers.DirichletOutput()(
    ...     keras.layers.Conv2D(3, 1)(inputs)))
    >>> path = keras_evidential.export.export_dense_saved_model(
    ...     model, os.path.join(tempfile.mkdtemp(), "segmenter"),
    ...     outputs=("class_map", "vacuity"))
    >>> os.path.exists(os.path.join(path, "saved_model.pb"))
    True
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "Serving exports need the TensorFlow backend. Received: "
            f"keras.backend.backend()={keras.backend.backend()!r}"
        )
    path = version_directory(base_dir, version)
    kind = model_kind(model, output="alpha")
    selected = selected_outputs(
        outputs, UNKNOWN_OUTPUT_NAMES if kind.unknown_class else DENSE_OUTPUT_NAMES
    )
    input_signature = _input_signature(model, input_signature)

    def serve(*inputs):
        inputs = inputs[0] if len(inputs) == 1 else keras.tree.pack_sequence_as(
            model.input, list(inputs)
        )
        raw = model(inputs, training=False)
        alpha = ops.cast(kind.to_alpha(raw), "float32")
        check_concentrations(alpha, "the model's output alpha", kind.minimum_alpha)
        values = dense_outputs(
            alpha, vacuity=kind.uncertainty(raw), unknown_class=kind.unknown_class
        )
        return {name: values[name] for name in selected}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE_NAME, serve, input_signature=input_signature)
    archive.write_out(path, verbose=verbose)
    return path
