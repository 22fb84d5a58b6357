"""RegularizerSchedule: an epoch schedule of the NIG losses' regulariser weight."""

from __future__ import annotations

from typing import Any
from typing import Callable

import keras

from keras_evidential.callbacks.coefficient_schedule import CoefficientSchedule
from keras_evidential.validation import declare_attributes


@keras.saving.register_keras_serializable(package="keras_evidential")
class RegularizerSchedule(CoefficientSchedule):
    """Sets the regulariser weight lambda of the NIG losses at each epoch's start.

    Formula:
    ```
    lambda_t = schedule(t)        # t: zero-based epoch index
    ```

    The preset of `CoefficientSchedule` for `coefficient="regularizer_weight"`
    (`EvidentialRegressionLoss`, `MeinertRegressionLoss`): the value goes into
    the loss's `regularizer_weight` variable, so it changes the compiled step
    (also under XLA and JAX), and is logged as `logs["regularizer_weight"]`
    (compile with `keras_evidential.metrics.LossCoefficient(loss,
    "regularizer_weight")` for `TensorBoard` in any order). Monitor a `NIG*`
    metric such as `"val_nll"`, not `"val_loss"`, in `EarlyStopping`: the
    loss changes with lambda, so its epochs are not comparable.

    Args:
        schedule: A function from the epoch index to a float >= 0, e.g.
            `lambda t: min(0.01, 0.001 * t)` (a warm-up).
        verbose: Integer. 0: quiet, 1: print the value every epoch.

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

    def __init__(self, schedule: Callable[[int], float], verbose: int = 0) -> None:
        super().__init__(schedule, coefficient="regularizer_weight", verbose=verbose)
        declare_attributes(self, RegularizerSchedule)

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "verbose": self.verbose,
        }
