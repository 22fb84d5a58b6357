"""`ignore_class` of the Dirichlet losses on dense (per-pixel) labels.

An ignored pixel must change nothing: the loss and its gradient equal those
of the valid pixels alone, against float64 references written here from the
papers (tests/reference.py for EDL; R-EDL's below). The mean runs over the
valid pixels (Keras's `SparseCategoricalCrossentropy(ignore_class=...)`).
"""

import keras
import numpy as np
import pytest
from keras import ops
from scipy.special import digamma
from scipy.special import gammaln

import keras_evidential as ke
from tests import reference
from tests.gradients import central_differences
from tests.gradients import value_and_gradient
from tests.testing import compiled
from tests.testing import to_numpy

RNG = np.random.default_rng(30)
IGNORE = 255
SHAPE = (2, 3, 4)  # batch, height, width
K = 3


def dense_batch(prior=1.0):
    alpha = (prior + RNG.gamma(1.0, 3.0, size=SHAPE + (K,))).astype("float32")
    labels = RNG.integers(0, K, size=SHAPE)
    labels[RNG.random(SHAPE) < 0.4] = IGNORE
    labels[0, 0, 0] = IGNORE
    labels[0, 0, 1] = 1
    return alpha, labels


def redl_reference(y, alpha, prior, kl_weight):
    """R-EDL per sample (Chen et al. 2024, eqs. 10-16) in float64:
    sum_j (y_j - alpha_j / S)^2 + kl_weight KL(Dir(lambda y + (1 - y) alpha) || Dir(lambda))."""
    s = alpha.sum(-1, keepdims=True)
    risk = ((y - alpha / s) ** 2).sum(-1)
    a = prior * y + (1 - y) * alpha
    b = np.full_like(a, prior)
    sa, sb = a.sum(-1), b.sum(-1)
    kl = (
        gammaln(sa) - gammaln(a).sum(-1) - gammaln(sb) + gammaln(b).sum(-1)
        + ((a - b) * (digamma(a) - digamma(sa)[..., None])).sum(-1)
    )
    return risk + kl_weight * kl


LOSSES = {
    "edl": (
        lambda: ke.losses.EDLLoss(kl_weight=0.3, ignore_class=IGNORE),
        lambda y, a: reference.edl_loss(y, a, "mse", 0.3),
        1.0,
    ),
    "redl": (
        lambda: ke.losses.RelaxedEDLLoss(0.5, kl_weight=0.3, ignore_class=IGNORE),
        lambda y, a: np.mean(redl_reference(y, a, 0.5, 0.3)),
        0.5,
    ),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_ignored_pixels_change_neither_loss_nor_gradient(name):
    make_loss, formula, prior = LOSSES[name]
    alpha, labels = dense_batch(prior)
    valid = labels != IGNORE
    y_valid = reference.one_hot(labels[valid], K)
    alpha_valid = alpha[valid].astype("float64")

    loss = make_loss()
    value, gradient = value_and_gradient(
        lambda a: loss(labels.astype("float32"), a), alpha
    )
    expected = formula(y_valid, alpha_valid)
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)

    expected_gradient = np.zeros(alpha.shape)
    expected_gradient[valid] = central_differences(
        lambda a: formula(y_valid, a), alpha_valid
    )
    np.testing.assert_allclose(
        to_numpy(gradient), expected_gradient, rtol=1e-3, atol=1e-6
    )


def test_compiled_step_means_over_the_valid_pixels():
    alpha, labels = dense_batch()
    valid = labels != IGNORE
    loss = ke.losses.EDLLoss(kl_weight=0.3, ignore_class=IGNORE)
    value = compiled(lambda y, a: loss(y, a))(labels.astype("float32"), alpha)
    expected = reference.edl_loss(
        reference.one_hot(labels[valid], K), alpha[valid].astype("float64"), "mse", 0.3
    )
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)


def test_sample_weight_with_ignored_pixels():
    # Keras's reduction: sum_valid(w * loss) / (number of valid pixels).
    alpha, labels = dense_batch()
    valid = labels != IGNORE
    weights = RNG.uniform(0.5, 2.0, size=SHAPE)
    loss = ke.losses.EDLLoss(ignore_class=IGNORE)
    value = loss(labels, alpha, sample_weight=weights)
    per_pixel = reference.mse_risk(
        reference.one_hot(labels[valid], K), alpha[valid].astype("float64")
    )
    expected = np.sum(weights[valid] * per_pixel) / valid.sum()
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)


def test_cross_entropy_stage_ignores_pixels():
    logits = RNG.normal(size=SHAPE + (K,)).astype("float32")
    _, labels = dense_batch()
    valid = labels != IGNORE
    loss = ke.losses.EDLLoss(from_logits=True, stage=1, ignore_class=IGNORE)
    expected = reference.softmax_cross_entropy(
        reference.one_hot(labels[valid], K), logits[valid].astype("float64")
    )
    np.testing.assert_allclose(to_numpy(loss(labels, logits)), expected, rtol=1e-5)


def test_per_pixel_function_zeroes_ignored_pixels():
    alpha, labels = dense_batch()
    valid = labels != IGNORE
    per_pixel = to_numpy(ke.losses.edl_loss(labels, alpha, ignore_class=IGNORE))
    assert per_pixel.shape == SHAPE
    np.testing.assert_array_equal(per_pixel[~valid], 0.0)
    np.testing.assert_allclose(
        per_pixel[valid],
        reference.mse_risk(reference.one_hot(labels[valid], K), alpha[valid]),
        rtol=1e-5,
    )


def test_a_batch_of_only_ignored_pixels_gives_zero():
    alpha, _ = dense_batch()
    labels = np.full(SHAPE, IGNORE)
    assert float(to_numpy(ke.losses.EDLLoss(ignore_class=IGNORE)(labels, alpha))) == 0.0


def test_ignore_value_accepted_other_out_of_range_labels_refused():
    alpha, labels = dense_batch()
    labels[1, 2, 3] = K  # neither a class nor the ignore value
    with pytest.raises(ValueError, match=r"\[0, 3\).*max=3"):
        ke.losses.EDLLoss(ignore_class=IGNORE)(labels, alpha)
    labels[1, 2, 3] = -1
    with pytest.raises(ValueError, match=r"min=-1"):
        ke.losses.RelaxedEDLLoss(ignore_class=IGNORE)(labels, alpha)
    # Without ignore_class, 255 is an out-of-range label.
    with pytest.raises(ValueError, match=r"max=255"):
        ke.losses.EDLLoss()(np.abs(labels), alpha)


def test_ignore_class_needs_integer_labels_and_an_integer():
    alpha, labels = dense_batch()
    one_hot = np.eye(K)[np.where(labels == IGNORE, 0, labels)]
    with pytest.raises(ValueError, match=r"`ignore_class` needs integer labels"):
        ke.losses.EDLLoss(ignore_class=IGNORE)(one_hot, alpha)
    with pytest.raises(ValueError, match=r"`ignore_class` must be an integer"):
        ke.losses.EDLLoss(ignore_class="255")


@pytest.mark.parametrize(
    "loss",
    [
        ke.losses.EDLLoss(ignore_class=IGNORE, kl_weight=0.2),
        ke.losses.RelaxedEDLLoss(0.5, ignore_class=IGNORE),
    ],
)
def test_config_round_trip_keeps_ignore_class(loss):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert restored.ignore_class == IGNORE
    alpha, labels = dense_batch()
    np.testing.assert_allclose(
        to_numpy(restored(labels, alpha)), to_numpy(loss(labels, alpha)), rtol=1e-6
    )


def test_fit_on_dense_labels_with_ignored_pixels():
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(K, 1)(inputs)
    model = keras.Model(inputs, ke.layers.DirichletOutput("softplus")(x))
    model.compile(
        optimizer="sgd", loss=ke.losses.EDLLoss(ignore_class=IGNORE)
    )
    images = RNG.normal(size=(4, 4, 4, 1)).astype("float32")
    labels = RNG.integers(0, K, size=(4, 4, 4))
    labels[:, 0] = IGNORE
    history = model.fit(images, labels, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
