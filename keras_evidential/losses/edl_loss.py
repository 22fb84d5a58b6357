"""EDLLoss: the evidential loss, with TEDL's cross-entropy stage."""

import math
import sys

import keras
import numpy as np
from keras import ops

from keras_evidential.dirichlet import RISKS
from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.dirichlet import misleading_evidence_kl
from keras_evidential.layers import evidence as evidence_lib
from keras_evidential.labels import one_hot_targets
from keras_evidential.validation import check_concentrations
from keras_evidential.validation import check_finite

CROSS_ENTROPY_STAGE = 1
EDL_STAGE = 2


def edl_loss(y_true, alpha, risk="mse", kl_weight=0.0, validate=False):
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
        validate: Whether to check that `alpha` is finite and >= 1 (see
            `keras_evidential.validation`).

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.
    """
    y = one_hot_targets(y_true, alpha)
    if validate:
        check_concentrations(alpha)
    return RISKS[risk](y, alpha) + kl_weight * misleading_evidence_kl(y, alpha)


@keras.saving.register_keras_serializable(package="keras_evidential")
class EDLLoss(keras.losses.Loss):
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
        risk="mse",
        kl_weight=0.0,
        from_logits=False,
        evidence="relu",
        stage=EDL_STAGE,
        reduction="sum_over_batch_size",
        name="edl_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if risk not in RISKS:
            raise ValueError(
                f"`risk` must be one of {sorted(RISKS)}. Received: risk={risk!r}"
            )
        validate_kl_weight(kl_weight)
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(
                "`from_logits` must be True or False. "
                f"Received: from_logits={from_logits!r}"
            )
        if stage not in (CROSS_ENTROPY_STAGE, EDL_STAGE):
            raise ValueError(
                "`stage` must be 1 (cross-entropy) or 2 (EDL). "
                f"Received: stage={stage!r}"
            )
        if stage == CROSS_ENTROPY_STAGE and not from_logits:
            raise ValueError(
                "The cross-entropy stage needs the logits: pass "
                f"from_logits=True. Received: stage={stage}, "
                f"from_logits={from_logits}"
            )
        if _in_stateless_scope():
            raise ValueError(
                "EDLLoss holds variables (kl_weight, stage), which Keras "
                "cannot create inside a training step: on JAX and PyTorch it "
                "instantiates a loss class given to `compile` there. Compile "
                "with an instance, loss=EDLLoss(...). Received: the class "
                "EDLLoss, instantiated inside a step"
            )
        self.risk = risk
        self.from_logits = bool(from_logits)
        self.evidence = evidence_lib.get(evidence, dtype=self.dtype)
        self.kl_weight = keras.Variable(
            float(kl_weight), dtype=self.dtype, trainable=False, name="kl_weight"
        )
        self.stage = keras.Variable(
            int(stage), dtype="int32", trainable=False, name="stage"
        )
        # Whether the model being trained was checked against this loss.
        self._model_checked = False

    def call(self, y_true, y_pred):
        model, features = training_step()
        if model is not None and not self._model_checked:
            self._model_checked = True
            check_loss_matches_model(model, self)
        check_features(features)
        if not self.from_logits:
            return edl_loss(
                y_true, y_pred, self.risk, self.kl_weight, validate=True
            )
        # Each branch makes its own one-hot targets: a one-hot tensor made
        # outside and captured by both branches breaks TensorFlow's gradient
        # of the `cond` where a risk has no custom gradient (the log risk):
        # "You must feed a value for placeholder tensor ...one_hot".
        def cross_entropy():
            return keras.losses.categorical_crossentropy(
                one_hot_targets(y_true, y_pred), y_pred, from_logits=True
            )

        # NaN logits would pass as alpha = 1 after ReLU evidence (see
        # `keras_evidential.validation.check_finite`).
        check_finite(y_pred, "y_pred (the logits)")

        def evidential():
            alpha = alpha_from_evidence(self.evidence(y_pred))
            return edl_loss(
                one_hot_targets(y_true, y_pred), alpha, self.risk, self.kl_weight
            )

        return ops.cond(
            ops.equal(self.stage, CROSS_ENTROPY_STAGE), cross_entropy, evidential
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "risk": self.risk,
                "kl_weight": float(ops.convert_to_numpy(self.kl_weight)),
                "from_logits": self.from_logits,
                "evidence": evidence_lib.serialize(self.evidence),
                "stage": int(ops.convert_to_numpy(self.stage)),
            }
        )
        return config


def validate_kl_weight(kl_weight, argument="kl_weight"):
    """Raises a ValueError unless `kl_weight` is a finite float >= 0."""
    try:
        value = float(kl_weight)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            f"`{argument}` must be a finite number >= 0. "
            f"Received: {argument}={kl_weight!r}"
        )


def training_step():
    """The model and input batch of the Keras step that calls the loss.

    Keras gives a loss neither; both are found in the calling frames, in
    the model's `compute_loss`. In a compiled step this runs once, while
    tracing. Returns `(None, None)` where the loss is called outside a
    Keras training or evaluation step.
    """
    model = None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in ("compute_loss", "_compute_loss"):
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, keras.Model):
                model = candidate
                # Keras's own `compute_loss` deletes `x`; `_compute_loss`,
                # which calls it, still holds it.
                if "x" in frame.f_locals:
                    return model, frame.f_locals["x"]
        elif model is not None:
            break
        frame = frame.f_back
    return model, None


def check_features(features):
    """Checks a training batch's floating-point features for NaN and inf.

    A NaN feature does not always reach the logits: TensorFlow's fused CPU
    kernels compute ReLU(NaN) = 0 in a hidden layer, so the loss stays
    finite while the NaN gradient poisons the first layer's weights, and the
    model then answers every input with the same alpha ~ 1 (vacuity ~ 1), a
    plausible-looking "I don't know". The check fails the step instead.
    """
    for tensor in keras.tree.flatten(features):
        if tensor is None or not hasattr(tensor, "dtype"):
            continue
        if "float" in keras.backend.standardize_dtype(tensor.dtype):
            check_finite(tensor, "The model's input features (x)")


def check_loss_matches_model(model, loss):
    """Refuses `from_logits=True` on a model that already outputs alpha.

    A model ending in `DirichletOutput` (or an unknown-class head) outputs
    alpha; `EDLLoss(from_logits=True)` would apply the evidence function a
    second time, and treat m-EDL's constant alpha_u = K + 1 as a logit.
    """
    from keras_evidential.model_kind import DIRICHLET_HEADS
    from keras_evidential.model_kind import output_layer

    layer = output_layer(model)
    if loss.from_logits and isinstance(layer, DIRICHLET_HEADS):
        raise ValueError(
            f"The model ends in {type(layer).__name__}, so it outputs alpha "
            "(Dirichlet concentrations), but its loss has from_logits=True, "
            "which would apply the evidence function again. Use "
            "EDLLoss(from_logits=False) with this model, or end the model in "
            "a plain Dense(K) layer (logits) to keep from_logits=True. "
            f"Received: output layer {layer.name!r}, from_logits=True"
        )


def _in_stateless_scope():
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope
    except ImportError:  # A later Keras: its own error will say it.
        return False
    return in_stateless_scope()
