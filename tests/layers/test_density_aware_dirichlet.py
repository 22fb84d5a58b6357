"""DensityAwareDirichlet: DAEDL's density scaling."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref
from tests.gradients import value_and_gradient
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(21)


class DensityAwareDirichletTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ke.layers.DensityAwareDirichlet,
            {"clip_value": 5.0},
            input_shape=[(2, 4), (2, 3)],
            expected_output_shape=(2, 3),
            expected_num_non_trainable_weights=5,
            assert_built_after_instantiation=False,
            run_training_check=False,
            run_mixed_precision_check=False,
        )

    def test_before_fitting_alpha_is_exp_of_logits(self):
        layer = ke.layers.DensityAwareDirichlet()
        logits = np.array([[0.0, 1.0, -2.0]], "float32")
        out = layer([np.zeros((1, 4), "float32"), logits])
        self.assertAllClose(out, np.exp(logits), rtol=1e-6)

    def test_alpha_is_exp_of_large_logits(self):
        # The paper's alpha = exp(z s) has no clip (nor has the official
        # code): logits past 10 must keep their order, else alpha_0, DAEDL's
        # OOD score, ties every sample at exp(10) times the saturated classes.
        layer = ke.layers.DensityAwareDirichlet()
        logits = np.array([[12.0, 1.0, -2.0], [15.0, 11.0, 0.0], [40.0, 0.0, 0.0]], "float32")
        out = layer([np.zeros((3, 4), "float32"), logits])
        self.assertAllClose(out, np.exp(logits.astype("float64")), rtol=1e-5)

    def test_loss_and_gradient_finite_at_the_clip(self):
        # The default clip only guards float32 overflow: at logits of 50,
        # alpha_0 ~ 5e21 and the loss's S^2 would overflow if formed. Below,
        # the logits stay clipped at -10, where the KL (~ 1 / alpha) is moderate.
        logits = np.array([[50.0, 49.0, -50.0], [-3.0, 50.0, 50.0]], "float32")
        layer = ke.layers.DensityAwareDirichlet()
        features = np.zeros((2, 4), "float32")
        loss = ke.losses.DAEDLLoss(kl_weight=0.05)
        value, grad = value_and_gradient(
            lambda z: loss(np.array([0, 1]), layer([features, z])), logits
        )
        self.assertTrue(np.isfinite(to_numpy(value)).all() and np.isfinite(to_numpy(grad)).all())
        alpha = keras.ops.convert_to_numpy(layer([features, logits]))
        self.assertAllClose(alpha[0, 2], np.exp(-10.0), rtol=1e-5)

    def test_fitted_density_scales_logits(self):
        labels = np.repeat(np.arange(3), 40)
        features = (RNG.normal(size=(120, 4)) + labels[:, None] * 3.0).astype("float32")
        layer = ke.layers.DensityAwareDirichlet(jitter=0.0)
        layer([features[:1], np.zeros((1, 3), "float32")])
        layer.fit_density(features, labels)
        train_log_density = ref.gda_log_density(features, labels, features, 3)
        d_min, d_max = train_log_density.min(), train_log_density.max()
        queries = np.r_[features[:5], 50.0 + features[:2]]
        logits = RNG.normal(size=(7, 3)).astype("float32")
        scale = np.clip((ref.gda_log_density(features, labels, queries, 3) - d_min) / (d_max - d_min), 0, 1)
        expected = np.exp(logits * scale[:, None])
        self.assertAllClose(layer([queries, logits]), expected, rtol=1e-3, atol=1e-5)
        # Far from the training features: s = 0, a flat Dirichlet.
        self.assertAllClose(layer([queries[-2:], logits[-2:]]), np.ones((2, 3)), atol=1e-6)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="clip_value"):
            ke.layers.DensityAwareDirichlet(clip_value=0.0)
        # An infinite ridge swamps every covariance (flat density); a string
        # or None failed with a TypeError that named nothing.
        for bad in (-1e-3, float("inf"), float("nan"), "1e-6", None):
            with pytest.raises(ValueError, match=f"Received: jitter={bad!r}"):
                ke.layers.DensityAwareDirichlet(jitter=bad)
        with pytest.raises(ValueError, match=r"\[features, logits\]"):
            ke.layers.DensityAwareDirichlet()(np.zeros((1, 3), "float32"))


def fitted_layer(features, labels, num_classes=3):
    layer = ke.layers.DensityAwareDirichlet(jitter=0.0)
    layer([features[:1], np.zeros((1, num_classes), "float32")])
    layer.fit_density(features, labels)
    return layer


def clustered_features(n_per_class=40, num_classes=3, seed=22):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(num_classes), n_per_class)
    features = (rng.normal(size=(len(labels), 4)) + labels[:, None] * 3.0).astype("float32")
    return features, labels


class DensityStateTest(TestCase):
    def test_training_call_after_fitting_is_exp_of_logits(self):
        # Issue 28, 2(e): DAEDL trains on alpha = exp(z) (paper, section
        # 3.2, Algorithm 1); the density scales the logits only in
        # prediction (Algorithm 3). A second `fit` after the density was
        # fitted trained on exp(z s).
        features, labels = clustered_features()
        layer = fitted_layer(features, labels)
        queries = np.r_[features[:3], 40.0 + features[:2]]
        logits = RNG.normal(size=(5, 3)).astype("float32")
        self.assertAllClose(layer([queries, logits], training=True), np.exp(logits), rtol=1e-6)
        predicted = to_numpy(layer([queries, logits], training=False))
        self.assertAllClose(predicted[-2:], np.ones((2, 3)), atol=1e-6)  # s = 0 far away

    def test_density_fitted_flag(self):
        features, labels = clustered_features()
        layer = ke.layers.DensityAwareDirichlet()
        layer([features[:1], np.zeros((1, 3), "float32")])
        self.assertFalse(layer.density_fitted)
        layer.fit_density(features, labels)
        self.assertTrue(layer.density_fitted)

    def test_unknown_samples_are_left_out_of_the_density(self):
        # Issue 28, 2(d): samples labelled K (out of distribution) were
        # counted in N (class weights summed to 0.75) and in [d_min, d_max].
        features, labels = clustered_features()
        outliers = (RNG.normal(size=(40, 4)) * 10.0 - 30.0).astype("float32")
        layer = fitted_layer(np.r_[features, outliers], np.r_[labels, np.full(40, 3)])
        self.assertAllClose(np.exp(to_numpy(layer.log_weights)), [1 / 3] * 3, rtol=1e-6)
        train_log_density = ref.gda_log_density(features, labels, features, 3)
        self.assertAllClose(layer.density_range, [train_log_density.min(), train_log_density.max()], rtol=1e-4)

    def test_one_hot_labels_are_class_indices(self):
        features, labels = clustered_features()
        one_hot = np.eye(3, dtype="float32")[labels]
        by_index, by_one_hot = fitted_layer(features, labels), fitted_layer(features, one_hot)
        for name in ("log_weights", "means", "precision_cholesky", "density_range"):
            self.assertAllClose(getattr(by_one_hot, name), getattr(by_index, name), rtol=1e-6)
        # An all-zero row is the metrics' "unknown" sample: left out.
        with_unknown = fitted_layer(np.r_[features, features[:5] * 9.0], np.r_[one_hot, np.zeros((5, 3))])
        self.assertAllClose(with_unknown.means, by_index.means, rtol=1e-6)

    def test_labels_that_are_not_classes_are_refused(self):
        features, labels = clustered_features()
        layer = ke.layers.DensityAwareDirichlet()
        layer([features[:1], np.zeros((1, 3), "float32")])
        multi_hot = np.eye(3)[labels]
        multi_hot[0, 1] = 1.0
        for bad, match in (
            (multi_hot, "one-hot"),
            (np.eye(4)[labels], r"labels.shape=\(120, 4\)"),
            (np.r_[labels[:-1], 5], r"\[0, 3\]"),
            (labels + 0.5, "integer"),
        ):
            with pytest.raises(ValueError, match=match):
                layer.fit_density(features, bad)
