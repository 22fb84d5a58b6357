"""Training step time: EDLLoss (every risk, with KL) vs CategoricalCrossentropy.

Two networks: the m-EDL paper's MLP (784 -> 32 -> 32 -> K, batch 64) and a
wider one (784 -> 512 -> 512 -> K, batch 1024), each compiled in graph mode
(`jit_compile=False`) and with XLA (`jit_compile=True`). Every variant is the
same network (same initial weights) and the same batches, run through Keras's
own compiled train function (what `fit` calls every step, minus callbacks);
blocks of steps of all variants alternate round after round in this one
process, and the result is the median time per step and the EDL / CE ratio.

The target, EDL / CE <= 1.05, is for the wide network (graph and XLA). The
tiny MLP's per-step figure is reported as it is: at batch 64 a step is a few
hundred small ops whose count, not their arithmetic, sets the time, so the
loss's extra ops show; per epoch of `fit` (`bench_fit_epoch.py`) they weigh
less.

Run: `python benchmarks/bench_train_step.py` (about 8 minutes on 2 cores),
or `--smoke` for a seconds-long end-to-end check.
"""

import sys

import numpy as np

import common

VARIANTS = {
    # name: (head, EDLLoss arguments; None = CategoricalCrossentropy)
    "ce": ("softmax", None),
    "edl_mse_kl": ("edl", {"risk": "mse", "kl_weight": 0.1}),
    "edl_log_kl": ("edl", {"risk": "log", "kl_weight": 0.1}),
    "edl_digamma_kl": ("edl", {"risk": "digamma", "kl_weight": 0.1}),
    "medl_mse_kl": ("medl", {"risk": "mse", "kl_weight": 0.1}),
}

NETWORKS = {
    "mlp_32x32_b64": {"hidden": (32, 32), "batch_size": 64},
    "wide_512x512_b1024": {"hidden": (512, 512), "batch_size": 1024},
}

MODES = {"graph": False, "xla": True}

TARGET_RATIO = 1.05
# The networks the target applies to (both modes); the others are reported.
TARGET_NETWORKS = ("wide_512x512_b1024",)


def make_loss(spec):
    import keras

    from keras_evidential.losses import EDLLoss

    if spec is None:
        return keras.losses.CategoricalCrossentropy()
    return EDLLoss(**spec)


def one_hot(labels, width):
    return np.eye(width, dtype="float32")[labels]


def compiled_step(x, y, hidden, batch_size, head, loss_spec, jit_compile):
    """A compiled model and a function that runs `n` train steps and syncs."""
    import keras

    model = common.build_network(hidden, head)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=make_loss(loss_spec),
        jit_compile=jit_compile,
    )
    width = 11 if head == "medl" else 10
    iterator = common.cycling_batches(x, one_hot(y, width), batch_size)
    model.make_train_function()
    train_function = model.train_function
    train_function(iterator)  # traces and compiles the step

    def run(steps):
        for _ in range(steps):
            logs = train_function(iterator)
        float(logs["loss"])

    return model, run


def bench_group(
    x, y, network, mode, variants, rounds, block_seconds, warmup_steps, instances
):
    hidden, batch_size = network["hidden"], network["batch_size"]
    # Several separately compiled but identical models per variant: on a small
    # network two such instances differ by up to ~6 % (where TensorFlow puts
    # their buffers and threads), which one instance per variant would
    # attribute to the loss.
    runners = {}
    for name in variants:
        head, loss_spec = VARIANTS[name]
        for instance in range(instances):
            _, run = compiled_step(
                x, y, hidden, batch_size, head, loss_spec, MODES[mode]
            )
            run(warmup_steps)
            runners[(name, instance)] = run
    # One block size for all variants, chosen so that a CE block lasts
    # about `block_seconds`.
    probe_steps = max(1, warmup_steps // 2)
    probe = []
    for _ in range(3):
        start = common.timer()
        runners[("ce", 0)](probe_steps)
        probe.append(common.timer() - start)
    steps = max(1, int(round(block_seconds * probe_steps / min(probe))))
    blocks = {
        f"{name}#{instance}": (lambda run=run: run(steps))
        for (name, instance), run in runners.items()
    }
    wall, cpu, loads = common.interleave(
        blocks, rounds, log_every=max(1, rounds // 4)
    )
    result = {
        "steps_per_block": steps,
        "rounds": rounds,
        "instances": instances,
        "load": common.load_summary(loads),
        "loads_per_round": loads,
        "variants": {},
    }

    def per_round_mean(times, name):
        per_instance = [times[f"{name}#{i}"] for i in range(instances)]
        return [float(np.mean(round_times)) for round_times in zip(*per_instance)]

    wall = {name: per_round_mean(wall, name) for name in variants}
    cpu = {name: per_round_mean(cpu, name) for name in variants}
    reference = (wall["ce"], cpu["ce"], steps)
    for name in variants:
        result["variants"][name] = common.block_summary(
            wall[name], cpu[name], steps, None if name == "ce" else reference
        )
    return result


def _ratio_cell(r):
    return (
        f"{r['median_paired_ratio']:.3f} "
        f"[{r['paired_ratio_p25']:.3f}, {r['paired_ratio_p75']:.3f}]"
    )


def target_met(network, entry, target=TARGET_RATIO):
    """"yes" / "NO" where the target applies (on the CPU-time ratio), else "-"."""
    if network not in TARGET_NETWORKS:
        return "- (reported)"
    return "yes" if entry["ratio_cpu"]["median_paired_ratio"] <= target else "NO"


def markdown(info, results, source):
    instances = next(iter(results.values()))["instances"]
    rows = []
    for key, group in results.items():
        network, mode = key.split("/")
        ce = group["variants"]["ce"]
        for name, entry in group["variants"].items():
            if name == "ce":
                continue
            rows.append(
                [
                    network,
                    mode,
                    name,
                    f"{entry['wall']['median_ms']:.3f} / {ce['wall']['median_ms']:.3f}",
                    _ratio_cell(entry["ratio_wall"]),
                    f"{entry['cpu']['median_ms']:.3f} / {ce['cpu']['median_ms']:.3f}",
                    _ratio_cell(entry["ratio_cpu"]),
                    target_met(network, entry),
                    f"{group['load']['median']} ({group['load']['min']}-"
                    f"{group['load']['max']})",
                ]
            )
    table = common.markdown_table(
        [
            "network",
            "mode",
            "EDL variant",
            "wall ms/step EDL / CE",
            "EDL/CE wall [IQR]",
            "CPU ms/step EDL / CE",
            "EDL/CE CPU [IQR]",
            f"CPU ratio <= {TARGET_RATIO}",
            "load 1-min median (range)",
        ],
        rows,
    )
    return "\n\n".join(
        [
            "# Training step time: EDLLoss vs CategoricalCrossentropy",
            common.machine_markdown(info),
            f"Data: {source} (x in [0, 1], one-hot labels). Optimizer Adam(1e-3). "
            "`*_kl` = with the KL term (kl_weight 0.1); `medl_*` adds "
            "`UnknownClassHead` (K + 1 outputs). Each cell: median time per step "
            "over interleaved blocks (wall clock, and CPU time of the process, "
            "which other processes on the shared machine disturb far less); the "
            "ratio is the median over rounds of (EDL block / CE block of the same "
            "round) with its interquartile range; each variant's block time in a "
            "round is the mean over its separately compiled model instances "
            f"({instances} per variant). graph = `jit_compile=False`, "
            "xla = `jit_compile=True` (Keras's default `jit_compile=\"auto\"` "
            "resolves to graph mode on a CPU-only TensorFlow machine). The loss "
            "is the library's one implementation, `keras.ops` functions. The "
            f"target (EDL/CE <= {TARGET_RATIO}, CPU time) applies to "
            f"{', '.join(TARGET_NETWORKS)}; the tiny MLP's per-step ratio is "
            "reported as it is (its per-epoch ratio: `fit_epoch.md`). The machine "
            "is shared with other jobs: the load column is the 1-minute load "
            "average after each round (2 cores).",
            table,
        ]
    )


def main(argv=None):
    def add(parser):
        parser.add_argument("--rounds", type=int, default=0)
        parser.add_argument(
            "--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS)
        )
        parser.add_argument(
            "--modes", nargs="+", default=list(MODES), choices=list(MODES)
        )
        parser.add_argument(
            "--variants",
            nargs="+",
            default=list(VARIANTS),
            choices=list(VARIANTS),
            help="which losses to compare (ce is always included)",
        )
        parser.add_argument(
            "--instances",
            type=int,
            default=2,
            help="separately compiled models per variant, averaged per round",
        )
        parser.add_argument("--name", default="train_step")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    limit = 4096 if args.smoke else None
    x, y, _, _, source = common.load_mnist(args.data_dir, limit=limit)
    info = common.machine_info(args.command)
    print(f"data: {source}; load {info['load_average_1_5_15']}", flush=True)
    variants = ["ce"] + [v for v in args.variants if v != "ce"]
    if args.smoke:
        variants = variants[:2]
    networks = args.networks[:1] if args.smoke else args.networks
    modes = args.modes[:1] if args.smoke else args.modes
    results = {}
    for network_name in networks:
        network = NETWORKS[network_name]
        if args.smoke:
            network = {"hidden": (8,), "batch_size": 64}
        wide = network["batch_size"] >= 512
        rounds = args.rounds or (2 if args.smoke else (12 if wide else 30))
        block_seconds = 0.01 if args.smoke else (0.4 if wide else 0.12)
        warmup = 2 if args.smoke else (10 if wide else 50)
        for mode in modes:
            key = f"{network_name}/{mode}"
            print(f"{key}: compiling and warming up", flush=True)
            results[key] = bench_group(
                x,
                y,
                network,
                mode,
                variants,
                rounds,
                block_seconds,
                warmup,
                1 if args.smoke else args.instances,
            )
            for name, entry in results[key]["variants"].items():
                wall_ratio = entry.get("ratio_wall", {}).get("median_paired_ratio", 1)
                cpu_ratio = entry.get("ratio_cpu", {}).get("median_paired_ratio", 1)
                print(
                    f"  {name:16s} wall {entry['wall']['median_ms']:9.3f} ms/step "
                    f"(EDL/CE {wall_ratio:.3f})  CPU {entry['cpu']['median_ms']:9.3f}"
                    f" ms/step (EDL/CE {cpu_ratio:.3f})",
                    flush=True,
                )
    payload = {
        "benchmark": "train_step",
        "smoke": args.smoke,
        "data": source,
        "target_ratio": TARGET_RATIO,
        "target_networks": list(TARGET_NETWORKS),
        "machine": info,
        "load_average_end": common.load_average(),
        "results": results,
    }
    common.write_results(args.out, args.name, payload, markdown(info, results, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
