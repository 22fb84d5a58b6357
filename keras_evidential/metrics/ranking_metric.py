"""RankingMetric: the base of the AUROC, AUPR and FPR95 metrics.

A ranking figure needs the order of all scores, so it cannot be summed over
batches as a mean can. By default the metric keeps every sample: a buffer of
`max_samples` (score, positive weight, negative weight) triples, and
`result()` applies the exact estimator of `keras_evidential.metrics.ranking`
to it, the very function `keras_evidential.evaluation` applies to NumPy
arrays. The buffer has a fixed size, so the state is the same on every
backend and inside every compiled step (TensorFlow graph and XLA, JAX
`jit`, PyTorch): unused slots weigh 0 and change nothing.

Memory and time: 12 bytes per slot (786 KiB at the default 65,536), and
`result()` sorts the whole buffer, which Keras calls after every step of
`fit`. For data larger than `max_samples`, or cheap monitoring during
training, `num_thresholds=B` keeps instead the weighted counts of `B`
equal-width buckets of the score in [0, 1] (`keras.metrics.AUC`'s
approximation): the same estimator then ranks buckets, the samples inside
one bucket counting as tied.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.metrics.predictions import check_output_settings
from keras_evidential.metrics.predictions import dirichlet_alpha
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import Condition
from keras_evidential.validation import assert_all
from keras_evidential.validation import check_int


DEFAULT_MAX_SAMPLES = 2**16


def combined_weight(mask: Tensor, sample_weight: Tensor) -> Tensor:
    """A 0/1 mask of the samples a metric covers times their sample weight."""
    weight = ops.cast(mask, "float32")
    if sample_weight is None:
        return weight
    sample_weight = ops.cast(sample_weight, "float32")
    if len(sample_weight.shape) > len(weight.shape):
        sample_weight = ops.squeeze(sample_weight, axis=-1)
    return weight * ops.broadcast_to(sample_weight, ops.shape(weight))


class RankingMetric(keras.metrics.Metric):
    """A ranking figure of (binary label, score, weight) derived from `alpha`.

    Subclasses define `binary_problem(y_true, alpha)`, returning the binary
    labels, the scores (in [0, 1] for the bucketed approximation) and a 0/1
    mask of the samples they cover, and `figure(scores, positive, negative,
    xp)`, one of `keras_evidential.metrics.ranking`'s estimators. Their
    constructor arguments are kept as attributes of the same names, listed
    in `config_arguments`, and returned by `get_config`.

    The output settings are those of every metric of this package:
    `unknown_class` (m-EDL's K + 1 outputs), `prior_concentration` and
    `minimum_alpha` (the head's prior), `flexible` (F-EDL's packed `[alpha,
    p, tau]`, scored through `flexible_equivalent_alpha`).
    """

    config_arguments: tuple[str, ...] = ()
    direction = "up"

    @renamed_argument("prior_weight", "prior_concentration")
    def __init__(
        self,
        unknown_class: bool = False,
        num_thresholds: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
        prior_concentration: float = 1.0,
        minimum_alpha: float | None = None,
        flexible: bool = False,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        summation_method: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if summation_method is not None:
            warnings.warn(
                "`summation_method` is deprecated and ignored (removed in "
                "2.0): the metric computes the exact step-wise figure, or its "
                "bucketed approximation with `num_thresholds`. Received: "
                f"summation_method={summation_method!r}",
                DeprecationWarning,
                stacklevel=2,
            )
        check_output_settings(
            self, unknown_class, prior_concentration, minimum_alpha, flexible
        )
        self.max_samples = check_int(max_samples, "max_samples", minimum=1)
        if num_thresholds is not None:
            num_thresholds = check_int(num_thresholds, "num_thresholds", minimum=2)
        self.num_thresholds = num_thresholds
        self._direction = self.direction
        size = self.max_samples if num_thresholds is None else num_thresholds

        def state(name, dtype=self.dtype, shape=(size,)):
            return self.add_variable(
                shape=shape, initializer="zeros", dtype=dtype, name=name
            )

        self.positive_weights = state("positive_weights")
        self.negative_weights = state("negative_weights")
        if num_thresholds is None:
            self.scores = state("scores")
            self.num_samples = state("num_samples", "int32", ())

    def binary_problem(
        self, y_true: Tensor, alpha: Tensor, /
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Returns `(binary labels, scores, 0/1 mask)` of a batch."""
        raise NotImplementedError

    def figure(
        self, scores: Tensor, positive: Tensor, negative: Tensor, xp: Any
    ) -> Tensor:
        raise NotImplementedError

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        if self.num_thresholds is None:
            _refuse_replicated_buffers(self)
        alpha = dirichlet_alpha(y_pred, self.flexible)
        targets, scores, mask = self.binary_problem(y_true, alpha)
        weight = ops.reshape(combined_weight(mask, sample_weight), (-1,))
        targets = ops.reshape(ops.cast(targets, "float32"), (-1,))
        scores = ops.reshape(ops.cast(scores, self.dtype), (-1,))
        positive = ops.cast(weight * targets, self.dtype)
        negative = ops.cast(weight * (1.0 - targets), self.dtype)
        if self.num_thresholds is not None:
            buckets = ops.cast(ops.floor(scores * self.num_thresholds), "int32")
            buckets = ops.clip(buckets, 0, self.num_thresholds - 1)
            for variable, values in (
                (self.positive_weights, positive),
                (self.negative_weights, negative),
            ):
                variable.assign_add(
                    ops.segment_sum(
                        values, buckets, num_segments=self.num_thresholds
                    )
                )
            return
        start = ops.convert_to_tensor(self.num_samples)
        end = start + ops.cast(ops.shape(scores)[0], "int32")
        assert_all(Condition(
            end <= self.max_samples,
            f"The metric {self.name!r} keeps every sample's score for its "
            f"exact value and holds at most max_samples={self.max_samples}. "
            "Pass a larger `max_samples`, or `num_thresholds` (e.g. 1000) "
            "for the bucketed approximation.",
            "samples",
            end,
            self.max_samples,
        ))
        offset = ops.reshape(start, (1,))
        for variable, values in (
            (self.scores, scores),
            (self.positive_weights, positive),
            (self.negative_weights, negative),
        ):
            variable.assign(
                ops.slice_update(ops.convert_to_tensor(variable), offset, values)
            )
        self.num_samples.assign(end)

    def result(self) -> Tensor:
        positive = ops.convert_to_tensor(self.positive_weights)
        negative = ops.convert_to_tensor(self.negative_weights)
        if self.num_thresholds is not None:
            scores = ops.cast(ops.arange(self.num_thresholds), self.dtype)
            return self.figure(scores, positive, negative, ops)
        value = self.figure(ops.convert_to_tensor(self.scores), positive, negative, ops)
        # Past `max_samples` the slices overlap (where no error is raised:
        # XLA, or with value checks off): undefined, never a wrong number.
        overflow = ops.convert_to_tensor(self.num_samples) > self.max_samples
        return ops.where(overflow, float("nan"), value)

    def get_config(self) -> dict[str, Any]:
        config = {
            "name": self.name,
            "dtype": self.dtype,
            "unknown_class": self.unknown_class,
            "max_samples": self.max_samples,
            "num_thresholds": self.num_thresholds,
            "prior_concentration": self.prior_concentration,
            "minimum_alpha": self.minimum_alpha,
            "flexible": self.flexible,
        }
        for key in self.config_arguments:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RankingMetric:
        config = dict(config)
        # Written by the `keras.metrics.AUC`-based versions (<= 0.x); the
        # estimator is now the step-wise one (see `ranking`).
        config.pop("summation_method", None)  # saved configs load silently
        return cls(**config)


def _refuse_replicated_buffers(metric):
    """The exact buffer cannot be kept under a multi-replica `tf.distribute`
    strategy: every replica writes its shard's samples at the same offsets,
    and TensorFlow sums the replicas' buffers when the result is read, so
    the figure would be a plausible wrong number. The bucketed counts sum
    correctly. (Under JAX's `keras.distribution` the step is one SPMD
    program and the buffer is global: tested in
    tests/integration/test_distribution_jax.py.)"""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
        raise ValueError(
            f"The metric {metric.name!r} keeps every sample for its exact "
            "value, which a tf.distribute strategy with "
            f"{tf.distribute.get_strategy().num_replicas_in_sync} replicas "
            "would sum across replicas into a wrong figure. Pass "
            "`num_thresholds` (e.g. 1000) for the bucketed figure, which "
            "aggregates correctly. Received: num_thresholds=None"
        )
