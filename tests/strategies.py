"""Hypothesis strategies and tolerances of the numerical-robustness tests.

Over logits in [-1e4, 1e4], concentrations alpha in [1, 1e8] and K in
{2, 3, 10, 100}, for every evidence function and risk, with and without the
m-EDL unknown class, the float32 computation must match the float64
NumPy/SciPy reference (tests/reference.py) within

    |value - reference| <= ATOL * K + RTOL * |reference|,   RTOL = ATOL = 1e-5

with K the number of outputs: the KL divergence is a difference of K terms
of size ~log(S), so float32 leaves an absolute error that grows with K even
where the KL is 0 (measured worst cases: 3.4e-4 at K = 100 where the KL is
~1e3, 5.7e-6 at K = 10 where it is 0, on JAX). The references are evaluated
on the same float32-rounded inputs, so the tolerance measures the float32
computation, not the rounding of its inputs. Backend-neutral.
"""

import keras
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from keras import ops

from tests import reference

RTOL = 1e-5
ATOL = 1e-5
# A fixed batch size keeps the shapes few: JAX compiles every op per shape.
ROWS = 3
# Fewer examples under JAX, which compiles every op for every new shape
# (CI's time budget): a fixed (derandomized) set of 10 there, 25 on
# TensorFlow and PyTorch.
SETTINGS = settings(
    max_examples=10 if keras.backend.backend() == "jax" else 25,
    deadline=None,
    derandomize=True,
)

num_classes = st.sampled_from([2, 3, 10, 100])
evidences = st.sampled_from(sorted(reference.EVIDENCE))
risks = st.sampled_from(sorted(reference.RISKS))
kl_weights = st.sampled_from([0.0, 0.1, 1.0])


def assert_close(actual, expected, k):
    actual = np.asarray(ops.convert_to_numpy(actual), dtype=np.float64)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL * k)


def assert_finite(*tensors):
    for tensor in tensors:
        value = np.asarray(ops.convert_to_numpy(tensor))
        assert np.all(np.isfinite(value)), value


@st.composite
def alpha_batches(draw, low=1.0, high=1e8):
    """float32 concentrations, log-uniform in [low, high], with exact 1s."""
    k = draw(num_classes)
    n = ROWS
    log_alpha = draw(
        hnp.arrays(
            np.float64,
            (n, k),
            elements=st.floats(np.log(low), np.log(high)),
        )
    )
    alpha = np.exp(log_alpha)
    # Exactly 1 (no evidence) is the boundary the KL's alpha_tilde always hits.
    ones = draw(hnp.arrays(np.bool_, (n, k)))
    alpha = np.where(ones, 1.0, alpha)
    alpha = np.clip(alpha.astype(np.float32), low, high)
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return alpha, labels


@st.composite
def logit_batches(draw):
    k = draw(num_classes)
    n = ROWS
    logits = draw(
        hnp.arrays(
            np.float32,
            (n, k),
            elements=st.floats(-1e4, 1e4, width=32),
        )
    )
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return logits, labels


def with_unknown_class(alpha, labels, unknown, unknown_labels):
    """Appends alpha_u = K + 1 and relabels some samples as class u."""
    if not unknown:
        return alpha, labels
    k = alpha.shape[-1]
    alpha = np.concatenate([alpha, np.full_like(alpha[:, :1], k + 1)], axis=-1)
    labels = np.where(unknown_labels, k, labels)
    return alpha, labels


def gradient_case(batch, soft):
    """`alpha`, one-hot targets (smoothed if `soft`): float32 and float64."""
    alpha, labels = batch
    k = alpha.shape[-1]
    y = reference.one_hot(labels, k)
    if soft:
        # Label smoothing: a closed-form gradient must not assume one-hot.
        y = 0.9 * y + 0.1 / k
    y = y.astype(np.float32)
    return alpha, alpha.astype(np.float64), y, y.astype(np.float64)
