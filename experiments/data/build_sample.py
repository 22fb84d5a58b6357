"""Rebuilds the examples' MNIST / Fashion-MNIST sample from the originals.

`python -m experiments.data.build_sample [--data-dir DIR]` writes
`examples/data/mnist_fashion_sample.npz`.
"""

import argparse
import os
import sys

import numpy as np

from experiments.data.datasets import resolve_data_dir
from experiments.data.idx import read_idx
from experiments.harness import REPO

sys.path.insert(0, str(REPO / "examples"))
from _sample import SAMPLE_PATH  # noqa: E402
from _sample import SIZES  # noqa: E402


def build_sample(data_dir, path=SAMPLE_PATH, seed=0):
    """Rebuilds the sample from the original IDX files in `data_dir`.

    Draws, without replacement and with a fixed seed, `SIZES` images from the
    `mnist/` and `fashion_mnist/` folders of `data_dir`.
    """
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    print(build_sample(resolve_data_dir(args.data_dir)))


if __name__ == "__main__":
    main()
