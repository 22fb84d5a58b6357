"""TwoStageFit: TEDL's cross-entropy stage, then EDL, in one `fit` call."""

import keras
import numpy as np
from keras import ops

from keras_evidential.callbacks.compiled_losses import FIRST_EDL_EPOCH
from keras_evidential.callbacks.compiled_losses import find_edl_losses
from keras_evidential.callbacks.compiled_losses import refresh_compiled_steps
from keras_evidential.callbacks.compiled_losses import warn_about_siblings
from keras_evidential.losses.edl_loss import CROSS_ENTROPY_STAGE
from keras_evidential.losses.edl_loss import EDL_STAGE


@keras.saving.register_keras_serializable(package="keras_evidential")
class TwoStageFit(keras.callbacks.Callback):
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

    Args:
        switch_epoch: Integer >= 0, the zero-based epoch at which stage 2
            (EDL) begins.
        verbose: Integer. 0: quiet, 1: print a message at the switch.

    Example:

    >>> model.compile(
    ...     optimizer="adam",
    ...     loss=keras_evidential.losses.EDLLoss(
    ...         from_logits=True, evidence=keras_evidential.layers.EvidenceELU()))
    >>> model.fit(x, y, epochs=10, callbacks=[
    ...     keras_evidential.callbacks.TwoStageFit(switch_epoch=4),
    ...     keras_evidential.callbacks.KLAnnealing(increment=0.1)])

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(self, switch_epoch, verbose=0):
        super().__init__()
        if isinstance(switch_epoch, (bool, np.bool_)) or not isinstance(
            switch_epoch, (int, np.integer)
        ) or switch_epoch < 0:
            raise ValueError(
                "`switch_epoch` must be an integer >= 0. "
                f"Received: switch_epoch={switch_epoch!r}"
            )
        self.switch_epoch = int(switch_epoch)
        self.verbose = verbose

    def _losses(self):
        losses = find_edl_losses(self.model, "TwoStageFit")
        for loss in losses:
            if not loss.from_logits:
                raise ValueError(
                    "TwoStageFit trains stage 1 with cross-entropy on the "
                    "logits, so the model must output logits and its loss "
                    "must be EDLLoss(from_logits=True, evidence=...). "
                    f"Received: a loss with from_logits={loss.from_logits}"
                )
        return losses

    def on_train_begin(self, logs=None):
        self._losses()
        # Read by `KLAnnealing` of the same `fit` call only: Keras makes a new
        # params dict for every `fit`.
        if self.params is not None:
            self.params[FIRST_EDL_EPOCH] = self.switch_epoch
        warn_about_siblings(self, "stage")

    def on_epoch_begin(self, epoch, logs=None):
        stage = CROSS_ENTROPY_STAGE if epoch < self.switch_epoch else EDL_STAGE
        losses = self._losses()
        if int(ops.convert_to_numpy(losses[0].stage)) == stage:
            return
        for loss in losses:
            loss.stage.assign(stage)
        refresh_compiled_steps(self.model)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: TwoStageFit entering stage {stage}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["stage"] = int(ops.convert_to_numpy(self._losses()[0].stage))

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {"switch_epoch": self.switch_epoch, "verbose": self.verbose}
