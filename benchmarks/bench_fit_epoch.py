"""Time per epoch of `fit`: the m-EDL paper's MLP, EDL vs CE, and the compile levers.

The m-EDL paper's network and data, one epoch of `model.fit` at a time: MLP
784 -> 32 -> 32 -> 10 + `UnknownClassHead` (K + 1 = 11 outputs) with
`EDLLoss(risk="mse", kl_weight=0.1)`, against the same hidden network with
`Dense(11, softmax)` and `SparseCategoricalCrossentropy` (class u as an
11th class); 60,000 training samples (MNIST plus Fashion-MNIST as class u at
rate 0.25), integer labels, batch 64, `validation_split=0.1`, Adam(1e-3).
Each of these is compiled four ways:

- `graph`: `jit_compile=False`, `steps_per_execution=1` (what Keras's default
  `jit_compile="auto"` gives on a CPU-only TensorFlow machine);
- `graph_spe32`: `jit_compile=False`, `steps_per_execution=32`;
- `xla`: `jit_compile=True`, `steps_per_execution=1`;
- `xla_spe32`: `jit_compile=True`, `steps_per_execution=32`.

Every model trains one warm-up epoch (tracing and compiling), then each round
runs one more epoch of every model, in a shuffled order, in this one process.
An epoch is timed from `on_epoch_begin` to `on_epoch_end` (the training steps
and the validation pass; not `fit`'s set-up), in wall-clock and process CPU
time. Reported: the median time per epoch, the EDL / CE ratio (median over
rounds of the paired ratio, with its interquartile range) per configuration,
and each configuration's speed-up over `graph` per loss.

Run: `python benchmarks/bench_fit_epoch.py` (about 6 minutes on 2 cores),
or `--smoke`.
"""

import random
import sys


import common
from bench_medl_trial import mixed_data

CONFIGS = {
    "graph": {"jit_compile": False, "steps_per_execution": 1},
    "graph_spe32": {"jit_compile": False, "steps_per_execution": 32},
    "xla": {"jit_compile": True, "steps_per_execution": 1},
    "xla_spe32": {"jit_compile": True, "steps_per_execution": 32},
}
# `edl_unchecked`: the same EDL model traced with
# `keras_evidential.config.disable_value_checks()`, so that the checks' share
# of the step is measured in the same run.
LOSSES = ("ce", "edl", "edl_unchecked")
# The configurations the EDL / CE target applies to.
TARGET_CONFIGS = ("graph", "xla_spe32")
TARGET_RATIO = 1.05
BATCH_SIZE = 64
KL_WEIGHT = 0.1


def build_model(loss, config):
    import keras

    from keras_evidential.losses import EDLLoss

    if loss in ("edl", "edl_unchecked"):
        model = common.build_network((32, 32), "medl")
        loss_fn = EDLLoss(risk="mse", kl_weight=KL_WEIGHT)
    else:
        model = common.build_network((32, 32), "softmax", num_classes=11)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=loss_fn,
        jit_compile=config["jit_compile"],
        steps_per_execution=config["steps_per_execution"],
    )
    return model


class EpochTimer:
    """A Keras callback that records wall and CPU seconds of every epoch."""

    def __init__(self):
        import keras

        timer = self

        class _Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                timer.start = (common.timer(), common.process_time())

            def on_epoch_end(self, epoch, logs=None):
                timer.wall = common.timer() - timer.start[0]
                timer.cpu = common.process_time() - timer.start[1]

        self.callback = _Callback()


def epoch_runner(model, x, y):
    """A function that trains `model` one epoch and returns (wall s, CPU s)."""
    timer = EpochTimer()

    def run():
        model.fit(
            x,
            y,
            batch_size=BATCH_SIZE,
            validation_split=0.1,
            epochs=1,
            callbacks=[timer.callback],
            verbose=0,
        )
        return timer.wall, timer.cpu

    return run


def bench(x, y, configs, rounds, seed=0):
    runners = {}
    for config in configs:
        for loss in LOSSES:
            name = f"{loss}/{config}"
            print(f"  {name}: compiling, warm-up epoch", flush=True)
            runners[name] = epoch_runner(build_model(loss, CONFIGS[config]), x, y)
            # The checks are traced into the step at its first call.
            import keras_evidential

            if loss == "edl_unchecked":
                keras_evidential.config.disable_value_checks()
            try:
                runners[name]()
            finally:
                keras_evidential.config.enable_value_checks()
    rng = random.Random(seed)
    wall = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    loads = []
    for r in range(rounds):
        order = list(runners)
        rng.shuffle(order)
        for name in order:
            w, c = runners[name]()
            wall[name].append(w)
            cpu[name].append(c)
        loads.append(common.load_average())
        print(
            f"  round {r + 1}/{rounds} (load {loads[-1]}): "
            + ", ".join(f"{n} {wall[n][-1]:.2f}s" for n in runners),
            flush=True,
        )
    return wall, cpu, loads


def summarize(wall, cpu, configs, steps_per_epoch):
    """Per configuration: both losses' epoch times, EDL / CE, speed-ups over graph."""
    out = {}
    for config in configs:
        ce, edl = f"ce/{config}", f"edl/{config}"
        entry = {
            loss: common.block_summary(
                wall[f"{loss}/{config}"], cpu[f"{loss}/{config}"], 1
            )
            for loss in LOSSES
        }
        for loss in LOSSES:
            entry[loss]["ms_per_step_wall"] = round(
                entry[loss]["wall"]["median_ms"] / steps_per_epoch, 4
            )
        entry["edl_over_ce_wall"] = common.ratios(wall[edl], wall[ce])
        entry["edl_over_ce_cpu"] = common.ratios(cpu[edl], cpu[ce])
        unchecked = f"edl_unchecked/{config}"
        entry["edl_unchecked_over_ce_cpu"] = common.ratios(cpu[unchecked], cpu[ce])
        entry["checks_cost_cpu"] = common.ratios(cpu[edl], cpu[unchecked])
        if config != "graph" and "graph" in configs:
            for loss in LOSSES:
                # graph / this configuration, paired per round: > 1 is faster.
                entry[f"speedup_over_graph_{loss}_wall"] = common.ratios(
                    wall[f"{loss}/graph"], wall[f"{loss}/{config}"]
                )
                entry[f"speedup_over_graph_{loss}_cpu"] = common.ratios(
                    cpu[f"{loss}/graph"], cpu[f"{loss}/{config}"]
                )
        out[config] = entry
    return out


def _ratio(r, digits=3):
    return (
        f"{r['median_paired_ratio']:.{digits}f} "
        f"[{r['paired_ratio_p25']:.{digits}f}, {r['paired_ratio_p75']:.{digits}f}]"
    )


def markdown(info, summary, source, n_train, rounds, loads):
    rows = []
    for config, e in summary.items():
        met = "-"
        if config in TARGET_CONFIGS:
            ratio = e["edl_over_ce_cpu"]["median_paired_ratio"]
            met = "yes" if ratio <= TARGET_RATIO else "NO"
        speedups = "-"
        if "speedup_over_graph_ce_wall" in e:
            speedups = (
                f"CE {_ratio(e['speedup_over_graph_ce_wall'], 2)}, "
                f"EDL {_ratio(e['speedup_over_graph_edl_wall'], 2)}"
            )
        rows.append(
            [
                config,
                f"{e['edl']['wall']['median_ms'] / 1e3:.2f} / "
                f"{e['ce']['wall']['median_ms'] / 1e3:.2f}",
                f"{e['edl']['ms_per_step_wall']:.2f} / "
                f"{e['ce']['ms_per_step_wall']:.2f}",
                _ratio(e["edl_over_ce_wall"]),
                f"{e['edl']['cpu']['median_ms'] / 1e3:.2f} / "
                f"{e['ce']['cpu']['median_ms'] / 1e3:.2f}",
                _ratio(e["edl_over_ce_cpu"]),
                _ratio(e["edl_unchecked_over_ce_cpu"]),
                _ratio(e["checks_cost_cpu"]),
                met,
                speedups,
            ]
        )
    table = common.markdown_table(
        [
            "configuration",
            "wall s/epoch EDL / CE",
            "wall ms/step EDL / CE",
            "EDL/CE wall [IQR]",
            "CPU s/epoch EDL / CE",
            "EDL/CE CPU [IQR]",
            "EDL without checks / CE CPU",
            "checks: EDL on / off CPU",
            f"CPU ratio <= {TARGET_RATIO}",
            "speed-up over graph, wall [IQR]",
        ],
        rows,
    )
    load = common.load_summary(loads)
    return "\n\n".join(
        [
            "# Time per epoch of fit: the m-EDL paper's MLP, EDL vs CE",
            common.machine_markdown(info),
            f"Data: {source}; {n_train} training samples, `validation_split=0.1`, "
            f"batch {BATCH_SIZE}, integer labels, Adam(1e-3). EDL: MLP "
            "784-32-32-10 + `UnknownClassHead`, `EDLLoss(risk=\"mse\", "
            f"kl_weight={KL_WEIGHT})`; CE: the same hidden layers, `Dense(11, "
            "softmax)`, `SparseCategoricalCrossentropy`. One model per variant, "
            "one warm-up epoch each, then "
            f"{rounds} rounds of one epoch of every variant in a shuffled order; "
            "an epoch is timed from `on_epoch_begin` to `on_epoch_end` (training "
            "steps and validation). Cells: median over rounds; ratios: median "
            "over rounds of the paired ratio [interquartile range]. `spe32` = "
            "`steps_per_execution=32`, `xla` = `jit_compile=True`. The target "
            f"(EDL/CE <= {TARGET_RATIO}, CPU time) applies to "
            f"{' and '.join(TARGET_CONFIGS)}. The machine is shared with other "
            f"jobs (2 cores): 1-minute load average after each round, median "
            f"{load['median']} (range {load['min']}-{load['max']}).",
            table,
        ]
    )


def main(argv=None):
    def add(parser):
        parser.add_argument("--rounds", type=int, default=0)
        parser.add_argument(
            "--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS)
        )
        parser.add_argument("--name", default="fit_epoch")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    info = common.machine_info(args.command)
    x, y, _, _, source = mixed_data(args.data_dir, 0.25, 60000, 10000, 0, args.smoke)
    if args.smoke:
        x, y = x[:640], y[:640]
    configs = ["graph"] + [c for c in args.configs if c != "graph"]
    if args.smoke:
        # Graph mode only: the XLA configurations' compiles would be most of
        # a smoke run's time (CI's large lane).
        configs = configs[:1]
    rounds = args.rounds or (2 if args.smoke else 16)
    print(f"data: {source}, {len(x)} samples; load {info['load_average_1_5_15']}")
    wall, cpu, loads = bench(x, y, configs, rounds)
    n_fit = len(x) - int(0.1 * len(x))
    steps_per_epoch = -(-n_fit // BATCH_SIZE)
    summary = summarize(wall, cpu, configs, steps_per_epoch)
    for config, e in summary.items():
        print(
            f"  {config:12s} "
            f"EDL/CE CPU {e['edl_over_ce_cpu']['median_paired_ratio']:.3f}"
            f" wall {e['edl_over_ce_wall']['median_paired_ratio']:.3f}; "
            f"s/epoch EDL {e['edl']['wall']['median_ms'] / 1e3:.2f} "
            f"CE {e['ce']['wall']['median_ms'] / 1e3:.2f}",
            flush=True,
        )
    payload = {
        "benchmark": "fit_epoch",
        "smoke": args.smoke,
        "data": source,
        "train_samples": len(x),
        "steps_per_epoch": steps_per_epoch,
        "rounds": rounds,
        "target_ratio": TARGET_RATIO,
        "target_configs": list(TARGET_CONFIGS),
        "configs": {name: CONFIGS[name] for name in configs},
        "machine": info,
        "loads_per_round": loads,
        "load": common.load_summary(loads),
        "results": summary,
    }
    common.write_results(
        args.out,
        args.name,
        payload,
        markdown(info, summary, source, len(x), rounds, loads),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
