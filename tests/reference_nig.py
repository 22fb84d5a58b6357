"""Float64 NumPy/SciPy reference of the Normal-Inverse-Gamma formulas.

Written from the papers, independent of keras_evidential:
- Amini et al. 2020 (Deep Evidential Regression), Eqs. 5, 8, 9: the NLL in
  their `Omega` form, the regulariser and `E[sigma^2]`, `Var[mu]`;
- Meinert, Gawlikowski & Lavin 2023, Eqs. 9-12;
- SciPy's Student-t for densities and CDFs, and CRPS by numerical
  integration of `(F(x) - 1[x >= y])^2`.
"""

import numpy as np
from scipy import integrate
from scipy import stats
from scipy.special import gammaln


def amini_nll(y, gamma, nu, alpha, beta):
    """Amini et al. Eq. 8, as printed: the Omega form (not via a Student-t)."""
    omega = 2.0 * beta * (1.0 + nu)
    return (
        0.5 * np.log(np.pi / nu)
        - alpha * np.log(omega)
        + (alpha + 0.5) * np.log(nu * (y - gamma) ** 2 + omega)
        + gammaln(alpha)
        - gammaln(alpha + 0.5)
    )


def student_t_nll(y, gamma, nu, alpha, beta):
    """`-log St(y | gamma, beta (1 + nu) / (nu alpha), 2 alpha)` through SciPy."""
    scale = np.sqrt(beta * (1.0 + nu) / (nu * alpha))
    return -stats.t.logpdf(y, 2.0 * alpha, gamma, scale)


def width(nu, alpha, beta):
    return np.sqrt(beta * (1.0 + nu) / (alpha * nu))


def amini_regularizer(y, gamma, nu, alpha):
    return np.abs(y - gamma) * (2.0 * nu + alpha)


def meinert_regularizer(y, gamma, nu, alpha, beta, p):
    return np.abs((y - gamma) / width(nu, alpha, beta)) ** p * (2.0 * nu + alpha)


def meinert_alternative(y, gamma, nu, beta, lam):
    sigma2 = beta / nu
    return np.log(sigma2) + (1.0 + lam * nu) * (y - gamma) ** 2 / sigma2


def aleatoric_amini(nu, alpha, beta):
    return beta / (alpha - 1.0)


def epistemic_amini(nu, alpha, beta):
    return beta / (nu * (alpha - 1.0))


def aleatoric_meinert(nu, alpha, beta):
    return width(nu, alpha, beta)


def epistemic_meinert(nu, alpha, beta):
    return 1.0 / np.sqrt(nu)


def crps_by_integration(y, loc, scale, df):
    """`int (F(x) - 1[x >= y])^2 dx` for one scalar Student-t."""
    cdf = lambda x: stats.t.cdf(x, df, loc, scale)  # noqa: E731
    below = integrate.quad(lambda x: cdf(x) ** 2, -np.inf, y, limit=200)[0]
    above = integrate.quad(lambda x: (1.0 - cdf(x)) ** 2, y, np.inf, limit=200)[0]
    return below + above


def central_interval_contains(y, loc, scale, df, level):
    low, high = stats.t.interval(level, df, loc, scale)
    return (y >= low) & (y <= high)


def softplus(x):
    return np.logaddexp(0.0, x)


# --- High-precision references (mpmath), for the scores at any df ----------
#
# Written from the definitions at 40 digits, so that they hold where float64
# lgamma differences cancel (df ~ 1e12 and beyond).


def _mp():
    import mpmath

    mpmath.mp.dps = 40
    return mpmath


def student_t_nll_mp(y, loc, scale, df):
    """`-log St(y | loc, scale, df)` from mpmath's loggamma."""
    mp = _mp()
    y, loc, scale, df = (mp.mpf(float(v)) for v in (y, loc, scale, df))
    z = (y - loc) / scale
    return float(
        mp.loggamma(df / 2) - mp.loggamma((df + 1) / 2) + mp.log(scale)
        + mp.log(mp.pi * df) / 2 + (df + 1) / 2 * mp.log1p(z**2 / df)
    )


def student_t_two_sided_tail_mp(y, loc, scale, df):
    """`P(|T| >= |z|) = I_x(df/2, 1/2)`, `x = df / (df + z^2)`, as
    `1 - I_{1 - x}(1/2, df/2)` near x = 1 (mpmath's regularised betainc)."""
    mp = _mp()
    y, loc, scale, df = (mp.mpf(float(v)) for v in (y, loc, scale, df))
    z2 = ((y - loc) / scale) ** 2
    one_minus_x = z2 / (df + z2)
    if one_minus_x < mp.mpf("0.5"):
        return float(1 - mp.betainc(mp.mpf(1) / 2, df / 2, 0, one_minus_x, regularized=True))
    return float(mp.betainc(df / 2, mp.mpf(1) / 2, 0, 1 - one_minus_x, regularized=True))


def student_t_crps_mp(y, loc, scale, df):
    """Closed-form CRPS of `St(loc, scale, df)` (Jordan, Krüger & Lerch 2019,
    `crps_t`), in mpmath: `scale [z (2 F(z) - 1) + 2 f(z) (df + z^2) / (df - 1)
    - 2 sqrt(df) B(1/2, df - 1/2) / ((df - 1) B(1/2, df/2)^2)]`."""
    mp = _mp()
    y, loc, scale, df = (mp.mpf(float(v)) for v in (y, loc, scale, df))
    z = (y - loc) / scale
    half = mp.mpf(1) / 2
    one_minus_x = z**2 / (df + z**2)
    inner = mp.betainc(half, df / 2, 0, one_minus_x, regularized=True)  # 1 - tail
    log_density = (
        mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(mp.pi * df) / 2
        - (df + 1) / 2 * mp.log1p(z**2 / df)
    )
    log_beta = lambda a, b: mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)  # noqa: E731
    constant = 2 * mp.sqrt(df) * mp.exp(log_beta(half, df - half) - 2 * log_beta(half, df / 2)) / (df - 1)
    return float(scale * (abs(z) * inner + 2 * mp.exp(log_density) * (df + z**2) / (df - 1) - constant))
