"""Dense export: the served class map and uncertainty maps against float64
formulas written here from alpha."""

import os

import keras
import numpy as np
import pytest
from scipy.special import digamma

import keras_evidential as ke

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="serving exports need TensorFlow"
)
K = 3


def segmenter(prior=1.0):
    inputs = keras.Input((6, 5, 2), name="image")
    logits = keras.layers.Conv2D(K, 1)(inputs)
    return keras.Model(
        inputs, ke.layers.DirichletOutput("softplus", prior_concentration=prior)(logits)
    )


def reference_maps(alpha, prior):
    s = alpha.sum(-1, keepdims=True)
    p = alpha / s
    entropy = -(p * np.log(p)).sum(-1)
    expected_entropy = -(p * (digamma(alpha + 1) - digamma(s + 1))).sum(-1)
    return {
        "class_map": alpha.argmax(-1),
        "vacuity": prior * K / s[..., 0],
        "entropy": entropy,
        "mutual_information": entropy - expected_entropy,
        "probabilities": p,
    }


@pytest.mark.parametrize("prior", [1.0, 0.1])
def test_round_trip_serves_the_maps(tmp_path, prior):
    import tensorflow as tf

    model = segmenter(prior)
    images = np.random.default_rng(0).normal(size=(2, 6, 5, 2)).astype("float32")
    path = ke.export.export_dense_saved_model(model, tmp_path / "seg", version=1)
    served = tf.saved_model.load(path).signatures["serving_default"](
        image=tf.constant(images)
    )
    assert sorted(served) == sorted(ke.export.DENSE_OUTPUT_NAMES)
    alpha = keras.ops.convert_to_numpy(model(images)).astype("float64")
    for name, expected in reference_maps(alpha, prior).items():
        np.testing.assert_allclose(served[name].numpy(), expected, rtol=2e-5, atol=1e-6)
    assert served["class_map"].dtype == tf.int64
    assert served["vacuity"].shape == (2, 6, 5)


def test_selected_outputs_and_existing_version_refused(tmp_path):
    import tensorflow as tf

    model = segmenter()
    path = ke.export.export_dense_saved_model(
        model, tmp_path, outputs=("class_map", "vacuity")
    )
    signature = tf.saved_model.load(path).signatures["serving_default"]
    assert sorted(signature.structured_outputs) == ["class_map", "vacuity"]
    with pytest.raises(ValueError, match="version directory exists"):
        ke.export.export_dense_saved_model(model, tmp_path)
    with pytest.raises(ValueError, match="`outputs` must be distinct names"):
        ke.export.export_dense_saved_model(model, tmp_path, version=2, outputs=("x",))
    assert not os.path.exists(tmp_path / "2")


def test_m_edl_serves_the_unknown_class_as_its_own_map(tmp_path):
    import tensorflow as tf

    inputs = keras.Input((6, 5, 2), name="image")
    alpha = ke.layers.DirichletOutput("softplus")(keras.layers.Conv2D(K, 1)(inputs))
    model = keras.Model(inputs, ke.layers.UnknownClassHead()(alpha))
    # Large inputs give pixels where u wins (a flat Dirichlet) and where it loses.
    images = 4 * np.random.default_rng(1).normal(size=(2, 6, 5, 2)).astype("float32")
    path = ke.export.export_dense_saved_model(model, tmp_path / "medl")
    served = tf.saved_model.load(path).signatures["serving_default"](
        image=tf.constant(images)
    )
    assert sorted(served) == sorted(ke.export.DENSE_OUTPUT_NAMES + ("unknown_probability",))
    alpha_plus = keras.ops.convert_to_numpy(model(images)).astype("float64")
    known = alpha_plus[..., :K]
    expected = reference_maps(known, 1.0)  # the maps of the K known classes
    # m-EDL: alpha_u = K + 1, p_hat over K + 1 classes, argmax K = "unknown".
    np.testing.assert_allclose(alpha_plus[..., K], K + 1)
    expected["probabilities"] = alpha_plus / alpha_plus.sum(-1, keepdims=True)
    expected["class_map"] = alpha_plus.argmax(-1)
    expected["unknown_probability"] = (K + 1) / alpha_plus.sum(-1)
    assert 0 < np.mean(expected["class_map"] == K) < 1
    for name, value in expected.items():
        np.testing.assert_allclose(
            served[name].numpy(), value, rtol=2e-5, atol=1e-6, err_msg=name
        )
