"""dirichlet.density against scipy.stats' Gaussians."""

import numpy as np
import pytest
from keras import ops

import keras_evidential as ke
from tests import reference_family as ref

RNG = np.random.default_rng(3)


def test_mixture_log_density_matches_scipy():
    labels = np.repeat(np.arange(3), 50)
    features = RNG.normal(size=(150, 4)) + labels[:, None] * 2.0
    queries = RNG.normal(size=(20, 4)) * 3
    params = ke.dirichlet.fit_class_gaussians(features, labels, 3, jitter=0.0)
    got = np.asarray(ops.convert_to_numpy(ke.dirichlet.gaussian_mixture_log_density(queries.astype("float32"), *params)))
    np.testing.assert_allclose(got, ref.gda_log_density(features, labels, queries, 3), rtol=1e-4, atol=1e-3)


def test_weights_are_class_frequencies():
    labels = np.r_[np.zeros(30, int), np.ones(10, int)]
    log_weights, _, _ = ke.dirichlet.fit_class_gaussians(RNG.normal(size=(40, 2)), labels, 2)
    np.testing.assert_allclose(np.exp(log_weights), [0.75, 0.25], rtol=1e-6)


def test_normalized_density_clips_to_unit_interval():
    got = ops.convert_to_numpy(ke.dirichlet.normalized_density(np.array([-20.0, -5.0, 10.0]), -10.0, 0.0))
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0])


def test_class_with_one_sample_is_rejected():
    with pytest.raises(ValueError, match="at least 2"):
        ke.dirichlet.fit_class_gaussians(RNG.normal(size=(3, 1)), np.array([0, 0, 1]), 2)


def test_class_with_fewer_samples_than_dimensions_is_rejected():
    # 5 samples span at most 4 dimensions of 8: the covariance is singular and
    # held up only by the jitter, so test features off that subspace get a log
    # density far below the training range, s = 0 and a flat Dirichlet
    # (measured: 8.5 % MNIST accuracy with 576 conv features, 300 per class).
    labels = np.repeat(np.arange(2), [5, 40])
    with pytest.raises(ValueError, match="5 training samples of class 0 for 8-dimensional features"):
        ke.dirichlet.fit_class_gaussians(RNG.normal(size=(45, 8)), labels, 2)
    # H + 1 samples determine a full-rank covariance: accepted.
    ke.dirichlet.fit_class_gaussians(RNG.normal(size=(18, 8)), np.repeat(np.arange(2), 9), 2)


def test_labels_outside_the_classes_are_refused():
    # Issue 28, 2(d): a label K (unknown) or -1 was left out of every class
    # but counted in N, so the class weights summed to less than 1 (0.75).
    features = RNG.normal(size=(40, 2))
    for bad in (2, -1):
        labels = np.r_[np.repeat([0, 1], 15), np.full(10, bad)]
        with pytest.raises(ValueError, match=rf"labels.*\[0, 2\).*Received: .*{bad}"):
            ke.dirichlet.fit_class_gaussians(features, labels, 2)
