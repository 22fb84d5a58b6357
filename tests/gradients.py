"""Gradients on whichever Keras backend the tests run on."""

import keras
import numpy as np
import pytest


def value_and_gradient(fn, x):
    """Value and gradient of the scalar `fn(x)` on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x)
        return value, tape.gradient(value, x)
    if backend == "jax":
        import jax

        return jax.value_and_grad(fn)(x)
    if backend == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        value = fn(x)
        value.backward()
        return value, x.grad
    pytest.skip(f"no gradients on backend {backend}")


def central_differences(fn, x, relative_step=1e-5):
    """d sum(fn(x)) / dx in float64, one entry at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = relative_step * max(abs(x[index]), 1.0)
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (fn(up).sum() - fn(down).sum()) / (2 * step)
    return grad
