"""Where the EDL loss's time goes: op counts and the loss + gradient alone.

For each loss (the same variants as `bench_train_step.py`) this traces the
loss and its gradient with respect to the last layer's output (the part of a
train step that differs between EDL and CE), and reports

- the number of ops in the traced graph, by type (graph mode runs every op
  through TensorFlow's executor; whether their number or their kind decides
  the step time on a small network is what the `chain_<n>` rows test);
- the time of that function alone, in graph mode and with XLA, interleaved
  with the CE version, per batch size;
- the same for `chain_<n>`: n trivial elementwise ops (multiply and add by
  input tensors, which Grappler cannot fold) on the same `(batch, K)` tensor,
  with n the op counts of the CE and of the EDL rows. If
  `chain_<EDL ops> - chain_<CE ops>` is about `edl - ce`, the gap is the
  executor's cost per op, not the arithmetic: fewer ops, not cheaper maths,
  is what graph mode needs (see docs/performance.md);
- the kernels that TensorFlow's executor runs per call after Grappler,
  read from TensorFlow's profiler (`tf.profiler.experimental`): their
  number and their summed time, by op type, for the CE, the EDL rows, the KL
  alone and the op chains, including `chain_broadcast_<n>`, whose ops
  broadcast a `(batch, 1)` column and a scalar as the loss's ops do. This
  tells whether a kernel's cost depends on its kind (broadcasting or not).

Run: `python benchmarks/profile_loss.py` (about a minute), `--smoke`.
"""

import collections
import sys
from pathlib import Path

import numpy as np

import common
from bench_train_step import VARIANTS
from bench_train_step import make_loss


def kl_term():
    """Only EDL's KL term, as `EDLLoss` calls it (with its closed-form gradient)."""
    from keras import ops

    from keras_evidential.dirichlet import misleading_evidence_kl

    def loss(y, alpha):
        return ops.mean(misleading_evidence_kl(y, alpha))

    return loss


def risk_term(checked):
    """Only the sum-of-squares risk, with or without the value check."""
    from keras import ops

    from keras_evidential.dirichlet import sum_of_squares_risk
    from keras_evidential.validation import check_concentrations

    def loss(y, alpha):
        if checked:
            check_concentrations(alpha)
        return ops.mean(sum_of_squares_risk(y, alpha))

    return loss


# Extra rows, the parts of `edl_mse_kl`: the KL term alone, the risk alone,
# the risk with the value check.
PART_VARIANTS = {
    "kl_only": ("edl", "kl"),
    "mse_risk_only": ("edl", "risk"),
    "mse_risk_checked": ("edl", "risk_checked"),
}
PART_LOSSES = {
    "kl": kl_term,
    "risk": lambda: risk_term(checked=False),
    "risk_checked": lambda: risk_term(checked=True),
}


def op_chain(num_ops, jit_compile, broadcast=False):
    """A tf.function of the loss's signature running `num_ops` trivial ops.

    Multiply and add by the function's own inputs (not constants, which
    Grappler's arithmetic optimiser would fold), so the traced graph keeps
    every op; returns `(value, gradient)`-shaped outputs like the losses.
    With `broadcast`, the factors are a `(batch, 1)` column and a scalar
    taken from `y` (as the loss multiplies by `S` and by its weights).
    """
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def fn(y, z):
        if broadcast:
            factor, term = y[:, :1], y[0, 0]
        else:
            factor, term = y, z
        x = z
        for i in range(num_ops - 1):
            x = x * factor if i % 2 == 0 else x + term
        return tf.reduce_sum(x), x

    return fn


def loss_and_gradient(head, loss_spec, jit_compile):
    """A tf.function: last Dense output z -> (loss, d loss / d z)."""
    import keras
    import tensorflow as tf

    from keras_evidential.layers import DirichletOutput
    from keras_evidential.layers import UnknownClassHead

    if head == "softmax":
        layers = [keras.layers.Activation("softmax")]
    else:
        layers = [DirichletOutput(evidence="relu")]
        if head == "medl":
            layers.append(UnknownClassHead())
    if isinstance(loss_spec, str):
        loss = PART_LOSSES[loss_spec]()
    else:
        loss = make_loss(loss_spec)

    @tf.function(jit_compile=jit_compile)
    def fn(y, z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            out = z
            for layer in layers:
                out = layer(out)
            value = loss(y, out)
        return value, tape.gradient(value, z)

    return fn


# Profiler events that are the executor's bookkeeping, not kernels.
EXECUTOR_EVENTS = {"Process", "StartRegion", "Record", "ExecutorDoneCallback"}


def kernel_profile(fn, y, z, calls):
    """Kernels run per call of `fn(y, z)`, from TensorFlow's profiler.

    Returns the number of kernels per call, their summed time per call in
    microseconds, the time of the whole function run (`FunctionRun`) and the
    same per op type. Kernel times are measured with the profiler on, which
    adds a little to each; they are compared between rows of one run.
    """
    import tempfile

    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    for _ in range(10):
        fn(y, z)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(calls):
            _, grad = fn(y, z)
        grad.numpy()
        tf.profiler.experimental.stop()
        (path,) = Path(logdir).rglob("*.xplane.pb")
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
    kernel_ps = collections.Counter()
    kernel_count = collections.Counter()
    function_run_ps = 0
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name.split(":")[-1]
                if line.name == "python" and name == "FunctionRun":
                    function_run_ps += event.duration_ps
                elif line.name.startswith("tf_Compute") and name not in EXECUTOR_EVENTS:
                    kernel_ps[name] += event.duration_ps
                    kernel_count[name] += 1
    us = 1e-6 / calls
    return {
        "kernels_per_call": sum(kernel_count.values()) / calls,
        "kernel_us_per_call": sum(kernel_ps.values()) * us,
        "function_run_us_per_call": function_run_ps * us,
        "by_type": {
            name: {"count": kernel_count[name] / calls, "us": ps * us}
            for name, ps in kernel_ps.most_common()
        },
    }


def targets(head, labels, z):
    """The `y` a row's function takes: one-hot labels (m-EDL: K + 1 columns),
    or ones like `z` for the op chains."""
    import tensorflow as tf

    if head.startswith("chain"):
        return tf.ones_like(z)
    return tf.constant(np.eye(11 if head == "medl" else 10, dtype="float32")[labels])


def op_counts(fn, y, z):
    graph = fn.get_concrete_function(y, z).graph
    counts = collections.Counter(op.type for op in graph.get_operations())
    ignored = {"Placeholder", "NoOp", "Identity", "Const"}
    return sum(n for t, n in counts.items() if t not in ignored), dict(counts)


def main(argv=None):
    def add(parser):
        parser.add_argument("--rounds", type=int, default=0)
        parser.add_argument(
            "--modes", nargs="+", default=["graph", "xla"], choices=["graph", "xla"]
        )
        parser.add_argument("--name", default="profile_loss")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    import tensorflow as tf

    info = common.machine_info(args.command)
    rng = np.random.default_rng(0)
    batch_sizes = (64,) if args.smoke else (64, 1024)
    rounds = args.rounds or (2 if args.smoke else 30)
    results = {"op_counts": {}, "timing": {}}
    # The op counts first (batch 64, graph mode), so that the op chains of
    # the timing runs can match them.
    labels = rng.integers(0, 10, 64)
    z = tf.constant(rng.normal(0, 3, (64, 10)).astype("float32"))
    for name, (head, spec) in {**VARIANTS, **PART_VARIANTS}.items():
        y = targets(head, labels, z)
        total, by_type = op_counts(loss_and_gradient(head, spec, False), y, z)
        results["op_counts"][name] = {"total": total, "by_type": by_type}
    # The kernels behind those ops (batch 64, graph mode).
    edl_ops = results["op_counts"]["edl_mse_kl"]["total"]
    ce_ops = results["op_counts"]["ce"]["total"]
    profiled = {
        name: loss_and_gradient(*({**VARIANTS, **PART_VARIANTS}[name]), False)
        for name in ("ce", "edl_mse_kl", "medl_mse_kl", "kl_only")
    }
    profiled[f"chain_{ce_ops}"] = op_chain(ce_ops, False)
    profiled[f"chain_{edl_ops}"] = op_chain(edl_ops, False)
    profiled[f"chain_broadcast_{edl_ops}"] = op_chain(edl_ops, False, broadcast=True)
    results["kernels"] = {}
    for name, fn in profiled.items():
        head = VARIANTS.get(name, PART_VARIANTS.get(name, ("chain",)))[0]
        y = targets(head, labels, z)
        results["kernels"][name] = kernel_profile(fn, y, z, 5 if args.smoke else 400)
        entry = results["kernels"][name]
        print(
            f"kernels {name}: {entry['kernels_per_call']:.0f} per call, "
            f"{entry['kernel_us_per_call']:.0f} us",
            flush=True,
        )
    for batch_size in batch_sizes:
        labels = rng.integers(0, 10, batch_size)
        z = tf.constant(rng.normal(0, 3, (batch_size, 10)).astype("float32"))
        for mode in args.modes[:1] if args.smoke else args.modes:
            jit = mode == "xla"
            fns = {}
            chains = {}
            if mode == "graph":
                # As many trivial ops as the CE and the EDL (mse, KL) rows.
                chains = {
                    f"chain_{results['op_counts'][name]['total']}": ("chain", name)
                    for name in ("ce", "edl_mse_kl")
                }
                chains[f"chain_broadcast_{edl_ops}"] = ("chain_broadcast", "edl_mse_kl")
            for name, (head, spec) in {**VARIANTS, **PART_VARIANTS, **chains}.items():
                y = targets(head, labels, z)
                if head.startswith("chain"):
                    fn = op_chain(
                        results["op_counts"][spec]["total"],
                        jit,
                        broadcast=head == "chain_broadcast",
                    )
                    total, by_type = op_counts(fn, y, z)
                    results["op_counts"][name] = {"total": total, "by_type": by_type}
                else:
                    fn = loss_and_gradient(head, spec, jit)
                fn(y, z)

                def call(n=0, fn=fn, y=y):
                    for _ in range(n):
                        value, grad = fn(y, z)
                    grad.numpy()

                fns[name] = call
            start = common.timer()
            fns["ce"](20)
            per_call = (common.timer() - start) / 20
            n = max(1, int(round((0.002 if args.smoke else 0.05) / per_call)))
            blocks = {name: (lambda c=c: c(n)) for name, c in fns.items()}
            wall, cpu, loads = common.interleave(blocks, rounds)
            reference = (wall["ce"], cpu["ce"], n)
            key = f"batch_{batch_size}/{mode}"
            results["timing"][key] = {
                name: common.block_summary(
                    wall[name], cpu[name], n, None if name == "ce" else reference
                )
                for name in fns
            }
            results["timing"][key]["load"] = common.load_summary(loads)
            print(
                key
                + ": "
                + ", ".join(
                    f"{name} {results['timing'][key][name]['cpu']['median_ms'] * 1e3:.0f} us"
                    for name in fns
                ),
                flush=True,
            )
    payload = {
        "benchmark": "profile_loss",
        "smoke": args.smoke,
        "machine": info,
        "results": results,
    }
    op_rows = [
        [
            name,
            entry["total"],
            ", ".join(
                f"{t} {n}"
                for t, n in sorted(entry["by_type"].items(), key=lambda kv: -kv[1])[:8]
                if t not in ("Placeholder", "NoOp", "Identity", "Const")
            ),
        ]
        for name, entry in results["op_counts"].items()
    ]
    kernel_rows = [
        [
            name,
            f"{entry['kernels_per_call']:.0f}",
            f"{entry['kernel_us_per_call']:.0f}",
            f"{entry['kernel_us_per_call'] / max(entry['kernels_per_call'], 1):.2f}",
            f"{entry['function_run_us_per_call']:.0f}",
            ", ".join(
                f"{t} {v['count']:.0f}x {v['us']:.0f} us"
                for t, v in list(entry["by_type"].items())[:5]
            ),
        ]
        for name, entry in results["kernels"].items()
    ]
    time_rows = []
    for key, group in results["timing"].items():
        for name, entry in group.items():
            if name in ("ce", "load"):
                continue
            time_rows.append(
                [
                    key,
                    name,
                    f"{entry['cpu']['median_ms'] * 1e3:.0f} / "
                    f"{group['ce']['cpu']['median_ms'] * 1e3:.0f}",
                    f"{(entry['cpu']['median_ms'] - group['ce']['cpu']['median_ms']) * 1e3:.0f}",
                    f"{entry['ratio_cpu']['median_paired_ratio']:.2f}",
                    group["load"]["median"],
                ]
            )
    md = "\n\n".join(
        [
            "# Profile: the loss and its gradient alone",
            common.machine_markdown(info),
            "Ops in the traced graph of loss + gradient w.r.t. the last layer's "
            "output (batch 64, graph mode; Placeholder, Const, Identity and NoOp "
            "not counted), and the CPU time of that function, interleaved with the "
            "CE version (softmax + `CategoricalCrossentropy`). The `edl_*` and "
            "`medl_*` rows run `EDLLoss` (its `keras.ops` functions, the "
            "library's one implementation). `kl_only`: the KL term alone "
            "(`misleading_evidence_kl`, with its closed-form gradient); "
            "`mse_risk_only`: the sum-of-squares risk alone; "
            "`mse_risk_checked`: the same after the value check on alpha "
            "(`check_concentrations`), as `EDLLoss` runs it.",
            common.markdown_table(["loss", "ops", "most frequent op types"], op_rows),
            "Kernels per call after Grappler, batch 64, graph mode, read from "
            "TensorFlow's profiler (the profiler on adds to each kernel's "
            "time: compare rows, not absolute figures). `FunctionRun`: the "
            "executor's run of the whole function. `chain_broadcast_<n>`: the "
            "`chain_<n>` ops with a `(batch, 1)` column and a scalar as "
            "factors, as the loss's ops have.",
            common.markdown_table(
                [
                    "row",
                    "kernels per call",
                    "kernel us per call",
                    "us per kernel",
                    "FunctionRun us",
                    "op types with the most time",
                ],
                kernel_rows,
            ),
            common.markdown_table(
                [
                    "batch/mode",
                    "loss",
                    "CPU us per call, loss / CE",
                    "extra us",
                    "ratio",
                    "load",
                ],
                time_rows,
            ),
        ]
    )
    common.write_results(args.out, args.name, payload, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
