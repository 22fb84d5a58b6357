"""What the value checks cost per epoch of `fit`: EDL with and without them, against CE.

The MNIST benchmark's conv net (`experiments/benchmark/methods.py`: 3 x [Conv
5x5, MaxPool] -> 64 -> 64 -> 64 -> 10, `--pack` seeds as independent towers
in one model), batch 64, Adam, `jit_compile=True`, `steps_per_execution=16`,
on random MNIST-shaped data (timing does not depend on the values). Three
models: softmax cross-entropy (`ce`), `EDLLoss` with the value checks
(`edl_checks`, the default) and with `keras_evidential.config.disable_value_checks()`
(`edl_no_checks`). Each trains one warm-up epoch (tracing, compiling), then
every round runs one epoch of each, in a shuffled order (`common.interleave`).
Reported: the median epoch time and the paired per-round ratios.

Under JAX `jit` every check is a host callback, so an accelerator waits for
the host in every step; on a CPU the callback costs little. Under TensorFlow
graph mode a check is an `Assert` op; XLA drops those.

Run: `python benchmarks/bench_value_checks.py` (CPU: about 5 minutes with
`--samples 4096 --width 32`), or `--smoke`.
"""

import statistics
import sys

import numpy as np

import common

sys.path.insert(0, str(common.REPO))

MODELS = ("ce", "edl_checks", "edl_no_checks")


def add_arguments(parser):
    parser.add_argument("--samples", type=int, default=48000, help="samples per epoch")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--pack", type=int, default=5, help="towers (seeds) in one model")
    parser.add_argument("--rounds", type=int, default=3)


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], add_arguments, argv, __file__)
    if args.smoke:
        args.samples, args.width, args.pack, args.rounds = 2048, 8, 1, 2
    import keras

    import keras_evidential as ke
    from experiments.benchmark.methods import METHODS
    from experiments.benchmark.methods import build

    info = common.machine_info(args.command)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.samples).astype("int32")
    seeds = list(range(args.pack))
    models = {}
    for name in MODELS:
        method = METHODS["softmax" if name == "ce" else "edl_softplus"]
        model, _ = build(method, seeds, args.width)
        loss = (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            if name == "ce" else ke.losses.EDLLoss(kl_weight=0.5)
        )
        model.compile(keras.optimizers.Adam(1e-3), [loss] * len(seeds), jit_compile=True, steps_per_execution=16)
        models[name] = model

    def epoch(name):
        # The switch is read while a step is traced: set it for every block,
        # so that a retrace could not pick up another model's setting.
        (ke.config.disable_value_checks if name == "edl_no_checks" else ke.config.enable_value_checks)()
        models[name].fit(x, [y] * len(seeds), batch_size=64, epochs=1, verbose=0, shuffle=False)

    for name in MODELS:
        print(f"warm-up epoch: {name}", flush=True)
        epoch(name)
    wall, cpu, loads = common.interleave(
        {name: (lambda n=name: epoch(n)) for name in MODELS}, args.rounds, log_every=1
    )
    ke.config.enable_value_checks()
    rows, results = [], {}
    for name in MODELS:
        results[name] = {"median_epoch_s": round(statistics.median(wall[name]), 3), "epochs_s": wall[name]}
        rows.append([name, f"{results[name]['median_epoch_s']:.2f}"])
    pairs = {
        "edl_checks / ce": common.ratios(wall["edl_checks"], wall["ce"]),
        "edl_no_checks / ce": common.ratios(wall["edl_no_checks"], wall["ce"]),
        "edl_checks / edl_no_checks": common.ratios(wall["edl_checks"], wall["edl_no_checks"]),
    }
    ratio_rows = [
        [k, f"{v['median_paired_ratio']:.2f}", f"[{v['paired_ratio_p25']:.2f}, {v['paired_ratio_p75']:.2f}]"]
        for k, v in pairs.items()
    ]
    backend = info["keras_backend"]
    device = "gpu" if info["gpus"] else "cpu"
    markdown = "\n".join([
        f"# Value checks: cost per epoch of `fit` ({backend}, {device})\n",
        common.machine_markdown(info),
        f"- {args.samples} samples per epoch, batch 64, width {args.width}, {args.pack} towers, "
        f"{args.rounds} rounds; load after each round: {loads}\n",
        common.markdown_table(["model", "median epoch (s)"], rows),
        "",
        common.markdown_table(["ratio", "median paired", "IQR"], ratio_rows),
    ])
    payload = {"machine": info, "args": {k: v for k, v in vars(args).items() if k not in ("out", "data_dir")},
               "results": results, "ratios": pairs, "loads": loads}
    common.write_results(args.out, f"value_checks_{backend}_{device}", payload, markdown)
    print(markdown)
    return payload


if __name__ == "__main__":
    main()
