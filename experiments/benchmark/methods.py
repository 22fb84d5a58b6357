"""The benchmark's rows: one conv-net tower per seed and a head + loss per method.

The conv net of the I-EDL / R-EDL MNIST configs: 3 x [Conv 5x5 (64 filters,
"same"), ReLU, MaxPool 2] -> flatten (576) -> Dense 64 -> 64 -> 64 -> 10.
`width` scales every layer's width (64 -> width) for a narrower net.
`init="torch"` initialises the tower's layers as PyTorch's defaults do (the
reference code's), `init="keras"` with Keras's Glorot uniform and zero bias.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

import keras_evidential as ke

NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class Method:
    """One row: how its head, loss and schedule differ from the others."""

    name: str
    label: str
    head: str  # softmax | dirichlet | density | flexible | unknown_class | posterior_network
    make_loss: object
    evidence: str = "softplus"
    prior_concentration: float = 1.0
    anneal_kl: bool = False
    spectral: bool = False
    warmup_ce_share: float = 0.0  # share of the epochs trained with softmax CE first
    outlier_exposure: bool = False
    published: dict = dataclasses.field(default_factory=dict)


# Published `(mean, std)` in %: Re-EDL (TPAMI 2025) Table 4, MNIST, 5 runs:
# accuracy and FMNIST AUPR (ID positive, scored by 1 / uncertainty mass, the
# same ranking as alpha0); DAEDL (ICML 2024) Table 2: FMNIST AUPR with its
# epistemic score alpha0 (99.83 with the aleatoric one), printed "± 0.0" (5 runs).
METHODS = {
    m.name: m
    for m in [
        Method("softmax", "softmax CE", "softmax", lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        Method("edl_relu", "EDL (ReLU)", "dirichlet", lambda: ke.losses.EDLLoss(), evidence="relu", anneal_kl=True),
        # The published EDL row used softplus evidence, as every row of the
        # I-EDL / R-EDL protocol does (Re-EDL paper, section 5.2).
        Method("edl_softplus", "EDL (softplus)", "dirichlet", lambda: ke.losses.EDLLoss(), anneal_kl=True,
               published={"accuracy": (98.22, 0.31), "fmnist_aupr": (98.08, 0.42)}),
        Method("iedl", "I-EDL", "dirichlet", lambda: ke.losses.IEDLLoss(fisher_weight=0.005), anneal_kl=True,
               published={"accuracy": (99.21, 0.08), "fmnist_aupr": (98.86, 0.29)}),
        Method("redl", "R-EDL", "dirichlet", lambda: ke.losses.RelaxedEDLLoss(prior_concentration=0.1), prior_concentration=0.1,
               anneal_kl=True, published={"accuracy": (99.33, 0.03), "fmnist_aupr": (99.29, 0.12)}),
        Method("re_edl", "Re-EDL", "dirichlet", lambda: ke.losses.RelaxedEDLLoss.re_edl(prior_concentration=0.1),
               prior_concentration=0.1, published={"accuracy": (99.35, 0.00), "fmnist_aupr": (99.65, 0.09)}),
        Method("red", "RED", "dirichlet", lambda: ke.losses.CorrectEvidenceLoss(), evidence="exp", anneal_kl=True),
        Method("daedl", "DAEDL", "density", lambda: ke.losses.DAEDLLoss(kl_weight=0.05), spectral=True,
               published={"fmnist_aupr": (99.87, 0.0)}),
        Method("fedl", "F-EDL", "flexible", lambda: ke.losses.FEDLLoss(), spectral=True),
        Method("tedl", "TEDL (CE, then EDL with ELU)", "dirichlet", lambda: ke.losses.EDLLoss(), evidence="elu",
               anneal_kl=True, warmup_ce_share=1 / 3),
        Method("tedl_redl", "CE, then R-EDL", "dirichlet", lambda: ke.losses.RelaxedEDLLoss(prior_concentration=0.1),
               prior_concentration=0.1, anneal_kl=True, warmup_ce_share=1 / 3),
        Method("medl", "m-EDL (EMNIST as unknown class)", "unknown_class", lambda: ke.losses.EDLLoss(),
               evidence="relu", anneal_kl=True, outlier_exposure=True),
        Method("prior_network", "Prior Network (reverse KL)", "dirichlet",
               lambda: ke.losses.PriorNetworkLoss(target_concentration=100.0), evidence="exp",
               outlier_exposure=True),
        # Posterior Network (Charpentier et al., NeurIPS 2020): the tower's last
        # Dense(10) is the latent, then batch norm and 6
        # radial flows per class (`posterior_network_head`). Published: Table 10,
        # "PostN Rad. (6)", MNIST -> FMNIST AUPR with alpha0 (epistemic), 97.24
        # (97.78 with max p, aleatoric), and Table 9's accuracy 99.28; the paper
        # prints the standard error of the mean over 5 splits (section 4), so
        # the std here is s.e. x sqrt(5): 0.3 -> 0.67, and "± 0.0" stays 0.0
        # (a printed s.e. < 0.05, i.e. std < 0.11).
        Method("postnet", "Posterior Network (radial flows)", "posterior_network",
               lambda: ke.losses.PosteriorNetworkLoss(entropy_weight=1e-5),
               published={"accuracy": (99.28, 0.0), "fmnist_aupr": (97.24, 0.67)}),
    ]
}

NO_OOD_ROWS = [name for name, m in METHODS.items() if not m.outlier_exposure]
OUTLIER_EXPOSURE_ROWS = [name for name, m in METHODS.items() if m.outlier_exposure]


INITIALIZERS = ("keras", "torch")


def initializers(init, fan_in):
    """The kernel and bias initialisers of a layer with `fan_in` inputs per unit.

    PyTorch's `Linear` and `Conv2d` draw kernels from
    `kaiming_uniform_(a=sqrt(5))`, i.e. U(-b, b) with b = sqrt(6 / ((1 + 5) fan_in))
    = 1 / sqrt(fan_in), and biases from U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)).
    """
    if init == "keras":
        return {}
    bound = 1.0 / np.sqrt(fan_in)
    return {
        "kernel_initializer": keras.initializers.RandomUniform(-bound, bound),
        "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
    }


def _dense(units, wrapper, name, activation=None, init="keras", fan_in=None):
    layer = keras.layers.Dense(units, activation=activation, name=name, **initializers(init, fan_in))
    return layer if wrapper is None else wrapper(layer, name=name + "_sn")


def tower(inputs, method, width, prefix, spectral_wrapper=ke.layers.SpectralNormalization, init="keras"):
    """`(features, logits)` of one seed's conv net.

    With `method.spectral` every layer, the logits' included, is spectrally
    normalised, as in DAEDL's official MNIST net (`conv_net` with
    `k_lipschitz=1`, PyTorch's `spectral_norm` on every layer), by
    `spectral_wrapper` (`keras.layers.SpectralNormalization` only for the
    A/B in docs/results/benchmark/spectral_normalization/).
    """
    wrapper = spectral_wrapper if method.spectral else None
    x = inputs
    for i in range(3):
        fan_in = 5 * 5 * (inputs.shape[-1] if i == 0 else width)
        conv = keras.layers.Conv2D(width, 5, padding="same", activation="relu", name=f"{prefix}conv{i}",
                                   **initializers(init, fan_in))
        if wrapper is not None:
            conv = wrapper(conv, name=f"{prefix}conv{i}_sn")
        x = keras.layers.MaxPooling2D(2, name=f"{prefix}pool{i}")(conv(x))
    x = conv_features = keras.layers.Flatten(name=f"{prefix}flatten")(x)
    for i in range(3):
        x = _dense(width, wrapper, f"{prefix}dense{i}", "relu", init, x.shape[-1])(x)
    if method.head == "flexible":
        return x, None
    logits = _dense(NUM_CLASSES, wrapper, f"{prefix}logits", init=init, fan_in=width)(x)
    # DAEDL's official MNIST net fits its density to the flattened conv
    # features (576 at width 64), not to the penultimate layer.
    return (conv_features if method.head == "density" else x), logits


def head(method, features, logits, prefix, exp_clip=None, class_counts=None):
    """The method's output layer; `exp_clip` (None: the library's default)
    is the logit clip of the `exp` heads of DAEDL and F-EDL; `class_counts`
    the training labels' N_c of Posterior Network."""
    clip = {} if exp_clip is None else {"clip_value": exp_clip}
    if method.head == "softmax":
        return logits
    if method.head == "posterior_network":
        return posterior_network_head(logits, prefix, class_counts)
    if method.head == "density":
        return ke.layers.DensityAwareDirichlet(name=f"{prefix}density", **clip)([features, logits])
    if method.head == "flexible":
        return ke.layers.FlexibleDirichletOutput(
            NUM_CLASSES, spectral_normalization=True, name=f"{prefix}fd", **clip
        )(features)
    alpha = ke.layers.DirichletOutput(method.evidence, prior_concentration=method.prior_concentration, name=f"{prefix}alpha")(logits)
    if method.head == "unknown_class":
        return ke.layers.UnknownClassHead(name=f"{prefix}unknown")(alpha)
    return alpha


def build(method, seeds, width=64, exp_clip=None, keras_spectral_normalization=False, init="keras",
          input_per_tower=False, class_counts=None):
    """`(model, warmup_model or None)`: one tower per seed in one Keras model.

    Towers share no weights; each is initialised from its own seed. With
    `input_per_tower` each tower has its own input (`image_s<seed>`), so
    that each seed trains on its own split and batch order; otherwise they
    share one input batch. The warm-up model (softmax CE on the towers'
    logits) shares their layers, for the rows trained with a cross-entropy
    stage first.
    `class_counts` (Posterior Network only): the training samples per class,
    `np.bincount(y_train, minlength=NUM_CLASSES)`, or a dict of them by seed
    (each seed has its own split).
    """
    shared = keras.Input((28, 28, 1), name="image")
    inputs, outputs, logits_outputs = [], [], []
    wrapper = keras.layers.SpectralNormalization if keras_spectral_normalization else ke.layers.SpectralNormalization
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        prefix = f"s{seed}_"
        image = keras.Input((28, 28, 1), name=f"image_s{seed}") if input_per_tower else shared
        inputs.append(image)
        features, logits = tower(image, method, width, prefix, wrapper, init)
        outputs.append(head(method, features, logits, prefix, exp_clip,
                            class_counts[seed] if isinstance(class_counts, dict) else class_counts))
        logits_outputs.append(logits)
    inputs = inputs if input_per_tower else shared
    model = keras.Model(inputs, outputs, name=method.name)
    warmup = keras.Model(inputs, logits_outputs) if method.warmup_ce_share > 0 else None
    return model, warmup


POSTNET_FLOW_LENGTH = 6  # radial flows per class (appendix B; Table 10's "Rad. (6)")


def posterior_network_head(latent, prefix, class_counts):
    """Batch norm on the latent, then one stack of radial flows per class:
    alpha = 1 + N_c q(z | c) (Charpentier et al., 2020, section 2.1).

    The latent is the tower's last Dense(NUM_CLASSES): dimension 10, the
    authors' code's default `latent_dim` (the paper's default is 6, and "a
    latent dimension smaller or equal to the number of classes is
    sufficient", appendix B; its saved MNIST models use 6).
    """
    if class_counts is None:
        raise ValueError(
            "The Posterior Network row needs the training labels' class counts: "
            "build(..., class_counts=np.bincount(y_train, minlength=10)). "
            "Received: class_counts=None"
        )
    latent = keras.layers.BatchNormalization(name=f"{prefix}latent_bn")(latent)
    return ke.layers.PosteriorNetworkOutput(
        class_counts, flow_length=POSTNET_FLOW_LENGTH, name=f"{prefix}postnet"
    )(latent)


def to_probabilities_and_scores(method, output):
    """`(probabilities (N, K), {score name: confidence (N,)})` of one tower's output.

    Scores are oriented so that higher means "in-distribution"
    (`keras_evidential.evaluation.confidence_scores`).
    """
    output = np.asarray(output, dtype="float32")
    if method.head == "softmax":
        probabilities = np.asarray(ops.convert_to_numpy(ops.softmax(output, axis=-1)))
        entropy = -(probabilities * np.log(np.clip(probabilities, 1e-30, None))).sum(-1)
        return probabilities, {"max_probability": probabilities.max(-1), "entropy": -entropy}
    if method.head == "flexible":
        alpha, p, tau = ke.dirichlet.split_flexible_parameters(output)
        probabilities = np.asarray(ops.convert_to_numpy(ke.dirichlet.flexible_expected_probability(alpha, p, tau)))
        scores = ke.evaluation.confidence_scores(ops.convert_to_numpy(ke.dirichlet.flexible_equivalent_alpha(alpha, p, tau)))
        scores["max_probability"] = probabilities.max(-1)
        scores["epistemic"] = -np.asarray(ops.convert_to_numpy(ke.dirichlet.flexible_epistemic_uncertainty(alpha, p, tau)))
        return probabilities, scores
    alpha = output[:, :NUM_CLASSES]
    scores = ke.evaluation.confidence_scores(alpha)
    if method.head == "unknown_class":
        # m-EDL's own OOD score: the expected probability of its unknown class.
        scores["unknown_probability"] = -output[:, NUM_CLASSES] / output.sum(-1)
    return alpha / alpha.sum(-1, keepdims=True), scores


def evidence_alpha(method, output):
    """`(alpha (N, K), evidence offset)` of one tower's output, for the dead-evidence
    statistics; None for softmax. The offset is the head's `alpha - evidence`:
    its prior concentration, 0 for the `exp` heads of DAEDL and F-EDL."""
    output = np.asarray(output, dtype="float32")
    if method.head == "softmax":
        return None
    if method.head == "flexible":
        alpha, p, tau = ke.dirichlet.split_flexible_parameters(output)
        return np.asarray(ops.convert_to_numpy(ke.dirichlet.flexible_equivalent_alpha(alpha, p, tau))), 0.0
    if method.head == "density":
        return output, 0.0
    return output[:, :NUM_CLASSES], method.prior_concentration
