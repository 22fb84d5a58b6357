"""Finding a model's EDL losses and making a new coefficient take effect."""

import keras

from keras_evidential.losses.edl_loss import EDLLoss


def find_edl_losses(model, callback_name):
    """The `EDLLoss` instances a compiled model trains with.

    Raises:
        ValueError: if the model was compiled without any `EDLLoss`.
    """
    losses = [
        loss
        for loss in keras.tree.flatten(getattr(model, "loss", None))
        if isinstance(loss, EDLLoss)
    ]
    if not losses:
        raise ValueError(
            f"{callback_name} needs a model compiled with "
            "`keras_evidential.losses.EDLLoss`. "
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
