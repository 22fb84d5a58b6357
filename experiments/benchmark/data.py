"""The benchmark's data: MNIST (in-distribution) and the OOD test sets, offline.

MNIST training set split 80/20 into train/validation per seed
(`seed_split`: seed s permutes the 60,000 images with `default_rng(s)`), and
each seed visits its training set in its own order per epoch
(`epoch_order`); MNIST test set for testing. OOD test
sets: Fashion-MNIST test (10,000; the published column), EMNIST letters
(the 5,000 images of the local pool's second half) and CIFAR-10 grayscale
(the first 10,000 training images, resized to 28 x 28). KMNIST, the other
published OOD set, is not available offline. The outlier-exposure rows
(m-EDL, Prior Networks) train on the first half of the EMNIST pool, disjoint
from its test half.
"""

import gzip
import struct

import numpy as np

from experiments.harness import data_dir

EMNIST_TRAIN_POOL = 5000


def read_idx(path):
    """A gzip IDX file (MNIST format) as a NumPy array."""
    with gzip.open(path, "rb") as f:
        _, _, ndim = struct.unpack(">HBB", f.read(4))
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def _images(array):
    return (array.astype("float32") / 255.0)[..., None]


def _resize(images, size=28):
    """Area-weighted bilinear resize of (N, H, W) uint8 images to (N, size, size)."""
    if images.shape[1:] == (size, size):
        return images  # e.g. a copy resized once, for a machine without TensorFlow
    import tensorflow as tf

    resized = tf.image.resize(images[..., None].astype("float32"), (size, size), antialias=True)
    return np.clip(np.round(resized.numpy()[..., 0]), 0, 255).astype(np.uint8)


def seed_split(num_samples, seed, train_size=None):
    """`(train indices, validation indices)` of one seed: the first 80 % of
    the permutation `default_rng(seed)` train, the rest validate.

    `train_size` keeps the first `train_size` training indices and a
    validation set shrunk in proportion (at least 1,000), for smoke runs.
    """
    order = np.random.default_rng(seed).permutation(num_samples)
    split = int(0.8 * num_samples)
    train, val = order[:split], order[split:]
    if train_size is not None:
        val = val[: max(1000, int(train_size / len(train) * len(val)))]
        train = train[:train_size]
    return train, val


def epoch_order(num_samples, seed, epoch):
    """The order in which seed `seed` visits its training set in epoch
    `epoch` (0-based): a function of the two alone, so a seed trains on the
    same batches alone or packed beside other seeds."""
    return np.random.default_rng([seed, epoch]).permutation(num_samples)


def load(path=None, train_size=None, seeds=(0,)):
    """All arrays of the benchmark, as float32 images in [0, 1] of shape (N, 28, 28, 1).

    Args:
        path: The offline data folder (`experiments.harness.data_dir`).
        train_size: Optional number of training samples to keep (smoke runs);
            validation and test sets shrink in proportion (at least 1,000).
        seeds: The seeds whose splits to make: `x_train`, `y_train`,
            `x_val`, `y_val` are dicts seed -> array.
    """
    root = data_dir(path)
    x = read_idx(root / "mnist/train-images-idx3-ubyte.gz")
    y = read_idx(root / "mnist/train-labels-idx1-ubyte.gz").astype("int32")
    splits = {seed: seed_split(len(x), seed, train_size) for seed in seeds}
    x_test = read_idx(root / "mnist/t10k-images-idx3-ubyte.gz")
    y_test = read_idx(root / "mnist/t10k-labels-idx1-ubyte.gz").astype("int32")
    fmnist = read_idx(root / "fashion_mnist/t10k-images-idx3-ubyte.gz")
    emnist = read_idx(root / "emnist_letters/emnist-letters-test-images-first10000-idx3-ubyte.gz")
    emnist = np.swapaxes(emnist, 1, 2)  # the raw NIST orientation, made upright
    cifar = _resize(read_idx(root / "cifar10_gray/train-images-gray-idx3-ubyte.gz")[:10000])
    ood = {
        "fmnist": fmnist,
        "emnist": emnist[EMNIST_TRAIN_POOL:],
        "cifar_gray": cifar,
    }
    outliers = emnist[:EMNIST_TRAIN_POOL]
    if train_size is not None:
        share = train_size / int(0.8 * len(x))
        keep = max(1000, int(share * 10000))
        x_test, y_test = x_test[:keep], y_test[:keep]
        ood = {name: images[:keep] for name, images in ood.items()}
        outliers = outliers[: max(500, int(share * len(outliers)))]
    return {
        "x_train": {seed: _images(x[train]) for seed, (train, _) in splits.items()},
        "y_train": {seed: y[train] for seed, (train, _) in splits.items()},
        "x_val": {seed: _images(x[val]) for seed, (_, val) in splits.items()},
        "y_val": {seed: y[val] for seed, (_, val) in splits.items()},
        "x_test": _images(x_test),
        "y_test": y_test,
        "ood": {name: _images(images) for name, images in ood.items()},
        "outliers": _images(outliers),
    }
