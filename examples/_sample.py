"""The small MNIST / Fashion-MNIST sample shipped beside the examples.

It lets the quickstart and the examples run offline on a fresh clone. See
`data/README.md` for its contents, licences and citations;
`python -m experiments.data.build_sample` rebuilds it from the originals.
"""

import os

import numpy as np

SAMPLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist_fashion_sample.npz")
SIZES = {"mnist_train": 3000, "mnist_test": 1000, "fashion_train": 1000, "fashion_test": 1000}


def load_sample():
    """Loads the shipped sample.

    Returns:
        A dict of uint8 arrays `(N, 28, 28)`: `"mnist_train"` (3,000 digits
        from MNIST's training split), `"mnist_test"` (1,000 from its test
        split), `"fashion_train"` and `"fashion_test"` (1,000 Fashion-MNIST
        images each, from the matching splits), and int64 labels
        `"mnist_train_labels"`, `"mnist_test_labels"` (0-9).
    """
    with np.load(SAMPLE_PATH) as data:
        return {key: data[key] for key in data.files}


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
