"""DirichletUncertaintyMaps against float64 maps written from the papers:
vacuity lambda K / S (Sensoy et al. 2018; R-EDL), the entropy of p_bar and
the mutual information H[p_bar] - E[H[p]] (Malinin & Gales 2018, eq. 17),
m-EDL's p_hat_u = (K + 1) / S+ (Nagahama 2023)."""

import keras
import numpy as np
import pytest
from scipy.special import digamma

import keras_evidential as ke
from tests.testing import TestCase
from tests.testing import to_numpy

RNG = np.random.default_rng(31)
SHAPE = (2, 3, 4)  # batch, height, width
K = 3


def reference_maps(alpha, prior=1.0):
    alpha = np.asarray(alpha, "float64")
    s = alpha.sum(-1)
    p = alpha / s[..., None]
    entropy = -(p * np.log(p)).sum(-1)
    expected_entropy = -(p * (digamma(alpha + 1) - digamma(s + 1)[..., None])).sum(-1)
    return {
        "vacuity": prior * alpha.shape[-1] / s,
        "entropy": entropy,
        "mutual_information": entropy - expected_entropy,
    }


def dense_alpha(prior=1.0):
    return (prior + RNG.gamma(1.0, 3.0, size=SHAPE + (K,))).astype("float32")


class DirichletUncertaintyMapsTest(TestCase):
    def test_maps_against_the_float64_formulas(self):
        alpha = dense_alpha()
        self.run_layer_test(
            ke.layers.DirichletUncertaintyMaps,
            {},
            input_data=alpha,
            expected_output=reference_maps(alpha),
            expected_num_trainable_weights=0,
            run_mixed_precision_check=False,
        )

    def test_prior_concentration_scales_the_vacuity(self):
        alpha = dense_alpha(prior=0.1)
        self.run_layer_test(
            ke.layers.DirichletUncertaintyMaps,
            {"prior_concentration": 0.1},
            input_data=alpha,
            expected_output=reference_maps(alpha, prior=0.1),
            expected_num_trainable_weights=0,
            run_mixed_precision_check=False,
        )


def test_unknown_class_maps_are_those_of_the_known_classes():
    alpha = dense_alpha()
    alpha_plus = to_numpy(ke.layers.UnknownClassHead()(alpha))
    maps = ke.layers.DirichletUncertaintyMaps(unknown_class=True)(alpha_plus)
    expected = reference_maps(alpha)
    # p_hat_u = alpha_u / S+ with alpha_u = K + 1 (m-EDL).
    expected["unknown_probability"] = (K + 1) / (alpha.astype("float64").sum(-1) + K + 1)
    assert sorted(maps) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(to_numpy(maps[name]), value, rtol=1e-5, err_msg=name)


def test_in_a_functional_segmenter_saved_and_loaded(tmp_path):
    inputs = keras.Input((8, 8, 1))
    alpha = ke.layers.DirichletOutput("softplus")(keras.layers.Conv2D(K, 1)(inputs))
    alpha = ke.layers.UnknownClassHead()(alpha)
    maps = ke.layers.DirichletUncertaintyMaps(unknown_class=True, name="maps")(alpha)
    model = keras.Model(inputs, maps)
    assert {name: tuple(t.shape) for name, t in maps.items()} == {
        "vacuity": (None, 8, 8), "entropy": (None, 8, 8),
        "mutual_information": (None, 8, 8), "unknown_probability": (None, 8, 8),
    }
    images = RNG.normal(size=(2, 8, 8, 1)).astype("float32")
    path = tmp_path / "segmenter.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    layer = restored.get_layer("maps")
    assert layer.unknown_class is True
    for name, value in model.predict(images, verbose=0).items():
        np.testing.assert_allclose(restored.predict(images, verbose=0)[name], value, rtol=1e-6)


def test_config_round_trip():
    layer = ke.layers.DirichletUncertaintyMaps(prior_concentration=0.5, unknown_class=True)
    restored = ke.layers.DirichletUncertaintyMaps.from_config(layer.get_config())
    assert (restored.prior_concentration, restored.unknown_class) == (0.5, True)


def test_mixed_precision_maps_are_float32():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        maps = ke.layers.DirichletUncertaintyMaps()(np.full((1, 2, 2, K), 3e4, "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    for value in maps.values():
        assert keras.backend.standardize_dtype(value.dtype) == "float32"
        assert np.all(np.isfinite(to_numpy(value)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"prior_concentration": 0.0}, r"`prior_concentration` must be .*Received: prior_concentration=0"),
        ({"unknown_class": "yes"}, r"`unknown_class` must be .*Received: unknown_class='yes'"),
    ],
)
def test_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ke.layers.DirichletUncertaintyMaps(**kwargs)


def test_refuses_too_few_classes():
    with pytest.raises(ValueError, match=r"K >= 2 known classes plus the unknown class.*input_shape=\(None, 4, 2\)"):
        ke.layers.DirichletUncertaintyMaps(unknown_class=True)(keras.KerasTensor((None, 4, 2)))
    with pytest.raises(ValueError, match=r"input_shape=\(3,\)"):
        ke.layers.DirichletUncertaintyMaps()(np.ones(3, "float32"))
