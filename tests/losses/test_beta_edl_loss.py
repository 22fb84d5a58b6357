"""BetaEDLLoss: the K = 2 case of EDLLoss per label, with masks and weights."""

import keras
import numpy as np
import pytest
from scipy import special

import keras_evidential as ke
from tests.gradients import value_and_gradient
from tests.testing import TestCase
from tests.testing import to_numpy

PARAMS = np.array(
    [[[3.0, 1.0], [1.0, 9.0], [2.0, 2.0]], [[1.0, 1.0], [5.0, 1.5], [1.2, 7.0]]], "float32"
)
Y = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]], "float32")


def reference_loss(y, params, kl_weight, label_weights=None):
    """Float64, from Sensoy et al.'s formulas for K = 2: sum-of-squares risk
    2 (y - p)^2 + 2 p (1 - p) / (S + 1) plus kl_weight KL(Beta(a~, b~) ||
    Beta(1, 1)), the KL in closed form; mean over the observed labels."""
    params = params.astype("float64")
    out = []
    for yi, pi in zip(y, params):
        total, count = 0.0, 0
        for l, (label, (a, b)) in enumerate(zip(yi, pi)):
            if label == -1:
                continue
            s, p = a + b, a / (a + b)
            risk = 2 * (label - p) ** 2 + 2 * p * (1 - p) / (s + 1)
            a_t, b_t = (1.0, b) if label == 1 else (a, 1.0)
            kl = (
                special.gammaln(a_t + b_t) - special.gammaln(a_t) - special.gammaln(b_t)
                + (a_t - 1) * (special.digamma(a_t) - special.digamma(a_t + b_t))
                + (b_t - 1) * (special.digamma(b_t) - special.digamma(a_t + b_t))
            )
            w = 1.0 if label_weights is None else label_weights[l]
            total += w * (risk + kl_weight * kl)
            count += 1
        out.append(total / max(count, 1))
    return np.array(out)


class BetaEDLLossTest(TestCase):
    def test_against_the_float64_reference(self):
        self.run_loss_test(
            ke.losses.BetaEDLLoss,
            {"kl_weight": 0.3, "label_weights": [1.0, 2.0, 0.5]},
            Y, PARAMS,
            expected=reference_loss(Y, PARAMS, 0.3, [1.0, 2.0, 0.5]).mean(),
        )

    def test_sample_weights(self):
        weight = np.array([0.25, 2.0], "float32")
        self.run_loss_test(
            ke.losses.BetaEDLLoss, {"kl_weight": 1.0}, Y, PARAMS,
            expected=(weight * reference_loss(Y, PARAMS, 1.0)).mean(),
            sample_weight=weight, run_xla_check=False,
        )


def test_one_label_beta_model_is_the_k2_dirichlet_model():
    """Loss, gradients and uncertainties of Dense(2) -> BetaOutput trained
    with BetaEDLLoss equal those of Dense(2) -> DirichletOutput with EDLLoss,
    the positive logit being class 0 (so label y is class 1 - y)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    kernel = rng.normal(size=(4, 2)).astype("float32")
    bias = rng.normal(size=(2,)).astype("float32")

    def outputs(head, k):
        # The heads themselves, with their finiteness checks, on logits that
        # require grad (eager PyTorch autograd, as a custom training loop).
        # `keras.ops.add`: `torch_tensor + ndarray` would hand the sum to
        # NumPy, which cannot read a tensor that requires grad.
        return head(keras.ops.add(keras.ops.matmul(x, k), bias))

    beta_loss = ke.losses.BetaEDLLoss(kl_weight=0.7)
    edl_loss = ke.losses.EDLLoss(kl_weight=0.7)
    beta_head = ke.layers.BetaOutput("softplus")
    dirichlet_head = ke.layers.DirichletOutput("softplus")
    b_value, b_grad = value_and_gradient(
        lambda k: beta_loss(y, outputs(beta_head, k)), kernel
    )
    d_value, d_grad = value_and_gradient(
        lambda k: edl_loss((1 - y[:, 0]).astype("int32"), outputs(dirichlet_head, k)), kernel
    )
    np.testing.assert_allclose(
        to_numpy(keras.ops.stop_gradient(b_value)),
        to_numpy(keras.ops.stop_gradient(d_value)), rtol=1e-6,
    )
    np.testing.assert_allclose(to_numpy(b_grad), to_numpy(d_grad), rtol=1e-5, atol=1e-7)
    params = outputs(beta_head, kernel)
    alpha = outputs(dirichlet_head, kernel)
    for beta_fn, dirichlet_fn in (
        (ke.beta.vacuity, ke.dirichlet.vacuity),
        (ke.beta.mutual_information, ke.dirichlet.mutual_information),
        (ke.beta.total_entropy, ke.dirichlet.total_entropy),
    ):
        np.testing.assert_allclose(
            to_numpy(beta_fn(params))[:, 0], to_numpy(dirichlet_fn(alpha)), rtol=1e-6
        )
    np.testing.assert_allclose(
        to_numpy(ke.beta.expected_probability(params))[:, 0],
        to_numpy(ke.dirichlet.expected_probability(alpha))[:, 0], rtol=1e-6,
    )


def test_a_masked_label_gets_no_gradient():
    loss = ke.losses.BetaEDLLoss(kl_weight=1.0)
    _, grad = value_and_gradient(lambda p: loss(Y, p), PARAMS)
    grad = to_numpy(grad)
    np.testing.assert_array_equal(grad[0, 1], [0.0, 0.0])
    assert np.all(grad[0, 0] != 0)


def test_all_labels_masked_gives_zero():
    y = np.full((1, 3), -1.0, "float32")
    assert float(to_numpy(ke.losses.beta_edl_loss(y, PARAMS[:1]))[0]) == 0.0


def test_binary_labels_without_a_label_axis():
    params = PARAMS[:, :1]
    np.testing.assert_allclose(
        to_numpy(ke.losses.beta_edl_loss(np.array([1.0, 0.0]), params)),
        reference_loss(np.array([[1.0], [0.0]]), params, 0.0), rtol=1e-6,
    )


@pytest.mark.parametrize("bad", [2.0, 0.5, 255.0])
def test_labels_outside_0_1_and_the_mask_are_refused(bad):
    y = Y.copy()
    y[1, 2] = bad
    with pytest.raises(ValueError, match=r"must be 0, 1 or the mask value -1.*Received: y_true"):
        ke.losses.BetaEDLLoss()(y, PARAMS)


def test_parameters_below_one_are_refused():
    params = PARAMS.copy()
    params[0, 0, 1] = 0.5
    with pytest.raises(ValueError, match=r"finite Beta parameters.*Received: y_pred"):
        ke.losses.BetaEDLLoss()(Y, params)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"risk": "bce"}, r"`risk` must be one of .*Received: risk='bce'"),
        ({"kl_weight": -1.0}, r"`kl_weight` must be .*Received: kl_weight=-1.0"),
        ({"mask_value": 1}, r"`mask_value` must differ .*Received: mask_value=1.0"),
        ({"label_weights": [1.0, -2.0]}, r"`label_weights` must be .*Received"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.losses.BetaEDLLoss(**kwargs)


def test_label_weights_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"one weight per label \(3\)"):
        ke.losses.BetaEDLLoss(label_weights=[1.0, 1.0])(Y, PARAMS)


def test_kl_annealing_schedules_the_kl_weight():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6), ke.layers.BetaOutput()])
    model.compile(optimizer="sgd", loss=ke.losses.BetaEDLLoss())
    x = np.zeros((4, 4), "float32")
    y = np.array([[1, 0, -1]] * 4, "float32")
    history = model.fit(
        x, y, epochs=2, verbose=0, callbacks=[ke.callbacks.KLAnnealing(increment=0.25)]
    )
    assert history.history["kl_weight"] == [0.0, 0.25]


def test_a_dirichlet_output_is_refused():
    # (batch, 2) alpha of a K = 2 Dirichlet is no (batch, L, 2).
    with pytest.raises(ValueError, match=r"\(batch, \.\.\., L, 2\).*Received: y_pred.shape=\(2, 2\)"):
        ke.losses.BetaEDLLoss()(np.array([1.0, 0.0]), PARAMS[:, 0])


def test_model_kind_refuses_a_beta_head_and_a_dirichlet_loss_on_it():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), ke.layers.BetaOutput()])
    with pytest.raises(ValueError, match="ends in BetaOutput.*keras_evidential.beta"):
        ke.model_kind(model)
    model.compile(loss=ke.losses.EDLLoss())
    with pytest.raises(ValueError, match="Train it with BetaEDLLoss. Received: loss=EDLLoss"):
        ke.model_kind(model)
