"""keras_evidential.nig against the float64 reference of the papers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_evidential import nig
from tests import reference_nig as ref
from tests.testing import to_numpy

F32 = dict(allow_nan=False, allow_infinity=False, width=32)


def _grid(seed=0, n=64):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0, 3, n),  # y
        rng.normal(0, 3, n),  # gamma
        np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n)),  # nu
        1.0 + np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n)),  # alpha
        np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n)),  # beta
    )


def _f32(*arrays):
    return [np.asarray(a, "float32") for a in arrays]


def test_nig_nll_matches_amini_eq8_and_scipy_student_t():
    y, g, n, a, b = _grid()
    got = to_numpy(nig.nig_nll(*_f32(y, g, n, a, b)))
    # float32 lgamma of arguments ~100 (JAX's) is good to ~5e-5 absolute.
    np.testing.assert_allclose(got, ref.amini_nll(y, g, n, a, b), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, ref.student_t_nll(y, g, n, a, b), rtol=1e-4, atol=1e-4)


def test_regularizers_and_alternative_loss():
    y, g, n, a, b = _grid(1)
    args = _f32(y, g, n, a, b)
    np.testing.assert_allclose(
        to_numpy(nig.amini_regularizer(*args[:4])),
        ref.amini_regularizer(y, g, n, a), rtol=1e-5,
    )
    for p in (1, 2, 1.5):
        np.testing.assert_allclose(
            to_numpy(nig.meinert_regularizer(*args, p=p)),
            ref.meinert_regularizer(y, g, n, a, b, p), rtol=1e-4,
        )
    np.testing.assert_allclose(
        to_numpy(nig.meinert_alternative_loss(args[0], args[1], args[2], args[4], 0.3)),
        ref.meinert_alternative(y, g, n, b, 0.3), rtol=1e-4, atol=1e-4,
    )


@pytest.mark.parametrize("name", sorted(nig.UNCERTAINTIES))
def test_uncertainties_both_conventions(name):
    _, _, n, a, b = _grid(2)
    got = to_numpy(nig.UNCERTAINTIES[name](*_f32(n, a, b)))
    np.testing.assert_allclose(got, getattr(ref, name)(n, a, b), rtol=1e-5)


def test_predictive_variance_is_the_student_t_variance():
    _, _, n, a, b = _grid(3)
    scale = ref.width(n, a, b)
    variance = scale**2 * (2 * a) / (2 * a - 2)
    np.testing.assert_allclose(
        to_numpy(nig.predictive_variance(*_f32(n, a, b))), variance, rtol=1e-5
    )


def test_student_t_cdf_and_crps_against_scipy_and_integration():
    from scipy import stats

    y = np.array([-30.0, -2.0, 0.3, 1.0, 7.0])
    loc, scale, df = 0.5, np.array([0.2, 1.0, 2.0, 0.7, 3.0]), np.array([2.1, 3.0, 10.0, 200.0, 4.5])
    got_cdf = to_numpy(nig.student_t_cdf(*_f32(y, np.full(5, loc), scale, df)))
    # JAX's float32 betainc is good to ~1e-5 relative at df = 200.
    np.testing.assert_allclose(got_cdf, stats.t.cdf(y, df, loc, scale), rtol=5e-5, atol=1e-6)
    got = to_numpy(nig.student_t_crps(*_f32(y, np.full(5, loc), scale, df)))
    want = [ref.crps_by_integration(*v) for v in zip(y, np.full(5, loc), scale, df)]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_gaussian_scores_against_scipy():
    from scipy import stats

    y, m, s = np.array([0.0, 2.0, -4.0]), np.array([0.5, 0.0, 1.0]), np.array([1.0, 0.3, 2.0])
    np.testing.assert_allclose(
        to_numpy(nig.gaussian_nll(*_f32(y, m, s**2))), -stats.norm.logpdf(y, m, s), rtol=1e-5
    )
    want = [
        __import__("scipy").integrate.quad(
            lambda x, yy=yy, mm=mm, ss=ss: (stats.norm.cdf(x, mm, ss) - (x >= yy)) ** 2,
            -50, 50, points=[yy], limit=200,
        )[0]
        for yy, mm, ss in zip(y, m, s)
    ]
    np.testing.assert_allclose(to_numpy(nig.gaussian_crps(*_f32(y, m, s))), want, rtol=1e-4)


def test_two_sided_tail_matches_the_central_interval():
    rng = np.random.default_rng(4)
    y = rng.normal(0, 3, 200)
    scale, df = np.full(200, 1.5), np.full(200, 3.0)
    for level in (0.5, 0.9):
        inside = to_numpy(nig.student_t_two_sided_tail(*_f32(y, np.zeros(200), scale, df))) >= 1 - level
        want = ref.central_interval_contains(y, 0.0, 1.5, 3.0, level)
        assert (inside == want).mean() == 1.0


def test_layout_split_and_outputs():
    z = np.arange(8, dtype="float32").reshape(1, 8) - 4.0
    out = to_numpy(nig.nig_from_outputs(z, epsilon=1e-6))
    np.testing.assert_allclose(out[0, :2], z[0, :2])
    np.testing.assert_allclose(out[0, 2:4], ref.softplus(z[0, 2:4]) + 1e-6, rtol=1e-6)
    np.testing.assert_allclose(out[0, 4:6], ref.softplus(z[0, 4:6]) + 1 + 1e-6, rtol=1e-6)
    np.testing.assert_allclose(out[0, 6:], ref.softplus(z[0, 6:]) + 1e-6, rtol=1e-6)
    assert [to_numpy(p).shape for p in nig.split_nig(out)] == [(1, 2)] * 4


@pytest.mark.parametrize("width", [0, 3, 6])
def test_bad_layout_is_named(width):
    with pytest.raises(ValueError, match="multiple of 4"):
        nig.split_nig(np.zeros((2, width), "float32"))


@settings(max_examples=60, deadline=None)
@given(
    z=st.lists(st.floats(-200, 200, **F32), min_size=4, max_size=4),
    y=st.floats(-1e4, 1e4, **F32),
)
def test_loss_terms_finite_for_any_finite_output(z, y):
    """Every finite raw output gives finite losses and gradients (float32)."""
    import keras

    params = nig.split_nig(nig.nig_from_outputs(np.asarray([z], "float32")))
    y = np.asarray([[y]], "float32")
    values = [
        nig.nig_nll(y, *params),
        nig.amini_regularizer(y, *params[:3]),
        nig.meinert_regularizer(y, *params, p=2),
        nig.meinert_alternative_loss(y, params[0], params[1], params[3], 0.01),
    ]
    for v in values:
        assert np.all(np.isfinite(to_numpy(v))), (z, y)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        raw = tf.Variable(np.asarray([z], "float32"))
        with tf.GradientTape() as tape:
            p = nig.split_nig(nig.nig_from_outputs(raw))
            total = tf.reduce_sum(nig.nig_nll(y, *p) + 0.01 * nig.meinert_regularizer(y, *p))
        grad = tape.gradient(total, raw)
        assert np.all(np.isfinite(grad.numpy())), (z, y)


def test_functions_accept_tensors_and_numpy_alike():
    y, g, n, a, b = _f32(*_grid(5, 4))
    tensors = [ops.convert_to_tensor(v) for v in (y, g, n, a, b)]
    np.testing.assert_allclose(
        to_numpy(nig.nig_nll(*tensors)), to_numpy(nig.nig_nll(y, g, n, a, b))
    )


# --- The Student-t scores at any df (issue 28) -------------------------------
#
# References: mpmath at 40 digits (tests/reference_nig.py), the CRPS from its
# closed form, itself checked against quadrature of the CRPS integral.

DFS = (1.5, 2.5, 7.0, 60.0, 99.0, 101.0, 2e3, 4e5, 2.546e6, 1e9, 1e15, 1e30)
ZS = (0.0, 0.3, 1.0, 2.5, 6.0, 40.0)


def _is_float64_capable():
    import keras

    return keras.backend.backend() != "jax" or __import__("jax").config.jax_enable_x64


def test_crps_reference_matches_quadrature_of_the_crps_integral():
    for args in [(0.3, 0.1, 1.2, 3.0), (5.0, 0.0, 2.0, 2.5), (-1.0, 0.5, 0.7, 40.0), (2.0, 0.0, 1.0, 1e4)]:
        np.testing.assert_allclose(ref.student_t_crps_mp(*args), ref.crps_by_integration(*args), rtol=1e-7)


def test_issue_reproducers_for_large_df():
    """Were 0.381 (exact 0.2337), -412.7 (exact 77.70) and 0.674 (exact 0.8413)."""
    cases = [
        (nig.student_t_crps, (0.0, 0.0, 1.0, 2e5), ref.student_t_crps_mp),
        (nig.student_t_crps, (-46.5, 0.0, 321.0, 1.273e6), ref.student_t_crps_mp),
        (nig.student_t_cdf, (1.0, 0.0, 1.0, 2e6),
         lambda *a: 1.0 - 0.5 * ref.student_t_two_sided_tail_mp(*a)),
    ]
    for fn, args, reference in cases:
        got = float(to_numpy(fn(*_f32(*args))))
        np.testing.assert_allclose(got, reference(*np.float32(args)), rtol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_student_t_scores_relative_error_at_any_df(dtype):
    """NLL, two-sided tail (so both CDF sides) and CRPS against mpmath for df
    from 1.5 to 1e30 and |z| up to 40. Float32: relative error <= 1e-3
    (measured on TensorFlow: NLL 1.3e-7, tail 1.3e-5, CRPS 6.5e-6; tails
    below 1e-30 underflow and are left out); float64: <= 1e-9 (measured:
    NLL 1.3e-11, tail 1.1e-12, CRPS 4.6e-10; inputs stay float64)."""
    if dtype == "float64" and not _is_float64_capable():
        pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")
    rtol = 1e-3 if dtype == "float32" else 1e-9
    df, z = (np.array(v, dtype).ravel() for v in np.meshgrid(DFS, ZS))
    y, loc, scale = z * 2.0 + 1.0, np.full_like(z, 1.0), np.full_like(z, 2.0)
    args = [np.asarray(v, dtype) for v in (y, loc, scale, df)]
    nll = to_numpy(nig.student_t_nll(*args))
    tail = to_numpy(nig.student_t_two_sided_tail(*args))
    cdf = to_numpy(nig.student_t_cdf(*args))
    crps = to_numpy(nig.student_t_crps(*[a[df > 1.5] for a in args]))
    for name, got in {"nll": nll, "tail": tail, "cdf": cdf, "crps": crps}.items():
        assert got.dtype == np.dtype(dtype), name
    rows = list(zip(*(a.astype("float64") for a in args)))
    want_nll = np.array([ref.student_t_nll_mp(*r) for r in rows])
    want_tail = np.array([ref.student_t_two_sided_tail_mp(*r) for r in rows])
    want_crps = np.array([ref.student_t_crps_mp(*r) for r in rows if r[3] > 1.5])
    # The NLL crosses 0: relative to max(1, |NLL|).
    np.testing.assert_array_less(np.abs(nll - want_nll), rtol * np.maximum(1.0, np.abs(want_nll)))
    representable = want_tail > (1e-30 if dtype == "float32" else 1e-300)
    np.testing.assert_allclose(tail[representable], want_tail[representable], rtol=rtol)
    upper = y >= loc
    want_cdf = np.where(upper, 1.0 - 0.5 * want_tail, 0.5 * want_tail)
    np.testing.assert_allclose(cdf[representable], want_cdf[representable], rtol=rtol)
    np.testing.assert_allclose(crps, want_crps, rtol=rtol)
    assert np.all(crps > 0.0)


@settings(max_examples=40, deadline=None)
@given(
    log_df=st.floats(np.log(1.01), np.log(1e30)),
    z=st.floats(-1e3, 1e3, allow_nan=False),
)
def test_crps_is_never_negative(log_df, z):
    """It went negative for df >~ 4e5 in float32."""
    crps = to_numpy(nig.student_t_crps(*_f32(z, 0.0, 1.0, np.exp(log_df))))
    assert crps >= 0.0 and np.isfinite(crps)
