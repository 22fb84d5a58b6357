"""DirichletUncertaintyMaps: per-pixel uncertainty maps of a dense Dirichlet."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential.layers.dirichlet_output import full_precision_dtype
from keras_evidential.tensor_types import Shape
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import check_bool
from keras_evidential.validation import check_number

MAP_NAMES = ("vacuity", "entropy", "mutual_information")
UNKNOWN_MAP_NAME = "unknown_probability"


def uncertainty_maps(
    alpha: Tensor, prior_concentration: float = 1.0, unknown_class: bool = False
) -> dict[str, Tensor]:
    """The uncertainty maps of Dirichlets `alpha` of shape `(batch, ..., K)`.

    Formula:
    ```
    vacuity             = lambda K / S          (lambda = prior_concentration)
    entropy             = H[p_bar],  p_bar = alpha / S    (total uncertainty)
    mutual_information  = H[p_bar] - E_Dir[H[p]]          (epistemic)
    unknown_probability = alpha_u / S+          (m-EDL's p_hat_u; unknown_class)
    ```

    With `unknown_class=True`, `alpha` holds `UnknownClassHead`'s K + 1
    columns: the first three maps are those of the K known classes and
    `unknown_probability` is the unknown class's own map.

    Args:
        alpha: Dirichlet concentrations, shape `(batch, ..., K)` (or
            `K + 1` with `unknown_class`).
        prior_concentration: R-EDL's lambda (1: EDL's `K / S`).
        unknown_class: Whether the last column is m-EDL's unknown class.

    Returns:
        A dict of maps of shape `(batch, ...)`, keyed by `MAP_NAMES` (and
        `"unknown_probability"` with `unknown_class`).
    """
    alpha = ops.convert_to_tensor(alpha)
    known = alpha[..., :-1] if unknown_class else alpha
    maps = {
        "vacuity": dirichlet.vacuity(known, prior_concentration),
        "entropy": dirichlet.total_entropy(known),
        "mutual_information": dirichlet.mutual_information(known),
    }
    if unknown_class:
        maps[UNKNOWN_MAP_NAME] = dirichlet.expected_probability(alpha)[..., -1]
    return maps


@keras.saving.register_keras_serializable(package="keras_evidential")
class DirichletUncertaintyMaps(keras.layers.Layer):
    """Turns per-pixel Dirichlet concentrations into uncertainty maps.

    Formula:
    ```
    vacuity            = lambda K / S
    entropy            = -sum_k p_bar_k log p_bar_k,   p_bar = alpha / S
    mutual_information = entropy - E_{p ~ Dir(alpha)}[H[p]]
    ```

    Put it after a dense `DirichletOutput` (`(batch, H, W, K)`, optionally
    followed by `UnknownClassHead`) to give a segmenter one map per
    uncertainty, each of shape `(batch, H, W)`: a dict with the keys
    `"vacuity"`, `"entropy"` and `"mutual_information"`, plus
    `"unknown_probability"` (m-EDL's `p_hat_u` per pixel) with
    `unknown_class=True`. It has no weights; entropies are in nats.
    Under mixed precision it computes in float32, as `DirichletOutput`.

    Args:
        prior_concentration: Positive float, R-EDL's lambda of the head
            (`DirichletOutput(prior_concentration=...)`), which scales the
            vacuity. Defaults to `1.0` (EDL).
        unknown_class: Whether the input's last column is m-EDL's unknown
            class (`UnknownClassHead`, K + 1 columns): the maps are then
            those of the K known classes, and the unknown class gets its own
            map. Defaults to `False`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> inputs = keras.Input((8, 8, 1))
    >>> alpha = keras_evidential.layers.DirichletOutput("softplus")(
    ...     keras.layers.Conv2D(3, 1)(inputs))
    >>> maps = keras_evidential.layers.DirichletUncertaintyMaps()(alpha)
    >>> sorted(maps), tuple(maps["vacuity"].shape)
    (['entropy', 'mutual_information', 'vacuity'], (None, 8, 8))

    One pixel with alpha = (1, 1): vacuity 2 / 2 = 1, entropy log 2:

    >>> maps = keras_evidential.layers.DirichletUncertaintyMaps()(
    ...     np.array([[[1.0, 1.0]]]))
    >>> round(float(maps["entropy"][0, 0]), 4)
    0.6931

    Reference:
    - Sensoy, Kaplan & Kandemir, "Evidential Deep Learning to Quantify
      Classification Uncertainty", NeurIPS 2018 (vacuity)
    - Malinin & Gales, "Predictive Uncertainty Estimation via Prior
      Networks", NeurIPS 2018 (entropy and mutual information)
    - Nagahama, m-EDL, Sci. Rep. 13, 14904 (2023) (the unknown class)
    """

    def __init__(
        self,
        prior_concentration: float = 1.0,
        unknown_class: bool = False,
        **kwargs: Any,
    ) -> None:
        # S = sum(alpha) overflows float16: computed in float32, as the head.
        kwargs["dtype"] = full_precision_dtype(kwargs.get("dtype"))
        super().__init__(**kwargs)
        self.prior_concentration = check_number(
            prior_concentration, "prior_concentration", low=0, low_open=True
        )
        self.unknown_class = check_bool(unknown_class, "unknown_class")
        # No weights: built when made.
        self._build_at_init()

    def call(self, inputs: Tensor) -> Tensor:
        self._check_shape(inputs.shape)
        return uncertainty_maps(inputs, self.prior_concentration, self.unknown_class)

    def compute_output_shape(self, input_shape: Shape) -> dict[str, Shape]:
        self._check_shape(input_shape)
        names = MAP_NAMES + ((UNKNOWN_MAP_NAME,) if self.unknown_class else ())
        return {name: tuple(input_shape[:-1]) for name in names}

    def _check_shape(self, input_shape):
        minimum = 3 if self.unknown_class else 2
        if len(input_shape) < 2 or input_shape[-1] is None or input_shape[-1] < minimum:
            raise ValueError(
                "DirichletUncertaintyMaps needs concentrations of shape "
                f"(batch, ..., K) with K >= 2 known classes"
                f"{' plus the unknown class' if self.unknown_class else ''}. "
                f"Received: input_shape={tuple(input_shape)}, "
                f"unknown_class={self.unknown_class}"
            )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "prior_concentration": self.prior_concentration,
                "unknown_class": self.unknown_class,
            }
        )
        return config
