"""The uncertainty map of a dense model drawn over its image (matplotlib,
the optional extra `plots`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_evidential.evaluation.plots import _figure_class
from keras_evidential.evaluation.plots import _finish
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import PathLike
from keras_evidential.validation import check_number


def plot_uncertainty_overlay(
    image: ArrayLike,
    uncertainty: ArrayLike,
    class_map: ArrayLike = None,
    opacity: float = 0.6,
    vmax: float | None = None,
    cmap: str = "inferno",
    path: PathLike | None = None,
    title: str | None = None,
) -> Any:
    """Draws an image with its per-pixel uncertainty laid over it.

    Panels: the image; with `class_map`, the predicted classes; the image in
    gray with the uncertainty map (e.g. `ke.dirichlet.vacuity(alpha)` of one
    image) drawn over it in `cmap` at `opacity`, with a colour bar.

    Args:
        image: `(H, W)` or `(H, W, channels)` array (channels 1, 3 or 4).
        uncertainty: `(H, W)` array, one score per pixel.
        class_map: Optional `(H, W)` integer array of predicted classes.
        opacity: Float in [0, 1], the opacity of the uncertainty layer.
            Defaults to 0.6.
        vmax: Optional top of the colour scale (e.g. 1 for the vacuity);
            the map's maximum by default.
        cmap: The matplotlib colour map of the uncertainty. Defaults to
            `"inferno"`.
        path: Optional path of the PNG to write.
        title: Optional figure title.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:

    >>> image = np.zeros((8, 8)); image[2:6, 2:6] = 1.0
    >>> figure = keras_evidential.evaluation.plot_uncertainty_overlay(
    ...     image, np.linspace(0, 1, 64).reshape(8, 8), class_map=image > 0)
    >>> len(figure.axes)  # image, classes, overlay and its colour bar
    4
    """
    image = np.asarray(image, "float64")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    uncertainty = np.asarray(uncertainty, "float64")
    if uncertainty.shape != image.shape[:2] or image.ndim not in (2, 3):
        raise ValueError(
            "`uncertainty` must be one value per pixel of `image`: shape "
            "(H, W) for an image (H, W) or (H, W, channels). Received: "
            f"image.shape={image.shape}, uncertainty.shape={uncertainty.shape}"
        )
    if image.ndim == 3 and image.shape[-1] not in (3, 4):
        raise ValueError(
            "`image` must have 1, 3 or 4 channels (gray, RGB, RGBA). "
            f"Received: image.shape={image.shape}"
        )
    if not np.all(np.isfinite(uncertainty)):
        # A NaN pixel would be drawn as transparent, looking certain.
        raise ValueError(
            "`uncertainty` must be finite; it may not contain NaN or inf. "
            f"Received: uncertainty with {int(np.sum(np.isnan(uncertainty)))} NaN "
            f"and {int(np.sum(np.isinf(uncertainty)))} inf"
        )
    if class_map is not None and np.shape(class_map) != uncertainty.shape:
        raise ValueError(
            "`class_map` must have the uncertainty map's shape. Received: "
            f"class_map.shape={np.shape(class_map)}, "
            f"uncertainty.shape={uncertainty.shape}"
        )
    opacity = check_number(opacity, "opacity", 0, 1)
    gray = image if image.ndim == 2 else image[..., :3].mean(axis=-1)
    panels = 2 if class_map is None else 3
    figure = _figure_class()(figsize=(3.2 * panels, 3.2))
    axes = figure.subplots(1, panels)
    axes[0].imshow(image, cmap="gray" if image.ndim == 2 else None)
    axes[0].set_title("image")
    if class_map is not None:
        axes[1].imshow(np.asarray(class_map), cmap="tab20", interpolation="nearest")
        axes[1].set_title("prediction")
    axes[-1].imshow(gray, cmap="gray")
    layer = axes[-1].imshow(
        uncertainty, cmap=cmap, alpha=opacity, vmin=0.0,
        vmax=float(uncertainty.max()) if vmax is None else vmax,
    )
    axes[-1].set_title("uncertainty")
    figure.colorbar(layer, ax=axes[-1], fraction=0.046, pad=0.04)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    if title:
        figure.suptitle(title)
    return _finish(figure, path)
