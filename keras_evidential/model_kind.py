"""What an evidential classifier outputs: the one place that decides it.

Export, evaluation and monitoring all read a model through `model_kind`, so
that they agree on whether its output is alpha or logits and whether its last
column is m-EDL's unknown class.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.deprecation import renamed_attribute
from keras_evidential.keras_compat import compute_output_spec
from keras_evidential.keras_compat import input_signature
from keras_evidential.keras_compat import producing_layer
from keras_evidential.layers.beta_output import BetaOutput
from keras_evidential.layers.calibration import CALIBRATION_LAYERS
from keras_evidential.layers.density_aware_dirichlet import DensityAwareDirichlet
from keras_evidential.layers.dirichlet_output import DirichletOutput
from keras_evidential.layers.evidence import Evidence
from keras_evidential.layers.evidence import get as get_evidence
from keras_evidential.layers.flexible_dirichlet_output import FlexibleDirichletOutput
from keras_evidential.layers.learned_unknown_class_head import LearnedUnknownClassHead
from keras_evidential.layers.posterior_network_output import PosteriorNetworkOutput
from keras_evidential.layers.unknown_class_head import UnknownClassHead
from keras_evidential.losses.daedl_loss import DAEDLLoss
from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.fedl_loss import FEDLLoss
from keras_evidential.losses.iedl_loss import IEDLLoss
from keras_evidential.losses.posterior_network_loss import PosteriorNetworkLoss
from keras_evidential.losses.prior_network_loss import PriorNetworkLoss
from keras_evidential.losses.redl_loss import RelaxedEDLLoss
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import lower_bound


OUTPUTS = ("alpha", "logits")
UNKNOWN_CLASS_HEADS = (UnknownClassHead, LearnedUnknownClassHead)
DIRICHLET_HEADS = UNKNOWN_CLASS_HEADS + (
    DirichletOutput,
    DensityAwareDirichlet,
    FlexibleDirichletOutput,
    PosteriorNetworkOutput,
)

# The losses that read a model's output as Dirichlet concentrations alpha.
DIRICHLET_LOSSES = (EDLLoss, IEDLLoss, RelaxedEDLLoss, DAEDLLoss, PriorNetworkLoss)
DIRICHLET_LOSSES += (PosteriorNetworkLoss,)


@dataclasses.dataclass(frozen=True)
class ModelKind:
    """How to read a classifier's output as a Dirichlet.

    Attributes:
        output: `"alpha"` (Dirichlet concentrations) or `"logits"`.
        unknown_class: Whether the last output column is m-EDL's unknown
            class u (a model ending in `UnknownClassHead` or
            `LearnedUnknownClassHead`).
        num_known_classes: K, the number of known classes.
        evidence: For `output="logits"`, the `Evidence` layer that maps
            logits to evidence; None for alpha.
    """

    output: str
    unknown_class: bool
    num_known_classes: int
    evidence: Evidence = None
    prior_concentration: float = 1.0
    minimum_alpha: float = 1.0
    flexible: bool = False

    # Renamed in 1.0: a concentration of the prior, not a loss weight.
    prior_weight = renamed_attribute("prior_weight", "prior_concentration")

    def _float32(self, outputs):
        outputs = ops.convert_to_tensor(outputs)
        # S = sum(alpha) overflows float16, as in `DirichletOutput`.
        if keras.backend.standardize_dtype(outputs.dtype) in ("float16", "bfloat16"):
            outputs = ops.cast(outputs, "float32")
        return outputs

    def to_alpha(self, outputs: Tensor) -> Tensor:
        """The model's outputs as Dirichlet concentrations (float32 or wider).

        For F-EDL's packed `(alpha, p, tau)`, the Dirichlet with the same
        mean, `alpha + tau p`.
        """
        outputs = self._float32(outputs)
        if self.flexible:
            return dirichlet.flexible_equivalent_alpha(
                *dirichlet.split_flexible_parameters(outputs)
            )
        if self.evidence is None:
            return outputs
        return dirichlet.alpha_from_evidence(self.evidence(outputs), self.prior_concentration)

    def uncertainty(self, outputs: Tensor) -> Tensor:
        """The model's uncertainty in [0, 1] for EDL-type heads: the vacuity
        `prior_concentration K / S` of the known classes (R-EDL's `lambda K / S`),
        or F-EDL's epistemic uncertainty. DAEDL's `K / S` can exceed 1."""
        outputs = self._float32(outputs)
        if self.flexible:
            return dirichlet.flexible_epistemic_uncertainty(
                *dirichlet.split_flexible_parameters(outputs)
            )
        alpha = self.to_alpha(outputs)
        if self.unknown_class:
            alpha = alpha[..., :-1]
        return dirichlet.vacuity(alpha, self.prior_concentration)


def output_layer(model: keras.Model) -> keras.layers.Layer | None:
    """The layer that computes a model's (single) output, inside nested models.

    A model used as a layer (`Model(inp, head(base(inp)))` with `head` a
    `Sequential`) is looked into, recursively, and so is a calibration layer
    (`keras_evidential.layers.TemperatureScaling`, ...) appended to a head:
    the head is returned. Returns None where the output
    has no recorded producer (a subclassed model).
    """
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs or len(outputs) != 1:
        return None
    return _head(producing_layer(outputs[0]))


def _head(layer):
    if isinstance(layer, CALIBRATION_LAYERS):
        # A calibrator keeps what its input means (alpha with the head's
        # prior, logits, NIG parameters): the head below it decides.
        head = _head(producing_layer(layer.input))
        prior = getattr(head, "prior_concentration", None)
        if getattr(layer, "target", None) == "evidence" and prior is not None and (
            lower_bound(float(prior)) != lower_bound(layer.prior_concentration)
        ):
            raise ValueError(
                f"{type(layer).__name__} scales the evidence alpha - lambda of "
                "the head below it, so its prior_concentration must be the "
                f"head's. Received: {type(head).__name__}(prior_concentration="
                f"{float(prior):g}), {type(layer).__name__}(prior_concentration="
                f"{layer.prior_concentration:g})"
            )
        return head
    if isinstance(layer, keras.Model):
        inner = output_layer(layer)
        return inner if inner is not None else layer
    return layer


def compiled_edl_loss(model: keras.Model) -> keras.losses.Loss | None:
    """The first `EDLLoss` the model is compiled with, or None."""
    for loss in keras.tree.flatten(getattr(model, "loss", None)):
        if isinstance(loss, EDLLoss):
            return loss
    return None


def check_loss_matches_model(model: keras.Model, loss: keras.losses.Loss) -> None:
    """Refuses a loss that contradicts the model's head, by name.

    - `from_logits=True` on a model that already outputs alpha (ending in
      `DirichletOutput` or an unknown-class head) would apply the evidence
      function a second time, and treat m-EDL's alpha_u = K + 1 as a logit.
    - F-EDL's packed output `[alpha, p, tau]` is no alpha: only `FEDLLoss`
      reads it, and `FEDLLoss` reads nothing else.
    - R-EDL's prior weight lambda must be the head's (`alpha = e + lambda`).

    The loss cannot see the model (Keras gives it `y_true, y_pred` only), so
    this runs where both are visible: `model_kind` (export, evaluation) and
    the callbacks' start of `fit`.
    """
    layer = output_layer(model)
    name = type(layer).__name__
    if getattr(loss, "from_logits", False) and isinstance(layer, DIRICHLET_HEADS):
        raise ValueError(
            f"The model ends in {name}, so it outputs alpha "
            "(Dirichlet concentrations), but its loss has from_logits=True, "
            "which would apply the evidence function again. Use "
            "EDLLoss(from_logits=False) with this model, or end the model in "
            "a plain Dense(K) layer (logits) to keep from_logits=True. "
            f"Received: output layer {layer.name!r}, from_logits=True"
        )
    if isinstance(layer, BetaOutput) and isinstance(loss, DIRICHLET_LOSSES):
        raise ValueError(
            "The model ends in BetaOutput, whose (batch, L, 2) output holds "
            f"per label (alpha, beta); {type(loss).__name__} would read each "
            "label as a 2-class Dirichlet sample. Train it with BetaEDLLoss. "
            f"Received: loss={type(loss).__name__}"
        )
    flexible_head = isinstance(layer, FlexibleDirichletOutput)
    if flexible_head and not isinstance(loss, FEDLLoss) and isinstance(
        loss, DIRICHLET_LOSSES
    ):
        raise ValueError(
            "The model ends in FlexibleDirichletOutput, whose output packs "
            "[alpha, p, tau] (2K + 1 columns, F-EDL); "
            f"{type(loss).__name__} would read it as the alpha of 2K + 1 "
            "classes. Train it with FEDLLoss. "
            f"Received: loss={type(loss).__name__}"
        )
    if isinstance(loss, FEDLLoss) and layer is not None and not flexible_head and (
        isinstance(layer, DIRICHLET_HEADS)
    ):
        raise ValueError(
            "FEDLLoss reads FlexibleDirichletOutput's packed [alpha, p, tau]; "
            f"the model ends in {name}, which outputs alpha. End the model in "
            "FlexibleDirichletOutput(K), or train this one with EDLLoss. "
            f"Received: output layer {layer.name!r}"
        )
    if isinstance(loss, RelaxedEDLLoss) and layer is not None and hasattr(
        layer, "prior_concentration"
    ):
        head = float(layer.prior_concentration)
        if lower_bound(head) != lower_bound(loss.prior_concentration):
            raise ValueError(
                "R-EDL's prior weight lambda must be the same in the head "
                "(alpha = e + lambda) and the loss. Received: "
                f"{name}(prior_concentration={head:g}), "
                f"RelaxedEDLLoss(prior_concentration={loss.prior_concentration:g})"
            )


def check_losses_match_model(model: keras.Model) -> None:
    """`check_loss_matches_model` for every loss the model is compiled with."""
    for loss in keras.tree.flatten(getattr(model, "loss", None)):
        if isinstance(loss, keras.losses.Loss):
            check_loss_matches_model(model, loss)


def _output_width(model):
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) != 1:
            raise ValueError(
                "Expected a single-output classifier. Received: a model with "
                f"{len(outputs)} outputs"
            )
        return outputs[0].shape[-1]
    # A subclassed model: the output of the input shapes of its first call.
    try:
        specs = keras.tree.flatten(input_signature(model))
        inputs = [
            keras.KerasTensor(spec.shape, keras.backend.standardize_dtype(spec.dtype))
            for spec in specs
        ]
        output = compute_output_spec(
            model, inputs[0] if len(inputs) == 1 else inputs
        )
    except Exception:
        return None
    if len(keras.tree.flatten(output)) != 1:
        return None
    return keras.tree.flatten(output)[0].shape[-1]


def model_kind(
    model: keras.Model,
    output: str | None = None,
    evidence: str | keras.layers.Layer | None = None,
    unknown_class: bool | None = None,
) -> ModelKind:
    """Decides what a classifier outputs, for export, evaluation and monitoring.

    Detection, where an argument is None:
    - a model whose output layer (looking inside nested models) is
      `UnknownClassHead` or `LearnedUnknownClassHead` outputs alpha over
      K + 1 classes, the last being m-EDL's unknown class;
    - one whose output layer is `DirichletOutput` outputs K-class alpha;
    - otherwise the compiled `EDLLoss` decides: `from_logits=True` means
      logits (a TEDL model) turned into alpha with the loss's evidence,
      `from_logits=False` means alpha.
    A model that matches none of these is refused: pass `output` (and
    `evidence` for logits).

    Args:
        model: A Keras classifier with one output.
        output: `None` (detect), `"alpha"` or `"logits"`.
        evidence: For logits, the evidence function (a name such as
            `"elu"` or an `Evidence` layer). Defaults to the evidence of the
            compiled `EDLLoss(from_logits=True)`.
        unknown_class: Whether the last output column is m-EDL's unknown
            class. `None` detects an unknown-class head.

    Returns:
        A `ModelKind`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput(),
    ...     keras_evidential.layers.UnknownClassHead()])
    >>> kind = keras_evidential.model_kind(model)
    >>> kind.output, kind.unknown_class, kind.num_known_classes
    ('alpha', True, 3)
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a Keras model. Received: model={model!r}")
    if not model.built:
        raise ValueError(
            "The model is not built, so its output cannot be read: start it "
            "with keras.Input(...) or call it once on a batch. "
            f"Received: an unbuilt {type(model).__name__} {model.name!r}"
        )
    if output is not None and output not in OUTPUTS:
        raise ValueError(
            f"`output` must be None (detect), 'alpha' or 'logits'. "
            f"Received: output={output!r}"
        )
    if unknown_class is not None and not isinstance(unknown_class, bool):
        raise ValueError(
            "`unknown_class` must be None (detect), True or False. "
            f"Received: unknown_class={unknown_class!r}"
        )
    layer = output_layer(model)
    if isinstance(layer, DensityAwareDirichlet):
        # Unfitted, DAEDL's head outputs its training-stage exp(z).
        layer.check_density_fitted()
    loss = compiled_edl_loss(model)
    check_losses_match_model(model)
    if isinstance(layer, BetaOutput):
        # Its (batch, L, 2) output would read as L-row alpha of K = 2.
        raise ValueError(
            "The model ends in BetaOutput: per label Beta parameters (alpha, "
            "beta), not a Dirichlet over classes. Read it with "
            "keras_evidential.beta and keras_evidential.evaluation.multilabel; "
            "export_saved_model serves its per-label outputs. Received: output "
            f"layer {layer.name!r}"
        )
    is_head = isinstance(layer, UNKNOWN_CLASS_HEADS)
    if output is None:
        if isinstance(layer, DIRICHLET_HEADS):
            output = "alpha"
        elif loss is not None:
            output = "logits" if loss.from_logits else "alpha"
        else:
            raise ValueError(
                "Cannot tell whether the model outputs alpha or logits: its "
                "output layer is neither DirichletOutput nor an unknown-class "
                "head and it is not compiled with EDLLoss. Pass output='alpha' "
                "or output='logits' (with evidence=...). Received: output "
                f"layer {getattr(layer, 'name', None)!r}"
            )
    if unknown_class is None:
        unknown_class = is_head
    if isinstance(layer, FlexibleDirichletOutput):
        return ModelKind(
            "alpha", False, layer.num_classes, minimum_alpha=0.0, flexible=True
        )
    width = _output_width(model)
    if width is None or width < 2 + int(unknown_class):
        raise ValueError(
            "The model's output must hold a known number of classes >= 2 "
            f"(plus the unknown class). Received: output width {width}, "
            f"unknown_class={unknown_class}"
        )
    if output == "alpha":
        if evidence is not None:
            raise ValueError(
                "`evidence` applies to logits models only; this model "
                f"outputs alpha. Received: output='alpha', evidence={evidence!r}"
            )
        prior_concentration = float(getattr(layer, "prior_concentration", 1.0))
        # DAEDL's alpha = exp(z s) is only > 0; R-EDL's alpha >= lambda.
        minimum = 0.0 if isinstance(layer, DensityAwareDirichlet) else prior_concentration
        return ModelKind(
            "alpha", unknown_class, width - int(unknown_class),
            prior_concentration=prior_concentration, minimum_alpha=minimum,
        )
    if unknown_class:
        raise ValueError(
            "m-EDL's unknown class is appended to alpha by UnknownClassHead, "
            "which a logits model does not have. "
            "Received: output='logits', unknown_class=True"
        )
    if evidence is None:
        if loss is None or not loss.from_logits:
            raise ValueError(
                "A logits model needs an evidence function: compile it with "
                "EDLLoss(from_logits=True, evidence=...) or pass evidence=... "
                f"Received: model.loss={getattr(model, 'loss', None)!r}"
            )
        evidence = loss.evidence
    return ModelKind("logits", False, width, get_evidence(evidence))
