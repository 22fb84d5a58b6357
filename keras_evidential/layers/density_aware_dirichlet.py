"""DensityAwareDirichlet: DAEDL's output layer (Yoon & Kim, ICML 2024)."""

import keras
import numpy as np
from keras import ops

from keras_evidential.dirichlet import exp_evidence
from keras_evidential.dirichlet.evidence import LOWEST_LOGIT
from keras_evidential.dirichlet import fit_class_gaussians
from keras_evidential.dirichlet import gaussian_mixture_log_density
from keras_evidential.dirichlet import normalized_density
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.layers.evidence import validate_clip_value
from keras_evidential.validation import check_finite_number


@keras.saving.register_keras_serializable(package="keras_evidential")
class DensityAwareDirichlet(keras.layers.Layer):
    """Dirichlet concentrations from logits, scaled by the feature density.

    Formula:
    ```
    training, or before `fit_density`:  alpha = exp(z)
    after `fit_density`:                alpha = exp(z * s(f))
    s(f) = clip((log p(f) - d_min) / (d_max - d_min), 0, 1)
    p(f) = sum_c w_c N(f | mu_c, Sigma_c)
    ```

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
    at the end of `fit`.

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

    def __init__(self, clip_value=50.0, jitter=1e-6, **kwargs):
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.clip_value = validate_clip_value(clip_value)
        self.jitter = check_finite_number(jitter, "jitter", positive=False)

    def build(self, input_shape):
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

    def density_scale(self, features):
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

    def call(self, inputs):
        features, logits = inputs
        scale = self.density_scale(features)
        return exp_evidence(
            logits * scale[..., None], self.clip_value, min_value=LOWEST_LOGIT
        )

    def fit_density(self, features, labels):
        """Fits the class Gaussians and `[d_min, d_max]` to training features.

        Args:
            features: `(N, H)` features of the training set (the layer's
                first input).
            labels: `(N,)` integer labels.
        """
        features = np.asarray(features, dtype="float32")
        c = self.means.shape[0]
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

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update({"clip_value": self.clip_value, "jitter": self.jitter})
        return config
