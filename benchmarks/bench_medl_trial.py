"""Time of one full m-EDL trial (the paper's protocol), and the levers that cut it.

One trial, as in the m-EDL paper and its author's code: 60,000 training
samples (MNIST plus Fashion-MNIST as the unknown class u at mix rate 0.25,
shuffled and subsampled), the MLP 784 -> 32 -> 32 -> 10 + u, Adam(1e-3),
batch 64, `validation_split=0.1`, `EarlyStopping(val_loss, patience=3,
min_delta=0.001)`, at most 100 epochs, KL weight 0.1, then the prediction on
10,000 test samples. Configurations (the training is the same; only the
execution differs):

- `graph`: `model.fit` on NumPy arrays, `jit_compile=False`.
- `xla`: the same with `jit_compile=True` (Keras's default "auto" picks this
  only where TF sees a GPU/TPU; on a CPU-only machine it resolves to `graph`).
- `graph_spe32` / `xla_spe32`: `steps_per_execution=32` (32 steps per call
  into the compiled function: less Python and dispatch overhead per step).
- `tfdata_xla_spe32`: a `tf.data` pipeline (in-memory tensors, shuffled per
  epoch, batched, prefetched) instead of NumPy arrays, with XLA and
  `steps_per_execution=32`.

The per-epoch EDL / CE comparison of the same network, and of these
compile levers, is `bench_fit_epoch.py`; this script times whole trials.

Trials of the configurations alternate (ABC..CBA) so that a load trend on the
shared machine hits all of them alike. Every trial uses the same seed.

Run: `python benchmarks/bench_medl_trial.py` (several minutes), `--smoke`.
"""

import sys

import numpy as np

import common

CONFIGS = {
    "graph": {"jit_compile": False, "steps_per_execution": 1, "tf_data": False},
    "xla": {"jit_compile": True, "steps_per_execution": 1, "tf_data": False},
    "graph_spe32": {"jit_compile": False, "steps_per_execution": 32, "tf_data": False},
    "xla_spe32": {"jit_compile": True, "steps_per_execution": 32, "tf_data": False},
    "tfdata_graph_spe32": {
        "jit_compile": False,
        "steps_per_execution": 32,
        "tf_data": True,
    },
    "tfdata_xla_spe32": {
        "jit_compile": True,
        "steps_per_execution": 32,
        "tf_data": True,
    },
}

KL_WEIGHT = 0.1
BATCH_SIZE = 64


def mixed_data(data_dir, rate, train_size, test_size, seed, smoke):
    """The paper's mixing: add int(rate * n) u samples, shuffle, subsample."""
    limit = 3000 if smoke else None
    x_train, y_train, x_test, y_test, source = common.load_mnist(data_dir, limit)
    u_all, u_source = common.load_unknown_class(data_dir, limit=None)
    rng = np.random.default_rng(seed)
    u_order = rng.permutation(len(u_all))

    def mix(x, y, u, size):
        n_u = int(rate * len(x))
        x_all = np.concatenate([x, u[:n_u]])
        y_all = np.concatenate([y, np.full(n_u, 10, dtype=y.dtype)])
        keep = rng.permutation(len(x_all))[:size]
        return x_all[keep], y_all[keep]

    # Disjoint u images for the two sides.
    u_train = u_all[u_order[: len(u_all) // 2]]
    u_test = u_all[u_order[len(u_all) // 2 :]]
    x_tr, y_tr = mix(x_train, y_train, u_train, min(train_size, len(x_train)))
    x_te, y_te = mix(x_test, y_test, u_test, min(test_size, len(x_test)))
    return x_tr, y_tr, x_te, y_te, f"{source} + {u_source} as u (rate {rate})"


def run_trial(config, data, max_epochs, seed):
    import keras
    import tensorflow as tf

    from keras_evidential.losses import EDLLoss

    x_tr, y_tr, x_te, y_te = data
    model = common.build_network((32, 32), "medl", seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=EDLLoss(risk="mse", kl_weight=KL_WEIGHT),
        jit_compile=config["jit_compile"],
        steps_per_execution=config["steps_per_execution"],
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=3, min_delta=0.001
    )
    start_wall, start_cpu = common.timer(), common.process_time()
    if config["tf_data"]:
        # What `validation_split=0.1` does: the last 10% is validation.
        n_val = int(round(0.1 * len(x_tr)))
        n_fit = len(x_tr) - n_val
        train = (
            tf.data.Dataset.from_tensor_slices((x_tr[:n_fit], y_tr[:n_fit]))
            .shuffle(n_fit, seed=seed, reshuffle_each_iteration=True)
            .batch(BATCH_SIZE)
            .prefetch(tf.data.AUTOTUNE)
        )
        val = (
            tf.data.Dataset.from_tensor_slices((x_tr[n_fit:], y_tr[n_fit:]))
            .batch(BATCH_SIZE)
            .cache()
            .prefetch(tf.data.AUTOTUNE)
        )
        history = model.fit(
            train,
            validation_data=val,
            epochs=max_epochs,
            callbacks=[early_stopping],
            verbose=0,
        )
    else:
        history = model.fit(
            x_tr,
            y_tr,
            batch_size=BATCH_SIZE,
            validation_split=0.1,
            epochs=max_epochs,
            callbacks=[early_stopping],
            verbose=0,
        )
    fit_wall = common.timer() - start_wall
    alpha_plus = model.predict(x_te, batch_size=1024, verbose=0)
    wall = common.timer() - start_wall
    cpu = common.process_time() - start_cpu
    predicted = alpha_plus.argmax(axis=-1)
    epochs = len(history.history["loss"])
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "fit_wall_s": round(fit_wall, 2),
        "epochs": epochs,
        "wall_s_per_epoch": round(fit_wall / epochs, 3),
        "final_val_loss": round(float(history.history["val_loss"][-1]), 4),
        "test_accuracy_all": round(float(np.mean(predicted == y_te)), 4),
        "load_after": common.load_average(),
    }


def main(argv=None):
    def add(parser):
        parser.add_argument(
            "--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS)
        )
        parser.add_argument(
            "--repeats",
            type=int,
            default=1,
            help="trials per configuration (alternating order)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--max-epochs",
            type=int,
            default=100,
            help="cap (the protocol's 100; a small cap times the levers per epoch)",
        )
        parser.add_argument("--name", default="medl_trial")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    info = common.machine_info(args.command)
    x_tr, y_tr, x_te, y_te, source = mixed_data(
        args.data_dir, 0.25, 60000, 10000, args.seed, args.smoke
    )
    print(
        f"data: {source}: train {len(x_tr)} (u {np.mean(y_tr == 10):.1%}), "
        f"test {len(x_te)}; load {info['load_average_1_5_15']}",
        flush=True,
    )
    configs = args.configs
    if args.smoke:
        configs = configs[:1]
    max_epochs = 2 if args.smoke else args.max_epochs
    order = []
    for r in range(args.repeats):
        order += configs if r % 2 == 0 else configs[::-1]
    trials = {name: [] for name in configs}
    failures = {}
    for name in order:
        try:
            result = run_trial(
                CONFIGS[name], (x_tr, y_tr, x_te, y_te), max_epochs, args.seed
            )
        except Exception as error:  # one failing configuration must not lose the rest
            failures[name] = f"{type(error).__name__}: {str(error)[:300]}"
            print(f"  {name:18s} FAILED: {failures[name]}", flush=True)
            continue
        trials[name].append(result)
        print(
            f"  {name:18s} {result['wall_s']:7.1f} s wall ({result['cpu_s']:.1f} s "
            f"CPU), {result['epochs']} epochs, {result['wall_s_per_epoch']:.2f} "
            f"s/epoch, load {result['load_after']}",
            flush=True,
        )
    configs = [name for name in configs if trials[name]]
    summary = {}
    baseline = np.median([t["wall_s_per_epoch"] for t in trials[configs[0]]])
    for name in configs:
        per_epoch = float(np.median([t["wall_s_per_epoch"] for t in trials[name]]))
        summary[name] = {
            "wall_s_median": float(np.median([t["wall_s"] for t in trials[name]])),
            "cpu_s_median": float(np.median([t["cpu_s"] for t in trials[name]])),
            "wall_s_per_epoch_median": round(per_epoch, 3),
            "speedup_per_epoch_vs_" + configs[0]: round(baseline / per_epoch, 2),
            "epochs": [t["epochs"] for t in trials[name]],
        }
    payload = {
        "benchmark": args.name,
        "smoke": args.smoke,
        "data": source,
        "train_size": len(x_tr),
        "test_size": len(x_te),
        "protocol": {
            "batch_size": BATCH_SIZE,
            "validation_split": 0.1,
            "early_stopping": "val_loss, patience 3, min_delta 0.001",
            "max_epochs": max_epochs,
            "optimizer": "Adam(1e-3)",
            "kl_weight": KL_WEIGHT,
        },
        "configs": {name: CONFIGS[name] for name in configs},
        "machine": info,
        "target_seconds": 60,
        "trials": trials,
        "summary": summary,
        "failures": failures,
    }
    rows = [
        [
            name,
            f"{s['wall_s_median']:.1f}",
            f"{s['cpu_s_median']:.1f}",
            ", ".join(str(e) for e in s["epochs"]),
            f"{s['wall_s_per_epoch_median']:.2f}",
            f"{s['speedup_per_epoch_vs_' + configs[0]]:.2f}x",
            ("yes" if s["wall_s_median"] < 60 else "NO")
            if max_epochs == 100
            else f"- ({max_epochs}-epoch cap)",
            ", ".join(str(t["load_after"]) for t in trials[name]),
        ]
        for name, s in summary.items()
    ]
    md = "\n\n".join(
        [
            "# One full m-EDL trial (paper protocol)",
            common.machine_markdown(info),
            f"Data: {source}; {len(x_tr)} training samples (10% validation), "
            f"{len(x_te)} test samples. MLP 784-32-32-10+u, batch {BATCH_SIZE}, "
            "Adam(1e-3), KL 0.1, EarlyStopping(val_loss, patience 3, min_delta "
            f"0.001), max {max_epochs} epochs, `verbose=0`; time = fit + predict on "
            "the test "
            "set. Same seed in every trial, so the epoch counts show whether a "
            "configuration changed the training (XLA may change rounding).",
            common.markdown_table(
                [
                    "configuration",
                    "trial wall s",
                    "trial CPU s",
                    "epochs",
                    "wall s/epoch",
                    f"speed-up per epoch vs {configs[0]}",
                    "< 60 s",
                    "load after each trial",
                ],
                rows,
            ),
            "The machine is shared with other jobs (2 cores): the load column is "
            "the 1-minute load average after each trial.",
        ]
        + [f"FAILED `{name}`: {message}" for name, message in failures.items()]
    )
    common.write_results(args.out, args.name, payload, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
