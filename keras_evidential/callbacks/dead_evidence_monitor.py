"""DeadEvidenceMonitor: zero-evidence samples and dead output units per epoch."""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.callbacks.prediction import predict_in_full_batches
from keras_evidential.deprecation import renamed_argument
from keras_evidential.layers.dirichlet_output import validate_prior_concentration
from keras_evidential.model_kind import model_kind
from keras_evidential.model_kind import output_layer
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.validation import check_bool


@renamed_argument("prior_weight", "prior_concentration")
def dead_evidence_statistics(
    alpha: ArrayLike, prior_concentration: float = 1.0, tolerance: float = 0.0
) -> dict[str, float]:
    """Shares of samples without evidence and of classes that never get any.

    Args:
        alpha: `(N, K)` concentrations `evidence + prior_concentration`.
        prior_concentration: The constant the model adds to its evidence.
        tolerance: Evidence at or below this counts as zero.

    Returns:
        A dict: `zero_evidence_fraction` (samples whose total evidence is
        zero), `dead_units` (number of classes whose evidence is zero on
        every sample) and `dead_unit_fraction`.
    """
    alpha = np.asarray(alpha)
    if np.issubdtype(alpha.dtype, np.floating):
        # A float32 head outputs e + float32(lambda): subtracting lambda in
        # float64 would leave 1.5e-9 of evidence on a dead unit for 0.1.
        prior_concentration = float(alpha.dtype.type(prior_concentration))
    alpha = alpha.astype("float64")
    if alpha.ndim != 2 or alpha.shape[0] == 0:
        raise ValueError(
            "Expected `alpha` of shape (num_samples > 0, num_classes). "
            f"Received: alpha.shape={alpha.shape}"
        )
    silent = (alpha - prior_concentration) <= tolerance
    dead = int(silent.all(axis=0).sum())
    return {
        "zero_evidence_fraction": float(silent.all(axis=1).mean()),
        "dead_units": dead,
        "dead_unit_fraction": dead / alpha.shape[1],
    }


class DeadEvidenceMonitor(keras.callbacks.Callback):
    """Logs, per epoch, how much of a model's evidence has died.

    At the end of every epoch the model predicts on `x` and logs
    `zero_evidence_fraction` (samples with zero total evidence: the
    "zero-evidence region" where EDL's gradients vanish) and `dead_units`
    (output units whose evidence is zero on every sample; with ReLU
    evidence such a unit never recovers). With `warn=True` it warns when a
    unit dies. m-EDL's study found 8 of 10 ReLU-evidence runs losing 1-5 of
    10 class units.

    The output is read by `keras_evidential.model_kind`, so the evidence is
    right for every head: `alpha - 1` for EDL, `alpha - lambda` for R-EDL's
    `DirichletOutput(prior_concentration=lambda)`, `alpha` itself for DAEDL's
    `exp(z)`, F-EDL's `alpha + tau p` (not its packed `[alpha, p, tau]`),
    and a logits model's (TEDL's) evidence function from its compiled
    `EDLLoss(from_logits=True)`; m-EDL's unknown class is left out.

    Formula:
    ```
    evidence = to_alpha(output) - minimum_alpha   (per sample and class)
    zero_evidence_fraction = mean_i [all_k evidence_ik <= tolerance]
    dead_units = sum_k [all_i evidence_ik <= tolerance]
    ```

    Args:
        x: Inputs to watch (e.g. a few thousand validation samples).
        prior_concentration: The constant of `alpha = e + prior_concentration`. Defaults to
            None: the head's (1 for EDL, R-EDL's lambda, 0 for the `exp`
            heads of DAEDL and F-EDL). A value that contradicts the head's
            is refused.
        tolerance: Evidence at or below this counts as zero. Defaults to 0.
        unknown_class: Whether the model's last output column is m-EDL's
            unknown class (ignored here). Defaults to None: detected.
        warn: Whether to warn when dead units appear. Defaults to `True`.
        batch_size: Batch size of the prediction. Defaults to 256.
        evidence: For a model that outputs logits, its evidence function,
            e.g. `"relu"`; None reads the compiled
            `EDLLoss(from_logits=True)`'s.

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

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        x: ArrayLike,
        prior_concentration: float | None = None,
        tolerance: float = 0.0,
        unknown_class: bool | None = None,
        warn: bool = True,
        batch_size: int = 256,
        evidence: str | keras.layers.Layer | None = None,
    ) -> None:
        super().__init__()
        self.x = x
        self.prior_concentration = (
            None if prior_concentration is None else validate_prior_concentration(prior_concentration)
        )
        if not tolerance >= 0:
            raise ValueError(
                f"`tolerance` must be >= 0. Received: tolerance={tolerance}"
            )
        self.tolerance = float(tolerance)
        self.unknown_class = (
            None if unknown_class is None else check_bool(unknown_class, "unknown_class")
        )
        self.warn = check_bool(warn, "warn")
        self.batch_size = batch_size
        self.evidence = evidence
        self.history: list[dict[str, float]] = []

    def _evidence_offset(self, kind):
        """The constant between alpha and evidence: the head's, or the
        user's where the head does not say."""
        if self.prior_concentration is None:
            return kind.minimum_alpha
        if hasattr(output_layer(self.model), "prior_concentration") and (
            self.prior_concentration != kind.prior_concentration
        ):
            # Another constant would move every unit's evidence (R-EDL's
            # 0.1 read as 1 made live units look dead).
            raise ValueError(
                "`prior_concentration` contradicts the model's head, whose prior "
                f"weight is {kind.prior_concentration}; leave it None to use the "
                f"head's. Received: prior_concentration={self.prior_concentration!r}"
            )
        return self.prior_concentration

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        kind = model_kind(
            self.model,
            output="logits" if self.evidence is not None else None,
            evidence=self.evidence,
            unknown_class=self.unknown_class,
        )
        outputs = predict_in_full_batches(self.model, self.x, self.batch_size)
        alpha = np.asarray(ops.convert_to_numpy(kind.to_alpha(outputs)))
        if kind.unknown_class:
            alpha = alpha[:, :-1]
        stats = dead_evidence_statistics(
            alpha, self._evidence_offset(kind), self.tolerance
        )
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
