"""ConformalSets: split-conformal prediction sets as a servable Keras layer."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_evidential.conformal.quantile import conformal_quantile
from keras_evidential.conformal.thresholds import add_thresholds
from keras_evidential.conformal.thresholds import as_floats
from keras_evidential.conformal.scores import INPUTS
from keras_evidential.conformal.scores import aps_scores
from keras_evidential.conformal.scores import belief_scores
from keras_evidential.conformal.scores import lac_scores
from keras_evidential.conformal.scores import probabilities_from
from keras_evidential.conformal.scores import raps_scores
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_bool
from keras_evidential.validation import check_choice
from keras_evidential.validation import check_int
from keras_evidential.validation import check_number

SCORES = ("lac", "aps", "raps", "belief")


def label_scores(
    outputs: Tensor,
    score: str = "aps",
    inputs: str = "probabilities",
    randomization: float | Tensor = 1.0,
    penalty: float = 0.0,
    regularization_rank: int = 0,
    prior_concentration: float = 1.0,
) -> Tensor:
    """The non-conformity score of every label of a head's `outputs`, `(batch, K)`.

    `score` picks `lac_scores`, `aps_scores`, `raps_scores` or
    `belief_scores` (the last needs `inputs="alpha"`); `inputs` says what
    the head outputs (`probabilities_from`); `randomization` is APS/RAPS's `u`.
    """
    check_choice(score, "score", SCORES)
    if score == "belief":
        if inputs != "alpha":
            raise ValueError(
                "`score='belief'` needs Dirichlet concentrations: pass "
                f"`inputs='alpha'`. Received: inputs={inputs!r}"
            )
        return belief_scores(outputs, prior_concentration)
    probabilities = probabilities_from(outputs, inputs)
    if score == "lac":
        return lac_scores(probabilities)
    if score == "aps":
        return aps_scores(probabilities, randomization)
    return raps_scores(probabilities, randomization, penalty, regularization_rank)


@keras.saving.register_keras_serializable(package="keras_evidential")
class ConformalSets(keras.layers.Layer):
    """Split-conformal prediction sets: a boolean mask per sample and label.

    Formula:
    ```
    C(x) = {k : s(x, k) <= q_hat_k}
    ```

    with `s` the non-conformity score (`label_scores`) and `q_hat` the
    `conformal_quantile` of the calibration points' true-label scores: one
    threshold for all labels (marginal coverage `P(y in C(x)) >= 1 - alpha`)
    or, with `class_conditional=True`, one per label from the calibration
    points of that label (Mondrian: coverage `>= 1 - alpha` given each
    class). Make it with `ConformalSets.calibrate`; append it to the trained
    model to serve the sets, and save it with the model (`.keras`).

    Randomisation (APS and RAPS): with `randomized=False` the calibration
    scores are the deterministic ones (`u = 1`) and a served set includes
    the label that crosses the threshold (`u = 0`), which never covers less
    (Angelopoulos et al. 2021); with `randomized=True` both draw
    `u ~ U(0, 1)` per sample (Romano et al. 2020): coverage nearer
    `1 - alpha`, but the same input can get different sets.

    Args:
        thresholds: `q_hat`, one number or one per label (`inf`: always in the set).
        score: `"lac"`, `"aps"`, `"raps"` or `"belief"` (see `label_scores`).
        inputs: What the layer receives: `"probabilities"`, `"logits"` or
            `"alpha"` (a Dirichlet head; K + 1 outputs for m-EDL, whose
            unknown class can then be in a set).
        randomized: APS/RAPS's randomised sets.
        penalty, regularization_rank: RAPS's `lambda` and `k_reg`.
        prior_concentration: `lambda` of the belief score (R-EDL's prior weight).
        seed: Seed of the randomised sets' draws.

    Example:

    >>> p_cal = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4],
    ...                   [0.5, 0.4, 0.1]])
    >>> sets = keras_evidential.conformal.ConformalSets.calibrate(
    ...     p_cal, np.array([0, 1, 2, 1]), alpha=0.4, score="lac")
    >>> sets.thresholds_list()  # 1 - p_y: 0.3, 0.4, 0.6, 0.6; k = 3
    [0.6...]
    >>> print(keras.ops.convert_to_numpy(sets(np.array([[0.5, 0.3, 0.2]]))))
    [[ True False False]]

    Reference:
    - Angelopoulos & Bates, "Conformal Prediction: A Gentle Introduction",
      Found. Trends Mach. Learn. 16(4) (2023)
    - Vovk, Gammerman & Shafer, "Algorithmic Learning in a Random World"
      (2005), Mondrian conformal prediction
    """

    def __init__(
        self,
        thresholds: ArrayLike,
        score: str = "aps",
        inputs: str = "probabilities",
        randomized: bool = False,
        penalty: float = 0.0,
        regularization_rank: int = 0,
        prior_concentration: float = 1.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=kwargs.pop("dtype", "float32"), **kwargs)
        self.score = check_choice(score, "score", SCORES)
        self.inputs = check_choice(inputs, "inputs", INPUTS)
        self.randomized = check_bool(randomized, "randomized")
        self.penalty = check_number(penalty, "penalty", low=0)
        self.regularization_rank = check_int(
            regularization_rank, "regularization_rank", minimum=0
        )
        self.prior_concentration = check_number(
            prior_concentration, "prior_concentration", low=0, low_open=True
        )
        # Refuses the belief score on anything but alpha, here rather than
        # at the first call.
        label_scores(np.full((1, 2), 0.5), self.score, self.inputs)
        self.seed = seed
        self.seed_generator = (
            keras.random.SeedGenerator(seed) if self.randomized else None
        )
        self.thresholds = add_thresholds(self, thresholds, "label")
        self._build_at_init()

    @classmethod
    def calibrate(
        cls,
        outputs: ArrayLike,
        labels: ArrayLike,
        alpha: float,
        score: str = "aps",
        inputs: str = "probabilities",
        class_conditional: bool = False,
        randomized: bool = False,
        penalty: float = 0.0,
        regularization_rank: int = 0,
        prior_concentration: float = 1.0,
        seed: int | None = None,
    ) -> ConformalSets:
        """Fits the thresholds on a held-out calibration set.

        Args:
            outputs: The head's outputs on the calibration inputs, `(n, K)`
                (`model.predict(x_calibration)`).
            labels: Their integer labels, `(n,)`, in `[0, K)` (for m-EDL
                the unknown class K - 1 of the K + 1 outputs included).
            alpha: Miscoverage level in `(0, 1)`.
            class_conditional: One threshold per label (Mondrian).
            score, inputs, randomized, penalty, regularization_rank,
            prior_concentration, seed: As the constructor's.

        Returns:
            A `ConformalSets` layer.
        """
        outputs = np.asarray(ops.convert_to_numpy(outputs), dtype="float32")
        labels = np.asarray(labels).reshape(-1)
        num_classes = outputs.shape[-1]
        if outputs.ndim != 2 or labels.shape[0] != outputs.shape[0]:
            raise ValueError(
                "`outputs` must be (n, K) with one integer label per row. Received: "
                f"outputs with shape {outputs.shape}, labels with shape {labels.shape}"
            )
        if (
            not np.issubdtype(labels.dtype, np.integer)
            or labels.min() < 0
            or labels.max() >= num_classes
        ):
            raise ValueError(
                f"`labels` must be integer class indices in [0, {num_classes}). "
                f"Received: labels with dtype {labels.dtype}, min={labels.min()}, "
                f"max={labels.max()}"
            )
        check_bool(class_conditional, "class_conditional")
        check_bool(randomized, "randomized")
        u: float | np.ndarray
        if randomized:
            u = np.random.default_rng(seed).uniform(size=(labels.shape[0], 1))
        else:
            u = 1.0
        scores = ops.convert_to_numpy(
            label_scores(outputs, score, inputs, np.asarray(u, "float32"),
                         penalty, regularization_rank, prior_concentration)
        )
        true_scores = np.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
        thresholds: float | list[float]
        if class_conditional:
            thresholds = [
                conformal_quantile(true_scores[labels == k], alpha)
                for k in range(num_classes)
            ]
        else:
            thresholds = conformal_quantile(true_scores, alpha)
        return cls(thresholds, score=score, inputs=inputs, randomized=randomized,
                   penalty=penalty, regularization_rank=regularization_rank,
                   prior_concentration=prior_concentration, seed=seed)

    def call(self, inputs: Tensor) -> Tensor:
        if self.randomized:
            u = keras.random.uniform(
                (ops.shape(inputs)[0], 1), dtype=self.compute_dtype,
                seed=self.seed_generator,
            )
        else:
            u = 0.0
        scores = label_scores(
            ops.cast(inputs, self.compute_dtype), self.score, self.inputs, u,
            self.penalty, self.regularization_rank, self.prior_concentration,
        )
        return scores <= ops.cast(self.thresholds, scores.dtype)

    def compute_output_spec(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(inputs.shape, dtype="bool")

    def thresholds_list(self) -> list[float]:
        """The fitted thresholds as Python floats."""
        return as_floats(self.thresholds)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            thresholds=self.thresholds_list(),
            score=self.score,
            inputs=self.inputs,
            randomized=self.randomized,
            penalty=self.penalty,
            regularization_rank=self.regularization_rank,
            prior_concentration=self.prior_concentration,
            seed=self.seed,
        )
        return config
