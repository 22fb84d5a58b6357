"""KL(Dir(alpha) || Dir(1)) and EDL's misleading-evidence KL against SciPy."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_evidential import dirichlet
from hypothesis import given
from hypothesis import strategies as st

from tests import reference
from tests import reference_family
from tests.gradients import central_differences
from tests.gradients import value_and_gradient
from tests.strategies import SETTINGS
from tests.strategies import alpha_batches
from tests.strategies import assert_close
from tests.strategies import gradient_case
from tests.testing import compiled

RNG = np.random.default_rng(0)


def np_(x):
    return ops.convert_to_numpy(x)


def random_alpha(n=16, k=5):
    return (1.0 + RNG.gamma(1.0, 5.0, size=(n, k))).astype("float32")


def test_kl_hand_worked():
    # KL(Dir(1, 1) || Dir(1, 1)) = 0
    np.testing.assert_allclose(np_(dirichlet.kl_to_uniform(np.ones((1, 2), "float32"))), [0.0], atol=1e-6)
    # KL(Dir(2, 1) || Dir(1, 1)) = lgamma(3) - lgamma(2) - lgamma(2) - lgamma(1)
    #   + (2 - 1) (digamma(2) - digamma(3)) = log 2 - 1/2
    got = np_(dirichlet.kl_to_uniform(np.array([[2.0, 1.0]], "float32")))
    np.testing.assert_allclose(got, [np.log(2.0) - 0.5], rtol=1e-5)


def test_kl_matches_reference_and_is_nonnegative():
    alpha = random_alpha(k=10)
    got = np_(dirichlet.kl_to_uniform(alpha))
    np.testing.assert_allclose(got, reference.kl_to_uniform(alpha.astype("float64")), rtol=1e-4, atol=1e-4)
    assert np.all(got >= -1e-5)


def test_misleading_alpha_removes_target_evidence():
    y = np.array([[0.0, 1.0, 0.0]], "float32")
    alpha = np.array([[4.0, 9.0, 2.0]], "float32")
    np.testing.assert_allclose(np_(dirichlet.misleading_alpha(y, alpha)), [[4.0, 1.0, 2.0]])
    np.testing.assert_allclose(
        np_(dirichlet.misleading_evidence_kl(y, alpha)),
        reference.kl_to_uniform(np.array([[4.0, 1.0, 2.0]])),
        rtol=1e-5,
    )


@SETTINGS
@given(batch=alpha_batches())
def test_kl_and_its_gradient_match_scipy(batch):
    alpha, _ = batch
    alpha64 = alpha.astype(np.float64)
    value, grad = value_and_gradient(lambda a: ops.mean(dirichlet.kl_to_uniform(a)), alpha)
    assert_close(value, reference.kl_to_uniform(alpha64).mean(), alpha.shape[-1])
    expected = reference.kl_to_uniform_gradient(alpha64) / len(alpha)
    # Both terms are ~1 and cancel to ~1/alpha: float32 leaves ~1e-6 absolute.
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), expected, rtol=1e-4, atol=1e-5
    )


@SETTINGS
@given(batch=alpha_batches(), soft=st.booleans())
def test_misleading_evidence_kl_gradients_match_scipy(batch, soft):
    """Both closed-form gradients, through alpha_tilde = y + (1 - y) alpha."""
    alpha, alpha64, y, y64 = gradient_case(batch, soft)
    k = alpha.shape[-1]
    n = len(alpha)
    alpha_tilde = y64 + (1 - y64) * alpha64
    d_alpha_tilde = reference.kl_to_uniform_gradient(alpha_tilde) / n

    value, grad = value_and_gradient(
        lambda a: ops.mean(dirichlet.misleading_evidence_kl(y, a)), alpha
    )
    assert_close(value, reference.kl_to_uniform(alpha_tilde).mean(), k)
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), (1 - y64) * d_alpha_tilde, rtol=1e-4, atol=1e-5
    )
    _, grad_y = value_and_gradient(
        lambda t: ops.mean(dirichlet.misleading_evidence_kl(t, alpha)), y
    )
    # d alpha_tilde / dy = 1 - alpha, up to 1e8: compare relative to that.
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad_y),
        (1 - alpha64) * d_alpha_tilde,
        rtol=1e-4,
        atol=1e-5 * np.abs(1 - alpha64).max(),
    )


def test_kl_is_accurate_where_lgamma_cancels():
    """At alpha = 1e8 the textbook formula's lgamma terms are ~1.7e9."""
    alpha = np.array([[1e8, 1e8, 1.0], [1e4, 3e7, 2.0]], np.float32)
    expected = reference.kl_to_uniform(alpha.astype(np.float64))
    assert_close(dirichlet.kl_to_uniform(alpha), expected, 3)



@pytest.mark.parametrize("k", [10, 100])
def test_kl_is_exactly_zero_where_alpha_tilde_is_one(k):
    """Issue 16, section 5: at alpha_tilde = (1, ..., 1) the KL is exactly 0,
    but the keras.ops form gave -8.3e-7 in graph mode and +5.8e-6 under XLA
    for alpha = (1e4, 1, ..., 1), label 0, K = 10 (worse at K = 100)."""
    alpha = np.ones((1, k), "float32")
    alpha[0, 0] = 1e4
    y = reference.one_hot([0], k).astype("float32")
    forms = {"eager": dirichlet.misleading_evidence_kl, "compiled": compiled(dirichlet.misleading_evidence_kl)}
    if keras.backend.backend() == "tensorflow":
        forms["xla"] = compiled(dirichlet.misleading_evidence_kl, jit_compile=True)
    for form, fn in forms.items():
        value = np_(fn(ops.convert_to_tensor(y), ops.convert_to_tensor(alpha)))
        assert value[0] >= 0.0, form
        np.testing.assert_allclose(value, [0.0], atol=1e-6, err_msg=form)
        np.testing.assert_allclose(np_(fn(ops.convert_to_tensor(y), ops.convert_to_tensor(np.ones((1, k), "float32")))), [0.0], atol=1e-6, err_msg=form)


# --- dirichlet_kl(alpha, beta) in float32 against float64 SciPy -------------
#
# The textbook form sums lgamma terms of size S log S that cancel to a KL of
# size ~ S delta^2 (delta: relative difference of alpha and beta), so float32
# left 0.4-1.7 % relative error at S = 1e2..1e6 (Prior Networks' reverse KL).
# Now every part is small (a categorical KL and the Bregman divergences of
# lgamma(x) - x log x + x), also where alpha and beta are near-proportional
# at large S (random K = 2 rows, alpha = c beta), where the Bregman
# divergences of lgamma itself cancelled to a KL much smaller than them:
# measured errors are <= 4e-6 relative, so 1e-4 leaves headroom.
KL_RTOL = 1e-4
SCALES = (1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6)


def assert_kl_close(alpha, beta, rtol=KL_RTOL):
    alpha = np.asarray(alpha, "float32")
    beta = np.broadcast_to(np.asarray(beta, "float32"), alpha.shape)
    got = np.asarray(np_(dirichlet.dirichlet_kl(alpha, beta)), "float64")
    alpha64, beta64 = alpha.astype("float64"), beta.astype("float64")
    expected = reference_family.kl_dirichlet(alpha64, beta64)
    # (atol: SciPy's float64 form leaves ~1e-12 where the KL is 0.)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-9)
    assert np.all(got >= 0.0)


@pytest.mark.parametrize("k", [2, 10, 100])
def test_dirichlet_kl_relative_error_over_concentration_grid(k):
    rng = np.random.default_rng(k)
    scale = np.repeat(SCALES, 4)[:, None]
    # Within a factor 2 of each other, and independent log-uniform 1e-2..1e6.
    assert_kl_close(scale * rng.uniform(0.5, 2, (len(scale), k)), scale * rng.uniform(0.5, 2, (len(scale), k)))
    assert_kl_close(np.exp(rng.uniform(np.log(1e-2), np.log(1e6), (32, k))), np.exp(rng.uniform(np.log(1e-2), np.log(1e6), (32, k))))
    # Proportional: the KL is O(K) however large S.
    beta = scale * np.ones((len(scale), k))
    assert_kl_close(2.0 * beta, beta)
    assert_kl_close(0.5 * beta, beta)


@pytest.mark.parametrize("scale", SCALES)
def test_dirichlet_kl_of_near_equal_concentrations(scale):
    """The case of the issue: 0.4 % at s = 1e2 up to 1.3 % at 1e4 before."""
    assert_kl_close([[scale, 1.01 * scale, 0.99 * scale]], [[1.02 * scale, scale, scale]])
    rng = np.random.default_rng(3)
    assert_kl_close(scale * (1.0 + 0.01 * rng.standard_normal((4, 100))), scale * np.ones((4, 100)))


@pytest.mark.parametrize("k", [2, 10, 100])
def test_dirichlet_kl_of_equal_concentrations_is_zero(k):
    alpha = np.exp(np.random.default_rng(k).uniform(np.log(1e-2), np.log(1e6), (16, k))).astype("float32")
    np.testing.assert_array_equal(np_(dirichlet.dirichlet_kl(alpha, alpha)), 0.0)


def test_dirichlet_kl_in_the_losses_regime():
    """Prior Networks: exp evidence up to e^10 against 1 + 100 y; R-EDL:
    misleading alpha (lambda = 0.1) against lambda."""
    rng = np.random.default_rng(4)
    for k in (2, 10, 100):
        alpha = np.exp(rng.uniform(0.0, 10.0, (64, k)))
        target = 1.0 + 100.0 * reference.one_hot(rng.integers(0, k, 64), k)
        assert_kl_close(alpha, target)
        assert_kl_close(1.0 + 100.0 * reference.one_hot(rng.integers(0, k, 64), k), target)
        y = reference.one_hot(rng.integers(0, k, 64), k)
        assert_kl_close(0.1 * y + (1 - y) * (0.1 + alpha), 0.1)


def test_dirichlet_kl_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    for scale in (0.1, 3.0, 1e4):
        alpha = (scale * rng.uniform(0.5, 2.0, (3, 4))).astype("float32")
        beta = (scale * rng.uniform(0.5, 2.0, (3, 4))).astype("float32")
        alpha64, beta64 = alpha.astype("float64"), beta.astype("float64")
        _, grad = value_and_gradient(lambda a: ops.sum(dirichlet.dirichlet_kl(a, beta)), alpha)
        expected = central_differences(lambda a: reference_family.kl_dirichlet(a, beta64), alpha64)
        np.testing.assert_allclose(np_(grad), expected, rtol=1e-3, atol=1e-6 * np.abs(expected).max())
        _, grad_beta = value_and_gradient(lambda b: ops.sum(dirichlet.dirichlet_kl(alpha, b)), beta)
        expected = central_differences(lambda b: reference_family.kl_dirichlet(alpha64, b), beta64)
        np.testing.assert_allclose(np_(grad_beta), expected, rtol=1e-3, atol=1e-5 * np.abs(expected).max())


def test_dirichlet_kl_compiles():
    alpha = np.array([[3e4, 2e2, 5.0]], "float32")
    beta = np.array([[101.0, 1.0, 1.0]], "float32")
    expected = reference_family.kl_dirichlet(alpha.astype("float64"), beta.astype("float64"))
    forms = {"compiled": compiled(dirichlet.dirichlet_kl)}
    if keras.backend.backend() == "tensorflow":
        forms["xla"] = compiled(dirichlet.dirichlet_kl, jit_compile=True)
    for form, fn in forms.items():
        got = np_(fn(ops.convert_to_tensor(alpha), ops.convert_to_tensor(beta)))
        np.testing.assert_allclose(got, expected, rtol=KL_RTOL, err_msg=form)


def _kl_mp(alpha, beta):
    """`KL(Dir(alpha) || Dir(beta))` in mpmath at 50 digits, per row."""
    import mpmath

    mpmath.mp.dps = 50
    out = []
    for a_row, b_row in zip(np.atleast_2d(alpha), np.broadcast_to(beta, np.shape(np.atleast_2d(alpha)))):
        a = [mpmath.mpf(float(v)) for v in a_row]
        b = [mpmath.mpf(float(v)) for v in b_row]
        sa, sb = sum(a), sum(b)
        value = mpmath.loggamma(sa) - mpmath.loggamma(sb) + sum(mpmath.loggamma(v) for v in b)
        value -= sum(mpmath.loggamma(v) for v in a)
        value += sum((x - y) * (mpmath.digamma(x) - mpmath.digamma(sa)) for x, y in zip(a, b))
        out.append(float(value))
    return np.array(out)


def test_misleading_evidence_kl_in_float64_has_float64_accuracy():
    """Issue 28: 6.64e-8 instead of 7.16e-8 (7 % low) in float64, the
    series being truncated for float32. Bound 1e-10 absolute (measured
    6.7e-16)."""
    if keras.backend.backend() == "jax" and not __import__("jax").config.jax_enable_x64:
        pytest.skip("JAX computes in float32 unless jax_enable_x64 is set")
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    alpha = np.array([[5005.77716, 1.00037855], [3.5, 1e6], [1.0, 12.25]])
    alpha_tilde = y + (1 - y) * alpha
    got = np_(dirichlet.misleading_evidence_kl(y, alpha))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, _kl_mp(alpha_tilde, 1.0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(got[0], 7.16e-8, rtol=1e-3)


@pytest.mark.parametrize("scale", [1e10, 8e12, 1e13, 1e20, 1e30])
def test_dirichlet_kl_is_finite_and_accurate_at_huge_concentrations(scale):
    """Issue 28: NaN in float32 from S ~ 8e12 (Stirling remainder's products
    overflowed). Against mpmath: bound 1e-4 relative (measured <= 9e-7)."""
    alpha = np.array([[scale, 2 * scale, 3.0], [scale, 0.5 * scale, 7.0]], "float32")
    beta = np.array([[1.0, 1.0, 100.0], [2.0, 3.0, 0.5]], "float32")
    got = np_(dirichlet.dirichlet_kl(alpha, beta))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _kl_mp(alpha.astype("float64"), beta.astype("float64")), rtol=1e-4)


# --- nearly proportional alpha and beta against mpmath (issue 28) -----------
#
# Where alpha ~ c beta at large S the Bregman divergences of lgamma (~S each)
# cancelled to a KL of O(K): 10-50 % relative error in float32 at entries
# 1e5..1e6, 1e-4..1e-3 in float64. The bound: |error| <= 1e-4 KL + 8 eps C,
# C = sum_j (alpha_j |dKL/dalpha_j| + beta_j |dKL/dbeta_j|) the KL's change
# under relative perturbations of the inputs (a rounding of the inputs moves
# the KL by up to eps C, so no float computation does better than ~eps C).


def _kl_condition(alpha, beta):
    """`sum_j alpha_j |dKL/dalpha_j| + beta_j |dKL/dbeta_j|` per row (float64 SciPy)."""
    from scipy.special import digamma
    from scipy.special import polygamma

    sa, sb = alpha.sum(-1, keepdims=True), beta.sum(-1, keepdims=True)
    d_alpha = (alpha - beta) * polygamma(1, alpha) - (sa - sb) * polygamma(1, sa)
    d_beta = digamma(beta) - digamma(sb) - digamma(alpha) + digamma(sa)
    return (alpha * np.abs(d_alpha) + beta * np.abs(d_beta)).sum(-1)


def _nearly_proportional_cases(k, rng):
    """Rows alpha = c beta (1 + delta_j), entries of beta 1e5..1e6."""
    beta = np.exp(rng.uniform(np.log(1e5), np.log(1e6), (12, k)))
    ratio = np.array([2.0, 0.5, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 3.0, 1.0 / 3.0, 2.0, 1.0])[:, None]
    delta = np.array([0.0, 0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-3, 1e-5, 1e-2, 1e-2, 0.1, 0.1])[:, None]
    alpha = ratio * beta * (1.0 + delta * rng.standard_normal((12, k)))
    return alpha, beta


def _assert_kl_matches_mpmath(alpha, beta, rtol):
    got = np_(dirichlet.dirichlet_kl(alpha, beta))
    assert got.dtype == alpha.dtype
    alpha64, beta64 = alpha.astype("float64"), beta.astype("float64")
    expected = _kl_mp(alpha64, beta64)
    eps = np.finfo(alpha.dtype).eps
    bound = rtol * np.abs(expected) + 8 * eps * _kl_condition(alpha64, beta64)
    error = np.abs(got.astype("float64") - expected)
    assert np.all(error <= bound), (np.max(error / bound), np.max(error / expected))
    assert np.all(got >= 0.0)


@pytest.mark.parametrize("k", [2, 10, 100])
def test_dirichlet_kl_of_nearly_proportional_concentrations(k):
    """The issue's case: alpha ~ 2 beta, entries 1e5..1e6, in float32."""
    alpha, beta = _nearly_proportional_cases(k, np.random.default_rng(k))
    _assert_kl_matches_mpmath(alpha.astype("float32"), beta.astype("float32"), rtol=1e-4)


def test_dirichlet_kl_at_exactly_proportional_concentrations_has_float32_accuracy():
    """alpha = 2 beta exactly: the KL is O(K) (~0.1 per class) and the
    condition C ~ 0, so the error must be ~1e-6 relative; it was 2.5-6 %."""
    rng = np.random.default_rng(11)
    beta = np.exp(rng.uniform(np.log(1e5), np.log(1e6), (8, 10))).astype("float32")
    alpha = 2.0 * beta
    expected = _kl_mp(alpha.astype("float64"), beta.astype("float64"))
    np.testing.assert_allclose(np_(dirichlet.dirichlet_kl(alpha, beta)), expected, rtol=1e-5)


def _float64_capable():
    return keras.backend.backend() != "jax" or __import__("jax").config.jax_enable_x64


@pytest.mark.parametrize("k", [2, 10, 100])
def test_dirichlet_kl_in_float64_has_float64_accuracy(k):
    """Float64 inputs: error <= 1e-10 absolute, relative where the KL > 1,
    over near-proportional rows at 1e5..1e6 (1e-4..7e-4 relative before)
    and log-uniform rows over 1e-3..1e12."""
    if not _float64_capable():
        pytest.skip("JAX computes in float64 only with jax_enable_x64")
    rng = np.random.default_rng(k + 1)
    alpha, beta = _nearly_proportional_cases(k, rng)
    wide = np.exp(rng.uniform(np.log(1e-3), np.log(1e12), (2, 8, k)))
    alpha, beta = np.concatenate([alpha, wide[0]]), np.concatenate([beta, wide[1]])
    got = np_(dirichlet.dirichlet_kl(alpha, beta))
    assert got.dtype == np.float64
    expected = _kl_mp(alpha, beta)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("scale", [1e-3, 1e-1, 1.0, 1e2, 1e4, 1e7, 1e10, 1e20, 1e30])
def test_dirichlet_kl_over_concentrations_against_mpmath(scale):
    """Random rows within a factor 2 of each other, independent rows, and
    rows far apart (alpha ~ 1e6 beta and the reverse), float32 and float64."""
    rng = np.random.default_rng(5)
    rows = [scale * rng.uniform(0.5, 2.0, (2, 6, 5))]
    rows.append(scale * np.exp(rng.uniform(-5.0, 5.0, (2, 6, 5))))
    far = np.exp(rng.uniform(-1.0, 1.0, (6, 5)))
    rows.append(np.stack([scale * far, scale * 1e-6 * far[::-1]]))
    rows.append(np.stack([scale * 1e-6 * far, scale * far[::-1]]))
    alpha, beta = np.concatenate(rows, axis=1)
    _assert_kl_matches_mpmath(alpha.astype("float32"), beta.astype("float32"), rtol=1e-4)
    if _float64_capable():
        _assert_kl_matches_mpmath(alpha, beta, rtol=1e-12)
