"""ConformalSets: hand-worked sets, the coverage guarantee as a property,
MAPIE's sets on the same scores, and the layer's serialization."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests.testing import TestCase
from tests.testing import to_numpy


def _beta_binomial_se(n, alpha, n_test, n_splits):
    """Standard error of the mean coverage over `n_splits` random splits.

    Given the calibration set the coverage C of a split is Beta(k, n + 1 - k)
    (Angelopoulos & Bates 2023, Sec. 3.2) and the test count Binomial(m, C).
    """
    k = np.ceil((n + 1) * (1 - alpha) - 1e-9)
    a, b = k, n + 1 - k
    mean = a / (a + b)
    var_c = a * b / ((a + b) ** 2 * (a + b + 1))
    var = var_c + (mean * (1 - mean) - var_c) / n_test
    return np.sqrt(var / n_splits), mean


def _pool(seed, size=2000, num_classes=5):
    rng = np.random.default_rng(seed)
    alpha = rng.gamma(1.0, 3.0, size=(size, num_classes)) + 1.0
    p = alpha / alpha.sum(-1, keepdims=True)
    labels = np.array([rng.choice(num_classes, p=row) for row in p])
    return rng, alpha, p, labels


def test_lac_set_hand_worked():
    # Calibration scores 1 - p_y = 0.3, 0.4, 0.6, 0.6, 0.8; alpha = 0.5:
    # k = ceil(6 * 0.5) = 3, q = 0.6; a test label is in where p >= 0.4.
    p_cal = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4],
                      [0.5, 0.4, 0.1], [0.2, 0.6, 0.2]])
    layer = ke.conformal.ConformalSets.calibrate(
        p_cal, np.array([0, 1, 2, 1, 2]), alpha=0.5, score="lac")
    assert layer.thresholds_list() == [pytest.approx(0.6)]
    got = to_numpy(layer(np.array([[0.45, 0.45, 0.1], [0.2, 0.3, 0.5]], "float32")))
    np.testing.assert_array_equal(got, [[True, True, False], [False, False, True]])


def test_aps_set_includes_the_crossing_label():
    # Deterministic calibration scores (u = 1): 0.5, 0.9, 1.0; alpha = 0.5:
    # k = 2, q = 0.9. Served with u = 0: mass strictly above each label.
    p_cal = np.array([[0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.5, 0.3, 0.2]])
    layer = ke.conformal.ConformalSets.calibrate(
        p_cal, np.array([0, 1, 2]), alpha=0.5, score="aps")
    assert layer.thresholds_list() == [pytest.approx(0.9)]
    # p = (0.85, 0.1, 0.05): mass above = 0, 0.85, 0.95 -> {0, 1}.
    got = to_numpy(layer(np.array([[0.85, 0.1, 0.05]], "float32")))
    np.testing.assert_array_equal(got, [[True, True, False]])


def test_mondrian_thresholds_per_class():
    # Class 0's LAC scores 0.1, 0.2, 0.3; class 1's 0.5, 0.6, 0.7; alpha = 0.25:
    # k = ceil(4 * 0.75) = 3 per class.
    p_cal = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3],
                      [0.5, 0.5], [0.6, 0.4], [0.7, 0.3]])
    layer = ke.conformal.ConformalSets.calibrate(
        p_cal, np.array([0, 0, 0, 1, 1, 1]), alpha=0.25, score="lac",
        class_conditional=True)
    np.testing.assert_allclose(layer.thresholds_list(), [0.3, 0.7], atol=1e-6)
    got = to_numpy(layer(np.array([[0.65, 0.35]], "float32")))
    np.testing.assert_array_equal(got, [[False, True]])


def test_medl_unknown_class_can_be_in_a_set():
    # alpha+ of an m-EDL head: K = 2 known classes, alpha_u = K + 1 = 3.
    alpha_cal = np.array([[20.0, 1.0, 3.0], [1.0, 20.0, 3.0], [20.0, 1.0, 3.0],
                          [1.0, 20.0, 3.0], [1.0, 1.0, 3.0]])
    layer = ke.conformal.ConformalSets.calibrate(
        alpha_cal, np.array([0, 1, 0, 1, 2]), alpha=0.2, score="lac", inputs="alpha")
    # An input without evidence: p = (0.2, 0.2, 0.6); "unknown" is in its set.
    got = to_numpy(layer(np.array([[1.0, 1.0, 3.0]], "float32")))
    assert got.shape == (1, 3) and got[0, 2]


@pytest.mark.parametrize(
    "score, randomized, distinct",
    [("lac", False, True), ("aps", True, True), ("raps", True, True),
     ("belief", False, True), ("aps", False, False)],
)
def test_coverage_guarantee_over_random_splits(score, randomized, distinct):
    n, m, alpha, splits = 100, 200, 0.1, 1000
    rng, concentration, p, labels = _pool(0)
    outputs, inputs = (concentration, "alpha") if score == "belief" else (p, "probabilities")
    u_cal = rng.uniform(size=(len(p), 1)) if randomized else 1.0
    u_test = rng.uniform(size=(len(p), 1)) if randomized else (u_cal if distinct else 0.0)
    kwargs = dict(score=score, inputs=inputs, penalty=0.05, regularization_rank=1)
    cal_scores = to_numpy(ke.conformal.label_scores(outputs, randomization=u_cal, **kwargs))
    test_scores = to_numpy(ke.conformal.label_scores(outputs, randomization=u_test, **kwargs))
    true_cal = cal_scores[np.arange(len(p)), labels]
    true_test = test_scores[np.arange(len(p)), labels]
    coverages = []
    for _ in range(splits):
        order = rng.permutation(len(p))
        q = ke.conformal.conformal_quantile(true_cal[order[:n]], alpha)
        coverages.append(np.mean(true_test[order[n:n + m]] <= q))
    se, expected = _beta_binomial_se(n, alpha, m, splits)
    low, high = ke.conformal.coverage_band(n, alpha)
    mean = np.mean(coverages)
    assert mean >= low - 4 * se
    if distinct:
        assert mean <= high + 4 * se
        assert abs(mean - expected) <= 4 * se


def test_mondrian_coverage_per_class():
    n, m, alpha, splits = 300, 300, 0.1, 300
    rng, _, p, labels = _pool(1, num_classes=3)
    scores = to_numpy(ke.conformal.lac_scores(p))
    true = scores[np.arange(len(p)), labels]
    covered = np.zeros(3)
    counts = np.zeros(3)
    for _ in range(splits):
        order = rng.permutation(len(p))
        cal, test = order[:n], order[n:n + m]
        for k in range(3):
            q = ke.conformal.conformal_quantile(true[cal][labels[cal] == k], alpha)
            in_k = test[labels[test] == k]
            covered[k] += np.sum(true[in_k] <= q)
            counts[k] += len(in_k)
    # About 100 calibration points per class: the per-class band's lower
    # end, allowing 4 binomial standard errors of the pooled test count.
    assert np.all(covered / counts >= 1 - alpha - 4 * np.sqrt(0.09 / counts) - 0.02)


def _mapie_problem(seed):
    """500 calibration and 400 test points of a 6-class problem."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(6) * 0.7, size=900)
    y = np.array([rng.choice(6, p=row) for row in p])
    return p[:500], y[:500], p[500:]


def _mapie_sets(p_cal, y_cal, p_test, alpha, score, seed):
    mapie = pytest.importorskip("mapie")
    from sklearn.base import BaseEstimator
    from sklearn.base import ClassifierMixin

    table = np.concatenate([p_cal, p_test])

    class Lookup(ClassifierMixin, BaseEstimator):
        """A fitted classifier whose input is a row index into `table`."""

        def fit(self, x, y):
            self.classes_ = np.arange(table.shape[1])
            return self

        def predict_proba(self, x):
            return table[np.asarray(x)[:, 0].astype(int)]

        def predict(self, x):
            return np.argmax(self.predict_proba(x), axis=1)

    estimator = Lookup().fit(None, None)
    classifier = mapie.classification.SplitConformalClassifier(
        estimator=estimator, confidence_level=1 - alpha, conformity_score=score,
        prefit=True, random_state=seed,
    )
    classifier.conformalize(np.arange(len(p_cal))[:, None], y_cal)
    _, sets = classifier.predict_set(len(p_cal) + np.arange(len(p_test))[:, None])
    return sets[:, :, 0]


@pytest.mark.parametrize("alpha", [0.1, 0.05, 0.2])
def test_lac_sets_equal_mapie(alpha):
    p_cal, y_cal, p_test = _mapie_problem(3)
    want = _mapie_sets(p_cal, y_cal, p_test, alpha, "lac", seed=0)
    q = ke.conformal.conformal_quantile(
        1 - p_cal[np.arange(500), y_cal], alpha)
    got = to_numpy(ke.conformal.lac_scores(p_test)) <= q
    np.testing.assert_array_equal(got, want)
    layer = ke.conformal.ConformalSets.calibrate(p_cal, y_cal, alpha, score="lac")
    np.testing.assert_array_equal(to_numpy(layer(p_test.astype("float32"))), want)


@pytest.mark.parametrize("alpha", [0.1, 0.05, 0.2])
def test_aps_sets_equal_mapie(alpha):
    # MAPIE 1.x calibrates APS with the randomised score, the inclusive mass
    # minus v p_y with v its `random_state`'s uniform draws (this package's
    # u = 1 - v), and serves sets that include the crossing label (u = 0):
    # the same construction from this package's scores must give the same sets.
    p_cal, y_cal, p_test = _mapie_problem(4)
    want = _mapie_sets(p_cal, y_cal, p_test, alpha, "aps", seed=7)
    u = 1.0 - np.random.RandomState(7).uniform(size=500)[:, None]
    cal = to_numpy(ke.conformal.aps_scores(p_cal, u))[np.arange(500), y_cal]
    q = ke.conformal.conformal_quantile(cal, alpha)
    got = to_numpy(ke.conformal.aps_scores(p_test, 0.0)) <= q
    np.testing.assert_array_equal(got, want)


class ConformalSetsLayerTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            ke.conformal.ConformalSets,
            {"thresholds": [0.5, 0.6, 0.7], "score": "lac"},
            input_data=np.array([[0.6, 0.3, 0.1], [0.2, 0.4, 0.4]], "float32"),
            expected_output=np.array([[True, False, False], [False, True, True]]),
            expected_output_dtype="bool",
            expected_num_non_trainable_weights=1,
            run_training_check=False,
            run_mixed_precision_check=False,
        )

    def test_saved_with_the_model(self):
        inputs = keras.Input((4,))
        alpha = ke.layers.DirichletOutput()(keras.layers.Dense(3)(inputs))
        model = keras.Model(inputs, alpha)
        x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
        sets = ke.conformal.ConformalSets.calibrate(
            model.predict(x, verbose=0), np.arange(40) % 3, 0.2, score="belief",
            inputs="alpha", class_conditional=True)
        served = keras.Model(inputs, sets(model.output))
        path = self.get_temp_dir() + "/sets.keras"
        served.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_array_equal(
            to_numpy(loaded(x)), to_numpy(served(x)))
        assert loaded.layers[-1].get_config()["score"] == "belief"

    def test_randomized_sets_are_served(self):
        layer = ke.conformal.ConformalSets(0.5, score="aps", randomized=True, seed=1)
        got = to_numpy(layer(np.array([[0.4, 0.35, 0.25]] * 2000, "float32")))
        # Label 1: mass above 0.4, score 0.4 + 0.35 u <= 0.5 when u <= 2/7.
        assert abs(got[:, 1].mean() - 2 / 7) < 0.04
        assert got[:, 0].all() and not got[:, 2].any()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"thresholds": [np.nan]}, "`thresholds` must be"),
     ({"thresholds": 0.5, "score": "top"}, "`score` must be one of"),
     ({"thresholds": 0.5, "randomized": "yes"}, "`randomized` must be True"),
     ({"thresholds": 0.5, "penalty": -1.0}, "`penalty` must be"),
     ({"thresholds": 0.5, "score": "belief"}, "inputs='probabilities'")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.conformal.ConformalSets(**kwargs)


def test_calibrate_checks_labels():
    with pytest.raises(ValueError, match=r"`labels` must be integer class indices in \[0, 2\)"):
        ke.conformal.ConformalSets.calibrate(np.full((2, 2), 0.5), [0, 2], 0.1)


@pytest.mark.large
def test_sets_served_from_a_saved_model(tmp_path):
    # Keras's own SavedModel export (TensorFlow) serves the boolean mask.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export needs the TensorFlow backend")
    import tensorflow as tf

    inputs = keras.Input((4,))
    alpha = ke.layers.DirichletOutput()(keras.layers.Dense(3)(inputs))
    x = np.random.default_rng(1).normal(size=(60, 4)).astype("float32")
    sets = ke.conformal.ConformalSets.calibrate(
        keras.Model(inputs, alpha).predict(x, verbose=0), np.arange(60) % 3, 0.2,
        score="lac", inputs="alpha", class_conditional=True)
    served = keras.Model(inputs, {"alpha": alpha, "sets": sets(alpha)})
    served.export(str(tmp_path / "model"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "model"))  # kept: serve needs its variables
    got = loaded.serve(x)["sets"].numpy()
    assert got.dtype == bool
    np.testing.assert_array_equal(got, to_numpy(served(x)["sets"]))
