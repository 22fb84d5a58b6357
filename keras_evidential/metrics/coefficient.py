"""LossCoefficient: a scheduled loss coefficient, logged by Keras as a metric."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_choice


COEFFICIENTS = ("kl_weight", "regularizer_weight", "stage")


@keras.saving.register_keras_serializable(package="keras_evidential")
class LossCoefficient(keras.metrics.Metric):
    """Reports a loss's current coefficient (KL weight, lambda, TEDL stage).

    A schedule callback (`KLAnnealing`, `RegularizerSchedule`,
    `CoefficientSchedule`, `TwoStageFit`) changes a coefficient of the loss
    between epochs. As a compiled metric its value enters the logs that
    Keras itself makes, so `History`, `TensorBoard`, `CSVLogger` and
    `ProgbarLogger` all show it whatever the order of the callbacks (a
    callback's own `logs[...]` entry reaches only the callbacks listed after
    it).

    Formula:
    ```
    result = loss.<coefficient>   # the value the training step used
    ```

    Args:
        loss: The loss instance given to `compile`, which holds the
            coefficient in a `keras.Variable`.
        coefficient: `"kl_weight"` (default), `"regularizer_weight"` or
            `"stage"`.
        name: The metric's name, and so the log key. Defaults to
            `coefficient`.
        dtype: The metric's dtype.

    Note: the metric holds a reference to the loss, which a config cannot
    carry. A model saved and loaded with its compile configuration gets a
    metric bound to no loss, which reports NaN until compiled again with
    `LossCoefficient(new_loss)`.

    Example:

    >>> import os
    >>> loss = keras_evidential.losses.EDLLoss()
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam", loss=loss,
    ...               metrics=[keras_evidential.metrics.LossCoefficient(loss)])
    >>> x, y = np.ones((8, 4)), np.arange(8) % 3
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
    ...     keras.callbacks.CSVLogger(os.devnull),  # a logger listed first
    ...     keras_evidential.callbacks.KLAnnealing(increment=0.25)])
    >>> [round(w, 6) for w in history.history["kl_weight"]]
    [0.0, 0.25, 0.5]
    """

    def __init__(
        self,
        loss: keras.losses.Loss | None = None,
        coefficient: str = "kl_weight",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        self.coefficient = check_choice(coefficient, "coefficient", COEFFICIENTS)
        super().__init__(name=name or coefficient, dtype=dtype)
        if loss is not None and not isinstance(
            getattr(loss, coefficient, None), keras.Variable
        ):
            raise ValueError(
                f"`loss` must hold `{coefficient}` in a keras.Variable (the "
                "package's losses that a schedule changes). "
                f"Received: loss={loss!r}"
            )
        self.loss = loss
        self.value = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="value"
        )
        if loss is None:
            self.value.assign(float("nan"))

    def update_state(
        self,
        y_true: Tensor | None = None,
        y_pred: Tensor | None = None,
        sample_weight: Tensor | None = None,
    ) -> None:
        if self.loss is not None:
            current = getattr(self.loss, self.coefficient)
            self.value.assign(ops.cast(ops.convert_to_tensor(current), self.dtype))

    def reset_state(self) -> None:
        # The coefficient is not an average over batches: keep the value.
        pass

    def result(self) -> Tensor:
        return ops.convert_to_tensor(self.value)

    def get_config(self) -> dict[str, Any]:
        return {"coefficient": self.coefficient, "name": self.name, "dtype": self.dtype}
