"""Temperature and vector scaling of classifiers, against scipy fits of
float64 NLLs written here from Guo et al. (2017) and the Dirichlet mean."""

import keras
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

import keras_evidential as ke
from keras_evidential.calibration import fit_temperature
from keras_evidential.calibration import fit_vector_scaling


def softmax_data(seed=0, n=3000, k=4, sharpness=3.0):
    """Labels drawn from softmax(z), logits reported `sharpness` times too sharp."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 1.5
    p = np.exp(log_softmax(z, axis=1))
    labels = (rng.random((n, 1)) > p.cumsum(1)).sum(1).clip(max=k - 1)
    return sharpness * z, labels


def dirichlet_data(seed=0, n=3000, k=4, prior=1.0, sharpness=4.0):
    """Labels drawn from the mean of Dir(prior + e), evidence reported
    `sharpness` times too large (the temperature that fixes it)."""
    rng = np.random.default_rng(seed)
    evidence = rng.gamma(0.5, 4.0, (n, k))
    p = (prior + evidence) / (k * prior + evidence.sum(1, keepdims=True))
    labels = (rng.random((n, 1)) > p.cumsum(1)).sum(1).clip(max=k - 1)
    return (prior + sharpness * evidence).astype("float32"), labels


def softmax_nll(logits, labels):
    logits = np.asarray(logits, "float64")
    return -np.mean(log_softmax(logits, axis=1)[np.arange(len(labels)), labels])


def dirichlet_nll(alpha, labels, prior):
    alpha = np.asarray(alpha, "float64")
    return -np.mean(np.log(alpha[np.arange(len(labels)), labels] / alpha.sum(1)))


def tempered(alpha, factor, prior):
    return prior + factor * (np.asarray(alpha, "float64") - prior)


def ece(probabilities, labels, bins=15):
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return total / len(labels)


def test_logit_temperature_matches_scipy():
    logits, labels = softmax_data()
    reference = minimize_scalar(
        lambda log_t: softmax_nll(logits / np.exp(log_t), labels),
        bounds=(-5, 5), method="bounded", options={"xatol": 1e-8},
    )
    fitted = fit_temperature(logits, labels, target="logits")
    np.testing.assert_allclose(fitted, np.exp(reference.x), rtol=2e-3)
    assert 2.5 < fitted < 3.5  # the data were made 3 times too sharp


@pytest.mark.parametrize("prior", [1.0, 0.1])
def test_evidence_temperature_matches_scipy(prior):
    alpha, labels = dirichlet_data(prior=prior)
    reference = minimize_scalar(
        lambda log_t: dirichlet_nll(tempered(alpha, np.exp(-log_t), prior), labels, prior),
        bounds=(-5, 5), method="bounded", options={"xatol": 1e-8},
    )
    fitted = fit_temperature(alpha, labels, prior_concentration=prior)
    np.testing.assert_allclose(fitted, np.exp(reference.x), rtol=2e-3)
    assert 3.0 < fitted < 6.0  # the evidence was made 4 times too large


@pytest.mark.parametrize("target", ["evidence", "logits"])
def test_temperature_keeps_accuracy_and_lowers_ece(target):
    if target == "logits":
        outputs, labels = softmax_data(seed=1)
        probabilities = lambda o: np.exp(log_softmax(np.asarray(o, "float64"), 1))  # noqa: E731
    else:
        outputs, labels = dirichlet_data(seed=1)
        probabilities = lambda a: np.asarray(a, "float64") / np.sum(a, 1, keepdims=True)  # noqa: E731
    temperature = fit_temperature(outputs, labels, target=target)
    layer = ke.layers.TemperatureScaling(temperature, target=target)
    calibrated = keras.ops.convert_to_numpy(layer(outputs))
    before, after = probabilities(outputs), probabilities(calibrated)
    np.testing.assert_array_equal(before.argmax(1), after.argmax(1))
    assert ece(after, labels) < 0.5 * ece(before, labels)
    # The library's ECE agrees with the one written here.
    np.testing.assert_allclose(
        ke.evaluation.expected_calibration_error(after, labels), ece(after, labels),
        atol=1e-5,
    )


def test_tedl_logits_temperature_matches_scipy():
    """Logits of an evidential model: alpha = elu(z / T) + 1 + 1 (offset 1)."""
    logits, labels = softmax_data(seed=2, sharpness=2.0)

    def nll(log_t):
        z = logits / np.exp(log_t)
        evidence = np.where(z > 0, z, np.expm1(np.minimum(z, 0))) + 1.0
        return dirichlet_nll(evidence + 1.0, labels, 1.0)

    reference = minimize_scalar(nll, bounds=(-5, 5), method="bounded",
                                options={"xatol": 1e-8})
    fitted = fit_temperature(logits, labels, target="logits", evidence="elu")
    # The evidence layer computes in float32: the optimum is found to the
    # NLL's float32 resolution.
    np.testing.assert_allclose(fitted, np.exp(reference.x), rtol=1e-2)
    assert nll(np.log(fitted)) <= reference.fun + 1e-6


def test_vector_scaling_logits_reaches_scipy_optimum():
    logits, labels = softmax_data(seed=3, n=2000, k=3)
    logits = logits * np.array([1.0, 3.0, 0.5])  # class-wise miscalibration
    k = logits.shape[1]

    def nll(theta):
        return softmax_nll(logits * theta[:k] + theta[k:], labels)

    reference = minimize(nll, np.r_[np.ones(k), np.zeros(k)], method="BFGS")
    scale, bias = fit_vector_scaling(logits, labels, target="logits")
    assert nll(np.r_[scale, bias]) <= reference.fun + 1e-5


def test_vector_scaling_evidence_reaches_scipy_optimum():
    alpha, labels = dirichlet_data(seed=4, n=2000, k=3)
    alpha = 1.0 + (alpha - 1.0) * np.array([1.0, 5.0, 0.3], "float32")

    def nll(log_w):
        return dirichlet_nll(tempered(alpha, np.exp(log_w), 1.0), labels, 1.0)

    reference = minimize(nll, np.zeros(3), method="BFGS")
    scale, bias = fit_vector_scaling(alpha, labels)
    assert bias is None
    assert nll(np.log(scale)) <= reference.fun + 1e-5


def test_calibration_nll_hand_example():
    # -log(3/4) and -log(2/6): mean 0.6931...
    value = ke.calibration.calibration_nll([[3.0, 1.0], [4.0, 2.0]], [0, 1])
    np.testing.assert_allclose(value, -(np.log(3 / 4) + np.log(2 / 6)) / 2, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"target": "probabilities"}, "`target` must be one of"),
        ({"prior_concentration": 0.0}, "`prior_concentration` must be"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_temperature([[2.0, 1.0]], [0], **kwargs)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="one class index"):
        fit_temperature([[2.0, 1.0], [1.0, 3.0]], [0])
    with pytest.raises(ValueError, match="labels|Labels"):
        fit_temperature([[2.0, 1.0]], [2])
    with pytest.raises(ValueError, match="alpha >= 1|concentrations"):
        fit_temperature([[0.5, 1.0]], [0])
