"""Every loss also as a function: the class's value is the batch mean of the
function's per-sample values, and the function matches a float64 formula."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests import reference_family as ref

Y = np.array([0, 2, 1, 0])
ALPHA = np.array([[3.0, 1.2, 1.0], [1.5, 1.1, 4.0], [2.0, 2.5, 1.3], [1.0, 1.0, 1.0]], "float32")


@pytest.mark.parametrize("function, loss, kwargs", [
    ("edl_loss", ke.losses.EDLLoss, {"kl_weight": 0.3}),
    ("iedl_loss", ke.losses.IEDLLoss, {"kl_weight": 0.3}),
    ("relaxed_edl_loss", ke.losses.RelaxedEDLLoss, {"kl_weight": 0.3, "prior_concentration": 1.0}),
    ("correct_evidence_loss", ke.losses.CorrectEvidenceLoss, {"kl_weight": 0.3}),
    ("daedl_loss", ke.losses.DAEDLLoss, {"kl_weight": 0.3}),
    ("prior_network_loss", ke.losses.PriorNetworkLoss, {"target_concentration": 10.0}),
])
def test_class_is_the_mean_of_the_function(function, loss, kwargs):
    per_sample = keras.ops.convert_to_numpy(getattr(ke.losses, function)(Y, ALPHA, **kwargs))
    assert per_sample.shape == (4,)
    np.testing.assert_allclose(
        per_sample.mean(), keras.ops.convert_to_numpy(loss(**kwargs)(Y, ALPHA)), rtol=1e-6)


def test_daedl_function_against_the_float64_formula():
    y = reference.one_hot(Y, 3)
    expected = reference.mse_risk(y, ALPHA.astype("float64")) + 0.3 * reference.kl_to_uniform(
        y + (1 - y) * ALPHA.astype("float64"))
    got = keras.ops.convert_to_numpy(ke.losses.daedl_loss(Y, ALPHA, kl_weight=0.3))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_prior_network_function_against_the_float64_formula():
    beta = 1.0 + 10.0 * reference.one_hot(Y, 3)
    expected = ref.kl_dirichlet(ALPHA.astype("float64"), beta)
    got = keras.ops.convert_to_numpy(ke.losses.prior_network_loss(Y, ALPHA, 10.0))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_fedl_function_is_the_class_per_sample():
    params = np.array([[1.0, 1.0, 0.5, 0.5, 1.0], [2.0, 0.5, 0.3, 0.7, 0.0]], "float32")
    y = np.array([0, 1])
    per_sample = keras.ops.convert_to_numpy(ke.losses.fedl_loss(y, params))
    np.testing.assert_allclose(per_sample.mean(), keras.ops.convert_to_numpy(ke.losses.FEDLLoss()(y, params)), rtol=1e-6)
    # Row 2 has tau = 0: the Dirichlet limit, by hand. alpha = (2, 0.5), S = 2.5,
    # mean (0.8, 0.2), Var = m (1 - m) / (S + 1); y = (0, 1), p = (0.3, 0.7).
    m = np.array([0.8, 0.2])
    expected = np.sum((np.array([0, 1]) - m) ** 2 + m * (1 - m) / 3.5) + np.sum((np.array([0, 1]) - [0.3, 0.7]) ** 2)
    np.testing.assert_allclose(per_sample[1], expected, rtol=1e-5)


def test_meinert_function_against_the_formula():
    y_pred = np.array([[0.5, 2.0, 3.0, 0.8]], "float32")  # gamma, nu, alpha, beta
    y = np.array([[1.5]], "float32")
    sigma2 = 0.8 / 2.0
    expected = np.log(sigma2) + (1 + 0.1 * 2.0) * (1.5 - 0.5) ** 2 / sigma2
    got = keras.ops.convert_to_numpy(ke.losses.meinert_regression_loss(y, y_pred, 0.1))
    np.testing.assert_allclose(got, [[expected]], rtol=1e-5)
