"""Evidential heads on KerasHub models (optional extra: keras-hub).

Small randomly initialised backbones built from their constructors (the
pretrained presets need a download): a ResNet image classifier whose head is
`DirichletOutput` followed by `UnknownClassHead` (m-EDL), and a DeepLabV3
segmenter with a per-pixel Dirichlet. They take a training step with
`EDLLoss`, round-trip through `.keras`, and the classifier's SavedModel
serves the Dirichlet read by a float64 NumPy reference written from the
formulas. The example (tests below) fine-tunes and serves the plain
`DirichletOutput` head. The steps run eagerly: tracing a ResNet's training
step costs more CPU than the step (the example's `fit` runs it compiled).
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke

keras_hub = pytest.importorskip(
    "keras_hub", reason="the KerasHub integration needs: pip install keras-hub"
)

# Building the backbones takes seconds of CPU each: large lane.
pytestmark = pytest.mark.large
K = 3


def small_resnet(image_size):
    """A two-stage ResNet (the first stage must have 64 filters)."""
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(image_size, image_size, 1),
    )


def images(n, size=16, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, size, size, 1)).astype("float32")


def train_step_and_round_trip(model, x, y, tmp_path):
    """One eager EDLLoss step, then `.keras` save and load; returns the
    reloaded model's output as float64 after checking it is the model's."""
    model.compile(
        keras.optimizers.Adam(1e-3), ke.losses.EDLLoss(kl_weight=0.1), run_eagerly=True
    )
    before = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.isfinite(model.train_on_batch(x, y))
    output = keras.ops.convert_to_numpy(model(x, training=False))
    assert not np.allclose(output, before)  # the step changed the weights
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.ops.convert_to_numpy(ke.saving.load_model(path)(x, training=False))
    np.testing.assert_allclose(reloaded, output, rtol=1e-6)
    return np.asarray(output, "float64")


def test_classifier_trains_saves_and_serves_its_dirichlet(tmp_path):
    keras.utils.set_random_seed(0)
    task = keras_hub.models.ResNetImageClassifier(
        backbone=small_resnet(16), num_classes=K, activation=None
    )
    alpha = ke.layers.DirichletOutput(evidence="softplus")(task.output)
    model = keras.Model(task.input, ke.layers.UnknownClassHead()(alpha))
    x, y = images(8), np.arange(8) % (K + 1)  # label K: the unknown class
    alpha = train_step_and_round_trip(model, x, y, tmp_path)
    np.testing.assert_allclose(alpha[:, K], K + 1.0)  # m-EDL: alpha_u = K + 1
    assert np.all(alpha[:, :K] > 1.0)  # softplus evidence is > 0

    if keras.backend.backend() != "tensorflow":
        return  # exported from the other backends in tests/export/test_via_tensorflow.py
    import tensorflow as tf

    path = ke.export.export_saved_model(model, tmp_path / "served")
    served = tf.saved_model.load(path).signatures["serving_default"](tf.constant(x))
    np.testing.assert_allclose(served["alpha"].numpy(), alpha, rtol=1e-5)
    probabilities = alpha / alpha.sum(-1, keepdims=True)
    np.testing.assert_allclose(served["probabilities"].numpy(), probabilities, rtol=1e-5)
    np.testing.assert_allclose(
        served["uncertainty"].numpy(), K / alpha[:, :K].sum(-1), rtol=1e-5
    )
    np.testing.assert_array_equal(served["class_index"].numpy(), probabilities.argmax(-1))


def test_segmenter_with_a_per_pixel_dirichlet(tmp_path):
    keras.utils.set_random_seed(0)
    # 16 x 16 inputs: P2 is 4 x 4, P3 2 x 2, upsampled by 2 to meet P2.
    backbone = keras_hub.models.DeepLabV3Backbone(
        image_encoder=small_resnet(16),
        spatial_pyramid_pooling_key="P3",
        low_level_feature_key="P2",
        upsampling_size=2,
        dilation_rates=[1, 2],
        projection_filters=8,
        image_shape=(16, 16, 1),
    )
    task = keras_hub.models.DeepLabV3ImageSegmenter(
        backbone=backbone, num_classes=K, activation=None
    )
    model = keras.Model(task.input, ke.layers.DirichletOutput()(task.output))
    x = images(2)
    masks = np.random.default_rng(1).integers(0, K, (2, 16, 16))
    alpha = train_step_and_round_trip(model, x, masks, tmp_path)
    assert alpha.shape == (2, 16, 16, K) and np.all(alpha >= 1.0)
    # The per-pixel loss is the mean over pixels of EDL's per-sample loss:
    # the loss of one image equals the mean of its pixels' losses taken one
    # at a time as a batch of samples.
    loss = ke.losses.EDLLoss(kl_weight=0.1)
    per_image = float(loss(masks[:1], alpha[:1]))
    per_pixel = float(loss(masks[:1].reshape(-1), alpha[:1].reshape(-1, K)))
    np.testing.assert_allclose(per_image, per_pixel, rtol=1e-5)


def test_example_fine_tunes_and_serves(monkeypatch, tmp_path, capsys):
    from tests.integration.test_examples import load_example

    example = load_example("keras_hub_classifier", monkeypatch)
    accuracy, uncertainty = example.main(
        epochs=1, train_size=64, export_dir=str(tmp_path), verbose=0
    )
    assert (tmp_path / "digits" / "1" / "saved_model.pb").exists()
    assert "mean uncertainty (fashion)" in capsys.readouterr().out
    assert 0.0 <= accuracy <= 1.0
    # Vacuity K / S lies in (0, 1].
    assert all(0.0 < value <= 1.0 for value in uncertainty.values())
