"""TwoStageFit: TEDL's cross-entropy stage, then EDL, in one `fit` call."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.callbacks.compiled_losses import FIRST_EDL_EPOCH
from keras_evidential.callbacks.compiled_losses import check_losses_match_model
from keras_evidential.callbacks.compiled_losses import find_losses
from keras_evidential.callbacks.compiled_losses import refresh_compiled_steps
from keras_evidential.losses.edl_loss import CROSS_ENTROPY_STAGE
from keras_evidential.losses.edl_loss import EDL_STAGE
from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import check_int
from keras_evidential.validation import declare_attributes


@keras.saving.register_keras_serializable(package="keras_evidential")
class TwoStageFit(DeclaredAttributes, keras.callbacks.Callback):
    """Trains with softmax cross-entropy first, then with the EDL loss.

    TEDL's two stages inside one `model.fit`: for epochs `< switch_epoch` the
    model's `EDLLoss(from_logits=True)` computes softmax cross-entropy on the
    logits; from `switch_epoch` on it computes the EDL loss on
    `evidence(logits) + 1` with the same weights and the same optimizer state
    (the model is not recompiled). Use an ELU-based evidence
    (`EvidenceELU`) for stage 2 so no output unit can die. The stage (1 or 2)
    is logged as `logs["stage"]`; with `KLAnnealing`, the annealing counts
    epochs from the switch.

    The stage is a pure function of the epoch index, so a run resumed by
    `keras.callbacks.BackupAndRestore` continues in the right stage.

    `val_loss` is cross-entropy before the switch and the EDL loss after it,
    so its epochs are not comparable: monitor `"val_risk"`
    (`keras_evidential.metrics.BayesRisk()`) in `EarlyStopping` or
    `ModelCheckpoint(save_best_only=True)`. Keras gives a callback no view of
    the other callbacks, so this cannot be warned about.

    Args:
        switch_epoch: Integer >= 0, the zero-based epoch at which stage 2
            (EDL) begins.
        verbose: Integer. 0: quiet, 1: print a message at the switch.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(32, 4))
    >>> y = np.arange(32) % 3
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile(
    ...     optimizer="adam",
    ...     loss=keras_evidential.losses.EDLLoss(
    ...         from_logits=True, evidence=keras_evidential.layers.EvidenceELU()))
    >>> history = model.fit(x, y, epochs=4, verbose=0, callbacks=[
    ...     keras_evidential.callbacks.TwoStageFit(switch_epoch=2),
    ...     keras_evidential.callbacks.KLAnnealing(increment=0.1)])
    >>> history.history["stage"]
    [1, 1, 2, 2]
    >>> [round(w, 6) for w in history.history["kl_weight"]]
    [0.0, 0.0, 0.0, 0.1]

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(self, switch_epoch: int, verbose: int = 0) -> None:
        super().__init__()
        self.switch_epoch = check_int(switch_epoch, "switch_epoch", minimum=0)
        self.verbose = check_int(verbose, "verbose", minimum=0)
        declare_attributes(self, TwoStageFit)

    def _losses(self):
        losses = find_losses(
            self.model, "TwoStageFit", lambda loss: isinstance(loss, EDLLoss),
            "`keras_evidential.losses.EDLLoss(from_logits=True)`",
        )
        for loss in losses:
            if not loss.from_logits:
                raise ValueError(
                    "TwoStageFit trains stage 1 with cross-entropy on the "
                    "logits, so the model must output logits and its loss "
                    "must be EDLLoss(from_logits=True, evidence=...). "
                    f"Received: a loss with from_logits={loss.from_logits}"
                )
        return losses

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._losses()
        check_losses_match_model(self.model)
        # Read by `KLAnnealing` of the same `fit` call only: Keras makes a new
        # params dict for every `fit`.
        if self.params is not None:
            self.params[FIRST_EDL_EPOCH] = self.switch_epoch

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        stage = CROSS_ENTROPY_STAGE if epoch < self.switch_epoch else EDL_STAGE
        losses = self._losses()
        if int(ops.convert_to_numpy(losses[0].stage)) == stage:
            return
        for loss in losses:
            loss.stage.assign(stage)
        refresh_compiled_steps(self.model)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: TwoStageFit entering stage {stage}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["stage"] = int(ops.convert_to_numpy(self._losses()[0].stage))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TwoStageFit:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        return {"switch_epoch": self.switch_epoch, "verbose": self.verbose}
