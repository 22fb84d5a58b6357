"""PosteriorNetworkOutput: Posterior Network's head (Charpentier et al., 2020)."""

from __future__ import annotations

import math
from typing import Any
from typing import Sequence

import keras
import numpy as np
from keras import ops

from keras_evidential.dirichlet import alpha_from_evidence
from keras_evidential.dirichlet import exp_evidence
from keras_evidential.flows import radial_flow_log_density
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.layers.evidence import validate_clip_value
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_finite
from keras_evidential.validation import check_int
from keras_evidential.validation import check_number


@keras.saving.register_keras_serializable(package="keras_evidential")
class PosteriorNetworkOutput(keras.layers.Layer):
    """Dirichlet concentrations from class-conditional densities of a latent.

    Formula:
    ```
    alpha_c = 1 + N_c q(z | c) = 1 + exp(log N_c + log q(z | c))
    log q(z | c) = log N(f_c(z) | 0, I) + log |det df_c/dz|
    f_c = f_{c,L} o ... o f_{c,1}   (L radial flows per class)
    ```

    Posterior Network's pseudo-counts: N_c is the number of training
    samples of class c (`class_counts`) and `q(z | c)` a normalised density
    on the latent space, one stack of `flow_length` radial flows per class
    (`keras_evidential.flows.radial_flow_log_density`). Since every
    `q(. | c)` integrates to 1, the total evidence over the latent space is
    bounded by N = sum_c N_c: a latent point far from the training latents
    gets density ~ 0, hence `alpha ~ 1`, a flat Dirichlet, without any
    out-of-distribution data in training.

    Contract: called on the latent `z`, shape `(batch, D)`, the encoder's
    low-dimensional output (the paper uses D = 6 to 10, at most the number of
    classes; its code defaults to 10). The paper puts a batch normalisation
    between the encoder and this head (`keras.layers.BatchNormalization()`),
    which keeps the latents where the flows' base density is not ~ 0.

    The log evidence `log N_c + log q` is clipped from above at `clip_value`
    (default 50, as `DensityAwareDirichlet`'s) before `exp`, only to guard
    float32 against overflow; it has no lower clip, which would add evidence
    far from the data. The layer computes in float32 under a mixed-precision
    policy. Train with `PosteriorNetworkLoss`.

    Args:
        class_counts: The training samples per class N_c: a sequence of C >= 2
            finite numbers > 0, e.g. `np.bincount(y_train, minlength=C)`.
        flow_length: Integer >= 1, the radial flows per class. Defaults to
            `6`, the paper's.
        clip_value: Finite float > 0, the clip of the log evidence. Defaults
            to `50.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((784,)),
    ...     keras.layers.Dense(32, activation="relu"),
    ...     keras.layers.Dense(6),                    # the latent z
    ...     keras.layers.BatchNormalization(),
    ...     keras_evidential.layers.PosteriorNetworkOutput(
    ...         class_counts=[500] * 10),
    ... ])
    >>> model.compile("adam", keras_evidential.losses.PosteriorNetworkLoss())
    >>> alpha = ops.convert_to_numpy(model(np.zeros((2, 784))))
    >>> alpha.shape, bool((alpha >= 1).all())
    ((2, 10), True)

    Reference:
    - Charpentier, Zügner & Günnemann, "Posterior Network: Uncertainty
      Estimation without OOD Samples via Density-Based Pseudo-Counts",
      NeurIPS 2020, eq. 4 and appendix B
    - Rezende & Mohamed, "Variational Inference with Normalizing Flows",
      ICML 2015 (radial flows)
    """

    def __init__(
        self,
        class_counts: Sequence[float],
        flow_length: int = 6,
        clip_value: float = 50.0,
        **kwargs: Any,
    ) -> None:
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.class_counts = validate_class_counts(class_counts)
        self.flow_length = check_int(flow_length, "flow_length", minimum=1)
        self.clip_value = validate_clip_value(clip_value)
        self.num_classes = len(self.class_counts)

    def build(self, input_shape: Shape) -> None:
        dimension = input_shape[-1]
        if dimension is None:
            raise ValueError(
                "PosteriorNetworkOutput needs a known latent dimension. "
                f"Received: input_shape={input_shape}"
            )
        # Pyro's `Radial` initialisation (the authors' code): U(-1/sqrt(D), 1/sqrt(D)).
        bound = 1.0 / math.sqrt(dimension)
        initializer = keras.initializers.RandomUniform(-bound, bound)
        stacks = (self.num_classes, self.flow_length)
        self.centers = self.add_weight(
            shape=stacks + (dimension,), initializer=initializer, name="centers"
        )
        self.alpha_raw = self.add_weight(
            shape=stacks, initializer=initializer, name="alpha_raw"
        )
        self.beta_raw = self.add_weight(
            shape=stacks, initializer=initializer, name="beta_raw"
        )

    def log_density(self, z: Tensor) -> Tensor:
        """`log q(z | c)` for every class, shape `(batch, C)`."""
        return radial_flow_log_density(
            ops.expand_dims(z, -2), self.centers, self.alpha_raw, self.beta_raw
        )

    def call(self, inputs: Tensor) -> Tensor:
        check_finite(inputs, "The latent that PosteriorNetworkOutput receives")
        log_counts = ops.log(ops.convert_to_tensor(self.class_counts, inputs.dtype))
        log_evidence = log_counts + self.log_density(inputs)
        # No lower clip: any floor would add evidence everywhere, and the
        # budget sum_c N_c (and alpha -> 1 far from the data) would be lost.
        return alpha_from_evidence(
            exp_evidence(log_evidence, self.clip_value, min_value=-math.inf)
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (self.num_classes,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "class_counts": list(self.class_counts),
                "flow_length": self.flow_length,
                "clip_value": self.clip_value,
            }
        )
        return config


def validate_class_counts(class_counts: Sequence[float]) -> tuple[float, ...]:
    """Returns `class_counts` as a tuple of floats; raises unless it holds at
    least 2 finite numbers, each > 0."""
    counts = np.asarray(class_counts, dtype=object) if not isinstance(
        class_counts, (str, bytes)
    ) else None
    if counts is None or counts.ndim != 1 or len(counts) < 2:
        raise ValueError(
            "`class_counts` must be a sequence of the training samples per "
            "class, at least 2 numbers > 0. "
            f"Received: class_counts={class_counts!r}"
        )
    return tuple(
        check_number(count, f"class_counts[{index}]", low=0, low_open=True)
        for index, count in enumerate(counts)
    )
