"""`ignore_class` of the Dirichlet losses on dense (per-pixel) labels.

An ignored pixel must change nothing: the loss and its gradient equal those
of the valid pixels alone, against float64 references written here from the
papers (tests/reference.py for EDL; R-EDL's below). The mean runs over the
valid pixels (Keras's `SparseCategoricalCrossentropy(ignore_class=...)`).
"""

import keras
import numpy as np
import pytest
from scipy.special import digamma
from scipy.special import gammaln

import keras_evidential as ke
from tests import reference
from tests import reference_family as family
from tests.gradients import central_differences
from tests.gradients import value_and_gradient
from tests.testing import compiled
from tests.testing import to_numpy

RNG = np.random.default_rng(30)
IGNORE = 255
SHAPE = (2, 3, 4)  # batch, height, width
K = 3


def dense_batch(prior=1.0):
    return dirichlet_prediction(prior), dense_labels()


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


def dirichlet_prediction(prior=1.0):
    return (prior + RNG.gamma(1.0, 3.0, size=SHAPE + (K,))).astype("float32")


def flexible_prediction():
    """FlexibleDirichletOutput's packed `[alpha (K), p (K), tau (1)]`."""
    alpha = np.exp(RNG.normal(size=SHAPE + (K,)))
    logits = RNG.normal(size=SHAPE + (K,))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    tau = np.log1p(np.exp(RNG.normal(size=SHAPE + (1,))))
    return np.concatenate([alpha, p, tau], -1).astype("float32")


def one_hot_formula(formula):
    """A reference on one-hot targets as one on integer labels."""
    return lambda labels, prediction: formula(reference.one_hot(labels, K), prediction)


def split_flexible(formula):
    """F-EDL's reference on the packed output `[alpha, p, tau]`."""
    return lambda labels, packed: formula(
        reference.one_hot(labels, K), packed[..., :K], packed[..., K:2 * K],
        packed[..., 2 * K:],
    )


def along_the_simplex(gradient):
    """The gradient with its `p` block projected onto the simplex's tangent
    (sum 0): F-EDL's closed form and the mixture reference agree only where
    sum(p) = 1, so only their derivatives along the simplex must match."""
    gradient = np.array(gradient, "float64")
    block = gradient[..., K:2 * K]
    gradient[..., K:2 * K] = block - block.mean(-1, keepdims=True)
    return gradient


def red_with_vacuity_held(labels, alpha_at):
    """RED's loss as a function of alpha with the vacuity K / S held at
    `alpha_at`: the loss stops its gradient (Pandey & Yu's `detach`)."""
    y = reference.one_hot(labels, K)
    vacuity = K / alpha_at.sum(-1)
    return lambda alpha: family.red_loss(y, alpha, "mse", 0.3, 0.0) - 0.7 * np.mean(
        vacuity * (y * np.log(alpha - 1)).sum(-1)
    )


# name: (the loss with ignore_class, its function form with ignore_class,
# a prediction of shape SHAPE + (width,), the float64 batch mean on valid
# pixels from their integer labels and prediction rows).
LOSSES = {
    "edl": (
        lambda: ke.losses.EDLLoss(kl_weight=0.3, ignore_class=IGNORE),
        lambda y, a: ke.losses.edl_loss(y, a, kl_weight=0.3, ignore_class=IGNORE),
        dirichlet_prediction,
        one_hot_formula(lambda y, a: reference.edl_loss(y, a, "mse", 0.3)),
    ),
    "redl": (
        lambda: ke.losses.RelaxedEDLLoss(0.5, kl_weight=0.3, ignore_class=IGNORE),
        lambda y, a: ke.losses.relaxed_edl_loss(
            y, a, 0.5, kl_weight=0.3, ignore_class=IGNORE
        ),
        lambda: dirichlet_prediction(0.5),
        one_hot_formula(lambda y, a: np.mean(redl_reference(y, a, 0.5, 0.3))),
    ),
    "iedl": (
        lambda: ke.losses.IEDLLoss(
            fisher_weight=0.01, kl_weight=0.3, ignore_class=IGNORE
        ),
        lambda y, a: ke.losses.iedl_loss(y, a, 0.01, 0.3, ignore_class=IGNORE),
        dirichlet_prediction,
        one_hot_formula(lambda y, a: family.iedl_loss(y, a, 0.01, 0.3)),
    ),
    "daedl": (
        lambda: ke.losses.DAEDLLoss(kl_weight=0.3, ignore_class=IGNORE),
        lambda y, a: ke.losses.daedl_loss(y, a, 0.3, ignore_class=IGNORE),
        lambda: dirichlet_prediction(0.2),
        one_hot_formula(lambda y, a: family.daedl_loss(y, a, 0.3)),
    ),
    "fedl": (
        lambda: ke.losses.FEDLLoss(ignore_class=IGNORE),
        lambda y, a: ke.losses.fedl_loss(y, a, ignore_class=IGNORE),
        flexible_prediction,
        split_flexible(family.fedl_loss),
    ),
    "correct_evidence": (
        lambda: ke.losses.CorrectEvidenceLoss(
            0.7, kl_weight=0.3, ignore_class=IGNORE
        ),
        lambda y, a: ke.losses.correct_evidence_loss(
            y, a, "mse", 0.3, 0.7, ignore_class=IGNORE
        ),
        lambda: dirichlet_prediction(1.1),
        one_hot_formula(lambda y, a: family.red_loss(y, a, "mse", 0.3, 0.7)),
    ),
    "prior_network": (
        lambda: ke.losses.PriorNetworkLoss(20.0, ignore_class=IGNORE),
        lambda y, a: ke.losses.prior_network_loss(y, a, 20.0, ignore_class=IGNORE),
        lambda: dirichlet_prediction(0.2),
        lambda labels, a: family.prior_network_loss(labels, a, 20.0),
    ),
}


def dense_labels(out_of_distribution=False):
    """Labels of SHAPE with ~40 % ignored pixels; with `out_of_distribution`,
    some pixels get Prior Networks' OOD label K."""
    labels = RNG.integers(0, K + int(out_of_distribution), size=SHAPE)
    labels[RNG.random(SHAPE) < 0.4] = IGNORE
    labels[0, 0, 0] = IGNORE
    labels[0, 0, 1] = 1
    return labels


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_ignored_pixels_change_neither_loss_nor_gradient(name):
    make_loss, _, make_prediction, formula = LOSSES[name]
    prediction = make_prediction()
    labels = dense_labels(out_of_distribution=name == "prior_network")
    valid = labels != IGNORE
    prediction_valid = prediction[valid].astype("float64")

    loss = make_loss()
    value, gradient = value_and_gradient(
        lambda a: loss(labels.astype("float32"), a), prediction
    )
    expected = formula(labels[valid], prediction_valid)
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)

    # The function whose gradient the loss's is: the reference itself, but
    # for RED, whose vacuity factor carries no gradient.
    differentiated = (
        red_with_vacuity_held(labels[valid], prediction_valid)
        if name == "correct_evidence"
        else lambda a: formula(labels[valid], a)
    )
    expected_gradient = np.zeros(prediction.shape)
    expected_gradient[valid] = central_differences(differentiated, prediction_valid)
    gradient = to_numpy(gradient)
    if name == "fedl":
        gradient, expected_gradient = (
            along_the_simplex(gradient), along_the_simplex(expected_gradient)
        )
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_function_form_zeroes_ignored_pixels(name):
    _, function, make_prediction, formula = LOSSES[name]
    prediction = make_prediction()
    labels = dense_labels(out_of_distribution=name == "prior_network")
    valid = labels != IGNORE
    per_pixel = to_numpy(function(labels, prediction))
    assert per_pixel.shape == SHAPE
    np.testing.assert_array_equal(per_pixel[~valid], 0.0)
    # The mean over the valid pixels of a float64 reference mean per pixel.
    expected = [
        formula(labels[valid][i:i + 1], prediction[valid][i:i + 1].astype("float64"))
        for i in range(valid.sum())
    ]
    np.testing.assert_allclose(per_pixel[valid], expected, rtol=1e-4, atol=1e-6)


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


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_config_round_trip_keeps_ignore_class(name):
    make_loss, _, make_prediction, _ = LOSSES[name]
    loss = make_loss()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss)
    assert restored.ignore_class == IGNORE
    prediction = make_prediction()
    labels = dense_labels()
    np.testing.assert_allclose(
        to_numpy(restored(labels, prediction)), to_numpy(loss(labels, prediction)),
        rtol=1e-6,
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
