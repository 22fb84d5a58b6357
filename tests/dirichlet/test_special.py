"""The gamma-function terms against SciPy over [1e-3, 1e9]."""

import numpy as np
from keras import ops
from scipy import special

from keras_evidential.dirichlet import special as ke_special


def test_gamma_terms_match_scipy():
    """digamma, trigamma and x digamma(x) - lgamma(x) - x over [1e-3, 1e9]."""
    x = np.exp(np.linspace(np.log(1e-3), np.log(1e9), 5000)).astype(np.float32)
    x = np.concatenate([x, [1.0, 2.0, 4.0, 5.0, 8.0]]).astype(np.float32)
    x64 = x.astype(np.float64)
    terms = ke_special.gamma_terms(x)
    digamma = special.digamma(x64)
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.digamma), digamma, rtol=5e-7, atol=1e-6
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.trigamma),
        special.polygamma(1, x64),
        rtol=5e-7,
    )
    # ~log(x) / 2 in size, where x digamma(x) and lgamma(x) are ~x log(x).
    h = x64 * digamma - special.gammaln(x64) - x64
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.x_digamma_minus_lgamma), h, rtol=1e-6, atol=1e-6
    )



def test_lgamma_and_digamma_match_scipy():
    x = np.exp(np.linspace(np.log(1e-3), np.log(1e6), 400)).astype(np.float32)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(
        ops.convert_to_numpy(ke_special.lgamma(x)), special.gammaln(x64), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(ke_special.digamma(x)), special.digamma(x64), rtol=1e-5, atol=1e-5
    )


def _float64_capable():
    import keras

    return keras.backend.backend() != "jax" or __import__("jax").config.jax_enable_x64


def test_gamma_terms_in_float64_have_float64_accuracy():
    """Issue 28: the series were truncated for float32 (omitted terms ~2e-8),
    also for float64 inputs. Against SciPy and mpmath over [1e-3, 1e9]:
    bound 1e-13 relative (float32-grade series gave ~1e-8)."""
    import pytest

    if not _float64_capable():
        pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")
    x = np.exp(np.linspace(np.log(1e-3), np.log(1e9), 3000))
    x = np.concatenate([x, [1.0, 2.0, 4.0, 5.0, 8.0, 13.0, 5005.77716]])
    terms = ke_special.gamma_terms(x)
    digamma = special.digamma(x)
    np.testing.assert_allclose(ops.convert_to_numpy(terms.digamma), digamma, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(ops.convert_to_numpy(terms.trigamma), special.polygamma(1, x), rtol=1e-13)
    # h from mpmath: x digamma(x) - lgamma(x) - x cancels in float64 too.
    import mpmath

    mpmath.mp.dps = 40
    h = np.array([float(mpmath.mpf(v) * mpmath.digamma(v) - mpmath.loggamma(v) - v) for v in x[::10]])
    np.testing.assert_allclose(
        ops.convert_to_numpy(terms.x_digamma_minus_lgamma)[::10], h, rtol=1e-13, atol=1e-13
    )


def test_stirling_coefficients_give_lgamma_remainder():
    """lgamma(y) - [(y - 1/2) log y - y + log(2 pi) / 2] = sum_m c_m y^(1 - 2m),
    against mpmath at y = 8 and 20: the rest is below the first omitted term."""
    import mpmath

    mpmath.mp.dps = 40
    coefficients = ke_special.stirling_coefficients(8)
    np.testing.assert_allclose(coefficients[:3], [1 / 12, -1 / 360, 1 / 1260], rtol=1e-15)
    for y in (8, 20):
        y = mpmath.mpf(y)
        remainder = mpmath.loggamma(y) - ((y - 0.5) * mpmath.log(y) - y + mpmath.log(2 * mpmath.pi) / 2)
        series = sum(c * y ** (1 - 2 * m) for m, c in enumerate(coefficients, 1))
        # B_18 / (18 * 17) y^-17 is the first omitted term; the float64
        # coefficients add ~1e-17 c_1 / y.
        assert abs(float(remainder - series)) <= 0.2 * float(y) ** -17 + 1e-17 / float(y)


def test_accuracy_and_series_length_by_dtype():
    assert ke_special.accuracy("float64") == "float64"
    for dtype in ("float32", "float16", "bfloat16"):
        assert ke_special.accuracy(dtype) == "float32"
    assert ke_special.series_length("float64") == (8, 8)
    assert ke_special.series_length("float32") == (4, 3)
