"""UncertaintyMonitor: uncertainty figures and histograms once per epoch."""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.evaluation import curves
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import validate_threshold
from keras_evidential.model_kind import model_kind
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import PathLike
from keras_evidential.validation import check_int


# Not registered for serialization: it holds its validation arrays, which a
# config cannot carry (like Keras's own data-holding callbacks).
class UncertaintyMonitor(keras.callbacks.Callback):
    """Logs uncertainty figures of held-out data every epoch.

    At the end of each epoch the model predicts `alpha` on
    `validation_data`, and every finite figure of
    `keras_evidential.evaluation.uncertainty_metrics` (open-set accuracies,
    ECE, AUROCs, mean uncertainty measures) is added to `logs` as
    `prefix + name`, so `History`, `EarlyStopping` and a `TensorBoard`
    callback placed after this one see it. With `log_dir`, the figures and
    histograms of the vacuity (all samples, and split into correct,
    misclassified and unknown samples) are also written with `tf.summary`
    (TEDL's uncertainty distribution per epoch); this needs TensorFlow and
    the `tensorboard` package.
    The head's prior is read by `keras_evidential.model_kind`: an R-EDL
    head's vacuity is `lambda K / S`, DAEDL's alpha need only be > 0.

    Args:
        validation_data: `(x, y)`: model inputs and integer labels in
            `[0, K]`, K marking unknown samples.
        unknown_class: Whether the model's output has m-EDL's unknown class
            as its last column. Defaults to None: detected by
            `keras_evidential.model_kind`.
        threshold: Vacuity threshold of the open-set figures. Defaults to
            None (threshold-free predictions).
        log_dir: Optional folder for `tf.summary` event files.
        prefix: Prefix of the names in `logs`. Defaults to `"val_"`.
        batch_size: Batch size of `model.predict`. Defaults to 256.
        freq: Evaluate every `freq` epochs. Defaults to 1.
        evidence: For a model that outputs logits, its evidence function,
            e.g. `"elu"`; None detects the model's kind (a logits model
            compiled with `EDLLoss(from_logits=True)` uses the loss's).

    Example:

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(64, 4)), np.arange(64) % 3
    >>> x_val, y_val = rng.normal(size=(32, 4)), np.arange(32) % 4  # 3: unknown
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam", loss=keras_evidential.losses.EDLLoss())
    >>> monitor = keras_evidential.evaluation.UncertaintyMonitor((x_val, y_val))
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    >>> len(history.history["val_unknown_auroc"])
    2

    With `log_dir="logs/uncertainty"` it also writes TensorBoard summaries;
    list it before `keras.callbacks.TensorBoard("logs")`.

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(
        self,
        validation_data: tuple[ArrayLike, ArrayLike],
        unknown_class: bool | None = None,
        threshold: float | None = None,
        log_dir: PathLike | None = None,
        prefix: str = "val_",
        batch_size: int = 256,
        freq: int = 1,
        evidence: str | keras.layers.Layer | None = None,
    ) -> None:
        super().__init__()
        try:
            x, y = validation_data
        except (TypeError, ValueError):
            raise ValueError(
                "`validation_data` must be a pair (x, y). "
                f"Received: validation_data={type(validation_data).__name__}"
            ) from None
        check_int(freq, "freq", minimum=1)
        if log_dir is not None and importlib.util.find_spec("tensorboard") is None:
            raise ImportError(
                "Writing histograms with `log_dir` needs the `tensorboard` "
                "package: `pip install tensorboard`. "
                f"Received: log_dir={log_dir!r}"
            )
        self.x = x
        self.y = np.asarray(y)
        self.unknown_class = unknown_class
        self.threshold = validate_threshold(threshold)
        self.log_dir = None if log_dir is None else str(log_dir)
        self.prefix = prefix
        self.batch_size = batch_size
        self.freq = freq
        self.evidence = evidence
        self._writer: Any = None  # a tf.summary writer, made on first use

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.freq:
            return
        kind = model_kind(
            self.model,
            output="logits" if self.evidence is not None else None,
            evidence=self.evidence,
            unknown_class=self.unknown_class,
        )
        unknown_class = kind.unknown_class
        alpha = np.asarray(
            ops.convert_to_numpy(
                kind.to_alpha(
                    self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
                )
            ),
            "float32",
        )
        # The head's prior: R-EDL's vacuity lambda K / S, DAEDL's alpha > 0.
        prior: dict[str, Any] = {
            "prior_concentration": kind.prior_concentration,
            "minimum_alpha": kind.minimum_alpha,
        }
        figures = {
            self.prefix + name: value
            for name, value in curves.uncertainty_metrics(
                alpha,
                self.y,
                unknown_class=unknown_class,
                threshold=self.threshold,
                **prior,
            ).items()
            if math.isfinite(value)
        }
        if logs is not None:
            logs.update(figures)
        if self.log_dir is not None:
            self._write_summaries(epoch, alpha, unknown_class, figures, prior)

    def _write_summaries(self, epoch, alpha, unknown_class, figures, prior):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        labels = curves.label_indices(alpha, self.y, unknown_class)
        predictions = curves.predicted_labels(alpha, unknown_class)
        vacuity = curves.uncertainty_measures(alpha, unknown_class, **prior)["vacuity"]
        k = num_known_classes(alpha, unknown_class)
        groups = {
            "all": np.ones_like(labels, dtype=bool),
            "correct": (labels < k) & (predictions == labels),
            "misclassified": (labels < k) & (predictions != labels),
            "unknown": labels >= k,
        }
        with self._writer.as_default(step=epoch):
            for name, mask in groups.items():
                if mask.any():
                    tf.summary.histogram(f"{self.prefix}vacuity/{name}", vacuity[mask])
            for name, value in figures.items():
                tf.summary.scalar(name, value)
        self._writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
