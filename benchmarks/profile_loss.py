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
  is what graph mode needs (see docs/performance.md).

Run: `python benchmarks/profile_loss.py` (about a minute), `--smoke`.
"""

import collections
import sys

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


def op_chain(num_ops, jit_compile):
    """A tf.function of the loss's signature running `num_ops` trivial ops.

    Multiply and add by the function's own inputs (not constants, which
    Grappler's arithmetic optimiser would fold), so the traced graph keeps
    every op; returns `(value, gradient)`-shaped outputs like the losses.
    """
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def fn(y, z):
        x = z
        for i in range(num_ops - 1):
            x = x * y if i % 2 == 0 else x + z
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
        y = tf.constant(np.eye(11 if head == "medl" else 10, dtype="float32")[labels])
        total, by_type = op_counts(loss_and_gradient(head, spec, False), y, z)
        results["op_counts"][name] = {"total": total, "by_type": by_type}
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
            for name, (head, spec) in {**VARIANTS, **PART_VARIANTS, **chains}.items():
                width = 11 if head == "medl" else 10
                y = tf.constant(np.eye(width, dtype="float32")[labels])
                if head == "chain":
                    fn = op_chain(results["op_counts"][spec]["total"], jit)
                    y = tf.ones_like(z)
                else:
                    fn = loss_and_gradient(head, spec, jit)
                if head == "chain":
                    total, by_type = op_counts(fn, y, z)
                    results["op_counts"][name] = {"total": total, "by_type": by_type}
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
