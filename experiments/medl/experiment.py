"""The m-EDL paper's grid: data, trials, training in tower groups, the CSV.

A *training* is (head, train_u, train_rate, seed): EDL is always trained on
MNIST alone (it cannot learn u, as in the reference code); m-EDL on MNIST
mixed with `train_u` at `train_rate`. Every training is then tested on all
seven test sets of its seed: MNIST alone, and MNIST mixed with Fashion-MNIST
or EMNIST at 25 / 50 / 75 %. Each (training, test set) pair is one row of
`trials.csv`; the studies (Q1-Q4, Table 6) are views of these rows.
"""

import dataclasses
import hashlib
import time
from pathlib import Path

import numpy as np

from experiments.data import datasets as data
from keras_evidential.data.mixing import mix_indices
from experiments.data.datasets import split_pool
from experiments.harness import ResultsCSV
from experiments.medl import scoring
from experiments.medl import towers as towers_lib

RATES = (0.25, 0.5, 0.75)
TEST_SETS = (("none", 0.0),) + tuple(
    (u, r) for u in ("fashion", "emnist") for r in RATES
)

def _mixed(u):
    return tuple(("medl", u, r) for r in RATES)


# The trainings each study needs (head, train_u, train_rate).
STUDIES = {
    "q1": (("edl", "none", 0.0), ("medl", "none", 0.0)),
    "q2": (("edl", "none", 0.0),) + _mixed("emnist") + _mixed("fashion"),
    "q3": (("edl", "none", 0.0), ("medl", "none", 0.0)),
    "q4": (("edl", "none", 0.0),) + _mixed("emnist") + _mixed("fashion"),
    "table6": _mixed("emnist") + _mixed("fashion") + _mixed("cifar"),
    "beyond": tuple(
        ("medl-learned", u, r) for u in ("emnist", "fashion", "cifar") for r in RATES
    ),
}
# Every training of Q1-Q4 and Table 6 (EDL is always trained on MNIST alone).
STUDIES["paper"] = (("edl", "none", 0.0), ("medl", "none", 0.0)) + STUDIES["table6"]
# Seed-major inside a study: a run cut short has every condition with about
# the same number of seeds.
STUDY_ORDER = ("paper", "beyond")

KEY = ("model", "train_u", "train_rate", "seed")
COLUMNS = (
    KEY
    + (
        "test_u",
        "test_rate",
        "n_train",
        "n_train_unknown",
        "train_unknown_unique_share",
        "n_test",
        "n_test_unknown",
        "epochs",
        "best_val_loss",
        "final_val_loss",
        "group_seconds",
        "acc_k",
        "acc_u",
    )
    + scoring.CURVE_COLUMNS
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a run does besides the protocol."""

    train_size: int = 60000
    test_size: int = 10000
    emnist_train_pool: int = 2500
    pool_seed: int = 2023
    towers: int = 10
    jit_compile: bool = True
    data_dir: str = None


def _stream(seed, *parts):
    """An independent seed for one purpose of one trial.

    Trials are reproducible whatever else runs beside them: the mixing,
    initialisation and shuffling seeds depend only on the trial's own seed
    and on what is drawn.
    """
    words = [int(seed)]
    for part in parts:
        digest = hashlib.sha256(str(part).encode()).digest()
        words.append(int.from_bytes(digest[:4], "little"))
    return np.random.SeedSequence(words)


class Bank:
    """All images of the needed datasets in one uint8 array, and their pools.

    `pools[(name, side)]` are bank indices: ("mnist", "train"), ("mnist",
    "test"), and the unknown pools per side. EMNIST Letters, the only
    dataset here without a training split, is split once into disjoint
    train and test pools.
    """

    def __init__(self, unknown_train, unknown_test, settings):
        images, self.pools, self.mnist_labels, offset = [], {}, {}, 0

        def add(x, key):
            nonlocal offset
            images.append(x)
            self.pools[key] = np.arange(offset, offset + len(x))
            offset += len(x)

        for split in ("train", "test"):
            x, y = data.load_mnist(split, settings.data_dir)
            add(x, ("mnist", split))
            self.mnist_labels[split] = y
        needed = set(unknown_train) | set(unknown_test)
        self.emnist_pool_sizes = None
        if "emnist" in needed:
            x, _ = data.load_emnist_letters("test", settings.data_dir)
            train, test = split_pool(len(x), settings.emnist_train_pool, settings.pool_seed)
            images.append(x)
            positions = np.arange(offset, offset + len(x))
            self.pools[("emnist", "train")] = positions[train]
            self.pools[("emnist", "test")] = positions[test]
            offset += len(x)
            self.emnist_pool_sizes = (len(train), len(test))
        for u in ("fashion", "cifar"):
            for side, wanted in (("train", unknown_train), ("test", unknown_test)):
                if u in wanted:
                    loader = (
                        data.load_cifar10_gray if u == "cifar" else data.load_fashion_mnist
                    )
                    x, _ = loader(side, settings.data_dir)
                    add(x, (u, side))
        self.images = np.concatenate(images)


def mixed_set(bank, side, unknown, rate, size, seed):
    """Bank indices and labels of one mixed set (the paper's mixing)."""
    known = bank.pools[("mnist", side)]
    labels = bank.mnist_labels[side]
    if size < len(known):
        # A smaller known set for quick runs: a seeded subset of MNIST.
        keep = np.random.default_rng(_stream(seed, "subset", side)).permutation(
            len(known)
        )[:size]
        known, labels = known[keep], labels[keep]
    pool = bank.pools[(unknown, side)] if unknown != "none" else np.empty(0, int)
    mixture = mix_indices(
        labels, len(pool), rate, size, _stream(seed, "mix", side, unknown, rate), 10
    )
    is_u = mixture.is_unknown
    index = np.empty(size, dtype=np.int64)
    index[~is_u] = known[mixture.index[~is_u]]
    index[is_u] = pool[mixture.index[is_u] - mixture.n_known]
    return index, mixture.labels, mixture


def trainings(studies, seeds, train_rates=None):
    """Trainings in run order: study by study, seed-major inside a study.

    A study may be written `name:n` to take only its first `n` seeds at that
    point of the order (e.g. `paper:5 beyond:2 paper beyond`). `train_rates`
    optionally keeps only the mixed trainings at those rates.
    """
    order, seen = [], set()
    seeds = list(seeds)
    for spec in studies:
        study, _, count = spec.partition(":")
        if study not in STUDIES:
            raise ValueError(
                f"Unknown study. Expected one of {sorted(STUDIES)}, optionally "
                f"with ':n_seeds'. Received: {spec!r}"
            )
        for seed in seeds[: int(count)] if count else seeds:
            for head, u, rate in STUDIES[study]:
                if train_rates is not None and u != "none" and rate not in train_rates:
                    continue
                key = (head, u, float(rate), int(seed))
                if key not in seen:
                    seen.add(key)
                    order.append(key)
    return order


def read_done(csv_path):
    """Trainings already in the CSV (all their rows are written at once)."""
    return {
        (row["model"], row["train_u"], float(row["train_rate"]), int(row["seed"]))
        for row in ResultsCSV(csv_path, ()).rows()
    }


def groups(pending, size):
    """Chunks pending trainings into groups of one head, at most `size`."""
    by_head = {}
    for training in pending:
        by_head.setdefault(training[0], []).append(training)
    chunks = []
    # Keep the run order: a head's chunk is emitted where its first member was.
    firsts = sorted(by_head, key=lambda h: pending.index(by_head[h][0]))
    for head in firsts:
        items = by_head[head]
        chunks += [items[i : i + size] for i in range(0, len(items), size)]
    chunks.sort(key=lambda chunk: pending.index(chunk[0]))
    return chunks


class Runner:
    """Trains groups of trainings as tower models and writes their rows."""

    def __init__(self, bank, settings, protocol, csv_path, log=print):
        self.bank = bank
        self.settings = settings
        self.protocol = protocol
        self.csv_path = Path(csv_path)
        self.log = log
        self.models = {}

    def model(self, head):
        """One compiled model per head, reused by every group.

        Reuse keeps the traced (and XLA-compiled) step: each group only
        resets the weights and the optimizer state.
        """
        if head not in self.models:
            model = towers_lib.build_model(
                self.bank.images, self.settings.towers, head, 10, self.protocol
            )
            towers_lib.compile_model(model, self.protocol, self.settings.jit_compile)
            self.models[head] = model
        return self.models[head]

    def run_group(self, group):
        start = time.perf_counter()
        head = group[0][0]
        s = self.settings
        n_towers = s.towers
        # Pad with repeats of the last training (results discarded) so the
        # compiled step keeps its shape.
        padded = list(group) + [group[-1]] * (n_towers - len(group))
        train_index, train_labels, mixtures = [], [], []
        for _, u, rate, seed in padded:
            index, labels, mixture = mixed_set(
                self.bank, "train", u, rate, s.train_size, seed
            )
            train_index.append(index)
            train_labels.append(labels)
            mixtures.append(mixture)
        train_index = np.stack(train_index, 1).astype(np.int32)
        train_labels = np.stack(train_labels, 1).astype(np.int32)
        model = self.model(head)
        towers_lib.reset(
            model,
            [_stream(seed, "init", h, u, rate) for h, u, rate, seed in padded],
        )

        def progress(epoch, active, seconds):
            self.log(
                f"    epoch {epoch + 1:3d}: {active}/{len(padded)} towers "
                f"training, {seconds:.1f} s"
            )

        results = towers_lib.fit_towers(
            model,
            train_index,
            train_labels,
            [_stream(seed, "shuffle", h, u, rate) for h, u, rate, seed in padded],
            self.protocol,
            progress=progress,
        )
        rows = [[] for _ in group]
        for test_u, test_rate in TEST_SETS:
            test_index, test_labels, test_mix = [], [], []
            for _, _, _, seed in padded:
                index, labels, mixture = mixed_set(
                    self.bank, "test", test_u, test_rate, s.test_size, seed
                )
                test_index.append(index)
                test_labels.append(labels)
                test_mix.append(mixture)
            alpha = towers_lib.predict_alpha(model, np.stack(test_index, 1).astype(np.int32))
            for t, (h, u, rate, seed) in enumerate(group):
                row = {
                    "model": h,
                    "train_u": u,
                    "train_rate": rate,
                    "seed": seed,
                    "test_u": test_u,
                    "test_rate": test_rate,
                    "n_train": s.train_size,
                    "n_train_unknown": mixtures[t].n_unknown,
                    "train_unknown_unique_share": round(
                        mixtures[t].unique_unknown_share, 4
                    ),
                    "n_test": s.test_size,
                    "n_test_unknown": test_mix[t].n_unknown,
                    "epochs": results[t].epochs,
                    "best_val_loss": round(results[t].best_val_loss, 6),
                    "final_val_loss": round(results[t].final_val_loss, 6),
                }
                scores = scoring.score(alpha[:, t], test_labels[t], h)
                row.update({k: round(v, 6) for k, v in scores.items()})
                rows[t].append(row)
        seconds = time.perf_counter() - start
        flat = []
        for trial_rows in rows:
            for row in trial_rows:
                row["group_seconds"] = round(seconds, 1)
                flat.append(row)
        ResultsCSV(self.csv_path, ()).append_many(flat, COLUMNS)
        return results, seconds
