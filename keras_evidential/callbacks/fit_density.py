"""FitDensity: fits DAEDL's feature density at the end of training."""

import keras
import numpy as np

from keras_evidential.layers.density_aware_dirichlet import DensityAwareDirichlet


def density_layer(model, layer_name=None):
    """The model's `DensityAwareDirichlet` layer (by name if several)."""
    layers = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, DensityAwareDirichlet)
        and (layer_name is None or layer.name == layer_name)
    ]
    if len(layers) != 1:
        raise ValueError(
            "Expected exactly one DensityAwareDirichlet layer"
            + (f" named {layer_name!r}" if layer_name else "")
            + f" in the model. Received: {len(layers)} such layers"
        )
    return layers[0]


def fit_model_density(model, x, y, layer_name=None, batch_size=256):
    """Fits the model's `DensityAwareDirichlet` on the features of `(x, y)`.

    The features are the layer's first input, computed by a sub-model of
    `model` (a functional model) in inference mode.
    """
    layer = density_layer(model, layer_name)
    features_model = keras.Model(model.inputs, layer.input[0])
    features = features_model.predict(x, batch_size=batch_size, verbose=0)
    labels = np.asarray(y).reshape(-1)
    layer.fit_density(features, labels)
    return layer


class FitDensity(keras.callbacks.Callback):
    """Fits DAEDL's class-conditional Gaussian density when `fit` ends.

    After training, the features of the training data (the first input of
    the model's `DensityAwareDirichlet` layer) are computed and one Gaussian
    per class fitted to them (`DensityAwareDirichlet.fit_density`); from then
    on the model scales its logits by the normalised feature density.

    Args:
        x: The training inputs (or any in-distribution inputs to fit on).
        y: Their integer labels.
        layer_name: Name of the `DensityAwareDirichlet` layer if the model
            has several. Defaults to None.
        batch_size: Batch size of the feature pass. Defaults to 256.

    Example:

    >>> inputs = keras.Input((4,))
    >>> features = keras.layers.Dense(8, activation="relu")(inputs)
    >>> logits = keras.layers.Dense(3)(features)
    >>> alpha = keras_evidential.layers.DensityAwareDirichlet()([features, logits])
    >>> model = keras.Model(inputs, alpha)
    >>> model.compile("adam", keras_evidential.losses.DAEDLLoss())
    >>> x, y = np.random.default_rng(0).normal(size=(64, 4)), np.arange(64) % 3
    >>> history = model.fit(x, y, epochs=1, verbose=0, callbacks=[
    ...     keras_evidential.callbacks.FitDensity(x, y)])
    >>> model.predict(x[:2], verbose=0).shape
    (2, 3)

    Reference:
    - Yoon & Kim, DAEDL, ICML 2024, Algorithm 2
    """

    def __init__(self, x, y, layer_name=None, batch_size=256):
        super().__init__()
        self.x, self.y = x, y
        self.layer_name = layer_name
        self.batch_size = batch_size

    def on_train_end(self, logs=None):
        fit_model_density(
            self.model, self.x, self.y, self.layer_name, self.batch_size
        )
