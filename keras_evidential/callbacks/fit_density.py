"""FitDensity: fits DAEDL's feature density at the end of training."""

from __future__ import annotations

import collections.abc
from typing import Any

import keras
import numpy as np

from keras_evidential.callbacks.prediction import predict_in_full_batches
from keras_evidential.keras_compat import call_nodes
from keras_evidential.keras_compat import nested_layers
from keras_evidential.layers.density_aware_dirichlet import DensityAwareDirichlet
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_int


def density_layer(
    model: keras.Model, layer_name: str | None = None
) -> keras.layers.Layer:
    """The model's `DensityAwareDirichlet` layer (by name if several),
    looking inside nested models."""
    layers = [
        layer
        for layer in nested_layers(model)
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


def fit_model_density(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike = None,
    layer_name: str | None = None,
    batch_size: int = 256,
) -> keras.layers.Layer:
    """Fits the model's `DensityAwareDirichlet` on the features of `(x, y)`.

    The features are the layer's first input, computed in inference mode by
    a sub-model of `model` (a functional or `Sequential` model, the layer
    possibly inside a nested model such as `Model(inp, head(backbone(inp)))`).
    Samples labelled K (unknown) are left out of the density.

    Args:
        model: The model holding the layer.
        x: Inputs (arrays, with labels `y`), or batches of `(x, y)` pairs
            (a `tf.data.Dataset`, a `keras.utils.PyDataset`, a PyTorch
            `DataLoader` or a generator, with `y=None`): features and labels
            then come from one pass, so a shuffled dataset pairs them right.
        y: Integer labels in `[0, K]` or one-hot rows, for array inputs.
        layer_name: Name of the `DensityAwareDirichlet` layer if the model
            has several. Defaults to None.
        batch_size: Batch size of the feature pass over arrays.

    Returns:
        The fitted `DensityAwareDirichlet` layer.
    """
    layer = density_layer(model, layer_name)
    features_model = _features_model(model, layer)
    if _is_batches(x):
        if y is not None:
            raise _labels_with_batches_error(x, y)
        features, labels = _features_and_labels(features_model, x)
    else:
        if y is None:
            raise ValueError(
                "`y` (the labels of `x`) is required unless `x` yields "
                "(x, y) batches. Received: y=None"
            )
        features = predict_in_full_batches(features_model, x, batch_size)
        labels = y
    layer.fit_density(features, labels)
    return layer


class FitDensity(keras.callbacks.Callback):
    """Fits DAEDL's class-conditional Gaussian density when `fit` ends.

    After training, the features of the training data (the first input of
    the model's `DensityAwareDirichlet` layer) are computed and one Gaussian
    per class fitted to them (`DensityAwareDirichlet.fit_density`); from then
    on the model's predictions scale its logits by the normalised feature
    density (training keeps `exp(z)`). Samples labelled K (unknown, out of
    distribution; all-zero one-hot rows) are left out of the density.

    The density belongs to the trained weights, so it is fitted once they
    are final:

    - When `fit` begins, the density is marked not fitted (the previous one
      belongs to the previous weights). Until `fit` ends the model outputs
      `exp(z)`, and monitors such as `UncertaintyMonitor` may read it.
      Checkpoints saved during `fit` (`ModelCheckpoint`) hold no fitted
      density: after loading one, call `fit_model_density(model, x, y)`.
      `keras_evidential.model_kind` (export, `evaluate_uncertainty`) refuses
      a model whose density is not fitted. A `fit` stopped by an error or
      an interrupt never reaches its end, so the density stays unfitted
      without that refusal: call `fit_model_density` (or `fit` again).
    - List `FitDensity` after `EarlyStopping(restore_best_weights=True)`:
      the restore then comes first and the density is fitted to the
      restored weights. Listed before it, the restore replaces the fitted
      density with the unfitted one of the best epoch; the model then says
      so (`density_fitted` is False, and `model_kind` refuses it).

    Args:
        x: The training inputs (or any in-distribution inputs to fit on):
            arrays with labels `y`, or batches of `(x, y)` pairs (a
            `tf.data.Dataset`, `keras.utils.PyDataset`, PyTorch `DataLoader`)
            with `y=None`, whose features and labels come from one pass (a
            shuffled dataset reshuffles each pass). A generator is used up
            by one `fit`.
        y: Their labels: integers in `[0, K]` or one-hot rows. None for
            batches of `(x, y)`.
        layer_name: Name of the `DensityAwareDirichlet` layer if the model
            has several. Defaults to None.
        batch_size: Batch size of the feature pass over arrays. Defaults to
            256.

    Example:

    >>> inputs = keras.Input((4,))
    >>> features = keras.layers.Dense(8, activation="relu")(inputs)
    >>> logits = keras.layers.Dense(3)(features)
    >>> density = keras_evidential.layers.DensityAwareDirichlet(name="density")
    >>> model = keras.Model(inputs, density([features, logits]))
    >>> model.compile("adam", keras_evidential.losses.DAEDLLoss())
    >>> x, y = np.random.default_rng(0).normal(size=(64, 4)), np.arange(64) % 3
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
    ...     keras.callbacks.EarlyStopping("loss", restore_best_weights=True),
    ...     keras_evidential.callbacks.FitDensity(x, y)])
    >>> model.get_layer("density").density_fitted
    True

    Reference:
    - Yoon & Kim, DAEDL, ICML 2024, Algorithm 2
    """

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike = None,
        layer_name: str | None = None,
        batch_size: int = 256,
    ) -> None:
        super().__init__()
        if _is_batches(x):
            if y is not None:
                raise _labels_with_batches_error(x, y)
        elif y is None:
            raise ValueError(
                "`y` (the labels of `x`) is required unless `x` yields "
                "(x, y) batches. Received: y=None"
            )
        self.x, self.y = x, y
        self.layer_name = layer_name
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        layer = density_layer(self.model, self.layer_name)
        layer.reset_density(fit_pending=True)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        try:
            fit_model_density(
                self.model, self.x, self.y, self.layer_name, self.batch_size
            )
        finally:
            # Fitted, or (on an error) plainly not fitted, never "pending".
            layer = density_layer(self.model, self.layer_name)
            if not layer.density_fitted:
                layer.reset_density()


def _is_batches(x):
    """Whether `x` yields batches (a dataset or an iterator), not arrays."""
    module = type(x).__module__
    return (
        isinstance(x, (keras.utils.PyDataset, collections.abc.Iterator))
        or (module.startswith("tensorflow") and hasattr(x, "as_numpy_iterator"))
        or (module.startswith("torch.utils.data") and hasattr(x, "__iter__"))
    )


def _labels_with_batches_error(x, y):
    # Labels from a second pass over a shuffled dataset would pair with
    # other samples' features (class means moved by 0.53 in one case).
    return ValueError(
        "`x` yields batches, which must be (x, y) pairs so that features and "
        "labels come from the same pass; pass `y=None`. Received: "
        f"x={type(x).__name__}, y={type(y).__name__}"
    )


def _batches(data):
    if hasattr(data, "as_numpy_iterator"):  # tf.data
        cardinality = int(data.cardinality())
        if cardinality == -1:  # tf.data.INFINITE_CARDINALITY
            raise ValueError(
                "The density is fitted on one pass over `x`, which must be "
                "finite: drop `.repeat()`. Received: an infinite "
                f"{type(data).__name__}"
            )
        return data.as_numpy_iterator()
    if isinstance(data, keras.utils.PyDataset):
        return (data[i] for i in range(len(data)))
    return iter(data)


def _features_and_labels(features_model, data):
    """Features and labels of every `(x, y)` batch of `data`, in one pass."""
    features, labels = [], []
    for batch in _batches(data):
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(
                "Each batch of `x` must be an (x, y) or (x, y, sample_weight) "
                f"tuple. Received: a batch of type {type(batch).__name__}"
            )
        # NumPy in: a PyTorch DataLoader's tensors are no JAX or TF input.
        x, y = keras.tree.map_structure(_to_numpy, tuple(batch[:2]))
        features.append(np.asarray(features_model.predict_on_batch(x)))
        labels.append(y)
    if not features:
        raise ValueError("`x` yielded no batches. Received: an empty dataset")
    return np.concatenate(features), np.concatenate(labels)


def _to_numpy(tensor):
    if hasattr(tensor, "detach"):  # a PyTorch tensor, possibly on a GPU
        return tensor.detach().cpu().numpy()
    return np.asarray(tensor)


def _features_model(model, layer):
    """A model from `model`'s inputs to `layer`'s first input (its features),
    also where the layer sits in a nested model (`Model(inp,
    head(backbone(inp)))`): the nested model's features sub-model is called
    on the tensors that feed it in `model`."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            "FitDensity computes the features from the model's graph, which "
            "a subclassed model does not have: compute them yourself and "
            "call `layer.fit_density(features, labels)` on its "
            f"DensityAwareDirichlet layer. Received: model {model.name!r} "
            "without symbolic inputs"
        )
    if any(inner is layer for inner in model.layers):
        return keras.Model(inputs, layer.input[0])
    for sub in model.layers:
        if isinstance(sub, keras.Model) and any(
            inner is layer for inner in nested_layers(sub)
        ):
            nodes = call_nodes(sub)
            if len(nodes) != 1:
                raise ValueError(
                    "The nested model that holds the DensityAwareDirichlet "
                    "layer must be called once in the model, so that its "
                    f"inputs are known. Received: {sub.name!r} called "
                    f"{len(nodes)} times"
                )
            sub_features = _features_model(sub, layer)
            args, kwargs = nodes[0]
            return keras.Model(inputs, sub_features(*args, **kwargs))
    raise ValueError(
        f"The DensityAwareDirichlet layer {layer.name!r} is not in the graph "
        f"of model {model.name!r}. Received: a layer the model does not call"
    )
