"""Measures the benchmark's training cost per configuration, to size the grid.

    python -m experiments.benchmark.timing [--steps 150] [--methods edl_relu]

For each (pack, jit, steps_per_execution, width) it trains the conv net on
random MNIST-shaped data for `--steps` steps after a warm-up pass (tracing
excluded) and records ms per step and the implied seconds per 48,000-sample
epoch per seed. Results: `docs/results/benchmark/timing.csv` and `.md`.
"""

import argparse
import itertools
import os
import time

import keras
import numpy as np

from experiments import harness
from experiments.benchmark.methods import METHODS
from experiments.benchmark.methods import build
from experiments.benchmark.runner import OUT

EPOCH_SAMPLES = 48000


def measure(method, pack, jit, spe, width, steps, batch_size=64):
    model, _ = build(method, list(range(pack)), width)
    model.compile(
        keras.optimizers.Adam(1e-3), [method.make_loss() for _ in range(pack)],
        jit_compile=jit, steps_per_execution=spe,
    )
    rng = np.random.default_rng(0)
    n = steps * batch_size
    x = rng.random((n, 28, 28, 1), dtype="float32")
    y = rng.integers(0, 10, n).astype("int32")
    warm = spe * batch_size * 2
    model.fit(x[:warm], [y[:warm]] * pack, batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, [y] * pack, batch_size=batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    keras.backend.clear_session()
    step_ms = 1000 * seconds / steps
    return step_ms, step_ms / 1000 * EPOCH_SAMPLES / batch_size / pack


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--methods", nargs="+", default=["edl_relu"])
    parser.add_argument("--packs", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--jit", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--spe", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--widths", nargs="+", type=int, default=[64])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    results = harness.ResultsCSV(f"{args.out}/timing.csv", ["method", "pack", "jit", "spe", "width", "machine"])
    machine = f"{harness.machine_info()['cpus']}cpu-gpu{harness.machine_info().get('gpus', 0)}"
    done = results.done()
    for name, pack, jit, spe, width in itertools.product(args.methods, args.packs, args.jit, args.spe, args.widths):
        key = (name, str(pack), str(bool(jit)), str(spe), str(width), machine)
        if key in done:
            continue
        step_ms, epoch_s = measure(METHODS[name], pack, bool(jit), spe, width, args.steps)
        row = dict(zip(["method", "pack", "jit", "spe", "width", "machine"], key))
        row.update({
            "ms_per_step": f"{step_ms:.1f}",
            "s_per_epoch_per_seed": f"{epoch_s:.1f}",
            # The machine is shared: the 1-minute load average says how much.
            "load_average": f"{os.getloadavg()[0]:.1f}",
        })
        results.append(row)
        print(row, flush=True)
    rows = results.rows()
    header = ["method", "pack", "jit", "spe", "width", "machine", "ms/step", "s/epoch/seed", "load average"]
    table = harness.markdown_table(header, [[r["method"], r["pack"], r["jit"], r["spe"], r["width"], r["machine"],
                                             r["ms_per_step"], r["s_per_epoch_per_seed"], r.get("load_average", "")]
                                            for r in rows])
    with open(f"{args.out}/timing.md", "w") as f:
        f.write("# Training cost of the benchmark's conv net\n\n"
                f"Command: `{harness.command_line()}`; batch 64, random MNIST-shaped data, "
                "tracing excluded. One epoch = 48,000 samples.\n\n" + table)


if __name__ == "__main__":
    main()
