"""The segmentation benchmark's canvases (experiments/segmentation/data.py)
against the construction its README states, on hand-made tiles."""

import numpy as np

from experiments.segmentation import data


def test_downsample_is_the_rounded_two_by_two_mean():
    tiles = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    small = data.downsample(tiles)
    assert small.shape == (3, 14, 14) and small.dtype == np.uint8
    for i, y, x in [(0, 0, 0), (1, 5, 9), (2, 13, 13)]:
        block = tiles[i, 2 * y:2 * y + 2, 2 * x:2 * x + 2].astype(float)
        assert small[i, y, x] == np.round(block.mean())


def test_labels_follow_the_intensity_rules_and_objects_are_ood():
    digit = np.zeros((1, data.TILE, data.TILE), np.uint8)
    digit[0, 2:6, 2:6] = 200  # class pixels
    digit[0, 7, 7] = 50  # an anti-aliased edge pixel: ignored
    obj = np.zeros((1, data.TILE, data.TILE), np.uint8)
    obj[0, 3:5, 3:5] = 255
    obj[0, 8, 8] = 100
    rng = np.random.default_rng(1)
    images, labels = data.canvases(
        20, digit, np.array([6]), rng, objects=obj, digits_per_canvas=(1, 2)
    )
    assert images.shape == (20, data.CANVAS, data.CANVAS, 1)
    assert images.min() == 0.0 and images.max() == 1.0
    for image, label in zip(images[..., 0], labels):
        counts = {v: int(np.sum(label == v)) for v in np.unique(label)}
        digits = counts.get(7, 0) // 16  # 16 class pixels per digit, label 6 + 1
        assert 1 <= digits <= 2
        assert counts.get(data.OOD) == 4  # one object per test canvas
        assert counts.get(data.IGNORE) == digits + 1  # one edge pixel each
        assert set(counts) <= {data.BACKGROUND, 7, data.OOD, data.IGNORE}
        # A labelled pixel is bright, an ignored one dim, the background dark.
        assert np.all(image[label == 7] > 127 / 255)
        assert np.all(image[label == data.BACKGROUND] == 0.0)
