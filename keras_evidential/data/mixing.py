"""Mixing an unknown class u into a known-class dataset, as m-EDL does.

The m-EDL paper's recipe: for a rate r, draw `int(r * n_known)` samples of
the unknown dataset, add them to the known set, shuffle, and keep the first
`target_size` (60,000 for training, 10,000 for testing); unknown samples are
labelled K, the index after the known classes. The share of u in the result
is therefore about r / (1 + r): 20 / 33 / 43 % for r = 0.25 / 0.5 / 0.75.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_evidential.tensor_types import ArrayLike


@dataclasses.dataclass(frozen=True)
class Mixture:
    """The composition of a mixed set, as indices into its two sources.

    Attributes:
        index: int64 `(target_size,)`: entry `i < n_known` is known sample
            `i`; entry `n_known + j` is sample `j` of the unknown pool.
        labels: int64 `(target_size,)`: the known labels, and `unknown_label`
            for unknown samples.
        n_known: Size of the known source.
        n_unknown_added: Unknown samples added before subsampling
            (`int(rate * n_known)`).
        resampled: Whether the unknown samples were drawn with replacement
            (the pool was smaller than `n_unknown_added`).
    """

    index: np.ndarray
    labels: np.ndarray
    n_known: int
    n_unknown_added: int
    resampled: bool

    @property
    def is_unknown(self) -> np.ndarray:
        return self.index >= self.n_known

    @property
    def n_unknown(self) -> int:
        """Unknown samples in the mixed set."""
        return int(np.count_nonzero(self.is_unknown))

    @property
    def n_unique_unknown(self) -> int:
        """Distinct unknown images in the mixed set."""
        return int(np.unique(self.index[self.is_unknown]).size)

    @property
    def unique_unknown_share(self) -> float:
        """Distinct unknown images / unknown samples (1.0 without reuse)."""
        n = self.n_unknown
        return self.n_unique_unknown / n if n else 1.0


def mix_indices(
    known_labels: ArrayLike,
    n_unknown_pool: int,
    rate: float,
    target_size: int,
    seed: int | None,
    unknown_label: int | None = None,
) -> Mixture:
    """Draws the composition of a mixed set (the paper's mixing).

    Args:
        known_labels: Integer labels of the known set, shape `(n_known,)`.
        n_unknown_pool: Number of samples available in the unknown pool.
        rate: Float >= 0: `int(rate * n_known)` unknown samples are added.
        target_size: Size of the mixed set, at most
            `n_known + int(rate * n_known)`.
        seed: Seed (int or `np.random.SeedSequence`) of the draw.
        unknown_label: The label of u. Defaults to `max(known_labels) + 1`.

    Returns:
        A `Mixture`. Unknown samples are drawn without replacement when the
        pool is large enough, else with replacement (`resampled=True`).
    """
    known_labels = np.asarray(known_labels, dtype=np.int64)
    n_known = len(known_labels)
    if not rate >= 0:
        raise ValueError(f"`rate` must be >= 0. Received: rate={rate}")
    n_add = int(rate * n_known)
    if n_add and n_unknown_pool < 1:
        raise ValueError(
            f"rate={rate} needs unknown samples but the pool is empty. "
            f"Received: n_unknown_pool={n_unknown_pool}"
        )
    if not 0 < target_size <= n_known + n_add:
        raise ValueError(
            "`target_size` must be in [1, n_known + int(rate * n_known)] = "
            f"[1, {n_known + n_add}]. Received: target_size={target_size}"
        )
    if unknown_label is None:
        unknown_label = int(known_labels.max()) + 1
    rng = np.random.default_rng(seed)
    resampled = n_add > n_unknown_pool
    unknown = rng.choice(n_unknown_pool, size=n_add, replace=resampled)
    pool_index = np.concatenate([np.arange(n_known), n_known + unknown])
    index = pool_index[rng.permutation(n_known + n_add)[:target_size]]
    labels = np.where(
        index < n_known,
        known_labels[np.minimum(index, n_known - 1)],
        unknown_label,
    )
    return Mixture(index, labels, n_known, n_add, bool(resampled))


def mix_unknown_class(
    x_known: ArrayLike,
    y_known: ArrayLike,
    x_unknown: ArrayLike,
    rate: float,
    target_size: int,
    seed: int | None,
    unknown_label: int | None = None,
) -> tuple[np.ndarray, np.ndarray, Mixture]:
    """Mixes unknown samples into a known set (the paper's mixing).

    Args:
        x_known: Known samples, shape `(n_known, ...)`.
        y_known: Their integer labels `(n_known,)`.
        x_unknown: The unknown pool, shape `(n_pool, ...)`.
        rate: `int(rate * n_known)` unknown samples are added.
        target_size: Size of the result.
        seed: Seed of the draw.
        unknown_label: The label of u. Defaults to `max(y_known) + 1`.

    Returns:
        `(x, y, mixture)`: the mixed samples and labels and the `Mixture`
        that describes them.

    Example:

    >>> x_known, y_known = np.zeros((1000, 2)), np.arange(1000) % 10
    >>> x_unknown = np.ones((500, 2))
    >>> x, y, m = keras_evidential.data.mix_unknown_class(
    ...     x_known, y_known, x_unknown, rate=0.25, target_size=1000, seed=0)
    >>> m.n_unknown_added, x.shape  # int(0.25 * 1000) added, then subsampled
    (250, (1000, 2))
    >>> bool(np.all(x[y == 10] == 1)), 150 < m.n_unknown < 250  # about 200
    (True, True)
    """
    mixture = mix_indices(
        y_known, len(x_unknown), rate, target_size, seed, unknown_label
    )
    is_unknown = mixture.is_unknown
    x = np.empty((target_size,) + x_known.shape[1:], dtype=x_known.dtype)
    x[~is_unknown] = x_known[mixture.index[~is_unknown]]
    x[is_unknown] = x_unknown[mixture.index[is_unknown] - mixture.n_known]
    return x, mixture.labels, mixture
