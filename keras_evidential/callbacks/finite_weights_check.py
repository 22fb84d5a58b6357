"""FiniteWeightsCheck: fails training as soon as a weight is NaN or inf."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.callbacks.compiled_losses import check_losses_match_model
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import check_int
from keras_evidential.validation import declare_attributes


@keras.saving.register_keras_serializable(package="keras_evidential")
class FiniteWeightsCheck(DeclaredAttributes, keras.callbacks.Callback):
    """Raises an error naming the first model variable that is NaN or inf.

    Catches what no loss can see: a NaN or inf in the input features whose
    gradient poisons the weights while the loss stays finite (TensorFlow's
    oneDNN CPU kernels compute ReLU(NaN) = 0, so the model then answers every
    input with alpha ~ 1, a plausible-looking "I don't know"; Keras's
    `TerminateOnNaN` watches the loss and misses it). Works on every backend
    and under XLA. Also refuses, at the start of `fit`, an `EDLLoss` with
    `from_logits=True` on a model that already outputs alpha.

    The check reads every variable back to the host: once per epoch by
    default (milliseconds for a small network), or every `every_n_batches`
    batches to stop sooner, at that cost per check.

    Args:
        every_n_batches: None (default: at each epoch's end) or an integer
            >= 1: also after every n-th training batch.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    >>> x[3, 1] = np.nan
    >>> y = np.arange(32) % 3
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
    ...     keras.layers.Dense(3), keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam", loss=keras_evidential.losses.EDLLoss())
    >>> try:
    ...     model.fit(x, y, epochs=1, verbose=0, callbacks=[
    ...         keras_evidential.callbacks.FiniteWeightsCheck()])
    ... except ValueError as error:
    ...     print("not finite" in str(error))
    True

    Reference:
    - `docs/core.md`, "NaN in the features"
    """

    def __init__(self, every_n_batches: int | None = None) -> None:
        super().__init__()
        self.every_n_batches = (
            None if every_n_batches is None
            else check_int(every_n_batches, "every_n_batches", minimum=1)
        )
        declare_attributes(self, FiniteWeightsCheck)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        check_losses_match_model(self.model)

    def on_train_batch_end(
        self, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        if self.every_n_batches and (batch + 1) % self.every_n_batches == 0:
            self._check(f"after batch {batch}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._check(f"after epoch {epoch}")

    def _check(self, when):
        for variable in self.model.variables:
            if "float" not in keras.backend.standardize_dtype(variable.dtype):
                continue
            value = ops.convert_to_numpy(variable)
            if not np.all(np.isfinite(value)):
                raise ValueError(
                    f"The model's variable {variable.path!r} is not finite "
                    f"{when}: {int(np.sum(~np.isfinite(value)))} of "
                    f"{value.size} entries are NaN or inf. The usual cause is "
                    "NaN or inf in the input features (whose gradient poisons "
                    "the first layer even where the loss stays finite) or a "
                    "diverged optimiser: check the data, e.g. with "
                    "keras_evidential.layers.AssertFinite() after the input. "
                    f"Received: {variable.path} with "
                    f"{int(np.sum(np.isnan(value)))} NaN entries"
                )

    def get_config(self) -> dict[str, Any]:
        return {"every_n_batches": self.every_n_batches}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FiniteWeightsCheck:
        return cls(**config)
