"""The small harness every experiment shares: resumable CSVs, a run log,
machine facts, Markdown tables, statistics and one plotting style.

Experiments live beside the package and may use source-checkout paths;
`data_dir()` finds `../shared/data` (or `KERAS_EVIDENTIAL_DATA`).
"""

import csv
import datetime
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results"


def data_dir(path=None):
    """The offline datasets: `path`, `$KERAS_EVIDENTIAL_DATA` or `../shared/data`."""
    from experiments.data.datasets import resolve_data_dir

    return resolve_data_dir(path)


class ResultsCSV:
    """An append-only CSV of finished runs, so that a grid resumes where it stopped.

    Every row is written and flushed (fsync) as soon as its run finishes; a
    run whose key (the values of `key_fields`) is already in the file is
    done.
    """

    def __init__(self, path, key_fields):
        self.path = Path(path)
        self.key_fields = tuple(key_fields)

    def rows(self):
        if not self.path.exists():
            return []
        with self.path.open(newline="") as f:
            return list(csv.DictReader(f))

    def key(self, row):
        return tuple(str(row[k]) for k in self.key_fields)

    def done(self):
        return {self.key(row) for row in self.rows()}

    def append_many(self, rows, fields):
        """Appends rows with one write on an O_APPEND file descriptor, in the
        column order `fields`, so that rows written together stay together
        even if another process appends to the same file at the same time."""
        import io

        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerows(rows)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, buffer.getvalue().encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, row):
        """Appends one row; a column new to the file rewrites it with the column."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existing = self.rows()
        fields = list(existing[0].keys()) if existing else list(row)
        missing = [k for k in row if k not in fields]
        if missing:  # a new column: rewrite the file with it
            fields += missing
            with self.path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fields, restval="")
                writer.writeheader()
                writer.writerows(existing)
        new_file = not self.path.exists()
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fields, restval="")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())


class RunLog:
    """Timestamped progress lines, printed and appended to a log file."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()

    def __call__(self, message):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        line = f"[{stamp} +{time.monotonic() - self.started:7.0f}s] {message}"
        print(line, flush=True)
        with self.path.open("a") as f:
            f.write(line + "\n")


def machine_description():
    """One line: system, processor and cores, for run logs."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"
        + (f" ({model})" if model else "")
    )


def machine_info():
    """What the figures were measured on."""
    import keras

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        info["gpus"] = len(tf.config.list_physical_devices("GPU"))
    elif keras.backend.backend() == "jax":
        import jax

        info["jax"] = jax.__version__
        info["devices"] = sorted({d.device_kind for d in jax.devices()})
    return info


def command_line():
    """The command that is running, with the script's path relative to the
    repository (logs and results must not hold paths of this machine)."""
    argv = list(sys.argv)
    script = Path(argv[0]).resolve()
    if script.is_relative_to(REPO):
        module = ".".join(script.relative_to(REPO).with_suffix("").parts)
        argv = ["-m", module] + argv[1:]
    return "python " + " ".join(argv)


def mean_std(values, scale=1.0, digits=2):
    """`"m ± s"` over finite values (sample std, ddof=1), or `"-"`."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(float(x))], float)
    if v.size == 0:
        return "-"
    std = v.std(ddof=1) if v.size > 1 else 0.0
    return f"{v.mean() * scale:.{digits}f} ± {std * scale:.{digits}f}"


def mean_se(values, scale=1.0, digits=2):
    """`"m ± se"`: the mean and its standard error over finite values."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(float(x))], float)
    if v.size == 0:
        return "-"
    se = v.std(ddof=1) / math.sqrt(v.size) if v.size > 1 else 0.0
    return f"{v.mean() * scale:.{digits}f} ± {se * scale:.{digits}f}"


def paired_test(a, b):
    """Paired comparison of two equal-length samples (each pair one seed or split).

    Returns the mean difference a - b, its standard deviation, how often a
    exceeds b, the paired t-test p-value and the Wilcoxon signed-rank
    p-value (two-sided; None where undefined).
    """
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a - b
    result = {
        "n": int(diff.size),
        "mean_diff": float(diff.mean()),
        "std_diff": float(diff.std(ddof=1)) if diff.size > 1 else 0.0,
        "wins": int((diff > 0).sum()),
        "t_p": None,
        "wilcoxon_p": None,
    }
    if diff.size > 1 and np.any(diff != 0):
        result["t_p"] = float(stats.ttest_rel(a, b).pvalue)
        result["wilcoxon_p"] = float(stats.wilcoxon(a, b).pvalue)
    return result


def markdown_table(header, rows):
    """A Markdown table from a header list and rows of cells."""
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pyplot():
    """matplotlib's pyplot with the Agg backend and the experiments' one style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 9,
            "legend.fontsize": 8,
            "legend.frameon": False,
        }
    )
    return plt


def save_figure(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
