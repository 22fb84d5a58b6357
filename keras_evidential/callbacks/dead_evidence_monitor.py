"""DeadEvidenceMonitor: zero-evidence samples and dead output units per epoch."""

import warnings

import keras
import numpy as np

from keras_evidential.layers.dirichlet_output import validate_prior_weight


def dead_evidence_statistics(alpha, prior_weight=1.0, tolerance=0.0):
    """Shares of samples without evidence and of classes that never get any.

    Args:
        alpha: `(N, K)` concentrations `evidence + prior_weight`.
        prior_weight: The constant the model adds to its evidence.
        tolerance: Evidence at or below this counts as zero.

    Returns:
        A dict: `zero_evidence_fraction` (samples whose total evidence is
        zero), `dead_units` (number of classes whose evidence is zero on
        every sample) and `dead_unit_fraction`.
    """
    alpha = np.asarray(alpha, dtype="float64")
    if alpha.ndim != 2 or alpha.shape[0] == 0:
        raise ValueError(
            "Expected `alpha` of shape (num_samples > 0, num_classes). "
            f"Received: alpha.shape={alpha.shape}"
        )
    silent = (alpha - prior_weight) <= tolerance
    dead = int(silent.all(axis=0).sum())
    return {
        "zero_evidence_fraction": float(silent.all(axis=1).mean()),
        "dead_units": dead,
        "dead_unit_fraction": dead / alpha.shape[1],
    }


class DeadEvidenceMonitor(keras.callbacks.Callback):
    """Logs, per epoch, how much of a model's evidence has died.

    At the end of every epoch the model predicts `alpha` on `x` and logs
    `zero_evidence_fraction` (samples with zero total evidence: the
    "zero-evidence region" where EDL's gradients vanish) and `dead_units`
    (output units whose evidence is zero on every sample; with ReLU
    evidence such a unit never recovers). With `warn=True` it warns when a
    unit dies. m-EDL's study found 8 of 10 ReLU-evidence runs losing 1-5 of
    10 class units.

    Args:
        x: Inputs to watch (e.g. a few thousand validation samples).
        prior_weight: The constant of `alpha = e + prior_weight` (1 for EDL;
            R-EDL's lambda). Defaults to `1.0`.
        tolerance: Evidence at or below this counts as zero. Defaults to 0.
        unknown_class: Whether the model ends in `UnknownClassHead`; its
            constant last column is ignored. Defaults to `False`.
        warn: Whether to warn when dead units appear. Defaults to `True`.
        batch_size: Batch size of the prediction. Defaults to 256.

    Example:

    A unit whose logits are all negative (here: a bias of -100) has died:

    >>> x, y = np.random.default_rng(0).normal(size=(32, 4)), np.arange(32) % 3
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(3, bias_initializer=keras.initializers.Constant(
    ...         [0.0, 0.0, -100.0])),
    ...     keras_evidential.layers.DirichletOutput("relu")])
    >>> model.compile(optimizer="adam", loss=keras_evidential.losses.EDLLoss())
    >>> monitor = keras_evidential.callbacks.DeadEvidenceMonitor(x, warn=False)
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    >>> history.history["dead_units"]
    [1, 1]

    Reference:
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    - Pandey & Yu, ICML 2023 (zero-evidence regions)
    """

    def __init__(
        self,
        x,
        prior_weight=1.0,
        tolerance=0.0,
        unknown_class=False,
        warn=True,
        batch_size=256,
    ):
        super().__init__()
        self.x = x
        self.prior_weight = validate_prior_weight(prior_weight)
        if not tolerance >= 0:
            raise ValueError(
                f"`tolerance` must be >= 0. Received: tolerance={tolerance}"
            )
        self.tolerance = float(tolerance)
        self.unknown_class = bool(unknown_class)
        self.warn = bool(warn)
        self.batch_size = batch_size
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        alpha = np.asarray(
            self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        )
        if self.unknown_class:
            alpha = alpha[:, :-1]
        stats = dead_evidence_statistics(alpha, self.prior_weight, self.tolerance)
        self.history.append(stats)
        if logs is not None:
            logs.update(stats)
        if self.warn and stats["dead_units"]:
            warnings.warn(
                f"Epoch {epoch + 1}: {stats['dead_units']} of {alpha.shape[1]} "
                "output units give zero evidence on every monitored sample "
                "(dead units; with ReLU evidence they cannot recover). "
                "Consider softplus/exp/ELU evidence or CorrectEvidenceLoss.",
                stacklevel=2,
            )
