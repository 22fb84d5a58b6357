"""The synthetic segmentation set: MNIST digits on small canvases, with
Fashion-MNIST objects as out-of-distribution regions in the test canvases
(construction in README.md; fixed by its seed).

Amendment 1 (README.md): the 28 x 28 tiles are downsampled by 2 (2 x 2 mean)
to 14 x 14 and placed on 32 x 32 canvases of four 16 x 16 quadrants, so that a
U-Net learns within the benchmark's CPU budget.
"""

import numpy as np

from experiments.data.datasets import load_fashion_mnist
from experiments.data.datasets import load_mnist

CANVAS = 32
QUADRANT = 16
SCALE = 2  # tiles are downsampled by this factor (2 x 2 mean)
TILE = 28 // SCALE
BACKGROUND = 0
NUM_CLASSES = 11  # background + 10 digits
OOD = NUM_CLASSES  # the label K of an OOD pixel
IGNORE = 255
CORNERS = [(0, 0), (0, QUADRANT), (QUADRANT, 0), (QUADRANT, QUADRANT)]


def downsample(tiles):
    """`(N, 28, 28)` uint8 tiles to `(N, TILE, TILE)` by a SCALE x SCALE mean."""
    n = len(tiles)
    blocks = tiles.reshape(n, TILE, SCALE, TILE, SCALE).astype("float64")
    return np.round(blocks.mean(axis=(2, 4))).astype(np.uint8)


def _paste(image, labels, tile, corner, rng, label):
    dy, dx = rng.integers(0, QUADRANT - TILE + 1, size=2)
    y, x = corner[0] + dy, corner[1] + dx
    window = (slice(y, y + TILE), slice(x, x + TILE))
    image[window] = np.maximum(image[window], tile)
    labels[window] = np.where(
        tile > 127, label, np.where(tile > 0, IGNORE, labels[window])
    )


def canvases(count, digits, digit_labels, rng, objects=None, digits_per_canvas=(2, 3)):
    """`count` canvases `(images float32 in [0, 1] (N, CANVAS, CANVAS, 1), labels uint8)`.

    With `objects`, each canvas also gets one of them (an OOD region).
    """
    images = np.zeros((count, CANVAS, CANVAS), np.uint8)
    labels = np.full((count, CANVAS, CANVAS), BACKGROUND, np.uint8)
    for i in range(count):
        quadrants = rng.permutation(4)
        n = rng.integers(digits_per_canvas[0], digits_per_canvas[1] + 1)
        for q in quadrants[:n]:
            j = rng.integers(len(digits))
            _paste(images[i], labels[i], digits[j], CORNERS[q], rng, digit_labels[j] + 1)
        if objects is not None:
            j = rng.integers(len(objects))
            _paste(images[i], labels[i], objects[j], CORNERS[quadrants[n]], rng, OOD)
    return images[..., None].astype("float32") / 255.0, labels


def build(num_train=1000, num_test=200, seed=0, data_dir=None):
    """`(x_train, y_train, x_test, y_test)`, the same for every model seed."""
    rng = np.random.default_rng(seed)
    train_digits, train_labels = load_mnist("train", data_dir)
    test_digits, test_labels = load_mnist("test", data_dir)
    objects, _ = load_fashion_mnist("test", data_dir)
    train_digits, test_digits, objects = (
        downsample(train_digits), downsample(test_digits), downsample(objects)
    )
    x_train, y_train = canvases(num_train, train_digits, train_labels, rng)
    x_test, y_test = canvases(
        num_test, test_digits, test_labels, rng, objects, digits_per_canvas=(1, 2)
    )
    return x_train, y_train, x_test, y_test
