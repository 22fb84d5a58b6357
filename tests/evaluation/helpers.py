"""Synthetic alpha with informative evidence, and a PNG check, for evaluation tests."""

import keras
import numpy as np

from keras_evidential import layers


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def synthetic_alpha(seed=0, n=800, k=3, unknown_share=0.25):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[rng.random(n) < unknown_share] = k
    alpha = 1.0 + rng.gamma(0.8, 2.0, (n, k))
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.gamma(1.5, 6.0, known.sum())
    return alpha.astype("float32"), labels


def assert_png(path):
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    # Not a blank canvas.
    assert image[..., :3].std() > 0.01


def tiny_model(unknown_class):
    stack = [keras.Input((5,)), keras.layers.Dense(3), layers.DirichletOutput()]
    if unknown_class:
        stack.append(layers.UnknownClassHead())
    return keras.Sequential(stack)
