"""Sentence-pair relevance data (Twitter URL paraphrases, WikiQA) from local TSVs.

The files are the offline copies in `shared/data/textpairs/` (see that
folder's README): gzip-compressed, tab-separated, one header line, tokenised
and lower-cased text, and a binary label (1 = paraphrase / relevant answer).
Nothing is downloaded.
"""

import csv
import gzip
import os
from pathlib import Path

import numpy as np

# task -> (splits, the header, the columns holding sentence A, sentence B, label)
TASKS = {
    "twitter_url": {
        "splits": ("train", "test"),
        "header": ("sentence_a", "sentence_b", "label"),
        "columns": ("sentence_a", "sentence_b", "label"),
    },
    "wikiqa": {
        "splits": ("train", "dev", "test"),
        "header": ("qid", "question", "sentence", "label"),
        "columns": ("question", "sentence", "label"),
    },
}


class TextPairs:
    """Two aligned arrays of raw sentences and their binary labels.

    Attributes:
        a: NumPy array of Python strings, shape `(n,)`.
        b: NumPy array of Python strings, shape `(n,)`.
        labels: NumPy int32 array, shape `(n,)`, values in {0, 1}.
    """

    def __init__(self, a, b, labels):
        if not len(a) == len(b) == len(labels):
            raise ValueError(
                "`a`, `b` and `labels` must have the same length. Received: "
                f"len(a)={len(a)}, len(b)={len(b)}, len(labels)={len(labels)}"
            )
        self.a = np.asarray(a, dtype=object)
        self.b = np.asarray(b, dtype=object)
        self.labels = np.asarray(labels, dtype="int32")

    def __len__(self):
        return len(self.labels)

    def take(self, indices):
        """The pairs at `indices`, as a new `TextPairs`."""
        return TextPairs(self.a[indices], self.b[indices], self.labels[indices])

    def subsample(self, size, seed=0):
        """`size` pairs drawn without replacement (all of them if `size` is None).

        The draw is a prefix of one seeded permutation, so with the same seed
        a smaller subsample is contained in a larger one.
        """
        if size is None or size >= len(self):
            return self
        if size < 1:
            raise ValueError(f"`size` must be >= 1. Received: size={size}")
        order = np.random.default_rng(seed).permutation(len(self))
        return self.take(np.sort(order[:size]))


def default_data_dir():
    """`$KERAS_EVIDENTIAL_TEXTPAIRS`, else `textpairs/` of the offline datasets."""
    env = os.environ.get("KERAS_EVIDENTIAL_TEXTPAIRS")
    if env:
        return Path(env)
    from experiments.data.datasets import resolve_data_dir

    return resolve_data_dir() / "textpairs"


def load_text_pairs(task, split, data_dir=None):
    """Reads one split of a sentence-pair task.

    Args:
        task: `"twitter_url"` or `"wikiqa"`.
        split: `"train"` or `"test"` (WikiQA also has `"dev"`).
        data_dir: Folder holding one sub-folder per task. Defaults to
            `default_data_dir()`.

    Returns:
        A `TextPairs`.
    """
    if task not in TASKS:
        raise ValueError(
            f"`task` must be one of {sorted(TASKS)}. Received: task={task!r}"
        )
    spec = TASKS[task]
    if split not in spec["splits"]:
        raise ValueError(
            f"`split` must be one of {spec['splits']} for task {task!r}. "
            f"Received: split={split!r}"
        )
    path = Path(data_dir or default_data_dir()) / task / f"{split}.tsv.gz"
    if not path.exists():
        raise FileNotFoundError(f"No data file at {path}")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        # The text is tokenised: a `"` is a token, not a quote character.
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = tuple(next(reader))
        if header != spec["header"]:
            raise ValueError(
                f"Unexpected header in {path}: expected {spec['header']}. "
                f"Received: {header}"
            )
        index = [header.index(name) for name in spec["columns"]]
        rows = [[row[i] for i in index] for row in reader]
    labels = np.array([int(row[2]) for row in rows], dtype="int32")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"Labels in {path} must be 0 or 1.")
    return TextPairs([row[0] for row in rows], [row[1] for row in rows], labels)


def as_dataset(pairs, batch_size=256, shuffle=False, seed=0):
    """A `tf.data.Dataset` of `((sentence_a, sentence_b), label)` raw strings.

    Args:
        pairs: A `TextPairs`.
        batch_size: Integer, the batch size.
        shuffle: Whether to reshuffle the pairs every epoch.
        seed: The shuffle seed.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(
        ((pairs.a.astype(str), pairs.b.astype(str)), pairs.labels)
    )
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
