"""Special functions that `keras.ops` lacks, routed to the active backend.

`keras.ops` has no `lgamma` or `digamma`; the Dirichlet KL divergence and the
digamma risk need both, so they are dispatched here once for every caller.
"""

import functools

import keras


def _backend_module():
    name = keras.backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        def trigamma(x):
            return tf.math.polygamma(tf.ones_like(x), x)

        return tf.math.lgamma, tf.math.digamma, trigamma
    if name == "jax":
        import jax.scipy.special as jsp

        return jsp.gammaln, jsp.digamma, functools.partial(jsp.polygamma, 1)
    if name == "torch":
        import torch

        return torch.lgamma, torch.digamma, functools.partial(torch.polygamma, 1)
    raise NotImplementedError(
        "keras_evidential needs lgamma and digamma, which are available on the "
        "tensorflow, jax and torch backends. "
        f"Received: keras.backend.backend()={name!r}"
    )


def lgamma(x):
    """Natural log of the absolute value of the Gamma function, elementwise."""
    fn, _, _ = _backend_module()
    return fn(keras.ops.convert_to_tensor(x))


def digamma(x):
    """Digamma function (derivative of `lgamma`), elementwise."""
    _, fn, _ = _backend_module()
    return fn(keras.ops.convert_to_tensor(x))


def trigamma(x):
    """Trigamma function (derivative of `digamma`), elementwise."""
    _, _, fn = _backend_module()
    return fn(keras.ops.convert_to_tensor(x))
