"""plot_uncertainty_overlay: the panels hold the image, the class map and
the uncertainty map given; the PNG is written; bad input is refused."""

import numpy as np
import pytest

import keras_evidential as ke

pytest.importorskip("matplotlib")

RNG = np.random.default_rng(32)
H, W = 6, 5


def test_panels_hold_the_given_arrays_and_the_png_is_written(tmp_path):
    from matplotlib.image import imread

    image = RNG.random((H, W, 1))
    uncertainty = RNG.random((H, W))
    class_map = RNG.integers(0, 4, (H, W))
    path = tmp_path / "overlay.png"
    figure = ke.evaluation.plot_uncertainty_overlay(
        image, uncertainty, class_map=class_map, opacity=0.4, vmax=2.0,
        path=path, title="t",
    )
    image_ax, class_ax, overlay_ax = figure.axes[:3]
    np.testing.assert_array_equal(image_ax.images[0].get_array(), image[..., 0])
    np.testing.assert_array_equal(class_ax.images[0].get_array(), class_map)
    gray, layer = overlay_ax.images
    np.testing.assert_array_equal(gray.get_array(), image[..., 0])
    np.testing.assert_array_equal(layer.get_array(), uncertainty)
    assert layer.get_alpha() == 0.4
    assert layer.get_clim() == (0.0, 2.0)
    assert len(figure.axes) == 4  # and the colour bar
    written = imread(path)
    assert written.ndim == 3 and written.shape[0] > 0 and written.shape[1] > 0


def test_without_class_map_two_panels_and_scale_up_to_the_maximum():
    uncertainty = RNG.random((H, W))
    figure = ke.evaluation.plot_uncertainty_overlay(RNG.random((H, W, 3)), uncertainty)
    assert len(figure.axes) == 3  # image, overlay, colour bar
    layer = figure.axes[1].images[1]
    assert layer.get_clim() == (0.0, uncertainty.max())
    # An RGB image is drawn in colour, and in gray under the overlay.
    assert figure.axes[0].images[0].get_array().shape == (H, W, 3)


@pytest.mark.parametrize(
    "image, uncertainty, kwargs, match",
    [
        (np.zeros((H, W)), np.zeros((W, H)), {}, r"`uncertainty` must be one value per pixel.*uncertainty.shape=\(5, 6\)"),
        (np.zeros((H, W)), np.zeros((H, W)), {"class_map": np.zeros((H, W + 1))}, r"`class_map` must have .*class_map.shape=\(6, 6\)"),
        (np.zeros((H, W)), np.zeros((H, W)), {"opacity": 1.5}, r"`opacity` must be .*Received: opacity=1.5"),
        (np.zeros((H, W, 2)), np.zeros((H, W)), {}, r"`image` must have 1, 3 or 4 channels.*image.shape=\(6, 5, 2\)"),
        (np.zeros((H, W)), np.full((H, W), np.nan), {}, r"`uncertainty` must be finite.*NaN"),
    ],
)
def test_refuses_bad_input(image, uncertainty, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.evaluation.plot_uncertainty_overlay(image, uncertainty, **kwargs)
