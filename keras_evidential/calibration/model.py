"""`calibrate`: fit a calibrator on held-out data and append it to a model."""

from __future__ import annotations

import keras
import numpy as np

from keras_evidential.calibration.classification import fit_temperature
from keras_evidential.calibration.classification import fit_vector_scaling
from keras_evidential.calibration.regression import fit_student_t_scale
from keras_evidential.export.regression import is_regression_model
from keras_evidential.layers.calibration import StudentTScaling
from keras_evidential.layers.calibration import TemperatureScaling
from keras_evidential.layers.calibration import VectorScaling
from keras_evidential.model_kind import model_kind
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_choice

METHODS = ("temperature", "vector")


def append_calibrator(model: keras.Model, layer: keras.layers.Layer) -> keras.Model:
    """A model computing `layer(model(inputs))`, sharing `model`'s layers.

    `keras_evidential.model_kind` looks through the calibration layer, so the
    result is recognised, evaluated and exported as `model` is.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(
            "Expected a built Keras model (started with keras.Input). "
            f"Received: model={model!r}"
        )
    return keras.Model(model.inputs, layer(model.outputs[0]), name=f"{model.name}_calibrated")


def _classifier_target(model, output, evidence, method):
    """`(target, prior_concentration, evidence)` of a classifier's output."""
    if output == "softmax":
        return "logits", 1.0, None
    kind = model_kind(model, output=output, evidence=evidence)
    if kind.output == "logits":
        if method == "vector":
            raise ValueError(
                "Vector scaling of an evidential model's logits is not offered "
                "(fit it on alpha: end the model in DirichletOutput). "
                f"Received: method='vector', evidence={kind.evidence!r}"
            )
        return "logits", 1.0, kind.evidence
    if kind.unknown_class or kind.flexible or kind.minimum_alpha != kind.prior_concentration:
        raise ValueError(
            "Calibrating the evidence needs alpha = e + lambda with e >= 0 "
            "(DirichletOutput, R-EDL's head); an unknown-class head, F-EDL's "
            "packed output and DAEDL's alpha = exp(z) are not supported. "
            f"Received: unknown_class={kind.unknown_class}, flexible="
            f"{kind.flexible}, minimum_alpha={kind.minimum_alpha}"
        )
    return "evidence", kind.prior_concentration, None


def calibrate(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    method: str = "temperature",
    output: str | None = None,
    evidence: str | keras.layers.Layer | None = None,
    batch_size: int | None = None,
) -> keras.Model:
    """Fits a calibrator on `(x, y)` and returns the model with it appended.

    - A NIG regressor (ending in `NormalInverseGammaOutput` or
      `NormalInverseGammaRescaling`) gets `StudentTScaling`, its factor fitted
      by `fit_student_t_scale` (`method` is ignored).
    - A Dirichlet head (`DirichletOutput`, R-EDL's) gets its evidence scaled:
      `TemperatureScaling(target="evidence")` or `VectorScaling`.
    - A logits model gets `TemperatureScaling(target="logits")`: with its
      evidence function for TEDL (detected as `keras_evidential.model_kind`
      does), through a softmax with `output="softmax"` (a plain classifier);
      `method="vector"` fits `VectorScaling(target="logits")` of a softmax.

    `(x, y)` must be held out from training: fitted on the training set, the
    calibrator learns the training set's overconfidence.

    Args:
        model: A trained, built Keras model.
        x: The calibration inputs.
        y: Their labels (class indices or one-hot) or regression targets.
        method: `"temperature"` (default) or `"vector"`.
        output: `None` (detect), `"alpha"`, `"logits"` or `"softmax"`.
        evidence: For `output="logits"`, the evidence function.
        batch_size: For `model.predict`.

    Returns:
        A new `keras.Model` ending in the calibration layer, sharing the
        trained layers.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> x = np.random.default_rng(0).normal(size=(64, 4))
    >>> y = np.arange(64) % 3
    >>> calibrated = keras_evidential.calibration.calibrate(model, x, y)
    >>> type(calibrated.layers[-1]).__name__
    'TemperatureScaling'
    >>> keras_evidential.model_kind(calibrated).output
    'alpha'
    """
    method = check_choice(method, "method", METHODS)
    check_choice(output, "output", (None, "alpha", "logits", "softmax"))
    if is_regression_model(model):
        predictions = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
        layer = StudentTScaling(fit_student_t_scale(y, predictions))
        return append_calibrator(model, layer)
    # What the model outputs is decided (or refused) before predicting.
    target, prior_concentration, evidence = _classifier_target(
        model, output, evidence, method
    )
    predictions = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    if method == "vector":
        scale, bias = fit_vector_scaling(predictions, y, target, prior_concentration)
        layer = VectorScaling(scale, bias, target, prior_concentration)
    else:
        temperature = fit_temperature(
            predictions, y, target, prior_concentration, evidence
        )
        layer = TemperatureScaling(temperature, target, prior_concentration)
    return append_calibrator(model, layer)
