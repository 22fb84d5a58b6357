"""m-EDL training step: a loss written the way the m-EDL author's code does vs ours.

The author's public Keras code (naga0862/m-EDL) computes the m-EDL loss with
a `.numpy()` call inside the loss, so the model must be compiled with
`run_eagerly=True`: every step runs op by op from Python. The
`author_style_loss` below reproduces that structure from the m-EDL paper's
description of the loss (it is not the author's code): the last layer is
`Dense(K + 1, relu)`, the loss drops the last unit, reads K through NumPy,
appends `alpha_u = K + 1` and computes the sum-of-squares risk plus 0.1 times
the KL term over K + 1 classes, averaged over the batch.

Ours is the same network written with the library (`Dense(K)`,
`DirichletOutput`, `UnknownClassHead`, `EDLLoss(kl_weight=0.1)`), compiled in
graph mode and with XLA. Blocks of steps of the three alternate in one
process; the result is the speed-up per step (author / ours).

Run: `python benchmarks/bench_author_loss.py` (about 2 minutes), or `--smoke`.
"""

import sys

import numpy as np

import common

KL_WEIGHT = 0.1


def author_style_loss(y_true, y_pred):
    """m-EDL loss with a NumPy round trip, as in the author's code (eager only)."""
    import tensorflow as tf

    evidence = y_pred[:, :-1]
    num_known = evidence.numpy().shape[1]
    alpha = evidence + 1.0
    alpha_u = np.full((alpha.shape[0], 1), num_known + 1.0, dtype=np.float32)
    alpha = tf.concat([alpha, alpha_u], axis=1)
    num_total = alpha.shape[1]
    s = tf.reduce_sum(alpha, axis=1, keepdims=True)
    p = alpha / s
    risk = tf.reduce_sum(
        tf.square(y_true - p) + p * (1.0 - p) / (s + 1.0), axis=1
    )
    alpha_tilde = y_true + (1.0 - y_true) * alpha
    s_tilde = tf.reduce_sum(alpha_tilde, axis=1, keepdims=True)
    kl = (
        tf.math.lgamma(s_tilde[:, 0])
        - tf.math.lgamma(tf.constant(float(num_total)))
        - tf.reduce_sum(tf.math.lgamma(alpha_tilde), axis=1)
        + tf.reduce_sum(
            (alpha_tilde - 1.0)
            * (tf.math.digamma(alpha_tilde) - tf.math.digamma(s_tilde)),
            axis=1,
        )
    )
    return tf.reduce_mean(risk + KL_WEIGHT * kl)


def author_model(hidden, num_classes=10, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((784,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(num_classes + 1, activation="relu"))
    return keras.Sequential(layers)


def make_runner(x, y_plus, batch_size, variant, hidden):
    import keras

    from keras_evidential.losses import EDLLoss

    if variant == "author_eager":
        model = author_model(hidden)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=author_style_loss,
            run_eagerly=True,
        )
    else:
        model = common.build_network(hidden, "medl")
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=EDLLoss(risk="mse", kl_weight=KL_WEIGHT),
            jit_compile=variant == "ours_xla",
        )
    iterator = common.cycling_batches(x, y_plus, batch_size)
    model.make_train_function()
    train_function = model.train_function

    def run(steps):
        for _ in range(steps):
            logs = train_function(iterator)
        float(logs["loss"])

    return run


VARIANTS = ("author_eager", "ours_graph", "ours_xla")


def main(argv=None):
    def add(parser):
        parser.add_argument("--rounds", type=int, default=0)
        parser.add_argument("--name", default="author_loss")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    x, y, _, _, source = common.load_mnist(
        args.data_dir, limit=2048 if args.smoke else None
    )
    y_plus = np.eye(11, dtype="float32")[y]
    info = common.machine_info(args.command)
    hidden = (32, 32)
    batch_size = 64
    rounds = args.rounds or (2 if args.smoke else 30)
    warmup = 2 if args.smoke else 30
    # Seconds of work per block, per variant: the eager loop is much slower,
    # so its blocks hold fewer steps; times are compared per step.
    block_seconds = 0.01 if args.smoke else 0.25
    runners, steps = {}, {}
    for variant in VARIANTS:
        print(f"{variant}: compiling and warming up", flush=True)
        run = make_runner(x, y_plus, batch_size, variant, hidden)
        run(warmup)
        probe_steps = max(1, warmup // 3)
        probe = []
        for _ in range(3):
            start = common.timer()
            run(probe_steps)
            probe.append(common.timer() - start)
        steps[variant] = max(1, int(round(block_seconds * probe_steps / min(probe))))
        runners[variant] = run
    blocks = {v: (lambda r=runners[v], n=steps[v]: r(n)) for v in VARIANTS}
    wall, cpu, loads = common.interleave(
        blocks, rounds, log_every=max(1, rounds // 5)
    )
    stats = {}
    for v in VARIANTS:
        # Ratios are author / ours: the speed-up of ours.
        stats[v] = common.block_summary(wall[v], cpu[v], steps[v])
        if v != "author_eager":
            stats[v]["speedup_wall"] = common.ratios(
                wall["author_eager"], wall[v], steps["author_eager"], steps[v]
            )
            stats[v]["speedup_cpu"] = common.ratios(
                cpu["author_eager"], cpu[v], steps["author_eager"], steps[v]
            )
    steps_per_epoch = 54000 // batch_size  # 60,000 samples, validation_split 0.1
    for v in VARIANTS:
        stats[v]["epoch_seconds_estimate_wall"] = round(
            stats[v]["wall"]["median_ms"] * steps_per_epoch / 1e3, 2
        )
        line = f"  {v:14s} wall {stats[v]['wall']['median_ms']:8.3f} ms/step"
        line += f"  CPU {stats[v]['cpu']['median_ms']:8.3f} ms/step"
        if v != "author_eager":
            line += (
                f"  speed-up wall {stats[v]['speedup_wall']['median_paired_ratio']:.2f}x"
                f" CPU {stats[v]['speedup_cpu']['median_paired_ratio']:.2f}x"
            )
        print(line, flush=True)
    payload = {
        "benchmark": "author_loss",
        "smoke": args.smoke,
        "data": source,
        "network": {"hidden": hidden, "batch_size": batch_size},
        "machine": info,
        "load": common.load_summary(loads),
        "loads_per_round": loads,
        "steps_per_epoch": steps_per_epoch,
        "variants": stats,
    }
    def speedup(v, kind):
        if v == "author_eager":
            return "1 (reference)"
        r = stats[v][f"speedup_{kind}"]
        return (
            f"{r['median_paired_ratio']:.2f}x [{r['paired_ratio_p25']:.2f}, "
            f"{r['paired_ratio_p75']:.2f}]"
        )

    rows = [
        [
            v,
            f"{stats[v]['wall']['median_ms']:.3f}",
            speedup(v, "wall"),
            f"{stats[v]['cpu']['median_ms']:.3f}",
            speedup(v, "cpu"),
            stats[v]["epoch_seconds_estimate_wall"],
        ]
        for v in VARIANTS
    ]
    md = "\n\n".join(
        [
            "# m-EDL training step: the author's eager NumPy-in-the-loss vs EDLLoss",
            common.machine_markdown(info),
            f"Network 784 -> 32 -> 32 -> 10 (+u), batch {batch_size}, Adam(1e-3), "
            f"KL weight {KL_WEIGHT}, data: {source}. `author_eager`: a loss written "
            "like the m-EDL author's (a `.numpy()` call inside, so "
            "`run_eagerly=True`); `ours_*`: `DirichletOutput` + "
            "`UnknownClassHead` + `EDLLoss`. Speed-up = author step time / ours, "
            "median of per-round ratios [IQR], from wall-clock time and from the "
            "process's CPU time. Epoch estimate: "
            f"{steps_per_epoch} steps (54,000 training samples). Load (1-min) "
            f"median {payload['load']['median']} (range {payload['load']['min']}"
            f"-{payload['load']['max']}).",
            common.markdown_table(
                [
                    "variant",
                    "wall ms/step",
                    "speed-up (wall) [IQR]",
                    "CPU ms/step",
                    "speed-up (CPU) [IQR]",
                    "s/epoch (wall, est.)",
                ],
                rows,
            ),
        ]
    )
    common.write_results(args.out, args.name, payload, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
