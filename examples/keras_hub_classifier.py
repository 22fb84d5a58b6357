"""Fine-tune a KerasHub image classifier with an evidential head, then serve it.

`python examples/keras_hub_classifier.py` (needs `pip install keras-hub`)
builds KerasHub's `ResNetImageClassifier` on a small randomly initialised
`ResNetBackbone` (offline: a pretrained preset needs a download, see
docs/keras_hub.md), replaces its softmax by `DirichletOutput`, trains it with
`EDLLoss` on digits 0-4 of the shipped MNIST sample, and exports a TF Serving
SavedModel whose signature answers with the class, the probabilities and the
uncertainty. It prints the mean uncertainty on held-out known digits, unseen
digits 5-9 and Fashion-MNIST images.
"""

import argparse
import os
import tempfile

import keras
import keras_hub
import numpy as np
import tensorflow as tf

import keras_evidential as ke
from _sample import load_sample

KNOWN = 5


def images(raw):
    """uint8 (N, 28, 28) -> float32 (N, 32, 32, 1) in [0, 1] (ResNet's strides
    need a size divisible by 8)."""
    x = np.pad(raw, ((0, 0), (2, 2), (2, 2))).astype("float32") / 255.0
    return x[..., None]


def build_model():
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 32],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(32, 32, 1),
    )
    # With a download: keras_hub.models.ImageClassifier.from_preset(
    #     "resnet_18_imagenet", num_classes=KNOWN, activation=None)
    task = keras_hub.models.ResNetImageClassifier(
        backbone=backbone, num_classes=KNOWN, activation=None
    )
    alpha = ke.layers.DirichletOutput(evidence="softplus")(task.output)
    model = keras.Model(task.input, alpha)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=ke.losses.EDLLoss(kl_weight=0.1),
        metrics=["accuracy"],
    )
    return model


def main(epochs=2, train_size=1000, export_dir=None, verbose=2):
    keras.utils.set_random_seed(0)
    sample = load_sample()
    known = sample["mnist_train_labels"] < KNOWN
    x = images(sample["mnist_train"][known][:train_size])
    y = sample["mnist_train_labels"][known][:train_size]
    test_known = sample["mnist_test_labels"] < KNOWN
    x_known = images(sample["mnist_test"][test_known][:300])
    y_known = sample["mnist_test_labels"][test_known][:300]
    x_unseen = images(sample["mnist_test"][~test_known][:300])
    x_fashion = images(sample["fashion_test"][:300])

    model = build_model()
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose)

    export_dir = export_dir or tempfile.mkdtemp(prefix="keras_hub_edl_")
    path = ke.export.export_saved_model(
        model,
        os.path.join(export_dir, "digits"),
        class_names=["zero", "one", "two", "three", "four"],
    )
    print(f"SavedModel for TF Serving written to {path}")

    serve = tf.saved_model.load(path).signatures["serving_default"]
    served = {
        name: serve(tf.constant(batch))
        for name, batch in [("known", x_known), ("unseen", x_unseen), ("fashion", x_fashion)]
    }
    accuracy = float(np.mean(served["known"]["class_index"].numpy() == y_known))
    uncertainty = {name: float(np.mean(out["uncertainty"])) for name, out in served.items()}
    print(f"served accuracy on held-out digits 0-4: {accuracy:.3f}")
    for name, value in uncertainty.items():
        print(f"mean uncertainty ({name}): {value:.3f}")
    return accuracy, uncertainty


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--export-dir")
    args = parser.parse_args()
    main(args.epochs, export_dir=args.export_dir)
