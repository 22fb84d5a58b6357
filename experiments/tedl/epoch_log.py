"""EpochEvaluator: the TEDL study's per-epoch measurements on the test split."""

import time

import keras
import numpy as np
from keras import ops

from keras_evidential import dirichlet
from keras_evidential import evaluation
from experiments.tedl.dying_relu import evidence_diagnostics
from keras_evidential.layers.evidence import get as get_evidence

# u <= threshold keeps a sample; the last threshold, 1.0, keeps every sample.
THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(1, 11))
HISTOGRAM_BINS = 10


class EpochEvaluator(keras.callbacks.Callback):
    """Measures the model on held-out pairs after every epoch.

    Records (one dict per epoch, in `self.records`): the training loss, the
    stage and KL weight logged by `TwoStageFit` / `KLAnnealing`, the ROC AUC,
    and for evidential runs the AUC and coverage below each uncertainty
    threshold, the uncertainty histogram and the dying-ReLU statistics. The
    score ranked by the AUC is the probability of class 1: softmax for
    cross-entropy, `alpha_1 / S` for EDL and TEDL (also in TEDL's first stage,
    read through its evidence function).

    Args:
        x: Model inputs of the evaluation pairs.
        y: Their binary labels.
        evidence: The run's evidence name, or None for cross-entropy.
        batch_size: Prediction batch size.
        log: A function that prints one line per epoch, or None.
    """

    def __init__(self, x, y, evidence, batch_size=2048, log=None):
        super().__init__()
        self.x = x
        self.y = np.asarray(y)
        self.evidence = evidence
        self.batch_size = batch_size
        self.log = log
        self.records = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        epoch_s = time.time() - self._start
        logits = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        record = {
            "epoch": epoch + 1,
            "stage": int(logs.get("stage", 2 if self.evidence else 1)),
            "kl_weight": float(logs.get("kl_weight", 0.0)),
            "loss": float(logs.get("loss", float("nan"))),
            "epoch_s": round(epoch_s, 2),
        }
        if self.evidence is None:
            probability = ops.convert_to_numpy(ops.softmax(logits, axis=-1))
            record["auc"] = evaluation.roc_auc(self.y, probability[:, 1])
        else:
            evidence = ops.convert_to_numpy(
                get_evidence(self.evidence)(np.asarray(logits, dtype="float32"))
            )
            alpha = ops.convert_to_numpy(dirichlet.alpha_from_evidence(evidence))
            u = ops.convert_to_numpy(dirichlet.vacuity(alpha))
            probability = ops.convert_to_numpy(dirichlet.expected_probability(alpha))
            record["auc"] = evaluation.roc_auc(self.y, probability[:, 1])
            record.update(evidence_diagnostics(evidence))
            record["u_mean"] = float(u.mean())
            record["u_median"] = float(np.median(u))
            curve = evaluation.auc_vs_threshold(alpha, self.y, THRESHOLDS)
            for threshold, auc, coverage in zip(
                THRESHOLDS, curve["auc"], curve["coverage"]
            ):
                record[f"auc_u{threshold:.1f}"] = float(auc)
                record[f"cov_u{threshold:.1f}"] = float(coverage)
            histogram = evaluation.uncertainty_distribution(
                alpha, self.y, bins=HISTOGRAM_BINS
            )
            counts = histogram["correct"] + histogram["misclassified"]
            for i, share in enumerate(counts / max(1, counts.sum())):
                record[f"u_hist{i}"] = float(share)
        self.records.append(record)
        if self.log is not None:
            extra = ""
            if self.evidence is not None:
                extra = (
                    f" u_mean {record['u_mean']:.3f}"
                    f" zero-evidence {record['zero_evidence_share']:.3f}"
                    f" dead units {record['dead_unit_share']:.2f}"
                )
            self.log(
                f"epoch {epoch + 1} stage {record['stage']} kl {record['kl_weight']:.2f}"
                f" loss {record['loss']:.4f} AUC {record['auc']:.4f}{extra}"
                f" ({epoch_s:.1f} s)"
            )
