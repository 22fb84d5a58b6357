"""Flattened, scaled arrays from the sample shipped with keras_evidential."""


from keras_evidential.data.sample import load_sample


def flat(images):
    return images.reshape(len(images), -1).astype("float32") / 255.0


def digits_and_fashion():
    """Train/test digits (labels 0-9) and Fashion-MNIST images (unlabelled)."""
    s = load_sample()
    return (
        (flat(s["mnist_train"]), s["mnist_train_labels"]),
        (flat(s["mnist_test"]), s["mnist_test_labels"]),
        flat(s["fashion_train"]),
        flat(s["fashion_test"]),
    )
