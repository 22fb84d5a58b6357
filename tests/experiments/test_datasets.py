"""Loaders against the datasets' published facts."""

import numpy as np
import pytest

from experiments.data import datasets as data


def test_mnist_shapes_labels_and_mean(shared_data):
    x, y = data.load_mnist("train", shared_data)
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    # Published class counts of the MNIST training set.
    np.testing.assert_array_equal(
        np.bincount(y),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    )
    # The normalisation constant every MNIST tutorial uses.
    assert data.to_float_vectors(x).mean() == pytest.approx(0.1307, abs=5e-5)
    x_test, y_test = data.load_mnist("test", shared_data)
    assert x_test.shape == (10000, 28, 28)
    assert np.bincount(y_test)[0] == 980 and np.bincount(y_test)[1] == 1135


def test_fashion_mnist_is_balanced(shared_data):
    x, y = data.load_fashion_mnist("train", shared_data)
    assert x.shape == (60000, 28, 28)
    np.testing.assert_array_equal(np.bincount(y), [6000] * 10)
    x_test, y_test = data.load_fashion_mnist("test", shared_data)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)


def test_emnist_letters_partial_copy(shared_data):
    x, y = data.load_emnist_letters("test", shared_data)
    assert x.shape == (10000, 28, 28)
    # The shared copy: letters a-l, 800 each, then 400 of m; labels 1-26.
    np.testing.assert_array_equal(np.bincount(y), [0] + [800] * 12 + [400])


def _moments(image):
    """Centroid (row, col) and spread (row variance, col variance)."""
    weights = image / image.sum()
    r = np.arange(image.shape[0])
    rows, cols = weights.sum(1), weights.sum(0)
    cy, cx = (rows * r).sum(), (cols * r).sum()
    return cy, cx, (rows * (r - cy) ** 2).sum(), (cols * (r - cx) ** 2).sum()


def test_emnist_letters_are_upright_like_mnist(shared_data):
    x, y = data.load_emnist_letters("test", shared_data)
    mean = {k: x[y == k].astype(float).mean(0) for k in (3, 6, 9, 12)}
    digits, labels = data.load_mnist("test", shared_data)
    one = digits[labels == 1].astype(float).mean(0)
    # The measure itself: MNIST's "1" is a vertical stroke.
    _, _, var_rows, var_cols = _moments(one)
    assert var_rows > 2 * var_cols
    # "i" and "l" (either case) are vertical strokes too, not horizontal.
    for k in (9, 12):
        _, _, var_rows, var_cols = _moments(mean[k])
        assert var_rows > 2 * var_cols
    center = (28 - 1) / 2
    # "F"/"f" carry their bars at the top: the centroid is above the centre.
    assert _moments(mean[6])[0] < center - 0.5
    # "C"/"c" open to the right: the centroid is left of the centre.
    assert _moments(mean[3])[1] < center - 0.5


def test_cifar10_gray_resized(shared_data):
    x, y = data.load_cifar10_gray("train", shared_data)
    assert x.shape == (50000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [5000] * 10)
    raw, _ = data.load_cifar10_gray("test", shared_data, size=None)
    assert raw.shape == (1000, 32, 32)
    small, _ = data.load_cifar10_gray("test", shared_data)
    # An area-preserving downscale keeps each image's mean brightness.
    np.testing.assert_allclose(
        small.mean((1, 2)), raw.mean((1, 2)), atol=1.5
    )


def test_tf_dataset_pipeline(shared_data):
    x, y = data.load_mnist("test", shared_data)
    batches = list(data.as_tf_dataset(x[:130], y[:130], batch_size=64))
    assert [b[0].shape[0] for b in batches] == [64, 64, 2]
    first = batches[0][0].numpy()
    assert first.shape == (64, 784) and first.dtype == np.float32
    np.testing.assert_allclose(first[0], x[0].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(batches[0][1].numpy(), y[:64])


def test_data_dir_resolution(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    assert data.resolve_data_dir() == tmp_path
    assert data.resolve_data_dir(tmp_path / "mnist") == tmp_path / "mnist"
    with pytest.raises(FileNotFoundError, match="data_dir="):
        data.resolve_data_dir(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="No mnist train split"):
        data.load_mnist("train")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="KERAS_EVIDENTIAL_DATA"):
        data.resolve_data_dir()


def test_bad_arguments():
    with pytest.raises(ValueError, match="name='svhn'"):
        data.load("svhn")
    with pytest.raises(ValueError, match="split='validation'"):
        data.load("mnist", "validation")
    with pytest.raises(ValueError, match="source='web'"):
        data.load("mnist", source="web")
