"""KLAnnealing: the epoch schedule of EDL's KL coefficient."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.callbacks.coefficient_schedule import CoefficientSchedule
from keras_evidential.callbacks.compiled_losses import FIRST_EDL_EPOCH
from keras_evidential.losses.coefficients import validate_coefficient
from keras_evidential.validation import check_int
from keras_evidential.validation import declare_attributes


def annealed_kl_weight(
    epochs_of_edl: int, increment: float, max_weight: float
) -> float:
    """`lambda_t = min(max_weight, t * increment)`, and 0 before EDL starts."""
    return min(max_weight, max(0, epochs_of_edl) * increment)


@keras.saving.register_keras_serializable(package="keras_evidential")
class KLAnnealing(CoefficientSchedule):
    """Anneals the KL coefficient of the evidential losses once per epoch.

    Every compiled loss with a `kl_weight` variable is scheduled: `EDLLoss`,
    `CorrectEvidenceLoss`, `IEDLLoss`, `RelaxedEDLLoss` (R-EDL) and `DAEDLLoss`.

    Formula:
    ```
    kl_weight_t = min(max_weight, t * increment)
    ```

    where `t = epoch - start_epoch` is the zero-based number of epochs
    trained with the evidential loss. A preset of `CoefficientSchedule`: the
    value is written into the loss's `kl_weight` variable at the start of
    each epoch (so it changes the compiled step, also with
    `jit_compile=True`) and logged as `logs["kl_weight"]`, visible in
    `History` and in callbacks listed after this one; compile with
    `keras_evidential.metrics.LossCoefficient(loss)` for a record that does
    not depend on the callbacks' order (`TensorBoard` listed first).

    Because the loss changes every epoch, `val_loss` values of different
    epochs are not comparable: for `EarlyStopping`,
    `ModelCheckpoint(save_best_only=True)` or `ReduceLROnPlateau`, compile
    with `keras_evidential.metrics.BayesRisk()` and monitor `"val_risk"`.
    Keras gives a callback no view of the other callbacks, so a `val_loss`
    monitor cannot be warned about: this is the place that says it.

    Args:
        increment: Float >= 0, the per-epoch increase (TEDL's lambda; the
            original EDL code uses 0.1, i.e. full weight after 10 epochs).
            Defaults to `0.1`.
        max_weight: Float >= 0, the ceiling. Defaults to `1.0`.
        start_epoch: Integer >= 0 or None, the first epoch (zero-based, as
            `fit` counts them, `initial_epoch` included) trained with the
            evidential loss, whose KL weight is 0. Use it when a
            cross-entropy stage ran before, in this `fit` or an earlier one.
            None (default): `TwoStageFit`'s `switch_epoch` in the same `fit`,
            else 0.
        verbose: Integer. 0: quiet, 1: print the value every epoch.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(32, 4))
    >>> y = np.arange(32) % 3
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam", loss=keras_evidential.losses.EDLLoss())
    >>> history = model.fit(
    ...     x, y, epochs=3, verbose=0,
    ...     callbacks=[keras_evidential.callbacks.KLAnnealing(0.1)])
    >>> [round(w, 6) for w in history.history["kl_weight"]]
    [0.0, 0.1, 0.2]

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(
        self,
        increment: float = 0.1,
        max_weight: float = 1.0,
        start_epoch: int | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(self._annealed, coefficient="kl_weight", verbose=verbose)
        self.increment = validate_coefficient(increment, "increment")
        self.max_weight = validate_coefficient(max_weight, "max_weight")
        self.start_epoch = (
            None if start_epoch is None
            else check_int(start_epoch, "start_epoch", minimum=0)
        )
        declare_attributes(self, KLAnnealing)

    def _annealed(self, epoch):
        start = self.start_epoch
        if start is None:
            # Set by `TwoStageFit` in this `fit` call's params; 0 without it.
            start = (self.params or {}).get(FIRST_EDL_EPOCH, 0)
        return annealed_kl_weight(epoch - start, self.increment, self.max_weight)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> KLAnnealing:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        return {
            "increment": self.increment,
            "max_weight": self.max_weight,
            "start_epoch": self.start_epoch,
            "verbose": self.verbose,
        }
