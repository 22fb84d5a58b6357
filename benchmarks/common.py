"""Shared helpers of the benchmark scripts: timing, machine facts, data, models.

The machines these benchmarks run on are shared, so a benchmark never compares
two numbers taken minutes apart: `interleave` alternates short blocks of every
variant, round after round, in one process, and the comparison is made on the
medians of the per-block times and on the per-round (paired) ratios. The
1-minute load average is recorded next to every round.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"
DEFAULT_OUT_DIR = REPO / "benchmarks" / "results"


def parse_args(description, add_arguments=None, argv=None, script=None):
    """The common command line: `--smoke`, `--out`, `--data-dir`, `--threads`.

    `argv` None reads `sys.argv`; a list (a script's `main(argv)` called from
    Python, as the smoke test does) is parsed instead, and `script` (the
    caller's `__file__`) names the command recorded in the results.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes: checks that the script runs end to end (seconds)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help=f"folder for the JSON and Markdown results (default {DEFAULT_OUT_DIR})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding mnist/ (IDX files); synthetic data if absent",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TF intra- and inter-op threads (0: TensorFlow's default)",
    )
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    if argv is None:
        args.command = " ".join(["python"] + sys.argv)
    else:
        name = Path(script).resolve().relative_to(REPO) if script else "?"
        args.command = " ".join(["python", str(name)] + [str(a) for a in argv])
    configure_threads(args.threads)
    return args


def configure_threads(threads):
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def load_average():
    return round(os.getloadavg()[0], 2)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(command=None):
    """Machine, versions, command and load: printed with every result.

    `command`: the command line to record (`args.command` of `parse_args`);
    None records `sys.argv`.
    """
    import keras

    import keras_evidential

    backend = keras.backend.backend()
    tf = None
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    elif backend == "jax":
        import jax

        gpus = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    else:
        import torch

        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        "command": command or " ".join(["python"] + sys.argv),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores,
        "memory_gib": _memory_total_gib(),
        "gpus": gpus,
        "python": platform.python_version(),
        "tensorflow": tf.__version__ if tf else None,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": np.__version__,
        "keras_evidential": keras_evidential.__version__,
        "git_commit": _git_commit(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() if tf else None,
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() if tf else None,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def interleave(blocks, rounds, seed=0, log_every=0):
    """Runs `blocks[name]()` for every name, round after round, in a shuffled order.

    Each block callable runs a fixed amount of work (and waits for its
    result). Shuffling the order in every round keeps any variant from always
    following the same neighbour (warm caches, a load trend). Every block is
    timed twice: wall-clock time, and the CPU time of this process (all its
    threads), which counts only the work done here and so is much less
    sensitive to other processes on a shared machine.

    Returns:
        `(wall, cpu, loads)`: per name the lists of block durations in
        seconds, one per round, and the 1-minute load average after each
        round.
    """
    rng = random.Random(seed)
    names = list(blocks)
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    loads = []
    for r in range(rounds):
        order = names[:]
        rng.shuffle(order)
        for name in order:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            blocks[name]()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)
        loads.append(load_average())
        if log_every and (r + 1) % log_every == 0:
            medians = ", ".join(
                f"{n} {statistics.median(t) * 1e3:.2f}" for n, t in wall.items()
            )
            print(
                f"  round {r + 1}/{rounds} (load {loads[-1]}): "
                f"median block ms: {medians}",
                flush=True,
            )
    return wall, cpu, loads


def per_unit_stats(block_times, units_per_block):
    """Median, quartiles and minimum of the time per unit (step, batch, ...)."""
    per_unit = np.asarray(block_times) / units_per_block
    return {
        "median_ms": round(float(np.median(per_unit)) * 1e3, 4),
        "p25_ms": round(float(np.percentile(per_unit, 25)) * 1e3, 4),
        "p75_ms": round(float(np.percentile(per_unit, 75)) * 1e3, 4),
        "min_ms": round(float(np.min(per_unit)) * 1e3, 4),
        "blocks": len(per_unit),
        "units_per_block": units_per_block,
    }


def ratios(block_times_a, block_times_b, units_a=1, units_b=1):
    """`a / b` two ways: ratio of the medians, and median of per-round ratios.

    The paired form compares blocks that ran within the same round, seconds
    apart, so it is the less load-sensitive of the two. Also returns the
    interquartile range of the paired ratios.
    """
    a = np.asarray(block_times_a) / units_a
    b = np.asarray(block_times_b) / units_b
    paired = a / b
    return {
        "ratio_of_medians": round(float(np.median(a) / np.median(b)), 4),
        "median_paired_ratio": round(float(np.median(paired)), 4),
        "paired_ratio_p25": round(float(np.percentile(paired, 25)), 4),
        "paired_ratio_p75": round(float(np.percentile(paired, 75)), 4),
    }


def load_summary(loads):
    return {
        "min": round(min(loads), 2),
        "median": round(statistics.median(loads), 2),
        "max": round(max(loads), 2),
    }


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}


def read_idx(path):
    """A gzip-compressed IDX file (the MNIST family's format) as a NumPy array.

    The header: two zero bytes, a type byte, the number of dimensions, one
    big-endian uint32 per dimension. The benchmarks read it themselves so that
    they depend on nothing but the library's public API.
    """
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"Not an IDX file (bad magic number). Received: path={path}")
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    array = np.frombuffer(data, dtype=_IDX_DTYPES[data[2]], offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(
            f"IDX header says shape {shape}, the file holds {array.size} values. "
            f"Received: path={path}"
        )
    return array.reshape(shape)


def load_mnist(data_dir, limit=None):
    """MNIST as float32 in [0, 1], flattened to 784, and integer labels.

    Returns `(x_train, y_train, x_test, y_test, source)`; `source` is
    `"mnist"` or, when the IDX files are absent, `"synthetic"` (random pixels
    of the same shapes, enough for timing).
    """
    folder = Path(data_dir) / "mnist"
    files = [
        folder / f"{stem}.gz"
        for stem in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    ]
    if all(f.exists() for f in files):
        arrays = [read_idx(f) for f in files]
        source = "mnist"
    else:
        rng = np.random.default_rng(0)
        arrays = [
            rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, 60000).astype(np.uint8),
            rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, 10000).astype(np.uint8),
        ]
        source = "synthetic"
    x_train, y_train, x_test, y_test = arrays
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]

    def images(x):
        return (x.reshape(len(x), -1) / np.float32(255.0)).astype("float32")

    return (
        images(x_train),
        y_train.astype("int32"),
        images(x_test),
        y_test.astype("int32"),
        source,
    )


def load_unknown_class(data_dir, name="fashion_mnist", limit=None):
    """Fashion-MNIST training images (m-EDL's class u), or synthetic ones."""
    path = Path(data_dir) / name / "train-images-idx3-ubyte.gz"
    if path.exists():
        x, source = read_idx(path), name
    else:
        x = np.random.default_rng(1).integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        source = "synthetic"
    if limit is not None:
        x = x[:limit]
    return (x.reshape(len(x), -1) / np.float32(255.0)).astype("float32"), source


HEADS = ("softmax", "edl", "medl")


def build_network(hidden, head, num_classes=10, seed=0):
    """An MLP `784 -> hidden... -> K` with one of three output heads.

    `softmax`: Dense(K, softmax), for `CategoricalCrossentropy`.
    `edl`: Dense(K) -> DirichletOutput(relu), outputs alpha (K).
    `medl`: as `edl` followed by UnknownClassHead, outputs alpha+ (K + 1).
    The same seed gives the same hidden weights for every head.
    """
    import keras

    from keras_evidential.layers import DirichletOutput
    from keras_evidential.layers import UnknownClassHead

    if head not in HEADS:
        raise ValueError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((784,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    if head == "softmax":
        layers.append(keras.layers.Dense(num_classes, activation="softmax"))
    else:
        layers.append(keras.layers.Dense(num_classes))
        layers.append(DirichletOutput(evidence="relu"))
        if head == "medl":
            layers.append(UnknownClassHead())
    return keras.Sequential(layers)


def cycling_batches(x, y, batch_size, max_batches=64):
    """An endless iterator over up to `max_batches` fixed batches of tensors.

    Keras's compiled train function takes any iterator of batches; a plain
    Python one over ready tensors avoids `tf.data` iterators, whose background
    threads compete for the CPU during timing (and whose destruction, with
    prefetching, can hang in TF 2.21).
    """
    import itertools

    import tensorflow as tf

    n = min(max_batches, len(x) // batch_size)
    batches = [
        (
            tf.constant(x[i * batch_size : (i + 1) * batch_size]),
            tf.constant(y[i * batch_size : (i + 1) * batch_size]),
        )
        for i in range(n)
    ]
    return itertools.cycle(batches)


def write_results(out_dir, name, payload, markdown):
    """Writes `<out>/<name>.json` and `<out>/<name>.md`; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}.json"
    md_path = out_dir / f"{name}.md"
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    md_path.write_text(markdown.rstrip() + "\n")
    print(f"wrote {json_path} and {md_path}", flush=True)
    return json_path, md_path


def machine_markdown(info):
    gpus = ", ".join(info["gpus"]) or "none"
    return "\n".join(
        [
            f"- date (UTC): {info['date_utc']}",
            f"- command: `{info['command']}`",
            f"- machine: {info['cpu']}, {info['usable_cores']} usable cores "
            f"({info['cpu_count']} total), {info['memory_gib']} GiB, GPU: {gpus}; "
            f"{info['platform']}",
            f"- versions: Python {info['python']}, TensorFlow {info['tensorflow']}, "
            f"Keras {info['keras']} ({info['keras_backend']}), NumPy {info['numpy']}, "
            f"keras-evidential {info['keras_evidential']} (git {info['git_commit']})",
            f"- TF threads: intra {info['intra_op_threads']}, inter "
            f"{info['inter_op_threads']} (0 = default); load average at start "
            f"(1/5/15 min): {info['load_average_1_5_15']}",
        ]
    )


def markdown_table(header, rows):
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def timer():
    return time.perf_counter()


def block_summary(wall, cpu, units_per_block, reference=None):
    """Per-unit wall and CPU statistics of one variant, and its ratios to `reference`.

    `reference` is `(wall, cpu, units_per_block)` of the variant compared
    against, or None.
    """
    entry = {
        "wall": per_unit_stats(wall, units_per_block),
        "cpu": per_unit_stats(cpu, units_per_block),
    }
    if reference is not None:
        ref_wall, ref_cpu, ref_units = reference
        entry["ratio_wall"] = ratios(wall, ref_wall, units_per_block, ref_units)
        entry["ratio_cpu"] = ratios(cpu, ref_cpu, units_per_block, ref_units)
    entry["block_wall_s"] = [round(t, 5) for t in wall]
    entry["block_cpu_s"] = [round(t, 5) for t in cpu]
    return entry


def process_time():
    return time.process_time()
