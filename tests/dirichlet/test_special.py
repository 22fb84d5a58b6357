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
