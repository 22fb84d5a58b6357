"""RegularizerSchedule: an epoch schedule of the NIG losses' regulariser weight."""

import keras
from keras import ops

from keras_evidential.callbacks.compiled_losses import refresh_compiled_steps
from keras_evidential.losses.edl_loss import validate_kl_weight
from keras_evidential.losses.evidential_regression import EvidentialRegressionLoss
from keras_evidential.losses.evidential_regression import MeinertRegressionLoss


def find_regression_losses(model):
    """The NIG losses a compiled model trains with; a ValueError if there are none."""
    losses = [
        loss
        for loss in keras.tree.flatten(getattr(model, "loss", None))
        if isinstance(loss, (EvidentialRegressionLoss, MeinertRegressionLoss))
    ]
    if not losses:
        raise ValueError(
            "RegularizerSchedule needs a model compiled with "
            "`EvidentialRegressionLoss` or `MeinertRegressionLoss`. "
            f"Received: model.loss={getattr(model, 'loss', None)!r}"
        )
    return losses


@keras.saving.register_keras_serializable(package="keras_evidential")
class RegularizerSchedule(keras.callbacks.Callback):
    """Sets the regulariser weight lambda of the NIG losses at each epoch's start.

    Formula:
    ```
    lambda_t = schedule(t)        # t: zero-based epoch index
    ```

    Like `KLAnnealing`, the value goes into the loss's `regularizer_weight`
    variable, so it changes the compiled step (also under XLA and JAX), and
    is logged as `logs["regularizer_weight"]`.

    Args:
        schedule: A function from the epoch index to a float >= 0, e.g.
            `lambda t: min(0.01, 0.001 * t)` (a warm-up).

    Example:

    >>> x = np.random.default_rng(0).normal(size=(32, 1))
    >>> y = x ** 3
    >>> model = keras.Sequential([
    ...     keras.Input((1,)), keras.layers.Dense(8, activation="relu"),
    ...     keras_evidential.layers.NormalInverseGammaOutput(units=1)])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.EvidentialRegressionLoss())
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
    ...     keras_evidential.callbacks.RegularizerSchedule(
    ...         lambda t: min(0.01, 0.001 * t))])
    >>> [round(w, 6) for w in history.history["regularizer_weight"]]
    [0.0, 0.001, 0.002]

    Reference:
    - [Amini et al., 2020](https://arxiv.org/abs/1910.02600) (their code
      adapts lambda during training)
    """

    def __init__(self, schedule):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                f"`schedule` must be a function of the epoch. Received: schedule={schedule!r}"
            )
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        weight = self.schedule(epoch)
        validate_kl_weight(weight, "schedule(epoch)")
        changed = False
        for loss in find_regression_losses(self.model):
            current = ops.convert_to_numpy(loss.regularizer_weight)
            changed |= bool(current != current.dtype.type(weight))
            loss.regularizer_weight.assign(float(weight))
        if changed:
            refresh_compiled_steps(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            loss = find_regression_losses(self.model)[0]
            logs["regularizer_weight"] = float(ops.convert_to_numpy(loss.regularizer_weight))

    def get_config(self):
        return {"schedule": keras.saving.serialize_keras_object(self.schedule)}

    @classmethod
    def from_config(cls, config):
        return cls(keras.saving.deserialize_keras_object(config["schedule"]))
