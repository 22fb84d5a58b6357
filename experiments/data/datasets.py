"""Loaders for the image datasets of the m-EDL experiments.

MNIST is the known classes; Fashion-MNIST, EMNIST Letters and CIFAR-10 (gray,
28 x 28) serve as the unknown class u. The loaders read local IDX files (the
layout of LeCun's MNIST distribution) from a data directory, or, where a user
has them, local `tensorflow-datasets` builds. Nothing is ever downloaded.

Every loader returns `(x, y)` NumPy arrays for one split: `x` uint8 of shape
`(N, 28, 28)` (CIFAR-10 gray without resizing: `(N, 32, 32)`), `y` int64 of
shape `(N,)`. `to_float_vectors` and `as_tf_dataset` turn them into model
inputs.
"""

import os
from pathlib import Path

import numpy as np

from experiments.data.idx import read_idx

DATA_DIR_ENV = "KERAS_EVIDENTIAL_DATA"

# Each split: the image file and the label file, relative to the data
# directory. Where a dataset is known in several layouts (EMNIST: the full
# official files, or the partial copy of the project's shared data), the
# first layout present wins.
_FILES = {
    "mnist": {
        "train": [("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz")],
        "test": [("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")],
    },
    "fashion_mnist": {
        "train": [
            (
                "fashion_mnist/train-images-idx3-ubyte.gz",
                "fashion_mnist/train-labels-idx1-ubyte.gz",
            )
        ],
        "test": [
            (
                "fashion_mnist/t10k-images-idx3-ubyte.gz",
                "fashion_mnist/t10k-labels-idx1-ubyte.gz",
            )
        ],
    },
    "emnist_letters": {
        "train": [
            (
                "emnist_letters/emnist-letters-train-images-idx3-ubyte.gz",
                "emnist_letters/emnist-letters-train-labels-idx1-ubyte.gz",
            )
        ],
        "test": [
            (
                "emnist_letters/emnist-letters-test-images-idx3-ubyte.gz",
                "emnist_letters/emnist-letters-test-labels-idx1-ubyte.gz",
            ),
            (
                "emnist_letters/emnist-letters-test-images-first10000-idx3-ubyte.gz",
                "emnist_letters/emnist-letters-test-labels-first10000-idx1-ubyte.gz",
            ),
        ],
    },
    "cifar10_gray": {
        "train": [
            (
                "cifar10_gray/train-images-gray-idx3-ubyte.gz",
                "cifar10_gray/train-labels-idx1-ubyte.gz",
            )
        ],
        "test": [
            (
                "cifar10_gray/test-images-gray-idx3-ubyte.gz",
                "cifar10_gray/test-labels-idx1-ubyte.gz",
            ),
            (
                "cifar10_gray/test1000-images-gray-idx3-ubyte.gz",
                "cifar10_gray/test1000-labels-idx1-ubyte.gz",
            ),
        ],
    },
}

DATASETS = tuple(_FILES)
SPLITS = ("train", "test")

# tensorflow-datasets names of the same data.
_TFDS_NAMES = {
    "mnist": "mnist",
    "fashion_mnist": "fashion_mnist",
    "emnist_letters": "emnist/letters",
    "cifar10_gray": "cifar10",
}


def resolve_data_dir(path=None):
    """Resolves the directory that holds the datasets.

    Looked up in order: the `path` argument, the `KERAS_EVIDENTIAL_DATA`
    environment variable, then `../shared/data` next to a source checkout of
    this repository (the project's developer layout).

    Args:
        path: Optional directory.

    Returns:
        A `pathlib.Path` to an existing directory.

    Raises:
        FileNotFoundError: If no directory is found, with how to point at one.
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_dir():
            raise FileNotFoundError(
                f"The data directory does not exist. Received: data_dir={path!r}"
            )
        return candidate
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        candidate = Path(env).expanduser()
        if not candidate.is_dir():
            raise FileNotFoundError(
                f"${DATA_DIR_ENV} names a directory that does not exist. "
                f"Received: {DATA_DIR_ENV}={env!r}"
            )
        return candidate
    repository = Path(__file__).resolve().parents[2]
    candidate = repository.parent / "shared" / "data"
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(
        "No data directory found. Pass `data_dir=...` (`--data-dir` on the "
        f"command line) or set the environment variable {DATA_DIR_ENV} to a "
        "directory laid out like `mnist/train-images-idx3-ubyte.gz`, "
        "`fashion_mnist/...`, `emnist_letters/...`, `cifar10_gray/...` "
        f"(looked for {candidate})."
    )


def available(name, split, data_dir=None):
    """Whether the IDX files of `name`/`split` are present in the data dir."""
    _check(name, split)
    try:
        root = resolve_data_dir(data_dir)
    except FileNotFoundError:
        return False
    return _find_files(root, name, split) is not None


def load(name, split="train", data_dir=None, source="idx", tfds_dir=None):
    """Loads one split of one dataset as NumPy arrays.

    Args:
        name: `"mnist"`, `"fashion_mnist"`, `"emnist_letters"` or
            `"cifar10_gray"`.
        split: `"train"` or `"test"`.
        data_dir: Directory of the IDX files (see `resolve_data_dir` for
            the fallbacks).
        source: `"idx"` (default) reads the IDX files; `"tfds"` reads a
            local `tensorflow-datasets` build (never downloads).
        tfds_dir: With `source="tfds"`, the tensorflow-datasets data
            directory (default: its own default).

    Returns:
        `(x, y)`: uint8 images `(N, H, W)`, upright like MNIST (EMNIST is
        transposed from the raw NIST orientation; CIFAR-10 is turned gray
        with ITU-R BT.601 luma when it comes from tfds), and int64 labels
        `(N,)` (EMNIST Letters: 1-26, 1 = a).
    """
    _check(name, split)
    if source == "tfds":
        return _load_tfds(name, split, tfds_dir)
    if source != "idx":
        raise ValueError(
            f"`source` must be 'idx' or 'tfds'. Received: source={source!r}"
        )
    root = resolve_data_dir(data_dir)
    files = _find_files(root, name, split)
    if files is None:
        expected = ", ".join(images for images, _ in _FILES[name][split])
        raise FileNotFoundError(
            f"No {name} {split} split in {root} (expected {expected}). "
            f"Received: name={name!r}, split={split!r}"
        )
    x = read_idx(root / files[0])
    y = read_idx(root / files[1]).astype(np.int64)
    if name == "emnist_letters":
        # EMNIST keeps NIST's column-major pixel order.
        x = np.ascontiguousarray(np.swapaxes(x, 1, 2))
    return x, y


def load_mnist(split="train", data_dir=None, **kwargs):
    """MNIST digits: 60,000 train / 10,000 test, labels 0-9."""
    return load("mnist", split, data_dir, **kwargs)


def load_fashion_mnist(split="train", data_dir=None, **kwargs):
    """Fashion-MNIST: 60,000 train / 10,000 test, labels 0-9."""
    return load("fashion_mnist", split, data_dir, **kwargs)


def load_emnist_letters(split="test", data_dir=None, **kwargs):
    """EMNIST Letters, transposed upright; labels 1-26.

    The project's shared data holds only the first 10,000 official test
    images; `split="train"` needs the full official files.
    """
    return load("emnist_letters", split, data_dir, **kwargs)


def load_cifar10_gray(split="train", data_dir=None, size=28, **kwargs):
    """CIFAR-10 in gray, resized from 32 x 32 to `size` x `size`.

    Args:
        split: `"train"` or `"test"`.
        data_dir: Directory of the IDX files.
        size: Output side length; `28` (default) matches MNIST, `None` or
            `32` keeps the original resolution.
        **kwargs: Passed to `load` (`source`, `tfds_dir`).
    """
    x, y = load("cifar10_gray", split, data_dir, **kwargs)
    if size is not None and size != x.shape[1]:
        x = resize(x, size)
    return x, y


def resize(images, size):
    """Resizes uint8 images `(N, H, W)` to `(N, size, size)`.

    Bilinear with antialiasing (a 32 -> 28 downscale), rounded back to
    uint8.
    """
    import tensorflow as tf

    out = tf.image.resize(
        images[..., None].astype(np.float32), (size, size), antialias=True
    )
    return np.clip(np.round(out.numpy()[..., 0]), 0, 255).astype(np.uint8)


def to_float_vectors(images):
    """Flattens uint8 images to float32 vectors in [0, 1] (the papers' input)."""
    images = np.asarray(images)
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32)


def as_tf_dataset(x, y, batch_size=64, shuffle=False, seed=None):
    """A `tf.data` pipeline of `(float vectors in [0, 1], labels)` batches.

    Args:
        x: uint8 images `(N, H, W)` or float vectors `(N, D)`.
        y: Labels `(N,)`.
        batch_size: Batch size.
        shuffle: Whether to reshuffle every epoch.
        seed: Shuffle seed.
    """
    import tensorflow as tf

    if x.dtype == np.uint8:
        x = to_float_vectors(x)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(
            len(x), seed=seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _check(name, split):
    if name not in _FILES:
        raise ValueError(
            f"Unknown dataset. Expected one of {list(DATASETS)}. "
            f"Received: name={name!r}"
        )
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be 'train' or 'test'. Received: split={split!r}"
        )


def _find_files(root, name, split):
    for images, labels in _FILES[name][split]:
        if (root / images).is_file() and (root / labels).is_file():
            return images, labels
    return None


def _load_tfds(name, split, tfds_dir):
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError(
            "source='tfds' needs the optional package tensorflow-datasets "
            "(`pip install tensorflow-datasets importlib_resources`) with the "
            "dataset already prepared locally."
        ) from error
    builder = tfds.builder(_TFDS_NAMES[name], data_dir=tfds_dir)
    if not builder.is_prepared():
        raise FileNotFoundError(
            f"tensorflow-datasets has no local copy of {_TFDS_NAMES[name]!r} "
            f"in {builder.data_dir}; this loader never downloads. Prepare it "
            "elsewhere, or use source='idx'."
        )
    data = tfds.as_numpy(
        builder.as_dataset(split=split, batch_size=-1, as_supervised=True)
    )
    x, y = data
    x = np.asarray(x)
    if name == "cifar10_gray":
        # ITU-R BT.601 luma, as the IDX copies were made.
        x = np.round(x.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))
        x = x.astype(np.uint8)
    else:
        x = x[..., 0]
    # tfds's EMNIST is stored in the same raw NIST orientation.
    if name == "emnist_letters":
        x = np.ascontiguousarray(np.swapaxes(x, 1, 2))
    return x, np.asarray(y).astype(np.int64)


def split_pool(n, first_size, seed):
    """Splits `range(n)` at random into two disjoint index sets.

    Used where one dataset must feed both the training and the test side
    (EMNIST Letters here): the two sides draw from disjoint pools.

    Returns:
        `(first, second)`: sorted int64 index arrays of sizes `first_size`
        and `n - first_size`.
    """
    if not 0 <= first_size <= n:
        raise ValueError(
            f"`first_size` must be in [0, {n}]. Received: first_size={first_size}"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:first_size]), np.sort(order[first_size:])
