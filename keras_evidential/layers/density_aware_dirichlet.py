"""DensityAwareDirichlet: DAEDL's output layer (Yoon & Kim, ICML 2024)."""

from __future__ import annotations

from typing import Any
from typing import Sequence

import keras
import numpy as np
from keras import ops

from keras_evidential.dirichlet import exp_evidence
from keras_evidential.dirichlet import fit_class_gaussians
from keras_evidential.dirichlet import gaussian_mixture_log_density
from keras_evidential.dirichlet import normalized_density
from keras_evidential.dirichlet.evidence import LOWEST_LOGIT
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.layers.evidence import validate_clip_value
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite_number


@keras.saving.register_keras_serializable(package="keras_evidential")
class DensityAwareDirichlet(keras.layers.Layer):
    """Dirichlet concentrations from logits, scaled by the feature density.

    Formula:
    ```
    training (`training=True`), or before `fit_density`:  alpha = exp(z)
    prediction after `fit_density`:                     alpha = exp(z * s(f))
    s(f) = clip((log p(f) - d_min) / (d_max - d_min), 0, 1)
    p(f) = sum_c w_c N(f | mu_c, Sigma_c)
    ```

    Training always uses `exp(z)`, as the paper's (section 3.2,
    Algorithm 1): the density is fitted to the trained features and scales
    the logits only in prediction (Algorithm 3), so a second `fit`
    (fine-tuning) trains on `exp(z)` as the first did.

    Called on `[features, logits]`: `features` `(batch, H)` from the
    penultimate layer (the paper puts spectral normalisation on the feature
    extractor: wrap its layers in
    `keras_evidential.layers.SpectralNormalization`) and
    `logits` `(batch, C)`. `fit_density(features, labels)` fits one Gaussian
    per class to the training features (GDA) and the range `[d_min, d_max]`
    of their log density; the fitted parameters are this layer's
    (non-trainable) weights, so they are saved and exported with the model.
    A test input far from the training features gets `s ~ 0`, hence
    `alpha ~ 1` everywhere: a flat Dirichlet. The scaled logits are clipped
    to `[-10, clip_value]` before `exp` only to keep `alpha` finite and the
    KL of `DAEDLLoss` moderate: the paper's `exp` (and its official code's)
    has no clip, and a clip inside the trained logits' range (10, as
    `EvidenceExp`'s) ties every sample past it at `exp(10)` per saturated
    class, which scrambles `alpha_0`, DAEDL's OOD score (docs/methods.md).

    Output: `alpha > 0`, shape `(batch, C)`; its mean `alpha / S` is
    `softmax(z * s)`. Train with `DAEDLLoss`; `FitDensity` fits the density
    at the end of `fit`. `density_fitted` says whether it is fitted;
    `keras_evidential.model_kind` (hence export and
    `evaluate_uncertainty`) refuses a model whose density is not.

    Args:
        clip_value: Finite float > 0, the logit clip before `exp`. Defaults to
            `50.0`, far beyond trained logits (the risk's gradient `~ 1 / S`
            stops them first) and below float32's overflow at 88.
        jitter: Finite float >= 0, the relative ridge added to each class
            covariance. Defaults to `1e-6`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> inputs = keras.Input((784,))
    >>> features = keras_evidential.layers.SpectralNormalization(
    ...     keras.layers.Dense(64, activation="relu"))(inputs)
    >>> logits = keras.layers.Dense(10)(features)
    >>> alpha = keras_evidential.layers.DensityAwareDirichlet()([features, logits])
    >>> model = keras.Model(inputs, alpha)
    >>> model.compile("adam", keras_evidential.losses.DAEDLLoss())
    >>> # model.fit(x, y, callbacks=[keras_evidential.callbacks.FitDensity(x, y)])

    Reference:
    - Yoon & Kim, "Uncertainty Estimation by Density Aware Evidential Deep
      Learning", ICML 2024, section 3.3 and Algorithms 2-3
    """

    def __init__(
        self, clip_value: float = 50.0, jitter: float = 1e-6, **kwargs: Any
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.clip_value = validate_clip_value(clip_value)
        self.jitter = check_finite_number(jitter, "jitter", positive=False)
        # Set by `FitDensity` while `fit` runs: the density is fitted when
        # it ends, so the model may be read before (a monitor's epoch end).
        self._density_fit_pending = False

    def build(self, input_shape: Sequence[Shape]) -> None:
        if not (
            isinstance(input_shape, (list, tuple))
            and len(input_shape) == 2
            and all(isinstance(shape, (list, tuple)) for shape in input_shape)
        ):
            raise ValueError(
                "DensityAwareDirichlet is called on [features, logits]. "
                f"Received: input_shape={input_shape}"
            )
        feature_shape, logit_shape = input_shape
        h, c = feature_shape[-1], logit_shape[-1]
        if h is None or c is None or c < 2:
            raise ValueError(
                "DensityAwareDirichlet needs known feature and class "
                f"dimensions (>= 2 classes). Received: input_shape={input_shape}"
            )
        fixed = dict(trainable=False)
        self.log_weights = self.add_weight(
            shape=(c,), initializer="zeros", name="log_weights", **fixed
        )
        self.means = self.add_weight(
            shape=(c, h), initializer="zeros", name="means", **fixed
        )
        self.precision_cholesky = self.add_weight(
            shape=(c, h, h),
            # `tile` copies: a broadcast view cannot be assigned to on PyTorch.
            initializer=lambda shape, dtype=None: ops.tile(
                ops.eye(shape[-1], dtype=dtype)[None], (shape[0], 1, 1)
            ),
            name="precision_cholesky",
            **fixed,
        )
        self.density_range = self.add_weight(
            shape=(2,), initializer="zeros", name="density_range", **fixed
        )
        self.fitted = self.add_weight(
            shape=(), initializer="zeros", name="fitted", **fixed
        )

    def density_scale(self, features: Tensor) -> Tensor:
        """`s(f)` in [0, 1], or 1 before `fit_density`."""
        log_density = gaussian_mixture_log_density(
            features, self.log_weights, self.means, self.precision_cholesky
        )
        scale = normalized_density(
            log_density, self.density_range[0], self.density_range[1]
        )
        return ops.stop_gradient(
            ops.where(self.fitted > 0.5, scale, ops.ones_like(scale))
        )

    def call(self, inputs: Sequence[Tensor], training: bool | None = None) -> Tensor:
        features, logits = inputs
        if not training:
            logits = logits * self.density_scale(features)[..., None]
        return exp_evidence(logits, self.clip_value, min_value=LOWEST_LOGIT)

    @property
    def density_fitted(self) -> bool:
        """Whether `fit_density` has fitted the density (a Python bool)."""
        return bool(ops.convert_to_numpy(self.fitted) > 0.5)

    def reset_density(self, fit_pending: bool = False) -> None:
        """Marks the density as not fitted: `alpha = exp(z)` until the next
        `fit_density`. `FitDensity` calls it when `fit` begins, so that the
        weights saved or restored during training (checkpoints,
        `EarlyStopping(restore_best_weights=True)`) say that their density
        is not fitted to their features.

        Args:
            fit_pending: Whether a running `fit` will fit the density when it
                ends (`FitDensity`): until then `check_density_fitted` lets
                monitors evaluate the model.
        """
        self.fitted.assign(0.0)
        self._density_fit_pending = bool(fit_pending)

    def check_density_fitted(self) -> None:
        """Raises unless the density is fitted (or `FitDensity` will fit it
        when the running `fit` ends): before, `alpha = exp(z)` is DAEDL's
        training-stage output, not its prediction."""
        if self.density_fitted or self._density_fit_pending:
            return
        raise ValueError(
            f"The DensityAwareDirichlet layer {self.name!r} has no fitted "
            "density, so the model outputs DAEDL's training-stage "
            "alpha = exp(z), not its prediction exp(z s(f)). Fit it with "
            "`keras_evidential.callbacks.FitDensity(x, y)` in the callbacks "
            "of `fit`, listed after any "
            "`EarlyStopping(restore_best_weights=True)` (whose restore "
            "replaces a density fitted before it), or call "
            "`keras_evidential.callbacks.fit_model_density(model, x, y)` "
            "(also for a checkpoint saved during `fit`). Received: "
            f"{self.name!r} with density_fitted=False"
        )

    def fit_density(self, features: ArrayLike, labels: ArrayLike) -> None:
        """Fits the class Gaussians and `[d_min, d_max]` to training features.

        Samples labelled C (unknown, out of distribution; an all-zero
        one-hot row) are left out: the density is that of the C known
        classes.

        Args:
            features: `(N, H)` features of the training set (the layer's
                first input).
            labels: `(N,)` integer labels in `[0, C]`, or `(N, C)` one-hot
                rows.
        """
        features = np.asarray(features, dtype="float32")
        c = self.means.shape[0]
        labels = _class_indices(labels, c)
        if features.ndim != 2 or len(features) != len(labels):
            raise ValueError(
                "Expected `features` of shape (N, H) and one label per "
                f"feature row. Received: features.shape={features.shape}, "
                f"{len(labels)} labels"
            )
        known = labels < c
        features, labels = features[known], labels[known]
        log_weights, means, cholesky = fit_class_gaussians(
            features, labels, c, self.jitter
        )
        self.log_weights.assign(log_weights)
        self.means.assign(means)
        self.precision_cholesky.assign(cholesky)
        log_density = ops.convert_to_numpy(
            gaussian_mixture_log_density(features, log_weights, means, cholesky)
        )
        low, high = float(np.min(log_density)), float(np.max(log_density))
        if not high > low:
            raise ValueError(
                "The training features' log densities must span a range to "
                f"normalise by. Received: d_min={low}, d_max={high}"
            )
        self.density_range.assign(np.asarray([low, high], "float32"))
        self.fitted.assign(1.0)
        self._density_fit_pending = False

    def compute_output_shape(self, input_shape: Sequence[Shape]) -> Shape:
        return tuple(input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"clip_value": self.clip_value, "jitter": self.jitter})
        return config


def _class_indices(labels, num_classes):
    """Integer labels in `[0, num_classes]` from indices or one-hot rows.

    `num_classes` marks an unknown sample: the integer label K, or an
    all-zero one-hot row (as the metrics read it).
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 2 and labels.shape[1] == num_classes:
        rows = labels.sum(axis=1)
        if not (np.isin(labels, (0, 1)).all() and np.isin(rows, (0, 1)).all()):
            raise ValueError(
                "2-D `labels` must be one-hot rows (a single 1, or all zeros "
                "for an unknown sample). Received: labels with row sums in "
                f"[{rows.min()}, {rows.max()}]"
            )
        return np.where(rows > 0, labels.argmax(axis=1), num_classes)
    if labels.ndim != 1:
        raise ValueError(
            f"`labels` must be integer labels of shape (N,) or one-hot rows "
            f"of shape (N, {num_classes}). Received: labels.shape={labels.shape}"
        )
    if labels.size and not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            "`labels` must be integer class indices. Received: labels with "
            f"non-integer values such as {labels[labels != np.round(labels)][0]}"
        )
    labels = labels.astype("int64")
    if labels.size and not (labels.min() >= 0 and labels.max() <= num_classes):
        raise ValueError(
            f"`labels` must be class indices in [0, {num_classes}] "
            f"({num_classes}: unknown, left out of the density). Received: "
            f"labels with min={labels.min()}, max={labels.max()}"
        )
    return labels
