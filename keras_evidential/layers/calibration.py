"""Post-hoc calibration layers, appended to a trained model.

Each layer holds the parameters that `keras_evidential.calibration` fits on a
held-out calibration set, as plain numbers in its config, so a calibrated
model saves, loads and exports like any other. `keras_evidential.model_kind`
looks through them to the head below: a calibrated EDL model is still
recognised as one (same prior, same output width).

The formulas live here, once; the fitting functions call them.
"""

from __future__ import annotations

from typing import Any
from typing import Sequence

import keras
from keras import ops

from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.layers.dirichlet_output import validate_prior_concentration
from keras_evidential.nig import concat_nig
from keras_evidential.nig import split_nig
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_number

TARGETS = ("evidence", "logits")


def scale_evidence(
    alpha: Tensor, factor: Tensor, prior_concentration: float = 1.0
) -> Tensor:
    """Concentrations whose evidence is multiplied by `factor`.

    Formula:
    ```
    alpha' = prior_concentration + factor * (alpha - prior_concentration)
    ```

    `factor` is a number or one per class (broadcast on the last axis).
    """
    alpha = ops.convert_to_tensor(alpha)
    prior = ops.cast(prior_concentration, alpha.dtype)
    factor = ops.cast(factor, alpha.dtype)
    return alpha_from_evidence(factor * (alpha - prior), prior_concentration)


def scale_logits(logits: Tensor, factor: Tensor, bias: Tensor | None = None) -> Tensor:
    """`factor * logits + bias`, per class where they are vectors (Guo et al.)."""
    logits = ops.convert_to_tensor(logits)
    scaled = ops.cast(factor, logits.dtype) * logits
    return scaled if bias is None else scaled + ops.cast(bias, logits.dtype)


def scale_student_t(y_pred: Tensor, factor: Tensor) -> Tensor:
    """NIG parameters whose Student-t predictive scale is multiplied by `factor`.

    Formula:
    ```
    beta' = factor^2 beta     (scale = sqrt(beta (1 + nu) / (alpha nu)))
    ```

    `gamma`, `nu` and `alpha` (the mean and the degrees of freedom) are
    unchanged.
    """
    gamma, nu, alpha, beta = split_nig(y_pred)
    return concat_nig(gamma, nu, alpha, ops.cast(factor, beta.dtype) ** 2 * beta)


class _CalibrationLayer(keras.layers.Layer):
    """A parameter-free-to-train layer whose output has its input's shape."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(trainable=False, **kwargs)
        self._build_at_init()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("trainable", None)
        return config


def _check_target(target):
    return check_choice(target, "target", TARGETS)


@keras.saving.register_keras_serializable(package="keras_evidential")
class TemperatureScaling(_CalibrationLayer):
    """Divides a classifier's evidence (or logits) by a fitted temperature.

    Formula:
    ```
    target="evidence":  alpha' = lambda + (alpha - lambda) / T
    target="logits":    z' = z / T
    ```

    With `target="evidence"` the layer follows a Dirichlet head (EDL's
    `DirichletOutput`, R-EDL's with `lambda = prior_concentration`): the
    evidence counts `e = alpha - lambda` are tempered, as a likelihood raised
    to the power `1 / T` turns the posterior `Dir(lambda + n)` into
    `Dir(lambda + n / T)`. For ReLU evidence this is exactly Guo et al.'s
    temperature on the logits, since `relu(z / T) = relu(z) / T`. The class
    ranking, hence the accuracy, is unchanged; `T > 1` lowers the confidence
    `max p_bar` and raises the vacuity, `T < 1` does the opposite. With
    `target="logits"` it follows the logits of a softmax (or TEDL) model.

    Fit `T` with `keras_evidential.calibration.fit_temperature` (or
    `calibrate`, which also appends the layer).

    Args:
        temperature: Float > 0. Defaults to 1 (no change).
        target: `"evidence"` (default; the input is alpha) or `"logits"`.
        prior_concentration: The head's `lambda` (`alpha = e + lambda`), for
            `target="evidence"`. Defaults to 1 (EDL).
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    >>> layer = keras_evidential.layers.TemperatureScaling(temperature=2.0)
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[9.0, 1.0, 3.0]]))))
    [[5. 1. 2.]]

    Reference:
    - Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural
      Networks", ICML 2017 (temperature scaling)
    - Sensoy, Kaplan, Kandemir, NeurIPS 2018 (evidence as Dirichlet counts)
    """

    def __init__(
        self,
        temperature: float = 1.0,
        target: str = "evidence",
        prior_concentration: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.temperature = check_number(temperature, "temperature", low=0, low_open=True)
        self.target = _check_target(target)
        self.prior_concentration = validate_prior_concentration(prior_concentration)

    def call(self, inputs: Tensor) -> Tensor:
        if self.target == "logits":
            return scale_logits(inputs, 1.0 / self.temperature)
        return scale_evidence(inputs, 1.0 / self.temperature, self.prior_concentration)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            temperature=self.temperature,
            target=self.target,
            prior_concentration=self.prior_concentration,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_evidential")
class VectorScaling(_CalibrationLayer):
    """Per-class scaling of a classifier's evidence (or logits and a bias).

    Formula:
    ```
    target="evidence":  alpha'_k = lambda + w_k (alpha_k - lambda)     (w_k > 0)
    target="logits":    z'_k = w_k z_k + b_k
    ```

    Guo et al.'s vector scaling; for evidence there is no bias, which could
    make the evidence negative. It can change the predicted class, so the
    accuracy may change (unlike `TemperatureScaling`). Fit it with
    `keras_evidential.calibration.fit_vector_scaling`.

    Args:
        scale: K floats, `w` (> 0 for evidence).
        bias: None or K floats, `b` (logits only). Defaults to None (zeros).
        target: `"evidence"` (default) or `"logits"`.
        prior_concentration: The head's `lambda`, for `target="evidence"`.
            Defaults to 1.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    >>> layer = keras_evidential.layers.VectorScaling(scale=[0.5, 2.0])
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[9.0, 3.0]]))))
    [[5. 5.]]

    Reference:
    - Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural
      Networks", ICML 2017
    """

    def __init__(
        self,
        scale: float | Sequence[float],
        bias: float | Sequence[float] | None = None,
        target: str = "evidence",
        prior_concentration: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target = _check_target(target)
        positive = self.target == "evidence"
        self.scale = [
            check_number(w, "scale", low=0 if positive else None, low_open=positive)
            for w in _as_list(scale, "scale")
        ]
        if bias is not None:
            if positive:
                raise ValueError(
                    "`bias` applies to target='logits' only: a bias could make "
                    f"the evidence negative. Received: bias={bias!r}"
                )
            bias = [check_number(b, "bias") for b in _as_list(bias, "bias")]
            if len(bias) != len(self.scale):
                raise ValueError(
                    "`bias` must hold one number per class, as `scale` does. "
                    f"Received: bias={bias!r} for {len(self.scale)} classes"
                )
        self.bias = bias
        self.prior_concentration = validate_prior_concentration(prior_concentration)

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.shape[-1] is not None and inputs.shape[-1] != len(self.scale):
            raise ValueError(
                "`scale` must hold one number per class of the input. Received: "
                f"{len(self.scale)} numbers for input shape {tuple(inputs.shape)}"
            )
        if self.target == "logits":
            return scale_logits(inputs, self.scale, self.bias)
        return scale_evidence(inputs, self.scale, self.prior_concentration)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            scale=list(self.scale),
            bias=None if self.bias is None else list(self.bias),
            target=self.target,
            prior_concentration=self.prior_concentration,
        )
        return config


def _as_list(values, argument):
    try:
        values = [float(v) for v in ops.convert_to_numpy(values).reshape(-1)]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{argument}` must be a list of numbers. Received: {argument}={values!r}"
        ) from error
    if not values:
        raise ValueError(f"`{argument}` must not be empty. Received: {argument}=[]")
    return values


@keras.saving.register_keras_serializable(package="keras_evidential")
class StudentTScaling(_CalibrationLayer):
    """Multiplies a NIG regressor's Student-t predictive scale by a fitted factor.

    Formula:
    ```
    beta' = s^2 beta,  so  scale' = s sqrt(beta (1 + nu) / (alpha nu))
    ```

    The mean `gamma` and the degrees of freedom `2 alpha` are unchanged;
    every interval of the predictive widens (`s > 1`) or narrows (`s < 1`)
    by `s`, as do the aleatoric and epistemic variances `beta / (alpha - 1)`
    and `beta / (nu (alpha - 1))` (by `s^2`). Fit `s` by the Student-t NLL
    on a calibration set with
    `keras_evidential.calibration.fit_student_t_scale`.

    Args:
        factor: Float > 0, `s`. Defaults to 1.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    >>> layer = keras_evidential.layers.StudentTScaling(factor=2.0)
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[0.5, 1.0, 2.0, 3.0]]))))
    [[ 0.5  1.   2.  12. ]]

    Reference:
    - Kuleshov, Fenner, Ermon, "Accurate Uncertainties for Deep Learning
      Using Calibrated Regression", ICML 2018 (post-hoc recalibration of
      regressors); Laves et al., "Well-calibrated regression uncertainty in
      medical imaging with deep learning", MIDL 2020 (one scale factor
      fitted by NLL, "sigma scaling")
    """

    def __init__(self, factor: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = check_number(factor, "factor", low=0, low_open=True)

    def call(self, inputs: Tensor) -> Tensor:
        return scale_student_t(inputs, self.factor)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(factor=self.factor)
        return config


CALIBRATION_LAYERS = (TemperatureScaling, VectorScaling, StudentTScaling)
