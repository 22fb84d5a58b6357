"""Keras metrics of binary and multi-label models ending in `BetaOutput`.

`y_pred` is the Beta parameters `(batch, L, 2)`; `y_true` the 0/1 labels
`(batch, L)`, `mask_value` (default -1, as `BetaEDLLoss`) where a label is
missing. Each figure is the estimator that
`keras_evidential.evaluation.multilabel` applies to NumPy arrays, so
`model.evaluate` and the NumPy evaluation of `model.predict` give the same
number: the average precision of `keras_evidential.metrics.ranking`, the
calibration bins of `keras_evidential.metrics.calibration`, the OOD score of
`keras_evidential.beta.ood_score`.

Out-of-distribution samples, for `MultilabelOODAUPR`, are rows whose every
label is missing (`mask_value`): a sample that belongs to none of the L
labels' populations. `BetaEDLLoss` leaves such rows out, so one `evaluate`
call can hold in- and out-of-distribution data.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import beta
from keras_evidential.metrics import ranking
from keras_evidential.metrics.calibration import calibration_bins
from keras_evidential.metrics.calibration import confidence_and_correct
from keras_evidential.metrics.calibration import expected_calibration_error_from_bins
from keras_evidential.metrics.ranking_metric import DEFAULT_MAX_SAMPLES
from keras_evidential.metrics.ranking_metric import _refuse_replicated_buffers
from keras_evidential.metrics.ranking_metric import combined_weight
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import Condition
from keras_evidential.validation import assert_all
from keras_evidential.validation import binary_label_condition
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_int
from keras_evidential.validation import check_number
from keras_evidential.validation import concentration_condition

DEFAULT_MASK_VALUE = -1.0


def _checked_batch(y_true, y_pred, num_labels, mask_value):
    """`(labels, params)` of a batch, shapes and values checked."""
    params = ops.convert_to_tensor(y_pred)
    labels = ops.convert_to_tensor(y_true)
    if len(params.shape) == 3 and len(labels.shape) == 1 and params.shape[-2] == 1:
        labels = ops.expand_dims(labels, -1)  # a binary model's (batch,) labels
    if (
        len(params.shape) != 3
        or params.shape[-1] != 2
        or (num_labels is not None and params.shape[-2] != num_labels)
        or len(labels.shape) != 2
        or labels.shape[-1] != params.shape[-2]
    ):
        raise ValueError(
            "Expected `y_pred` of shape (batch, L, 2), the output of "
            f"`BetaOutput`{'' if num_labels is None else f' with L = {num_labels}'}, "
            "and `y_true` of shape (batch, L). Received: "
            f"y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(params.shape)}"
        )
    assert_all(
        binary_label_condition(labels, mask_value),
        concentration_condition(
            params,
            message="`y_pred` must hold finite Beta parameters alpha, beta >= 1 "
            "(the output of `BetaOutput`); it may not contain NaN or inf.",
        ),
    )
    return ops.cast(labels, "float32"), params


def _observed(labels, mask_value):
    return ops.not_equal(labels, mask_value)


def _nanmean(values):
    """The mean of the defined (non-NaN) entries; NaN if there is none."""
    defined = ops.logical_not(ops.isnan(values))
    count = ops.sum(ops.cast(defined, values.dtype))
    total = ops.sum(ops.where(defined, values, 0.0))
    return ops.where(count > 0, total / ops.maximum(count, 1.0), float("nan"))


def _check_mask_value(mask_value):
    mask_value = check_number(mask_value, "mask_value")
    if mask_value in (0.0, 1.0):
        raise ValueError(
            "`mask_value` must differ from the labels 0 and 1. "
            f"Received: mask_value={mask_value!r}"
        )
    return mask_value


class _SampleBuffer(keras.metrics.Metric):
    """Keeps every sample's scores and weights, `width` columns per sample,
    in fixed-size buffers (as `RankingMetric` does for one column): the state
    is the same on every backend and inside every compiled step."""

    def __init__(
        self, width: int, max_samples: int, name: str, dtype: str | None
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.max_samples = check_int(max_samples, "max_samples", minimum=1)

        def state(name):
            return self.add_variable(
                shape=(self.max_samples, width), initializer="zeros",
                dtype=self.dtype, name=name,
            )

        self.scores = state("scores")
        self.positive_weights = state("positive_weights")
        self.negative_weights = state("negative_weights")
        self.num_samples = self.add_variable(
            shape=(), initializer="zeros", dtype="int32", name="num_samples"
        )

    def _append(self, scores, positive, negative):
        _refuse_replicated_buffers(self)
        start = ops.convert_to_tensor(self.num_samples)
        end = start + ops.cast(ops.shape(scores)[0], "int32")
        assert_all(Condition(
            end <= self.max_samples,
            f"The metric {self.name!r} keeps every sample's score for its "
            f"exact value and holds at most max_samples={self.max_samples}. "
            "Pass a larger `max_samples`.",
            "samples", end, self.max_samples,
        ))
        offset = ops.concatenate([ops.reshape(start, (1,)), ops.zeros((1,), "int32")])
        for variable, values in (
            (self.scores, scores),
            (self.positive_weights, positive),
            (self.negative_weights, negative),
        ):
            variable.assign(ops.slice_update(
                ops.convert_to_tensor(variable), offset, ops.cast(values, self.dtype)
            ))
        self.num_samples.assign(end)

    def _columns(self):
        """`(scores, positive, negative)`, each `(max_samples, width)`."""
        return tuple(
            ops.convert_to_tensor(v)
            for v in (self.scores, self.positive_weights, self.negative_weights)
        )

    def _unless_overflowed(self, value):
        # Past `max_samples` the slices overlap (where no error is raised:
        # XLA, or with value checks off): undefined, never a wrong number.
        overflow = ops.convert_to_tensor(self.num_samples) > self.max_samples
        return ops.where(overflow, float("nan"), value)


@keras.saving.register_keras_serializable(package="keras_evidential")
class MultilabelMeanAveragePrecision(_SampleBuffer):
    """mAP: the mean over labels of the average precision of `p_l`.

    Formula:
    ```
    p_il = alpha_il / (alpha_il + beta_il)
    AP_l = sum_i y_il w_i precision_l(p_il) / sum_i y_il w_i
    mAP  = mean of AP_l over the labels where it is defined
    ```

    over the samples whose label l is observed (`!= mask_value`), with
    `precision_l(t)` the weighted share of positives among the samples with
    `p_l >= t`: scikit-learn's `average_precision_score`, ties included
    (`keras_evidential.metrics.ranking.average_precision`). `AP_l` is
    undefined for a label without a positive or without a negative sample.
    `keras_evidential.evaluation.mean_average_precision` computes the same
    number from NumPy probabilities.

    Memory: three buffers of `max_samples x num_labels` floats (7.5 MiB at
    the default 65,536 samples and 10 labels); `result()` sorts each label's
    column.

    Args:
        num_labels: Integer >= 1, L (the model's `BetaOutput` labels).
        mask_value: The label value of a missing label. Defaults to -1.
        max_samples: Integer >= 1, the most samples the metric holds.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> metric = keras_evidential.metrics.MultilabelMeanAveragePrecision(2)
    >>> params = np.array([[[3.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 1.0]]])
    >>> metric.update_state([[1.0, 0.0], [0.0, -1.0]], params)
    >>> float(metric.result())  # label 1 has no positive: only label 0 counts
    1.0

    Reference:
    - Aguilar, Raducanu, Radeva, "Multi-label out-of-distribution
      detection via evidential learning", 2025, arXiv:2502.18224 (mAP of
      the Beta-ENN's `p_l`)
    """

    def __init__(
        self,
        num_labels: int,
        mask_value: float = DEFAULT_MASK_VALUE,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        name: str = "map",
        dtype: str | None = None,
    ) -> None:
        self.num_labels = check_int(num_labels, "num_labels", minimum=1)
        self.mask_value = _check_mask_value(mask_value)
        super().__init__(self.num_labels, max_samples, name, dtype)

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        labels, params = _checked_batch(y_true, y_pred, self.num_labels, self.mask_value)
        weight = combined_weight(
            _observed(labels, self.mask_value),
            None if sample_weight is None else ops.reshape(sample_weight, (-1, 1)),
        )
        self._append(
            beta.expected_probability(params),
            weight * labels,
            weight * (1.0 - labels),
        )

    def result(self) -> Tensor:
        scores, positive, negative = self._columns()
        per_label = ops.stack([
            ranking.average_precision(
                scores[:, l], positive[:, l], negative[:, l], xp=ops
            )
            for l in range(self.num_labels)
        ])
        return self._unless_overflowed(_nanmean(per_label))

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name, "dtype": self.dtype, "num_labels": self.num_labels,
            "mask_value": self.mask_value, "max_samples": self.max_samples,
        }


@keras.saving.register_keras_serializable(package="keras_evidential")
class MultilabelCalibrationError(keras.metrics.Metric):
    """Macro ECE: the mean over labels of each label's Bernoulli ECE.

    Formula:
    ```
    confidence_il = max(p_il, 1 - p_il),  p_il = alpha_il / (alpha_il + beta_il)
    correct_il    = (p_il > 1/2) == y_il     (p = 1/2 predicts "absent")
    ECE_l = sum_b (n_lb / N_l) |accuracy_lb - confidence_lb|
    macro ECE = mean of ECE_l over the labels with an observed sample
    ```

    Per label, `ExpectedCalibrationError` of the two outcomes (absent,
    present) with `num_bins` equal-width bins `(i / B, (i + 1) / B]`, over
    the samples whose label is observed; the bins stream over batches.
    `keras_evidential.evaluation.macro_calibration_error` computes the
    same number from NumPy probabilities. Lower is better.

    Args:
        num_labels: Integer >= 1, L.
        num_bins: Integer >= 1. Defaults to 15.
        mask_value: The label value of a missing label. Defaults to -1.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> metric = keras_evidential.metrics.MultilabelCalibrationError(1, num_bins=10)
    >>> metric.update_state([[1.0], [0.0]], np.array([[[3.0, 1.0]], [[3.0, 1.0]]]))
    >>> float(metric.result())  # confidence 0.75, accuracy 0.5
    0.25

    Reference:
    - [Guo et al., 2017](https://arxiv.org/abs/1706.04599), per label
    """

    def __init__(
        self,
        num_labels: int,
        num_bins: int = 15,
        mask_value: float = DEFAULT_MASK_VALUE,
        name: str = "macro_ece",
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_labels = check_int(num_labels, "num_labels", minimum=1)
        self.num_bins = check_int(num_bins, "num_bins", minimum=1)
        self.mask_value = _check_mask_value(mask_value)
        self._direction = "down"

        def state(name):
            return self.add_variable(
                shape=(self.num_labels, self.num_bins), initializer="zeros",
                dtype=self.dtype, name=name,
            )

        self.bin_counts = state("bin_counts")
        self.bin_confidence = state("bin_confidence")
        self.bin_correct = state("bin_correct")

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        labels, params = _checked_batch(y_true, y_pred, self.num_labels, self.mask_value)
        weight = combined_weight(
            _observed(labels, self.mask_value),
            None if sample_weight is None else ops.reshape(sample_weight, (-1, 1)),
        )
        p = beta.expected_probability(params)
        # Each label's Bernoulli as a two-class prediction (absent, present),
        # class 1 where the label is present: the NumPy evaluation's reading.
        outcomes = ops.stack([1.0 - p, p], axis=-1)
        present = ops.cast(ops.equal(labels, 1.0), "int32")
        sums: list[list[Tensor]] = [[], [], []]
        for l in range(self.num_labels):
            confidence, correct = confidence_and_correct(outcomes[:, l], present[:, l])
            for total, value in zip(
                sums, calibration_bins(confidence, correct, self.num_bins, weight[:, l])
            ):
                total.append(value)
        for variable, values in zip(
            (self.bin_counts, self.bin_confidence, self.bin_correct), sums
        ):
            variable.assign_add(ops.cast(ops.stack(values), self.dtype))

    def result(self) -> Tensor:
        counts, confidence, correct = (
            ops.convert_to_tensor(v)
            for v in (self.bin_counts, self.bin_confidence, self.bin_correct)
        )
        per_label = ops.stack([
            expected_calibration_error_from_bins(counts[l], confidence[l], correct[l])
            for l in range(self.num_labels)
        ])
        return _nanmean(per_label)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name, "dtype": self.dtype, "num_labels": self.num_labels,
            "num_bins": self.num_bins, "mask_value": self.mask_value,
        }


@keras.saving.register_keras_serializable(package="keras_evidential")
class MultilabelOODAUPR(_SampleBuffer):
    """AUPR of out-of-distribution detection by a named Beta OOD score.

    Formula:
    ```
    score_i = ood_score(params_i, reduction, evidence)   (higher = more OOD)
    AUPR    = sum_i o_i w_i precision(score_i) / sum_i o_i w_i
    o_i     = 1 where every label of sample i is `mask_value` (OOD), else 0
    ```

    The OOD samples are the positives (the AUPR of the benchmark's tables),
    ranked by `keras_evidential.beta.ood_score`: Score-Sum
    (`reduction="sum"`) or Score-Max (`"max"`) of the positive, negative or
    both evidences. `keras_evidential.evaluation.multilabel_ood_detection`
    on `beta_ood_scores` gives the same `aupr_out` from NumPy arrays. NaN
    without an in- or an out-of-distribution sample.

    Args:
        reduction: `"sum"` (default) or `"max"`.
        evidence: `"both"` (default), `"positive"` or `"negative"`.
        mask_value: The label value of a missing label. Defaults to -1.
        max_samples: Integer >= 1, the most samples the metric holds.
        name: Optional name of the metric.
        dtype: Optional dtype of the metric's result.

    Example:

    >>> metric = keras_evidential.metrics.MultilabelOODAUPR()
    >>> params = np.array([[[9.0, 1.0]], [[1.0, 1.5]], [[2.0, 1.0]]])
    >>> metric.update_state([[1.0], [-1.0], [0.0]], params)
    >>> float(metric.result())  # the OOD sample has the least evidence
    1.0

    Reference:
    - Aguilar, Raducanu, Radeva, "Multi-label out-of-distribution
      detection via evidential learning", 2025, arXiv:2502.18224
    """

    def __init__(
        self,
        reduction: str = "sum",
        evidence: str = "both",
        mask_value: float = DEFAULT_MASK_VALUE,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        name: str = "ood_aupr",
        dtype: str | None = None,
    ) -> None:
        self.reduction = check_choice(reduction, "reduction", beta.OOD_REDUCTIONS)
        self.evidence = check_choice(evidence, "evidence", tuple(beta.OOD_EVIDENCE))
        self.mask_value = _check_mask_value(mask_value)
        super().__init__(1, max_samples, name, dtype)

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        labels, params = _checked_batch(y_true, y_pred, None, self.mask_value)
        unlabelled = ops.all(ops.logical_not(_observed(labels, self.mask_value)), axis=-1)
        weight = combined_weight(ops.ones_like(unlabelled), sample_weight)
        ood = ops.cast(unlabelled, "float32")
        score = beta.ood_score(params, self.reduction, self.evidence)
        self._append(
            score[:, None], (weight * ood)[:, None], (weight * (1.0 - ood))[:, None]
        )

    def result(self) -> Tensor:
        scores, positive, negative = self._columns()
        return self._unless_overflowed(
            ranking.average_precision(scores[:, 0], positive[:, 0], negative[:, 0], xp=ops)
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name, "dtype": self.dtype, "reduction": self.reduction,
            "evidence": self.evidence, "mask_value": self.mask_value,
            "max_samples": self.max_samples,
        }
