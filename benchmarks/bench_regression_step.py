"""Train-step cost of the evidential regression loss against MSE, same network.

    python benchmarks/bench_regression_step.py            # ~3 minutes
    python benchmarks/bench_regression_step.py --smoke

Variants (one wide MLP, 64 inputs, 2 x 512 ReLU, batch 1024, Adam):
- `mse`: `Dense(1)` head, `keras.losses.MeanSquaredError`;
- `nig`: `NormalInverseGammaOutput(1)` head, `EvidentialRegressionLoss`;
- `nig_meinert`: the same with `regularizer="meinert"`.

Modes: TensorFlow graph (`jit_compile=False`) and XLA. Blocks of steps of
every variant alternate in shuffled order, round after round
(`common.interleave`); the figure of merit is the median over rounds of the
paired ratio NIG step / MSE step (target <= 1.05).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import common  # noqa: E402

NAME = "regression_step"
VARIANTS = ("mse", "nig", "nig_meinert")
MODES = {"graph": False, "xla": True}


def compiled_step(variant, x, y, hidden, batch_size, jit_compile):
    import keras

    import keras_evidential as ke

    keras.utils.set_random_seed(0)
    layers = [keras.Input((x.shape[1],))]
    layers += [keras.layers.Dense(h, activation="relu") for h in hidden]
    if variant == "mse":
        layers.append(keras.layers.Dense(1))
        loss = keras.losses.MeanSquaredError()
    else:
        layers.append(ke.layers.NormalInverseGammaOutput(1))
        regularizer = "meinert" if variant == "nig_meinert" else "amini"
        loss = ke.losses.EvidentialRegressionLoss(0.01, regularizer=regularizer)
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=jit_compile)
    iterator = common.cycling_batches(x, y, batch_size, max_batches=8)
    model.make_train_function()
    train_function = model.train_function
    train_function(iterator)

    def run(steps):
        for _ in range(steps):
            logs = train_function(iterator)
        float(logs["loss"])

    return run


def bench_mode(mode, x, y, hidden, batch_size, rounds, block_seconds, warmup, instances):
    runners = {}
    for variant in VARIANTS:
        for instance in range(instances):
            run = compiled_step(variant, x, y, hidden, batch_size, MODES[mode])
            run(warmup)
            runners[(variant, instance)] = run
    probe = []
    for _ in range(3):
        start = common.timer()
        runners[("mse", 0)](warmup)
        probe.append(common.timer() - start)
    steps = max(1, int(round(block_seconds * warmup / min(probe))))
    blocks = {f"{v}#{i}": (lambda run=run: run(steps)) for (v, i), run in runners.items()}
    wall, cpu, loads = common.interleave(blocks, rounds, log_every=max(1, rounds // 4))

    def per_round(times, variant):
        return [float(np.mean(r)) for r in zip(*(times[f"{variant}#{i}"] for i in range(instances)))]

    wall = {v: per_round(wall, v) for v in VARIANTS}
    cpu = {v: per_round(cpu, v) for v in VARIANTS}
    reference = (wall["mse"], cpu["mse"], steps)
    return {
        "steps_per_block": steps, "rounds": rounds, "instances": instances,
        "load": common.load_summary(loads),
        "variants": {
            v: common.block_summary(wall[v], cpu[v], steps, None if v == "mse" else reference)
            for v in VARIANTS
        },
    }


def markdown(info, results, config):
    rows = []
    for mode, result in results.items():
        for variant in VARIANTS:
            entry = result["variants"][variant]
            if variant == "mse":
                ratio_wall = ratio_cpu = "1 (reference)"
            else:
                rw, rc = entry["ratio_wall"], entry["ratio_cpu"]
                ratio_wall = (f"{rw['median_paired_ratio']:.3f} "
                              f"[{rw['paired_ratio_p25']:.3f}, {rw['paired_ratio_p75']:.3f}]")
                ratio_cpu = (f"{rc['median_paired_ratio']:.3f} "
                             f"[{rc['paired_ratio_p25']:.3f}, {rc['paired_ratio_p75']:.3f}]")
            rows.append([mode, variant, f"{entry['wall']['median_ms']:.3f}",
                         f"{entry['cpu']['median_ms']:.3f}", ratio_wall, ratio_cpu])
    return "\n".join([
        "# Evidential regression train step vs MSE",
        "",
        f"Network: {config['inputs']} inputs, hidden {config['hidden']} ReLU, batch "
        f"{config['batch_size']}, Adam. Ratio: median over {config['rounds']} interleaved rounds "
        "of the paired ratio to the MSE step of the same round [quartiles]. Target: NIG / MSE "
        "<= 1.05.",
        "",
        common.markdown_table(
            ["mode", "variant", "wall ms/step", "CPU ms/step", "wall ratio to MSE",
             "CPU ratio to MSE"], rows),
        "",
        common.machine_markdown(info),
        "- load average during rounds: "
        + "; ".join(f"{m} {r['load']}" for m, r in results.items()),
    ])


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], argv=argv)
    config = {"inputs": 64, "hidden": [512, 512], "batch_size": 1024,
              "rounds": 15, "block_seconds": 0.5, "warmup": 5, "instances": 2}
    if args.smoke:
        config.update(hidden=[16, 16], batch_size=32, rounds=2, block_seconds=0.02,
                      warmup=2, instances=1)
    info = common.machine_info()
    rng = np.random.default_rng(0)
    n = config["batch_size"] * 8
    x = rng.normal(size=(n, config["inputs"])).astype("float32")
    y = (x[:, :1] ** 2 + rng.normal(size=(n, 1))).astype("float32")
    results = {}
    for mode in MODES:
        print(f"{mode}:", flush=True)
        results[mode] = bench_mode(mode, x, y, config["hidden"], config["batch_size"],
                                   config["rounds"], config["block_seconds"],
                                   config["warmup"], config["instances"])
    payload = {"machine": info, "config": config, "results": results}
    name = NAME + ("_smoke" if args.smoke else "")
    common.write_results(args.out, name, payload, markdown(info, results, config))


if __name__ == "__main__":
    main()
