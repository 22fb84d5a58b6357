"""What the schedule callbacks share: the compiled losses that hold a
coefficient, and making a new value take effect in the compiled step."""

from __future__ import annotations

from typing import Callable

import keras

from keras_evidential.keras_compat import compiled_loss_instances


# The key, in the `params` dict that Keras gives every callback of one `fit`
# call, under which `TwoStageFit` tells `KLAnnealing` the first EDL epoch. The
# dict is made anew for each `fit`, so nothing carries over to the next one.
FIRST_EDL_EPOCH = "keras_evidential_first_edl_epoch"


def find_losses(
    model: keras.Model,
    callback_name: str,
    wanted: Callable[[keras.losses.Loss], bool],
    description: str,
    allow_pending: bool = False,
) -> list[keras.losses.Loss]:
    """The compiled losses of `model` for which `wanted(loss)` holds.

    Also finds the instance Keras made for `compile(loss=SomeLoss)` (the
    class), which `model.loss` does not hold. Keras makes it at the first
    training step; before that, with `allow_pending=True`, an empty list is
    returned.

    Raises:
        ValueError: if the model was compiled without any such loss.
    """
    candidates = list(keras.tree.flatten(getattr(model, "loss", None)))
    candidates += compiled_loss_instances(model)
    losses: list[keras.losses.Loss] = []
    for loss in candidates:
        if wanted(loss) and not any(loss is seen for seen in losses):
            losses.append(loss)
    if not losses and allow_pending and any(
        isinstance(loss, type) and issubclass(loss, keras.losses.Loss)
        for loss in candidates
    ):
        return []
    if not losses:
        raise ValueError(
            f"{callback_name} needs a model compiled with {description}. "
            f"Received: model.loss={getattr(model, 'loss', None)!r}"
        )
    return losses


# The package's losses that hold each scheduled coefficient, for messages.
SCHEDULED_LOSSES = {
    "kl_weight": "a loss with a KL coefficient (`EDLLoss`, `IEDLLoss`, "
    "`RelaxedEDLLoss`, `CorrectEvidenceLoss`, `DAEDLLoss`)",
    "regularizer_weight": "`EvidentialRegressionLoss` or `MeinertRegressionLoss`",
}


def find_coefficient_losses(
    model: keras.Model,
    coefficient: str,
    callback_name: str,
    allow_pending: bool = False,
) -> list[keras.losses.Loss]:
    """The compiled losses that hold `coefficient` in a `keras.Variable`."""
    return find_losses(
        model,
        callback_name,
        lambda loss: isinstance(getattr(loss, coefficient, None), keras.Variable),
        SCHEDULED_LOSSES[coefficient],
        allow_pending=allow_pending,
    )


def check_losses_match_model(model: keras.Model) -> None:
    """Refuses an EDL loss that contradicts the model's head (where the
    callback sees both at the start of `fit`)."""
    from keras_evidential.model_kind import check_losses_match_model

    check_losses_match_model(model)


def refresh_compiled_steps(model: keras.Model) -> None:
    """Makes new loss-variable values visible to the compiled steps.

    On TensorFlow and PyTorch a loss reads its variables at every step. JAX
    traces a loss's variables into the jitted step as constants, so there the
    train and test functions are rebuilt (once per change, i.e. per epoch).
    """
    if keras.backend.backend() == "jax":
        # A `train_step` replaced by a plain function (a profiling wrapper)
        # is the same object at every rebuild, and `jax.jit` would reuse its
        # trace with the old constant: drop JAX's caches then. Keras's own
        # bound method is a new object at each access and retraces anyway.
        if getattr(model.train_step, "__self__", None) is not model:
            import jax

            jax.clear_caches()
        model.make_train_function(force=True)
        model.make_test_function(force=True)
