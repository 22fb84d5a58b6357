"""Radial flows: the map and its log-determinant against a float64 NumPy
restatement of Rezende & Mohamed (2015) with a finite-difference Jacobian,
and the density they define integrating to 1."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.gradients import value_and_gradient
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(29)


def softplus(x):
    return np.logaddexp(0.0, x)


def radial_map(z, center, alpha_raw, beta_raw):
    """f(z) = z + beta (z - z0) / (alpha + ||z - z0||), float64."""
    alpha = softplus(alpha_raw)
    beta = softplus(beta_raw) - alpha
    difference = z - center
    r = np.linalg.norm(difference, axis=-1, keepdims=True)
    return z + beta * difference / (alpha + r)


def finite_difference_log_det(z, center, alpha_raw, beta_raw, step=1e-6):
    """log |det J| of `radial_map` at one point, J by central differences."""
    d = z.shape[-1]
    jacobian = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = step
        jacobian[:, j] = (
            radial_map(z + e, center, alpha_raw, beta_raw)
            - radial_map(z - e, center, alpha_raw, beta_raw)
        ) / (2 * step)
    sign, log_det = np.linalg.slogdet(jacobian)
    assert sign > 0  # an orientation-preserving bijection
    return log_det


def stack_log_density(z, centers, alpha_raw, beta_raw):
    """log N(f_L o ... o f_1 (z)) + sum of finite-difference log-dets, float64."""
    log_det = 0.0
    for layer in range(len(centers)):
        log_det += finite_difference_log_det(z, centers[layer], alpha_raw[layer], beta_raw[layer])
        z = radial_map(z, centers[layer], alpha_raw[layer], beta_raw[layer])
    return -0.5 * (len(z) * np.log(2 * np.pi) + z @ z) + log_det


class RadialFlowTest(TestCase):
    def test_map_and_log_det_against_finite_differences(self):
        # beta_raw from -4 (beta close to its bound -alpha: a strong contraction
        # towards z0) to +3 (an expansion), in 1, 2 and 5 dimensions.
        for d in (1, 2, 5):
            z = RNG.normal(0, 1.5, (6, d))
            center = RNG.normal(0, 1, d)
            for alpha_raw, beta_raw in [(0.3, -4.0), (-1.0, 0.5), (1.2, 3.0)]:
                moved, log_det = ke.flows.radial_flow(z.astype("float32"), center, alpha_raw, beta_raw)
                self.assertAllClose(
                    to_numpy(moved), radial_map(z, center, alpha_raw, beta_raw), rtol=1e-5, atol=1e-5
                )
                expected = [finite_difference_log_det(p, center, alpha_raw, beta_raw) for p in z]
                self.assertAllClose(to_numpy(log_det), expected, rtol=1e-4, atol=1e-5)

    def test_parameters_keep_the_map_invertible(self):
        alpha_raw = np.array([-3.0, 0.0, 2.0])
        beta_raw = np.array([-30.0, 0.0, 5.0])
        alpha, beta = ke.flows.radial_flow_parameters(alpha_raw, beta_raw)
        self.assertAllClose(to_numpy(alpha), softplus(alpha_raw), rtol=1e-6)
        self.assertAllClose(to_numpy(beta), softplus(beta_raw) - softplus(alpha_raw), rtol=1e-5, atol=1e-7)
        # At beta = -alpha + 1e-13 the map squeezes every point towards z0, yet its
        # radius r' = r (r + softplus(beta_raw)) / (alpha + r) still grows with r.
        z = np.array([[0.5, 0.0], [1.0, 0.0], [2.0, 0.0]])
        moved, log_det = ke.flows.radial_flow(z, np.zeros(2), 0.0, -30.0)
        radii = np.linalg.norm(to_numpy(moved), axis=-1)
        self.assertTrue(np.all(np.diff(radii) > 0))
        self.assertTrue(np.isfinite(to_numpy(log_det)).all())

    def test_stack_log_density_against_reference(self):
        d, length = 3, 4
        centers = RNG.normal(0, 1, (length, d))
        alpha_raw, beta_raw = RNG.normal(0, 1, length), RNG.normal(0, 1.5, length)
        z = RNG.normal(0, 1.5, (5, d))
        got = ke.flows.radial_flow_log_density(z.astype("float32"), centers, alpha_raw, beta_raw)
        expected = [stack_log_density(p, centers, alpha_raw, beta_raw) for p in z]
        self.assertAllClose(to_numpy(got), expected, rtol=1e-4, atol=1e-4)

    def test_per_class_stacks_broadcast(self):
        # One stack per class: centers (C, L, D), z (B, 1, D) -> (B, C).
        c, length, d = 3, 2, 2
        centers = RNG.normal(0, 1, (c, length, d))
        alpha_raw, beta_raw = RNG.normal(0, 1, (c, length)), RNG.normal(0, 1, (c, length))
        z = RNG.normal(0, 1, (4, d))
        got = to_numpy(ke.flows.radial_flow_log_density(z[:, None, :], centers, alpha_raw, beta_raw))
        self.assertEqual(got.shape, (4, c))
        for k in range(c):
            expected = [stack_log_density(p, centers[k], alpha_raw[k], beta_raw[k]) for p in z]
            self.assertAllClose(got[:, k], expected, rtol=1e-4, atol=1e-4)

    def test_standard_normal_log_density(self):
        z = RNG.normal(0, 1, (4, 3))
        expected = -1.5 * np.log(2 * np.pi) - 0.5 * (z**2).sum(-1)
        self.assertAllClose(to_numpy(ke.flows.standard_normal_log_density(z)), expected, rtol=1e-6)

    # A grid integral costs seconds of per-shape compilation on eager JAX; it
    # checks the formula, which the reference tests check on every backend.
    @pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the formula is tested on every backend")
    def test_density_integrates_to_one_in_1d_and_2d(self):
        # A 6-flow stack with strong contractions and expansions, its density
        # summed over a grid that holds all but a negligible tail.
        for d, step in [(1, 0.005), (2, 0.05)]:
            rng = np.random.default_rng(d)
            centers = rng.normal(0, 1, (6, d))
            alpha_raw, beta_raw = rng.normal(0, 1, 6), rng.normal(0, 2, 6)
            axis = np.arange(-10, 10, step) + step / 2
            grid = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), -1).reshape(-1, d)
            log_q = to_numpy(ke.flows.radial_flow_log_density(grid, centers, alpha_raw, beta_raw))
            integral = np.exp(log_q.astype("float64")).sum() * step**d
            self.assertAllClose(integral, 1.0, atol=2e-3)

    def test_gradient_finite_at_the_centre(self):
        center = np.array([0.5, -0.25], "float32")
        _, grad = value_and_gradient(
            lambda z: ke.flows.radial_flow_log_density(z, center[None], np.zeros(1), np.ones(1))[0],
            center[None].copy(),
        )
        self.assertTrue(np.isfinite(to_numpy(grad)).all())


@pytest.mark.parametrize("function", ["radial_flow", "radial_flow_log_density"])
def test_functions_are_exported(function):
    assert callable(getattr(ke.flows, function))
