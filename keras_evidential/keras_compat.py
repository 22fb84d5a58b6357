"""The private Keras APIs keras-evidential needs, each in one place with why.

Keras gives no public way to do these few things. If a Keras release moves
one of them, the function here fails loudly (an `ImportError` or
`AttributeError` naming it) or, where noted, falls back to a safe answer;
CI tests the lowest and the newest Keras of the declared range
(`pyproject.toml`), so a move is seen here first.
"""

from __future__ import annotations

from typing import Any

import keras
from keras_evidential.tensor_types import Tensor


def in_stateless_scope() -> bool:
    """Whether the caller runs inside a JAX/PyTorch stateless training step.

    Why: Keras instantiates a loss *class* given to `compile` inside the
    first step, where a `keras.Variable` cannot be created; a loss that holds
    variables (a scheduled coefficient) refuses this case with a clear error
    instead of Keras's unrelated one.
    """
    from keras.src.backend.common.stateless_scope import (
        in_stateless_scope as _in_stateless_scope,
    )

    return _in_stateless_scope()


def in_symbolic_scope() -> bool:
    """Whether Keras is only inferring shapes (`compute_output_spec`).

    Why: on PyTorch that runs a loss on placeholder tensors of ones, which
    are no valid values; the value checks skip them.
    """
    from keras.src.backend.common.symbolic_scope import (
        in_symbolic_scope as _in_symbolic_scope,
    )

    return _in_symbolic_scope()


def input_signature(model: keras.Model) -> Any:
    """The input specs of a subclassed model's first call, as `model.export`
    reads them.

    Why: a subclassed model has no `model.inputs`; export and `model_kind`
    need its input shapes, and `keras.src.export.export_utils` is where Keras
    itself finds them.
    """
    from keras.src.export import export_utils

    return export_utils.get_input_signature(model)


def compute_output_spec(model: keras.Model, inputs: Tensor) -> Any:
    """The output spec of `model` on symbolic `inputs` (no computation).

    Why: `model_kind` reads a subclassed model's output width without
    running it; `keras.src.backend.compute_output_spec` is not exported.
    """
    from keras.src.backend import compute_output_spec as _compute_output_spec

    return _compute_output_spec(model, inputs)


def compiled_loss_instances(model: keras.Model) -> list[Any]:
    """The loss objects the compiled model trains with, including the
    instance Keras makes for `compile(loss=SomeLossClass)` at the first step.

    Why: `model.loss` holds what the user passed (possibly the class); the
    instances live in Keras's private compiled-loss container. Callbacks that
    schedule a loss coefficient must find the instance. Returns `[]` where
    the container is absent or not built yet.
    """
    container = getattr(model, "_compile_loss", None)
    entries = getattr(container, "_flat_losses", None) or ()
    return [getattr(entry, "loss", entry) for entry in entries]


def nested_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer inside `model`, nested models' layers included.

    Why: `model.layers` lists only the top level; Keras's own recursive walk
    (`_flatten_layers`) is private. Finding a head inside
    `Model(inp, head(backbone(inp)))` needs it.
    """
    return list(model._flatten_layers(include_self=False))


def call_nodes(layer: keras.layers.Layer) -> list[tuple[Any, Any]]:
    """`(args, kwargs)` of each call of `layer` in the functional graphs it
    belongs to (the symbolic tensors it was called on).

    Why: a nested model's inputs inside the outer model are recorded only in
    Keras's private inbound nodes; `FitDensity` rebuilds the features
    sub-model from them.
    """
    return [(node.arguments.args, node.arguments.kwargs) for node in layer._inbound_nodes]


def producing_layer(tensor: Tensor) -> keras.layers.Layer | None:
    """The layer (operation) whose call produced a symbolic `tensor`, or None.

    Why: `model_kind` reads a functional model's output layer through the
    tensor's private `_keras_history`, which also sees into nested models.
    """
    history = getattr(tensor, "_keras_history", None)
    return getattr(history, "operation", None)


def set_loss_mask(losses: Tensor, mask: Tensor) -> None:
    """Attaches a 0/1 `mask` to per-element `losses`, as Keras's own
    `sparse_categorical_crossentropy(ignore_class=...)` does.

    Why: `keras.losses.Loss.__call__` reads this mask and reduces
    `"sum_over_batch_size"` to the mean over the unmasked elements (the
    valid pixels); Keras exports no public setter for it.
    """
    from keras.src.backend.common.masking import set_keras_mask

    set_keras_mask(losses, mask)
