"""student_t_quantile against SciPy's Student-t quantile function."""

import numpy as np
import pytest
from scipy import stats

import keras_evidential as ke
from tests.testing import to_numpy


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-5)])
def test_matches_scipy(dtype, rtol):
    p = np.array([0.5001, 0.6, 0.9, 0.95, 0.975, 0.995, 0.0005, 0.1, 0.3])
    df = np.array([2.1, 3.0, 5.0, 10.0, 50.0, 200.0, 2.5, 1e5, 4.0])
    loc, scale = np.linspace(-1, 1, 9), np.linspace(0.5, 3, 9)
    got = to_numpy(ke.nig.student_t_quantile(*(v.astype(dtype) for v in (p, loc, scale, df))))
    if got.dtype != np.dtype(dtype):  # JAX computes in float32 unless x64 is enabled
        rtol = 2e-5
    np.testing.assert_allclose(got, stats.t.ppf(p, df, loc, scale), rtol=rtol, atol=rtol)


def test_median_is_the_location():
    got = to_numpy(ke.nig.student_t_quantile(0.5, 2.0, 3.0, np.array([3.0, 30.0])))
    np.testing.assert_allclose(got, [2.0, 2.0], atol=1e-6)
