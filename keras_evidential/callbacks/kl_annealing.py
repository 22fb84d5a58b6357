"""KLAnnealing: the epoch schedule of EDL's KL coefficient."""

import keras
from keras import ops

from keras_evidential.callbacks.compiled_losses import FIRST_EDL_EPOCH
from keras_evidential.callbacks.compiled_losses import find_edl_losses
from keras_evidential.callbacks.compiled_losses import refresh_compiled_steps
from keras_evidential.callbacks.compiled_losses import warn_about_siblings
from keras_evidential.losses.edl_loss import validate_kl_weight


def annealed_kl_weight(epochs_of_edl, increment, max_weight):
    """`lambda_t = min(max_weight, t * increment)`, and 0 before EDL starts."""
    return min(max_weight, max(0, epochs_of_edl) * increment)


@keras.saving.register_keras_serializable(package="keras_evidential")
class KLAnnealing(keras.callbacks.Callback):
    """Anneals the KL coefficient of the evidential losses once per epoch.

    Every compiled loss with a `kl_weight` variable is scheduled: `EDLLoss`,
    `REDLoss`, `IEDLLoss`, `RelaxedEDLLoss` (R-EDL) and `DAEDLLoss`.

    Formula:
    ```
    kl_weight_t = min(max_weight, t * increment)
    ```

    where `t` is the zero-based number of epochs trained with the EDL loss:
    the epoch index, or, with `TwoStageFit`, the epochs since the switch. The
    value is written into the loss's `kl_weight` variable at the start of each
    epoch (so it changes the compiled step, also with `jit_compile=True`) and
    logged as `logs["kl_weight"]`, visible in `History` and in a
    `TensorBoard` callback listed after this one (a warning says so if
    TensorBoard comes first).

    Because the loss changes every epoch, `val_loss` values of different
    epochs are not comparable: for `EarlyStopping` or
    `ModelCheckpoint(save_best_only=True)`, compile with
    `keras_evidential.metrics.BayesRisk()` and monitor `"val_risk"`. A
    callback monitoring `"val_loss"` beside this one gets a warning.

    Args:
        increment: Float >= 0, the per-epoch increase (TEDL's lambda; the
            original EDL code uses 0.1, i.e. full weight after 10 epochs).
            Defaults to `0.1`.
        max_weight: Float >= 0, the ceiling. Defaults to `1.0`.
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

    def __init__(self, increment=0.1, max_weight=1.0, verbose=0):
        super().__init__()
        validate_kl_weight(increment, "increment")
        validate_kl_weight(max_weight, "max_weight")
        self.increment = float(increment)
        self.max_weight = float(max_weight)
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        find_edl_losses(self.model, "KLAnnealing", allow_pending=True, annealable=True)
        warn_about_siblings(self, "kl_weight")

    def on_epoch_begin(self, epoch, logs=None):
        changed = False
        # Set by `TwoStageFit` in this `fit` call's params; 0 without it.
        first_edl_epoch = (self.params or {}).get(FIRST_EDL_EPOCH, 0)
        weight = annealed_kl_weight(
            epoch - first_edl_epoch, self.increment, self.max_weight
        )
        losses = find_edl_losses(self.model, "KLAnnealing", allow_pending=True, annealable=True)
        if not losses and weight != 0.0:
            raise ValueError(
                f"KLAnnealing must set kl_weight={weight} before the first "
                "step, but the model was compiled with the EDLLoss class, whose "
                "instance Keras makes at that step. Compile with an instance: "
                "loss=EDLLoss(). Received: model.loss=EDLLoss (the class)"
            )
        for loss in losses:
            current = ops.convert_to_numpy(loss.kl_weight)
            changed |= bool(current != current.dtype.type(weight))
            loss.kl_weight.assign(weight)
        if changed:
            refresh_compiled_steps(self.model)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: KLAnnealing setting kl_weight to {weight}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            loss = find_edl_losses(self.model, "KLAnnealing", annealable=True)[0]
            logs["kl_weight"] = float(ops.convert_to_numpy(loss.kl_weight))

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {
            "increment": self.increment,
            "max_weight": self.max_weight,
            "verbose": self.verbose,
        }
