"""The NIG regression metrics against the float64 reference."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_nig as ref
from tests.testing import TestCase


def _data(n=8, targets=2, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, targets)
    params = [rng.normal(0, 2, shape), rng.uniform(0.2, 4, shape),
              rng.uniform(1.2, 6, shape), rng.uniform(0.2, 4, shape)]
    y = params[0] + rng.normal(0, 2, shape)
    return y.astype("float32"), np.concatenate(params, -1).astype("float32"), params, y


class RegressionMetricsTest(TestCase):
    def test_rmse(self):
        y, pred, p, y64 = _data()
        self.run_metric_test(ke.metrics.NIGRootMeanSquaredError, {}, y, pred,
                             np.sqrt(np.mean((y64 - p[0]) ** 2)), rtol=1e-5)

    def test_nll_with_sample_weight(self):
        y, pred, p, y64 = _data(seed=1)
        w = np.linspace(0.5, 1.5, len(y)).astype("float32")
        per_sample = ref.student_t_nll(y64, *p).mean(-1)
        self.run_metric_test(ke.metrics.NIGNegativeLogLikelihood, {}, y, pred,
                             per_sample.mean(), rtol=1e-5)
        # `model.evaluate` weights only `weighted_metrics`, so the weighted
        # mean is checked on the metric itself.
        metric = ke.metrics.NIGNegativeLogLikelihood()
        metric.update_state(y, pred, sample_weight=w)
        self.assertAllClose(metric.result(), np.sum(per_sample * w) / np.sum(w), rtol=1e-5)

    def test_crps(self):
        y, pred, p, y64 = _data(n=4, targets=1, seed=2)
        g, n, a, b = (q[:, 0] for q in p)
        want = np.mean([ref.crps_by_integration(y64[i, 0], g[i], ref.width(n[i], a[i], b[i]), 2 * a[i])
                        for i in range(4)])
        self.run_metric_test(ke.metrics.NIGContinuousRankedProbabilityScore, {}, y, pred, want, rtol=1e-4)

    def test_coverage(self):
        y, pred, p, y64 = _data(n=40, targets=1, seed=3)
        g, n, a, b = (q[:, 0] for q in p)
        inside = ref.central_interval_contains(y64[:, 0], g, ref.width(n, a, b), 2 * a, 0.8)
        self.run_metric_test(ke.metrics.NIGIntervalCoverage, {"level": 0.8}, y, pred, inside.mean())
        self.assertEqual(ke.metrics.NIGIntervalCoverage().name, "coverage_95")

    def test_bad_level_is_named(self):
        for level in (0.0, 1.0, "a"):
            with self.assertRaisesRegex(ValueError, "level="):
                ke.metrics.NIGIntervalCoverage(level=level)

    def test_bad_shapes_are_named(self):
        y, pred, _, _ = _data()
        with self.assertRaisesRegex(ValueError, "multiple of 4"):
            ke.metrics.NIGNegativeLogLikelihood().update_state(y, pred[:, :6])
        with self.assertRaisesRegex(ValueError, "one value per target"):
            ke.metrics.NIGRootMeanSquaredError().update_state(y[:, :1], pred)

    def test_mixed_precision_prediction_is_scored_in_float32(self):
        y, pred, p, y64 = _data(seed=4)
        m = ke.metrics.NIGNegativeLogLikelihood()
        m.update_state(y, pred.astype("float16"))
        self.assertEqual(keras.backend.standardize_dtype(m.result().dtype), "float32")
        self.assertAllClose(m.result(), ref.student_t_nll(y64, *p).mean(), rtol=2e-2)


class MetricDirectionTest(TestCase):
    """Issue 28, item 7: `EarlyStopping(monitor="val_nll")` raised in Keras,
    which cannot tell that lower is better for a metric declaring no
    direction."""

    def _fit(self, callback):
        rng = np.random.default_rng(5)
        x = rng.normal(size=(32, 3)).astype("float32")
        y = (x[:, :1] + 0.1 * rng.normal(size=(32, 1))).astype("float32")
        model = keras.Sequential([keras.Input((3,)), ke.layers.NormalInverseGammaOutput(1)])
        model.compile(
            "adam", ke.losses.EvidentialRegressionLoss(),
            metrics=[ke.metrics.NIGRootMeanSquaredError(), ke.metrics.NIGNegativeLogLikelihood(),
                     ke.metrics.NIGContinuousRankedProbabilityScore()],
        )
        model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=16, verbose=0,
                  callbacks=[callback])
        return callback

    @pytest.mark.large  # a few seconds of training: the large lane
    def test_early_stopping_and_checkpoint_infer_min(self):
        import os
        import tempfile

        for name in ("rmse", "nll", "crps"):
            stopping = self._fit(keras.callbacks.EarlyStopping(monitor=f"val_{name}", patience=1))
            self.assertIs(stopping.monitor_op, keras.ops.less, name)
            path = os.path.join(tempfile.mkdtemp(), "best.keras")
            checkpoint = self._fit(keras.callbacks.ModelCheckpoint(
                path, monitor=f"val_{name}", save_best_only=True))
            self.assertIs(checkpoint.monitor_op, keras.ops.less, name)


class Float64Test(TestCase):
    def test_float64_predictions_are_scored_in_float64(self):
        """Issue 28: the metrics always cast to float32. Here y - gamma = 1e-3
        at y ~ 1e4 with width ~1e-3: float32 rounds the residual by 2 %, so
        only a float64 computation meets 1e-9 against the float64 reference."""
        if keras.backend.backend() == "jax" and not __import__("jax").config.jax_enable_x64:
            self.skipTest("JAX computes in float32 unless jax_enable_x64 is set")
        gamma = np.array([[1e4], [2e4]])
        y = gamma + np.array([[1e-3], [-2.5e-3]])
        nu, alpha, beta = np.array([[2.0], [0.5]]), np.array([[3.0], [40.0]]), np.array([[1e-6], [3e-6]])
        pred = np.concatenate([gamma, nu, alpha, beta], -1)
        want_nll = ref.student_t_nll(y, gamma, nu, alpha, beta).mean(-1)
        want_crps = np.array([
            ref.student_t_crps_mp(y[i, 0], gamma[i, 0], ref.width(nu[i, 0], alpha[i, 0], beta[i, 0]), 2 * alpha[i, 0])
            for i in range(2)
        ])
        from keras_evidential.metrics import regression

        self.assertAllClose(regression.student_t_nll_per_sample(y, pred), want_nll, rtol=1e-9, atol=0)
        self.assertAllClose(regression.student_t_crps_per_sample(y, pred), want_crps, rtol=1e-9, atol=0)
        # Keras's `Mean` on PyTorch accumulates float64 values in float32
        # (Keras 3.15: its dtype promotion of torch.float64 gives float32).
        rtol = 1e-5 if keras.backend.backend() == "torch" else 1e-9
        for cls, want in ((ke.metrics.NIGNegativeLogLikelihood, want_nll),
                          (ke.metrics.NIGContinuousRankedProbabilityScore, want_crps)):
            metric = cls(dtype="float64")
            metric.update_state(y, pred)
            self.assertAllClose(metric.result(), want.mean(), rtol=rtol, atol=0)
