"""Finding a model's EDL losses and making a new coefficient take effect."""

import keras

from keras_evidential.losses.edl_loss import EDLLoss


def find_edl_losses(model, callback_name, annealable=False):
    """The `EDLLoss` instances a compiled model trains with.

    With `annealable=True`, every compiled loss whose `kl_weight` is a
    `keras.Variable` (`EDLLoss`, `IEDLLoss`, `RelaxedEDLLoss` with its KL
    term, `REDLoss`, `DAEDLLoss`): the losses `KLAnnealing` schedules.

    Raises:
        ValueError: if the model was compiled without any such loss.
    """

    def wanted(loss):
        if annealable:
            return isinstance(getattr(loss, "kl_weight", None), keras.Variable)
        return isinstance(loss, EDLLoss)

    losses = [
        loss
        for loss in keras.tree.flatten(getattr(model, "loss", None))
        if wanted(loss)
    ]
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
