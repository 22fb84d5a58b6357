"""EDLLoss: the evidential loss, with TEDL's cross-entropy stage."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential.dirichlet import RISKS
from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.dirichlet import misleading_evidence_kl
from keras_evidential.keras_compat import in_stateless_scope
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.labels import validate_ignore_class
from keras_evidential.losses.coefficients import kl_weight_variable
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import DeclaredAttributes
from keras_evidential.validation import check_bool
from keras_evidential.validation import check_choice
from keras_evidential.validation import assert_all
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import finite_condition
from keras_evidential.validation import check_number
from keras_evidential.validation import Condition
from keras_evidential.validation import declare_attributes

CROSS_ENTROPY_STAGE = 1
EDL_STAGE = 2


def edl_loss(
    y_true: Tensor,
    alpha: Tensor,
    risk: str = "mse",
    kl_weight: float | Tensor = 0.0,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample EDL loss: a Bayes risk plus the weighted KL regulariser.

    Formula:
    ```
    loss_i = risk(y_i, alpha_i) + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))
    alpha_tilde = y + (1 - y) * alpha
    ```

    Args:
        y_true: Integer labels of shape `alpha.shape[:-1]` or one-hot labels
            of shape `alpha.shape`.
        alpha: Dirichlet concentrations, shape `(..., K)`, every entry >= 1.
        risk: `"mse"` (sum of squares, the papers' choice), `"log"` or
            `"digamma"`.
        kl_weight: The KL coefficient (a float or a scalar tensor).
        validate: Whether to check the labels and that `alpha` is finite and
            >= 1, in one assert (see
            `keras_evidential.validation`).
        ignore_class: Optional integer label of the samples (pixels) to
            leave out, as in `keras.losses.SparseCategoricalCrossentropy`:
            their loss is 0 and masked, so that the loss's mean runs over
            the other samples only (see `keras_evidential.labels`).

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.
    """
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha))
    return mask_ignored(edl_terms(y, alpha, risk, kl_weight), valid)


def edl_terms(
    y: Tensor, alpha: Tensor, risk: str = "mse", kl_weight: float | Tensor = 0.0
) -> Tensor:
    """`edl_loss` on one-hot targets `y` that the caller already made and
    checked: the risk plus the weighted KL, per sample."""
    return RISKS[risk](y, alpha) + kl_weight * misleading_evidence_kl(y, alpha)


@keras.saving.register_keras_serializable(package="keras_evidential")
class EDLLoss(DeclaredAttributes, keras.losses.Loss):
    """Evidential deep learning loss for classifiers that output a Dirichlet.

    Formula:
    ```
    loss = mean_i [risk(y_i, alpha_i) + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))]
    ```

    The model outputs Dirichlet concentrations `alpha` (its last layer is
    `DirichletOutput`, optionally followed by `UnknownClassHead`), or raw
    logits with `from_logits=True`, in which case the loss applies `evidence`
    itself. The number of classes K is the prediction's last dimension, so a
    model with `UnknownClassHead` (K + 1 outputs) treats label K as the
    unknown class, as in m-EDL.

    `kl_weight` is held in a non-trainable `keras.Variable`, so callbacks such
    as `KLAnnealing` change it inside the compiled training step (graph mode
    and XLA). With `from_logits=True` the loss also has a `stage` variable:
    stage 1 is softmax cross-entropy on the logits (TEDL's first stage),
    stage 2 the EDL loss; `TwoStageFit` switches it during `fit`.

    What the loss cannot see: Keras gives a loss only `y_true` and
    `y_pred`, never the model or its input batch. So:
    - `from_logits=True` on a model that already ends in `DirichletOutput`
      (or an unknown-class head) would apply the evidence function a second
      time and train without an error from the loss itself. It is refused by
      name wherever model and loss meet: `KLAnnealing`, `TwoStageFit` and
      `FiniteWeightsCheck` at the start of `fit`, `keras_evidential.model_kind`,
      export and evaluation.
    - A NaN or inf in the input features may never reach `y_pred`
      (TensorFlow's oneDNN CPU kernels compute ReLU(NaN) = 0) while its
      gradient turns the first layer's weights into NaN; the model then
      answers every input with alpha ~ 1. Catch it with
      `keras_evidential.callbacks.FiniteWeightsCheck` or with
      `keras_evidential.layers.AssertFinite` after the model's input (see
      `docs/core.md`); Keras's `TerminateOnNaN` does not catch it there, as
      the loss stays finite.

    Args:
        risk: The Bayes risk: `"mse"` (sum of squares; default, the risk of
            both m-EDL and TEDL), `"log"` (type-II maximum likelihood) or
            `"digamma"` (expected cross-entropy).
        kl_weight: Float >= 0, the initial KL coefficient. `KLAnnealing`
            overwrites it every epoch. Defaults to `0.0`, the annealing
            schedule's first value.
        from_logits: Whether `y_pred` holds logits rather than `alpha`.
            Defaults to `False`.
        evidence: With `from_logits=True`, the evidence function that maps
            logits to evidence: `"relu"` (default), `"softplus"`, `"exp"`,
            `"elu"` or an `Evidence` layer such as `EvidenceELU()`.
        stage: `2` (default) computes the EDL loss; `1` computes softmax
            cross-entropy on the logits and needs `from_logits=True`.
        ignore_class: Optional integer, the label of pixels (samples) to
            leave out of the loss, its gradient and its mean, as in
            `keras.losses.SparseCategoricalCrossentropy` (255 in most
            segmentation sets). Needs integer labels. Defaults to None.
        reduction: Type of reduction to apply to the loss. Defaults to
            `"sum_over_batch_size"` (the batch mean).
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations. Defaults to
            `keras.backend.floatx()` (float32 also under mixed precision).

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)),
    ...     keras.layers.Dense(32, activation="relu"),
    ...     keras.layers.Dense(10),
    ...     keras_evidential.layers.DirichletOutput(evidence="relu"),
    ...     keras_evidential.layers.UnknownClassHead(),
    ... ])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.EDLLoss(kl_weight=0.1))

    The sum-of-squares risk of alpha = (3, 1) for label 0: p = (0.75, 0.25),
    (1 - 0.75)^2 + 0.25^2 + 2 * 0.75 * 0.25 / 5 = 0.2 (the KL term is 0
    here: alpha_tilde = (1, 1)):

    >>> loss = keras_evidential.losses.EDLLoss(kl_weight=1.0)
    >>> round(float(loss(np.array([0]), np.array([[3.0, 1.0]]))), 6)
    0.2

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023)
    - Li, Shen, Charles, "TEDL: A Two-stage Evidential Deep Learning Method for Classification Uncertainty Quantification", 2022
    """

    def __init__(
        self,
        risk: str = "mse",
        kl_weight: float = 0.0,
        from_logits: bool = False,
        evidence: str | evidence_lib.Evidence = "relu",
        stage: int = EDL_STAGE,
        reduction: str | None = "sum_over_batch_size",
        name: str = "edl_loss",
        dtype: str | None = None,
        ignore_class: int | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice(risk, "risk", sorted(RISKS))
        kl_weight = check_number(kl_weight, "kl_weight", low=0)
        from_logits = check_bool(from_logits, "from_logits")
        check_choice(stage, "stage", (CROSS_ENTROPY_STAGE, EDL_STAGE))
        if stage == CROSS_ENTROPY_STAGE and not from_logits:
            raise ValueError(
                "The cross-entropy stage needs the logits: pass "
                f"from_logits=True. Received: stage={stage}, "
                f"from_logits={from_logits}"
            )
        if in_stateless_scope():
            raise ValueError(
                "EDLLoss holds variables (kl_weight, stage), which Keras "
                "cannot create inside a training step: on JAX and PyTorch it "
                "instantiates a loss class given to `compile` there. Compile "
                "with an instance, loss=EDLLoss(...). Received: the class "
                "EDLLoss, instantiated inside a step"
            )
        self.risk = risk
        self.ignore_class = validate_ignore_class(ignore_class)
        self.from_logits = from_logits
        self.evidence = evidence_lib.get(evidence, dtype=self.dtype)
        self.kl_weight = kl_weight_variable(kl_weight, self.dtype)
        self.stage = keras.Variable(
            int(stage), dtype="int32", trainable=False, name="stage"
        )
        declare_attributes(self, EDLLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        if not self.from_logits:
            return edl_loss(
                y_true, y_pred, self.risk, self.kl_weight, validate=True,
                ignore_class=self.ignore_class,
            )
        # The labels and the logits are checked once, outside the `cond`
        # (NaN logits would pass as alpha = 1 after ReLU evidence). Each
        # branch makes its own one-hot targets: a one-hot tensor made outside
        # and captured by both branches breaks TensorFlow's gradient of the
        # `cond` where a risk has no custom gradient (the log risk): "You
        # must feed a value for placeholder tensor ...one_hot".
        y_true, valid = ignored_labels(y_true, y_pred, self.ignore_class)
        conditions: list[Condition | None] = []
        one_hot_targets(y_true, y_pred, conditions)
        assert_all(*conditions, finite_condition(y_pred, "y_pred (the logits)"))

        def cross_entropy():
            return keras.losses.categorical_crossentropy(
                one_hot_targets(y_true, y_pred, checked=True), y_pred, from_logits=True
            )

        def evidential():
            alpha = alpha_from_evidence(self.evidence(y_pred))
            return edl_terms(
                one_hot_targets(y_true, y_pred, checked=True), alpha, self.risk,
                self.kl_weight,
            )

        losses = ops.cond(
            ops.equal(self.stage, CROSS_ENTROPY_STAGE), cross_entropy, evidential
        )
        return mask_ignored(losses, valid)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "risk": self.risk,
                "kl_weight": float(ops.convert_to_numpy(self.kl_weight)),
                "from_logits": self.from_logits,
                "evidence": evidence_lib.serialize(self.evidence),
                "stage": int(ops.convert_to_numpy(self.stage)),
                "ignore_class": self.ignore_class,
            }
        )
        return config
