"""The small MNIST / Fashion-MNIST sample that ships inside the package.

It lets the quickstart, the examples and the tests run offline on a fresh
machine. See `sample/README.md` for its contents, licences and citations.
"""

import os

import numpy as np

SAMPLE_PATH = os.path.join(os.path.dirname(__file__), "sample", "mnist_fashion_sample.npz")
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


def build_sample(data_dir, path=SAMPLE_PATH, seed=0):
    """Rebuilds the sample from the original IDX files in `data_dir`.

    Draws, without replacement and with a fixed seed, `SIZES` images from the
    `mnist/` and `fashion_mnist/` folders of `data_dir`.
    """
    from keras_evidential.data.idx import read_idx

    rng = np.random.default_rng(seed)
    arrays = {}
    for dataset, folder in (("mnist", "mnist"), ("fashion", "fashion_mnist")):
        for split, prefix in (("train", "train"), ("test", "t10k")):
            images = read_idx(os.path.join(data_dir, folder, f"{prefix}-images-idx3-ubyte.gz"))
            labels = read_idx(os.path.join(data_dir, folder, f"{prefix}-labels-idx1-ubyte.gz"))
            index = np.sort(rng.choice(len(images), SIZES[f"{dataset}_{split}"], replace=False))
            arrays[f"{dataset}_{split}"] = images[index]
            if dataset == "mnist":
                arrays[f"{dataset}_{split}_labels"] = labels[index].astype(np.int64)
    np.savez_compressed(path, **arrays)
    return path
