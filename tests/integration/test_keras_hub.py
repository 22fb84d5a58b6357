"""Evidential heads on KerasHub models (optional extra: keras-hub).

Small randomly initialised backbones built from their constructors (the
pretrained presets need a download): a ResNet image classifier whose head is
`DirichletOutput` (with and without `UnknownClassHead`), and a DeepLabV3
segmenter with a per-pixel Dirichlet. They train with `EDLLoss`, round-trip
through `.keras`, and the classifier's SavedModel serves the Dirichlet read
by a float64 NumPy reference written from the formulas.
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke

keras_hub = pytest.importorskip(
    "keras_hub", reason="the KerasHub integration needs: pip install keras-hub"
)

# Building and compiling the backbones takes seconds of CPU each: large lane.
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


def evidential_classifier(unknown_class=False):
    """KerasHub's ImageClassifier with its logits fed to DirichletOutput."""
    keras.utils.set_random_seed(0)
    task = keras_hub.models.ResNetImageClassifier(
        backbone=small_resnet(16), num_classes=K, activation=None
    )
    alpha = ke.layers.DirichletOutput(evidence="softplus")(task.output)
    if unknown_class:
        alpha = ke.layers.UnknownClassHead()(alpha)
    model = keras.Model(task.input, alpha)
    model.compile(keras.optimizers.Adam(1e-3), ke.losses.EDLLoss(kl_weight=0.1))
    return model


def images(n, size=16, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, size, size, 1)).astype("float32")


def assert_round_trips(model, x, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = ke.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    return reloaded


@pytest.mark.parametrize("unknown_class", [False, True])
def test_classifier_trains_saves_and_serves_its_dirichlet(unknown_class, tmp_path):
    model = evidential_classifier(unknown_class)
    x, y = images(8), np.arange(8) % (K + 1 if unknown_class else K)
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    reloaded = assert_round_trips(model, x, tmp_path)
    assert isinstance(reloaded.layers[-1], ke.layers.UnknownClassHead) == unknown_class

    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        return  # exported from the other backends in tests/export/test_via_tensorflow.py
    path = ke.export.export_saved_model(model, tmp_path / "served")
    served = tf.saved_model.load(path).signatures["serving_default"](tf.constant(x))
    alpha = np.asarray(model.predict(x, verbose=0), "float64")
    known = alpha[:, :K]
    np.testing.assert_allclose(served["alpha"].numpy(), alpha, rtol=1e-5)
    np.testing.assert_allclose(
        served["probabilities"].numpy(), alpha / alpha.sum(-1, keepdims=True), rtol=1e-5
    )
    np.testing.assert_allclose(served["uncertainty"].numpy(), K / known.sum(-1), rtol=1e-5)
    if unknown_class:  # m-EDL: alpha_u = K + 1
        np.testing.assert_allclose(alpha[:, K], K + 1.0)


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
    model.compile(keras.optimizers.Adam(1e-3), ke.losses.EDLLoss(kl_weight=0.1))
    x = images(2)
    masks = np.random.default_rng(1).integers(0, K, (2, 16, 16))
    assert np.isfinite(model.train_on_batch(x, masks))
    alpha = np.asarray(assert_round_trips(model, x, tmp_path).predict(x, verbose=0), "float64")
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
        epochs=1, train_size=256, export_dir=str(tmp_path), verbose=0
    )
    assert (tmp_path / "digits" / "1" / "saved_model.pb").exists()
    assert "mean uncertainty (fashion)" in capsys.readouterr().out
    assert 0.0 <= accuracy <= 1.0
    # Vacuity K / S lies in (0, 1].
    assert all(0.0 < value <= 1.0 for value in uncertainty.values())
