"""Dataset similarity of the m-EDL paper: mean SSIM and a 2-D MDS map.

The paper draws random image pairs from two datasets, averages their
structural similarity (SSIM), takes 1 / SSIM as the distance between the
datasets and places them on a plane by multidimensional scaling (its
Table 5 and Fig. 7).
"""

import numpy as np

from experiments.data import datasets as data

DATASETS = ("mnist", "emnist", "fashion", "cifar")
LABELS = {"mnist": "MNIST", "emnist": "EMNIST", "fashion": "Fashion-MNIST", "cifar": "CIFAR-10 gray"}


def load_images(data_dir=None):
    """28 x 28 uint8 images of the four datasets (training splits where present)."""
    return {
        "mnist": data.load_mnist("train", data_dir)[0],
        "emnist": data.load_emnist_letters("test", data_dir)[0],
        "fashion": data.load_fashion_mnist("train", data_dir)[0],
        "cifar": data.load_cifar10_gray("train", data_dir)[0],
    }


def mean_ssim(a, b, pairs, seed, batch_size=4096):
    """Mean and std of SSIM over `pairs` random pairs (one image of each set).

    `tf.image.ssim` with its defaults (11 x 11 Gaussian window, sigma 1.5)
    and `max_val=255`. Within one dataset, the two images of a pair differ.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(a), pairs)
    j = rng.integers(0, len(b), pairs)
    if a is b:
        same = i == j
        j[same] = (j[same] + 1) % len(b)
    values = []
    for start in range(0, pairs, batch_size):
        x = tf.constant(a[i[start : start + batch_size], :, :, None])
        y = tf.constant(b[j[start : start + batch_size], :, :, None])
        values.append(tf.image.ssim(x, y, max_val=255).numpy())
    values = np.concatenate(values)
    return float(values.mean()), float(values.std())


def ssim_matrix(images, pairs=20000, seed=0):
    """`(means, stds)`, 4 x 4 arrays over `DATASETS`."""
    n = len(DATASETS)
    means, stds = np.zeros((n, n)), np.zeros((n, n))
    for p, first in enumerate(DATASETS):
        for q in range(p, n):
            second = DATASETS[q]
            mean, std = mean_ssim(images[first], images[second], pairs, seed + 31 * p + q)
            means[p, q] = means[q, p] = mean
            stds[p, q] = stds[q, p] = std
    return means, stds


def classical_mds(distances, dims=2):
    """Torgerson's classical MDS of a symmetric distance matrix (scikit-learn)."""
    from sklearn.manifold import ClassicalMDS

    return ClassicalMDS(n_components=dims, metric="precomputed").fit_transform(
        np.asarray(distances, dtype=float)
    )


def distance_matrix(means):
    """1 / SSIM between different datasets, 0 on the diagonal."""
    with np.errstate(divide="ignore"):
        distances = 1.0 / means
    np.fill_diagonal(distances, 0.0)
    return distances


def write(out_dir, pairs=20000, seed=0, data_dir=None):
    """Writes `ssim.md` and `figures/mds.png`; returns the SSIM means."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    means, stds = ssim_matrix(load_images(data_dir), pairs, seed)
    distances = distance_matrix(means)
    coords = classical_mds(distances)
    lines = [
        f"# Dataset similarity: mean SSIM over {pairs:,} random pairs (± std)\n\n",
        "| | " + " | ".join(LABELS[d] for d in DATASETS) + " |\n",
        "|---" * (len(DATASETS) + 1) + "|\n",
    ]
    for p, first in enumerate(DATASETS):
        cells = [f"{means[p, q]:.4f} ± {stds[p, q]:.4f}" for q in range(len(DATASETS))]
        lines.append(f"| {LABELS[first]} | " + " | ".join(cells) + " |\n")
    lines.append("\nDistance 1 / SSIM to MNIST (the known classes): ")
    lines.append(
        ", ".join(f"{LABELS[d]} {distances[0, q]:.2f}" for q, d in enumerate(DATASETS) if q)
        + "\n"
    )
    lines.append("\nClassical MDS of the 1 / SSIM distances (2-D coordinates):\n\n")
    for d, (x, y) in zip(DATASETS, coords):
        lines.append(f"- {LABELS[d]}: ({x:.3f}, {y:.3f})\n")
    (out_dir / "ssim.md").write_text("".join(lines))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(coords[:, 0], coords[:, 1], s=60)
    for d, (x, y) in zip(DATASETS, coords):
        ax.annotate(LABELS[d], (x, y), textcoords="offset points", xytext=(5, 5))
    ax.set_title("MDS of 1 / mean SSIM between datasets")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "figures" / "mds.png", dpi=110)
    plt.close(fig)
    return means
