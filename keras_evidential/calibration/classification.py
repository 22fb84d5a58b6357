"""Fitting the temperature and vector scaling of a classifier on held-out data.

The objective is the negative log-likelihood of the labels under the
calibrated predictive probabilities, the criterion of Guo et al. (2017):

```
NLL = mean_i -log p'_{i, y_i}
p' = softmax(z')                     softmax model (target="logits")
p' = alpha' / S'                     Dirichlet head (the mean of Dir(alpha'))
```

For a Dirichlet this is `dirichlet.log_risk`, EDL's "log" risk (Sensoy et
al., Eq. 3): the negative log marginal likelihood of the label.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.calibration.search import minimise
from keras_evidential.calibration.search import minimise_positive
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.layers.calibration import TARGETS
from keras_evidential.layers.calibration import scale_evidence
from keras_evidential.layers.calibration import scale_logits
from keras_evidential.layers.dirichlet_output import validate_prior_concentration
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_labels


def _inputs(outputs, labels, target, prior_concentration):
    check_choice(target, "target", TARGETS)
    prior_concentration = validate_prior_concentration(prior_concentration)
    # float64 where the backend computes it (not JAX without x64): the NLL
    # is flat near its minimum, and float32 rounding would blur the optimum.
    outputs = ops.convert_to_tensor(np.asarray(outputs, "float64"))
    if len(outputs.shape) != 2 or outputs.shape[-1] < 2:
        raise ValueError(
            "`outputs` must have shape (num_samples, num_classes >= 2). "
            f"Received: outputs.shape={tuple(outputs.shape)}"
        )
    if target == "evidence":
        check_concentrations(outputs, "outputs", prior_concentration)
    else:
        check_finite(outputs, "outputs")
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(-1)
    if labels.shape[0] != outputs.shape[0] or labels.shape[0] == 0:
        raise ValueError(
            "`labels` must hold one class index (or one-hot row) per row of "
            f"`outputs`. Received: {labels.shape[0]} labels for "
            f"{outputs.shape[0]} outputs"
        )
    labels = ops.convert_to_tensor(labels.astype("int32"))
    check_labels(labels, outputs.shape[-1])
    one_hot = ops.one_hot(labels, outputs.shape[-1], dtype=outputs.dtype)
    return outputs, one_hot, prior_concentration


def calibration_nll(
    outputs: ArrayLike,
    labels: ArrayLike,
    target: str = "evidence",
    prior_concentration: float = 1.0,
    evidence: str | evidence_lib.Evidence | None = None,
) -> float:
    """Mean NLL of integer (or one-hot) `labels` under the outputs' probabilities.

    Args:
        outputs: `(N, K)` alpha (`target="evidence"`) or logits.
        labels: `(N,)` class indices or `(N, K)` one-hot.
        target: `"evidence"` or `"logits"`.
        prior_concentration: The head's `lambda` (`alpha = e + lambda`).
        evidence: For logits of an evidential model (TEDL), its evidence
            function; None for a softmax model.

    Returns:
        A float.

    Example:

    >>> round(keras_evidential.calibration.calibration_nll(
    ...     [[3.0, 1.0]], [0]), 4)  # -log(3 / 4)
    0.2877
    """
    outputs, one_hot, prior_concentration = _inputs(
        outputs, labels, target, prior_concentration
    )
    return _nll(outputs, one_hot, target, prior_concentration, _evidence(evidence))


def _evidence(evidence):
    return None if evidence is None else evidence_lib.get(evidence)


def _nll(outputs, one_hot, target, prior_concentration, evidence):
    if target == "logits" and evidence is None:
        log_p = ops.log_softmax(outputs, axis=-1)
        return float(-ops.mean(ops.sum(one_hot * log_p, axis=-1)))
    if target == "logits":
        outputs = dirichlet.alpha_from_evidence(evidence(outputs), prior_concentration)
        # An `Evidence` layer computes in its own dtype (float32).
        one_hot = ops.cast(one_hot, outputs.dtype)
    return float(ops.mean(dirichlet.log_risk(one_hot, outputs)))


def _scaled(outputs, target, prior_concentration, factor, bias=None):
    if target == "logits":
        return scale_logits(outputs, factor, bias)
    return scale_evidence(outputs, factor, prior_concentration)


def fit_temperature(
    outputs: ArrayLike,
    labels: ArrayLike,
    target: str = "evidence",
    prior_concentration: float = 1.0,
    evidence: str | evidence_lib.Evidence | None = None,
    low: float = 1e-3,
    high: float = 1e3,
) -> float:
    """The temperature `T` minimising the NLL of the labels on a calibration set.

    Formula:
    ```
    T = argmin_T mean_i -log p'_{i, y_i},   p' of alpha' = lambda + e / T
                                             (or of z' = z / T)
    ```

    A one-dimensional search in `log T` over `[low, high]` (see
    `keras_evidential.calibration.search.minimise_positive`). The result goes
    into `keras_evidential.layers.TemperatureScaling(T, target,
    prior_concentration)`; `calibrate` does both.

    Args:
        outputs: `(N, K)` outputs on the calibration set: alpha of a Dirichlet
            head (`target="evidence"`) or logits (`target="logits"`).
        labels: `(N,)` class indices or `(N, K)` one-hot labels.
        target: `"evidence"` (default) or `"logits"`.
        prior_concentration: The head's `lambda`. Defaults to 1 (EDL).
        evidence: For logits of an evidential model (TEDL), its evidence
            function (a name or `Evidence` layer); None (default) reads the
            logits through a softmax.
        low, high: The search range of `T`. Defaults to `[1e-3, 1e3]`.

    Returns:
        The temperature, a float.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(2000, 3)) * 2.0
    >>> p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    >>> labels = (rng.random((2000, 1)) > p.cumsum(1)).sum(1)
    >>> t = keras_evidential.calibration.fit_temperature(
    ...     3.0 * logits, labels, target="logits")  # three times too sharp
    >>> 2.6 < t < 3.4
    True

    Reference:
    - Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural
      Networks", ICML 2017
    """
    outputs, one_hot, prior_concentration = _inputs(
        outputs, labels, target, prior_concentration
    )
    evidence = _evidence(evidence)

    def objective(temperature):
        scaled = _scaled(outputs, target, prior_concentration, 1.0 / temperature)
        return _nll(scaled, one_hot, target, prior_concentration, evidence)

    return minimise_positive(objective, low, high, argument="temperature")


def fit_vector_scaling(
    outputs: ArrayLike,
    labels: ArrayLike,
    target: str = "evidence",
    prior_concentration: float = 1.0,
    max_iterations: int = 500,
) -> tuple[list[float], list[float] | None]:
    """Per-class factors (and, for logits, biases) minimising the NLL.

    Formula:
    ```
    target="evidence":  alpha'_k = lambda + w_k e_k,   w_k = exp(u_k)
    target="logits":    z'_k = w_k z_k + b_k           (softmax)
    (w, b) = argmin mean_i -log p'_{i, y_i}
    ```

    Gradient descent (`search.minimise`) on the analytic gradients, from
    `w = 1, b = 0`. The logits problem is convex (a multinomial logistic
    regression on the features `z_k`); the evidence one is searched in
    `u = log w`, which keeps `w > 0`.

    Args:
        outputs, labels, target, prior_concentration: As for
            `fit_temperature` (vector scaling of an evidential model's logits
            is not offered: its evidence function has no common gradient).
        max_iterations: The most gradient steps. Defaults to 500.

    Returns:
        `(scale, bias)`: lists of K floats; `bias` is None for evidence.

    Example:

    >>> scale, bias = keras_evidential.calibration.fit_vector_scaling(
    ...     [[5.0, 1.0], [1.0, 5.0], [5.0, 1.0], [1.0, 3.0]], [0, 1, 1, 1])
    >>> len(scale), bias
    (2, None)

    Reference:
    - Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural
      Networks", ICML 2017
    """
    outputs, one_hot, prior_concentration = _inputs(
        outputs, labels, target, prior_concentration
    )
    k = outputs.shape[-1]
    if target == "logits":

        def logits_objective(theta):
            scale, bias = theta[:k], theta[k:]
            logits = scale_logits(outputs, scale, bias)
            residual = ops.softmax(logits, axis=-1) - one_hot
            value = _nll(logits, one_hot, target, prior_concentration, None)
            gradient = ops.concatenate(
                [ops.mean(residual * outputs, axis=0), ops.mean(residual, axis=0)]
            )
            return value, np.asarray(ops.convert_to_numpy(gradient), "float64")

        start = np.r_[np.ones(k), np.zeros(k)]
        theta = minimise(logits_objective, start, max_iterations)
        return [float(w) for w in theta[:k]], [float(b) for b in theta[k:]]

    prior = ops.cast(prior_concentration, outputs.dtype)

    def evidence_objective(log_scale):
        alpha = scale_evidence(outputs, np.exp(log_scale), prior_concentration)
        # d/du_k [log S' - log alpha'_y] = e'_k / S' - [k = y] e'_k / alpha'_y
        scaled_evidence = alpha - prior
        strength = dirichlet.strength(alpha, keepdims=True)
        true_alpha = ops.sum(one_hot * alpha, axis=-1, keepdims=True)
        gradient = ops.mean(
            scaled_evidence / strength - one_hot * scaled_evidence / true_alpha, axis=0
        )
        value = float(ops.mean(dirichlet.log_risk(one_hot, alpha)))
        return value, np.asarray(ops.convert_to_numpy(gradient), "float64")

    log_scale = minimise(evidence_objective, np.zeros(k), max_iterations)
    return [float(w) for w in np.exp(log_scale)], None
