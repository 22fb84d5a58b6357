"""Exporting an evidential classifier for TF Serving.

The exported `serving_default` signature answers every request with the
Dirichlet behind the prediction, not only the class: probabilities,
uncertainty (vacuity), alpha, the class index and the class label.
"""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Sequence

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.export import beta as beta_export
from keras_evidential.export import regression
from keras_evidential.export.outputs import call_model
from keras_evidential.export.outputs import selected_outputs
from keras_evidential.export.outputs import version_directory
from keras_evidential.export.via_tensorflow import export_from_any_backend
from keras_evidential.keras_compat import input_signature as first_call_signature
from keras_evidential.model_kind import model_kind
from keras_evidential.tensor_types import PathLike
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_concentrations

SIGNATURE_NAME = "serving_default"
OUTPUT_NAMES = (
    "probabilities",
    "uncertainty",
    "alpha",
    "class_index",
    "class_label",
)
DEFAULT_UNKNOWN_LABEL = "unknown"


def evidential_outputs(
    alpha: Tensor,
    unknown_class: bool = False,
    threshold: float | None = None,
    uncertainty: Tensor | None = None,
) -> dict[str, Tensor]:
    """The numeric serving outputs of a batch of Dirichlets.

    Formula:
    ```
    probabilities = alpha / S            # K, or K + 1 with the unknown class
    uncertainty   = K / S_known          # vacuity of the K known classes
    class_index   = argmax(probabilities), or K where uncertainty > threshold
    ```

    With m-EDL's unknown class (`unknown_class=True`, `alpha` of width K + 1
    whose last entry is `alpha_u = K + 1`), the probabilities are m-EDL's
    `p_hat` over K + 1 classes, `class_index` is K when the unknown class wins,
    and `uncertainty` is still the vacuity `K / S` of the K known classes, so
    that it means the same for EDL and m-EDL models (the unknown class's
    probability `(K + 1) / S+` is `probabilities[:, K]`).

    Args:
        alpha: Dirichlet concentrations, shape `(batch, K)`, or
            `(batch, K + 1)` with `unknown_class=True`.
        unknown_class: Whether the last entry of `alpha` is m-EDL's unknown
            class.
        threshold: Optional float in (0, 1), K-class models only: rows whose
            uncertainty exceeds it are predicted as the unknown class, index K.
        uncertainty: Optional per-row uncertainty to serve instead of the
            vacuity `K / S` (R-EDL's `lambda K / S`, F-EDL's epistemic
            uncertainty; see `ModelKind.uncertainty`).

    Returns:
        A dict with `probabilities`, `uncertainty` (shape `(batch,)`),
        `alpha` and `class_index` (int64, shape `(batch,)`): TensorFlow
        tensors, as the serving graph needs.
    """
    import tensorflow as tf

    probabilities = dirichlet.expected_probability(alpha)
    known_alpha = alpha[..., :-1] if unknown_class else alpha
    if uncertainty is None:
        uncertainty = dirichlet.vacuity(known_alpha)
    # Not `ops.argmax`: its fix for negative zeros (a Bitcast) has no ONNX
    # equivalent, and probabilities are positive.
    class_index = tf.argmax(probabilities, axis=-1, output_type="int64")
    if threshold is not None:
        unknown_index = ops.cast(ops.shape(known_alpha)[-1], "int64")
        class_index = ops.where(
            ops.greater(uncertainty, threshold), unknown_index, class_index
        )
    return {
        "probabilities": probabilities,
        "uncertainty": uncertainty,
        "alpha": alpha,
        "class_index": class_index,
    }


def _labels(class_names, num_known, unknown_label):
    if class_names is None:
        class_names = [str(k) for k in range(num_known)]
    class_names = [str(name) for name in class_names]
    if len(class_names) != num_known:
        raise ValueError(
            f"`class_names` must name the model's {num_known} known classes. "
            f"Received: class_names={class_names} ({len(class_names)} names)"
        )
    if len(set(class_names)) != num_known:
        raise ValueError(
            f"`class_names` must be unique. Received: class_names={class_names}"
        )
    if unknown_label in class_names:
        raise ValueError(
            "`unknown_label` must differ from every class name. "
            f"Received: unknown_label={unknown_label!r}"
        )
    return class_names + [str(unknown_label)]


def _input_signature(model, input_signature):
    import tensorflow as tf

    if input_signature is not None:
        specs = keras.tree.flatten(input_signature)
        if not specs or not all(isinstance(x, tf.TensorSpec) for x in specs):
            raise ValueError(
                "`input_signature` must be a list of `tf.TensorSpec`, one per "
                f"model input. Received: input_signature={input_signature!r}"
            )
        return list(input_signature)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs:
        return [
            tf.TensorSpec(
                (None,) + tuple(tensor.shape[1:]),
                keras.backend.standardize_dtype(tensor.dtype),
                name=tensor.name,
            )
            for tensor in inputs
        ]
    # A subclassed model: the shapes of its first call, as `model.export` does.
    try:
        return [
            tf.TensorSpec(spec.shape, keras.backend.standardize_dtype(spec.dtype))
            for spec in keras.tree.flatten(first_call_signature(model))
        ]
    except Exception as error:
        raise ValueError(
            "Cannot read the inputs of this subclassed model. Call it once on "
            "a batch before exporting, or pass input_signature=[tf.TensorSpec("
            "(None, ...), 'float32')]. Received: model of type "
            f"{type(model).__name__} ({error})"
        ) from None


def _probe(model, kind, input_signature):
    """Runs the model once on zeros and checks that it yields valid alpha.

    Catches a model that outputs probabilities or other non-Dirichlet values
    under `output='alpha'`, which would otherwise serve meaningless
    uncertainties. Models with non-numeric inputs (text) are not probed.
    """
    import tensorflow as tf

    if not all(spec.dtype.is_floating or spec.dtype.is_integer for spec in input_signature):
        return
    probe = [tf.zeros([1 if d is None else d for d in spec.shape], spec.dtype)
             for spec in input_signature]
    inputs = probe[0] if len(probe) == 1 else keras.tree.pack_sequence_as(
        model.input if hasattr(model, "inputs") and model.inputs else probe, probe
    )
    alpha = kind.to_alpha(model(inputs, training=False))
    minimum = float(ops.convert_to_numpy(ops.min(alpha)))
    bound = kind.minimum_alpha
    valid = minimum > 0.0 if bound == 0.0 else minimum >= bound
    if not valid or not float(ops.convert_to_numpy(ops.max(alpha))) < float("inf"):
        raise ValueError(
            "The model's output, read as Dirichlet concentrations, is not "
            f"alpha >= {bound:g} (on an all-zeros input it gave a minimum of "
            f"{minimum:.4g}). End the model in DirichletOutput, or export a "
            "logits model with output='logits' and its evidence. Received: "
            f"output={kind.output!r}"
        )


def serving_function(
    model: keras.Model,
    class_names: Sequence[str] | None = None,
    output: str | None = None,
    evidence: str | keras.layers.Layer | None = None,
    unknown_class: bool | None = None,
    threshold: float | None = None,
    unknown_label: str = DEFAULT_UNKNOWN_LABEL,
    outputs: Sequence[str] | None = None,
    input_signature: Any = None,
) -> tuple[Callable[..., dict[str, Tensor]], Any]:
    """The serving function of an evidential model and its input signature.

    The function takes the model's inputs (one positional argument per
    `model.inputs`, named after them) and returns a dict of the chosen
    `outputs` (all of `OUTPUT_NAMES` by default). It runs on the TensorFlow backend (the class labels are
    TensorFlow string tensors).

    Args:
        model: A built single-output Keras model: an EDL model ending in
            `DirichletOutput`, an m-EDL model ending in `UnknownClassHead`,
            or a logits model compiled with `EDLLoss(from_logits=True)`.
        class_names: The names of the K known classes, in output order.
            Defaults to `"0"`, ..., `"K-1"`.
        output, evidence, unknown_class: What the model outputs; detected
            where None (see `keras_evidential.model_kind`).
        threshold: Optional float in (0, 1), K-class models only: a
            prediction whose uncertainty exceeds it is answered with the
            unknown class (index K, label `unknown_label`).
        unknown_label: The label of the unknown class. Defaults to
            `"unknown"`.
        outputs: Optional subset of `OUTPUT_NAMES`, the outputs to serve.
            Fewer outputs mean a smaller response and less work per request
            (e.g. `("probabilities", "uncertainty")`). Defaults to all.
        input_signature: Optional list of `tf.TensorSpec`, one per model
            input. Needed only for a subclassed model that has not been
            called yet; read from the model otherwise.

    Returns:
        A tuple `(fn, input_signature)` with a list of `tf.TensorSpec`.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "Serving exports need the TensorFlow backend. Received: "
            f"keras.backend.backend()={keras.backend.backend()!r}"
        )
    if regression.is_regression_model(model):
        # Classification arguments do not apply to a regressor.
        return regression.regression_serving_function(
            model, _input_signature(model, input_signature), outputs
        )
    if beta_export.is_beta_model(model):
        # Per-label outputs (`beta_export.BETA_OUTPUT_NAMES`); no classes.
        return beta_export.beta_serving_function(
            model, _input_signature(model, input_signature), outputs
        )
    kind = model_kind(
        model, output=output, evidence=evidence, unknown_class=unknown_class
    )
    unknown_class, num_known = kind.unknown_class, kind.num_known_classes
    labels = _labels(class_names, num_known, unknown_label)
    if threshold is not None:
        if unknown_class:
            raise ValueError(
                "An m-EDL model predicts the unknown class itself and takes "
                f"no uncertainty threshold. Received: threshold={threshold}"
            )
        if not 0.0 < float(threshold) < 1.0:
            raise ValueError(
                "`threshold` must lie in (0, 1), the range of the vacuity. "
                f"Received: threshold={threshold}"
            )
        threshold = float(threshold)
    selected = selected_outputs(outputs, OUTPUT_NAMES)
    input_signature = _input_signature(model, input_signature)
    _probe(model, kind, input_signature)

    def serve(*inputs):
        import tensorflow as tf

        raw = call_model(model, inputs)
        alpha = kind.to_alpha(raw)
        # A request whose features hold NaN or inf fails with this message
        # instead of being answered with alpha = 1 ("I don't know").
        check_concentrations(alpha, "the model's output alpha", kind.minimum_alpha)
        values = evidential_outputs(
            alpha, unknown_class, threshold, uncertainty=kind.uncertainty(raw)
        )
        if "class_label" in selected:
            # Created inside the traced function so that it is a graph
            # constant (tf2onnx turns a captured outer tensor into an input).
            values["class_label"] = tf.gather(
                tf.constant(labels), values["class_index"]
            )
        return {name: values[name] for name in selected}

    return serve, input_signature


def export_saved_model(
    model: keras.Model,
    base_dir: PathLike,
    version: int = 1,
    class_names: Sequence[str] | None = None,
    output: str | None = None,
    evidence: str | keras.layers.Layer | None = None,
    unknown_class: bool | None = None,
    threshold: float | None = None,
    unknown_label: str = DEFAULT_UNKNOWN_LABEL,
    outputs: Sequence[str] | None = None,
    input_signature: Any = None,
    verbose: bool = False,
) -> str:
    """Exports an evidential model as a SavedModel for TF Serving.

    Writes `<base_dir>/<version>/`, the layout TF Serving watches, with one
    signature, `serving_default` (method `tensorflow/serving/predict`). For
    a regressor (a model ending in `NormalInverseGammaOutput` or
    `NormalInverseGammaRescaling`) its outputs are
    `keras_evidential.export.regression.REGRESSION_OUTPUT_NAMES`, each
    float32 `(batch, T)`; for a classifier:

    - inputs: the model's inputs, named after them (a text model that takes
      raw strings takes `DT_STRING`);
    - outputs (all of them, or the subset named in `outputs`), all of batch
      size on dimension 0 (so that TF Serving's REST row format works):
        - `probabilities`: float32 `(batch, K)`, or `(batch, K + 1)` for m-EDL;
        - `uncertainty`: float32 `(batch,)`, the vacuity `K / S`;
        - `alpha`: float32, the Dirichlet concentrations;
        - `class_index`: int64 `(batch,)`, K for the unknown class;
        - `class_label`: string `(batch,)`, from `class_names` or
          `unknown_label`.

    The model kind is detected (see `keras_evidential.model_kind`) or stated with
    `output`, `evidence` and `unknown_class`.

    Under the JAX or PyTorch backend the model is saved as `.keras` and
    exported by a child process that reloads it under TensorFlow (the
    serving head is a TensorFlow graph); its classes must be importable
    there (this package's, Keras's, or registered in an importable module).

    Args:
        model: The trained model (see `serving_function`).
        base_dir: The model's base directory in TF Serving.
        version: Positive integer, the version subdirectory. It must not
            exist yet. Defaults to `1`.
        class_names, output, evidence, unknown_class, threshold,
        unknown_label, outputs, input_signature: see `serving_function`.
        verbose: Whether to print the exported endpoint.

    Returns:
        The path of the version directory.

    Example:

    >>> import os, tempfile
    >>> model = keras.Sequential([
    ...     keras.Input((4,), name="features"), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> base_dir = os.path.join(tempfile.mkdtemp(), "digits")
    >>> path = keras_evidential.export.export_saved_model(
    ...     model, base_dir, version=1, class_names=["a", "b", "c"],
    ...     threshold=0.5)
    >>> sorted(os.listdir(base_dir)), os.path.exists(os.path.join(path, "saved_model.pb"))
    (['1'], True)
    """
    options = dict(class_names=class_names, output=output, evidence=evidence,
                   unknown_class=unknown_class, threshold=threshold,
                   unknown_label=unknown_label, outputs=outputs,
                   input_signature=input_signature, version=version, verbose=verbose)
    # Checked here too, before a child process starts under JAX or PyTorch.
    version_directory(base_dir, version)
    return export_from_any_backend(
        "saved_model", _write_saved_model, model, base_dir, options
    )


def _write_saved_model(model, base_dir, version, verbose, **options):
    path = version_directory(base_dir, version)
    serving_archive(model, **options).write_out(path, verbose=verbose)
    return path


def serving_archive(model: keras.Model, **options: Any) -> keras.export.ExportArchive:
    """A Keras `ExportArchive` tracking `model` with the `serving_default`
    endpoint of `serving_function(model, **options)`."""
    fn, input_signature = serving_function(model, **options)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE_NAME, fn, input_signature=input_signature)
    return archive
