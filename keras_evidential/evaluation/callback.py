"""UncertaintyMonitor: uncertainty figures and histograms once per epoch."""

import importlib.util
import math

import keras
import numpy as np

from keras_evidential.evaluation import curves
from keras_evidential.evaluation.report import ends_with_unknown_head
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.metrics.predictions import validate_threshold


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

    Args:
        validation_data: `(x, y)`: model inputs and integer labels in
            `[0, K]`, K marking unknown samples.
        unknown_class: Whether the model's output has m-EDL's unknown class
            as its last column. Defaults to None: True if the model's last
            layer is `UnknownClassHead`.
        threshold: Vacuity threshold of the open-set figures. Defaults to
            None (threshold-free predictions).
        log_dir: Optional folder for `tf.summary` event files.
        prefix: Prefix of the names in `logs`. Defaults to `"val_"`.
        batch_size: Batch size of `model.predict`. Defaults to 256.
        freq: Evaluate every `freq` epochs. Defaults to 1.
        evidence: None (default) if the model outputs `alpha`; for a model
            that outputs logits (`EDLLoss(from_logits=True)`, TEDL), its
            evidence function, e.g. `"elu"`.

    Example:

    >>> monitor = keras_evidential.evaluation.UncertaintyMonitor(
    ...     (x_val, y_val), log_dir="logs/uncertainty")
    >>> model.fit(x, y, epochs=10, callbacks=[
    ...     monitor, keras.callbacks.TensorBoard("logs")])
    >>> model.history.history["val_misclassification_auroc"]

    Reference:
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(
        self,
        validation_data,
        unknown_class=None,
        threshold=None,
        log_dir=None,
        prefix="val_",
        batch_size=256,
        freq=1,
        evidence=None,
    ):
        super().__init__()
        try:
            x, y = validation_data
        except (TypeError, ValueError):
            raise ValueError(
                "`validation_data` must be a pair (x, y). "
                f"Received: validation_data={type(validation_data).__name__}"
            ) from None
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
            raise ValueError(f"`freq` must be an integer >= 1. Received: freq={freq!r}")
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
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.freq:
            return
        unknown_class = self.unknown_class
        if unknown_class is None:
            unknown_class = ends_with_unknown_head(self.model)
        alpha = curves.alpha_from_outputs(
            self.model.predict(self.x, batch_size=self.batch_size, verbose=0),
            self.evidence,
        )
        figures = {
            self.prefix + name: value
            for name, value in curves.uncertainty_metrics(
                alpha, self.y, unknown_class=unknown_class, threshold=self.threshold
            ).items()
            if math.isfinite(value)
        }
        if logs is not None:
            logs.update(figures)
        if self.log_dir is not None:
            self._write_summaries(epoch, alpha, unknown_class, figures)

    def _write_summaries(self, epoch, alpha, unknown_class, figures):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        labels = curves.label_indices(alpha, self.y, unknown_class)
        predictions = curves.predicted_labels(alpha, unknown_class)
        vacuity = curves.uncertainty_measures(alpha, unknown_class)["vacuity"]
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

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
