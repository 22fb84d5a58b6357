"""CoefficientSchedule: an epoch schedule of any loss coefficient."""

from __future__ import annotations

from typing import Any
from typing import Callable

import keras
from keras import ops

from keras_evidential.callbacks.compiled_losses import check_losses_match_model
from keras_evidential.callbacks.compiled_losses import find_coefficient_losses
from keras_evidential.callbacks.compiled_losses import refresh_compiled_steps
from keras_evidential.losses.coefficients import validate_coefficient
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_int
from keras_evidential.validation import declare_attributes


COEFFICIENTS = ("kl_weight", "regularizer_weight")


@keras.saving.register_keras_serializable(package="keras_evidential")
class CoefficientSchedule(DeclaredAttributes, keras.callbacks.Callback):
    """Sets a loss coefficient from an epoch schedule, at each epoch's start.

    The one scheduling API of the package's loss coefficients: every
    compiled loss that holds `coefficient` in a `keras.Variable` gets the
    epoch's value, which changes the compiled step (graph mode, XLA, JAX).
    `KLAnnealing` (EDL's linear KL warm-up) and `RegularizerSchedule` (the NIG
    losses' lambda) are presets of it.

    Formula:
    ```
    coefficient_t = schedule(t)     # t: zero-based epoch index of `fit`
    ```

    The value is logged as `logs[coefficient]` at each epoch's end, visible
    in `History` and in callbacks listed after this one. For a record that
    does not depend on the order of the callbacks (`TensorBoard`,
    `CSVLogger` listed first), compile with
    `keras_evidential.metrics.LossCoefficient(loss, coefficient)`: Keras
    then logs the value itself, like any metric.

    Because the loss changes from epoch to epoch, `val_loss` values of
    different epochs are not comparable: for `EarlyStopping`,
    `ModelCheckpoint(save_best_only=True)` or `ReduceLROnPlateau`, compile
    with `keras_evidential.metrics.BayesRisk()` and monitor `"val_risk"`
    (classification) or a `NIG*` metric such as `"val_nll"` (regression).
    Keras gives a callback no view of the other callbacks, so this cannot be
    warned about.

    Args:
        schedule: A function from the epoch index to a float >= 0.
        coefficient: The loss variable to set: `"kl_weight"` (the
            Dirichlet losses' KL coefficient) or `"regularizer_weight"` (the
            NIG losses' lambda).
        verbose: Integer. 0: quiet, 1: print the value every epoch.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(32, 4))
    >>> y = np.arange(32) % 3
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam", loss=keras_evidential.losses.EDLLoss())
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
    ...     keras_evidential.callbacks.CoefficientSchedule(
    ...         lambda t: 0.5 * t, coefficient="kl_weight")])
    >>> history.history["kl_weight"]
    [0.0, 0.5, 1.0]
    """

    def __init__(
        self,
        schedule: Callable[[int], float],
        coefficient: str = "kl_weight",
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                "`schedule` must be a function of the epoch. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.coefficient = check_choice(coefficient, "coefficient", COEFFICIENTS)
        self.verbose = check_int(verbose, "verbose", minimum=0)
        declare_attributes(self, CoefficientSchedule)

    def value(self, epoch: int) -> float:
        """The coefficient for zero-based `epoch`, checked."""
        return validate_coefficient(self.schedule(epoch), "schedule(epoch)")

    def _losses(self, allow_pending: bool = True) -> list[keras.losses.Loss]:
        return find_coefficient_losses(
            self.model, self.coefficient, type(self).__name__, allow_pending
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._losses()
        check_losses_match_model(self.model)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = self.value(epoch)
        losses = self._losses()
        if not losses and value != 0.0:
            raise ValueError(
                f"{type(self).__name__} must set {self.coefficient}={value} "
                "before the first step, but the model was compiled with a "
                "loss class, whose instance Keras makes at that step. Compile "
                "with an instance, e.g. loss=EDLLoss(). Received: "
                f"model.loss={self.model.loss!r}"
            )
        changed = False
        for loss in losses:
            variable = getattr(loss, self.coefficient)
            current = ops.convert_to_numpy(variable)
            changed |= bool(current != current.dtype.type(value))
            variable.assign(value)
        if changed:
            refresh_compiled_steps(self.model)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: {type(self).__name__} setting "
                f"{self.coefficient} to {value}."
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            variable = getattr(self._losses(allow_pending=False)[0], self.coefficient)
            logs[self.coefficient] = float(ops.convert_to_numpy(variable))

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "coefficient": self.coefficient,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CoefficientSchedule:
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(**config)
