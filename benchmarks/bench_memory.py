"""Peak memory of a training run: EDLLoss vs CategoricalCrossentropy.

Every variant trains in a fresh Python process (so the peak belongs to that
variant alone): load MNIST, build and compile the network, train a fixed
number of steps with `model.fit`. Reported per variant:

- peak resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) after
  the setup (data, model) and after training, and the difference;
- TensorFlow's allocator statistics (`tf.config.experimental.get_memory_info`
  on `CPU:0`: peak bytes allocated by TensorFlow's tensors during training),
  measured in a second fresh process with `TF_CPU_ALLOCATOR_USE_BFC=true`,
  because the default CPU allocator keeps no statistics.

Run: `python benchmarks/bench_memory.py` (a few minutes), `--smoke`.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import common

NETWORKS = {
    "mlp_32x32_b64": {"hidden": (32, 32), "batch_size": 64},
    "wide_512x512_b1024": {"hidden": (512, 512), "batch_size": 1024},
}
VARIANTS = {
    "ce": ("softmax", None),
    "edl_mse_kl": ("edl", {"risk": "mse", "kl_weight": 0.1}),
    "medl_mse_kl": ("medl", {"risk": "mse", "kl_weight": 0.1}),
}


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def proc_status_mib(field):
    """`VmRSS` (current) or `VmHWM` (peak since the last reset) in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Resets `VmHWM` to the current RSS (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(args):
    """Runs one variant in this (fresh) process and prints a JSON line."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_evidential.losses import EDLLoss

    network = NETWORKS[args.network]
    head, loss_spec = VARIANTS[args.variant]
    limit = 4096 if args.smoke else None
    x, y, _, _, _ = common.load_mnist(args.data_dir, limit=limit)
    width = 11 if head == "medl" else 10
    y = np.eye(width, dtype="float32")[y]
    batch_size = network["batch_size"]
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .batch(batch_size, drop_remainder=True)
        .repeat()
    )
    if args.smoke:
        network = {"hidden": (8,), "batch_size": 64}
    model = common.build_network(network["hidden"], head)
    loss = keras.losses.CategoricalCrossentropy() if loss_spec is None else EDLLoss(**loss_spec)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=args.jit
    )
    result = {
        "rss_setup_mib": proc_status_mib("VmRSS"),
        "rss_setup_peak_mib": peak_rss_mib(),
    }
    peak_was_reset = reset_peak_rss()
    allocator = os.environ.get("TF_CPU_ALLOCATOR_USE_BFC") == "true"
    if allocator:
        tf.config.experimental.reset_memory_stats("CPU:0")
    steps = 4 if args.smoke else args.steps
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    # Without the reset, VmHWM is the whole process's peak (the reset also
    # resets ru_maxrss, hence the setup peak was read before it).
    result["rss_training_peak_mib"] = proc_status_mib("VmHWM")
    result["peak_reset"] = peak_was_reset
    if allocator:
        info = tf.config.experimental.get_memory_info("CPU:0")
        result["tf_peak_mib"] = round(info["peak"] / 2**20, 2)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_child(network, variant, args, allocator):
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if allocator:
        env["TF_CPU_ALLOCATOR_USE_BFC"] = "true"
    else:
        env.pop("TF_CPU_ALLOCATOR_USE_BFC", None)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--network",
        network,
        "--variant",
        variant,
        "--steps",
        str(args.steps),
        "--data-dir",
        str(args.data_dir),
    ]
    if args.jit:
        command.append("--jit")
    if args.smoke:
        command.append("--smoke")
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"{variant} on {network} failed (exit {out.returncode}):\n{out.stderr[-3000:]}"
    )


def main(argv=None):
    def add(parser):
        parser.add_argument("--child", action="store_true", help=argparse_hidden())
        parser.add_argument("--network", default="mlp_32x32_b64", choices=list(NETWORKS))
        parser.add_argument("--variant", default="ce", choices=list(VARIANTS))
        parser.add_argument("--steps", type=int, default=100)
        parser.add_argument("--jit", action="store_true", help="jit_compile=True")
        parser.add_argument("--name", default="memory")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    if args.child:
        return child(args)
    info = common.machine_info(args.command)
    networks = list(NETWORKS)[:1] if args.smoke else list(NETWORKS)
    variants = ["ce", "edl_mse_kl"] if args.smoke else list(VARIANTS)
    results = {}
    for network in networks:
        results[network] = {}
        for variant in variants:
            if args.smoke:
                entry = run_child(network, variant, args, allocator=True)
            else:
                entry = run_child(network, variant, args, allocator=False)
                entry["tf_peak_mib"] = run_child(
                    network, variant, args, allocator=True
                )["tf_peak_mib"]
            entry["rss_training_increase_mib"] = round(
                entry["rss_training_peak_mib"] - entry["rss_setup_mib"], 1
            )
            entry["load"] = common.load_average()
            results[network][variant] = entry
            print(f"{network} {variant}: {entry}", flush=True)
    payload = {
        "benchmark": "memory",
        "smoke": args.smoke,
        "steps": 4 if args.smoke else args.steps,
        "jit_compile": args.jit,
        "machine": info,
        "results": results,
    }
    rows = []
    for network, group in results.items():
        ce = group["ce"]
        for variant, e in group.items():
            rows.append(
                [
                    network,
                    variant,
                    e["rss_setup_mib"],
                    e["rss_training_peak_mib"],
                    e["rss_training_increase_mib"],
                    f"{e['rss_training_peak_mib'] / ce['rss_training_peak_mib']:.3f}",
                    e["rss_setup_peak_mib"],
                    e["tf_peak_mib"],
                    f"{e['tf_peak_mib'] / ce['tf_peak_mib']:.3f}",
                ]
            )
    md = "\n\n".join(
        [
            "# Peak memory of training: EDLLoss vs CategoricalCrossentropy",
            common.machine_markdown(info),
            f"Each cell from a fresh process: data (60,000 MNIST images, float32), "
            f"model, `fit` for {payload['steps']} steps "
            f"(`jit_compile={args.jit}`). RSS after setup = `VmRSS` once data and "
            "model are ready; training peak = `VmHWM` after training, the peak "
            "having been reset after setup (`/proc/self/clear_refs`); setup peak "
            "= `ru_maxrss` before that reset (loading and converting the data); TF peak "
            "= peak bytes held by TensorFlow's CPU allocator during training "
            "(separate process with `TF_CPU_ALLOCATOR_USE_BFC=true`).",
            common.markdown_table(
                [
                    "network",
                    "loss",
                    "RSS after setup MiB",
                    "training peak RSS MiB",
                    "training increase MiB",
                    "training peak / CE",
                    "setup peak MiB",
                    "TF peak MiB",
                    "TF peak / CE",
                ],
                rows,
            ),
        ]
    )
    common.write_results(args.out, args.name, payload, md)
    return 0


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
