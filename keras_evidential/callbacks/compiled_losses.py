"""What the schedule callbacks share: the model's EDL losses, the fit's
other callbacks, and making a new coefficient take effect."""

import sys
import warnings

import keras

from keras_evidential.losses.edl_loss import EDLLoss

# The key, in the `params` dict that Keras gives every callback of one `fit`
# call, under which `TwoStageFit` tells `KLAnnealing` the first EDL epoch. The
# dict is made anew for each `fit`, so nothing carries over to the next one.
FIRST_EDL_EPOCH = "keras_evidential_first_edl_epoch"


def find_edl_losses(model, callback_name, allow_pending=False, annealable=False):
    """The `EDLLoss` instances a compiled model trains with.

    With `annealable=True`, every compiled loss whose `kl_weight` is a
    `keras.Variable` (`EDLLoss`, `IEDLLoss`, `RelaxedEDLLoss` with its KL
    term, `REDLoss`, `DAEDLLoss`): the losses `KLAnnealing` schedules.

    Also finds the instance Keras made for `compile(loss=EDLLoss)` (the
    class), which `model.loss` does not hold. Keras makes it at the first
    training step; before that, with `allow_pending=True`, an empty list is
    returned (that instance has the default `kl_weight=0` and `stage=2`).

    Raises:
        ValueError: if the model was compiled without any such loss.
    """

    def wanted(loss):
        if annealable:
            return isinstance(getattr(loss, "kl_weight", None), keras.Variable)
        return isinstance(loss, EDLLoss)

    candidates = list(keras.tree.flatten(getattr(model, "loss", None)))
    # Keras's compiled-loss container holds the instances it trains with.
    for entry in getattr(getattr(model, "_compile_loss", None), "_flat_losses", None) or ():
        candidates.append(getattr(entry, "loss", entry))
    losses = []
    for loss in candidates:
        if wanted(loss) and not any(loss is seen for seen in losses):
            losses.append(loss)
    if not losses and allow_pending and any(
        isinstance(loss, type) and issubclass(loss, keras.losses.Loss) for loss in candidates
    ):
        return []
    if not losses:
        raise ValueError(
            f"{callback_name} needs a model compiled with "
            + (
                "a loss with a KL coefficient (`EDLLoss`, `IEDLLoss`, "
                "`RelaxedEDLLoss`, `REDLoss`, `DAEDLLoss`). "
                if annealable
                else "`keras_evidential.losses.EDLLoss`. "
            )
            +
            f"Received: model.loss={getattr(model, 'loss', None)!r}"
        )
    return losses


def refresh_compiled_steps(model):
    """Makes new loss-variable values visible to the compiled steps.

    On TensorFlow and PyTorch a loss reads its variables at every step. JAX
    traces a loss's variables into the jitted step as constants, so there the
    train and test functions are rebuilt (once per change, i.e. per epoch).
    """
    if keras.backend.backend() == "jax":
        model.make_train_function(force=True)
        model.make_test_function(force=True)


def sibling_callbacks(callback):
    """The callbacks of the `fit` call that `callback` belongs to.

    Keras gives a callback no reference to the others, so this looks for the
    `CallbackList` in the calling frames (every backend's `fit` holds one).
    Returns an empty list where none is found.
    """
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, keras.callbacks.CallbackList) and any(
                c is callback for c in value.callbacks
            ):
                return list(value.callbacks)
        frame = frame.f_back
    return []


def warn_about_siblings(callback, logged_name):
    """Warns of callbacks that would miss or misread what `callback` does.

    - `TensorBoard` listed before `callback` writes its epoch summary before
      `callback` adds `logged_name` to the logs, so the value would be
      missing from the event file.
    - A callback that monitors `loss` or `val_loss` (`EarlyStopping`,
      `ModelCheckpoint(save_best_only=True)`, `ReduceLROnPlateau`) compares
      epochs whose loss includes a changing coefficient.
    """
    siblings = sibling_callbacks(callback)
    name = type(callback).__name__
    position = next((i for i, c in enumerate(siblings) if c is callback), None)
    for i, other in enumerate(siblings):
        if isinstance(other, keras.callbacks.TensorBoard) and position is not None and i < position:
            warnings.warn(
                f"TensorBoard is listed before {name}, so the event file will "
                f"not hold `{logged_name}` (Keras calls callbacks in list "
                f"order). List {name} before TensorBoard.",
                stacklevel=3,
            )
        monitor = getattr(other, "monitor", None)
        if monitor in ("loss", "val_loss") and not isinstance(
            other, keras.callbacks.TensorBoard
        ):
            warnings.warn(
                f"{type(other).__name__} monitors {monitor!r}, but {name} "
                f"changes the loss's definition from epoch to epoch "
                f"(`{logged_name}`), so its epochs are not comparable and the "
                "'best' epoch is biased. Add "
                "`keras_evidential.metrics.BayesRisk()` to the compiled "
                "metrics and monitor 'val_risk' (or 'risk') instead.",
                stacklevel=3,
            )
