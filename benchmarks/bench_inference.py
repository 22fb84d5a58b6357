"""Serving latency: the exported Dirichlet serving head vs a plain softmax export.

The same network (same hidden weights) is exported several ways and each
SavedModel is loaded back with `tf.saved_model.load`, as a server would:

- `softmax`: `Dense(K, softmax)` exported with `model.export` (its
  `serving_default` returns the probabilities);
- `edl`: `Dense(K) -> DirichletOutput` exported with
  `keras_evidential.export.export_saved_model` (probabilities, uncertainty,
  alpha, class index and class label);
- `medl`: the same with `UnknownClassHead` (K + 1 outputs);
- `edl_probabilities_uncertainty`, `medl_probabilities`: the same exports
  with `outputs=...`, serving only what a caller of the softmax model reads
  (plus the uncertainty for EDL; m-EDL's probabilities include the unknown
  class): the cost of the Dirichlet arithmetic without that of the serving
  head's extra outputs.

For each batch size (1, 32, 1024) blocks of calls of every variant's
`serving_default` signature alternate; the result is the median latency
per call, the throughput (samples per second) and the ratio to `softmax`.

Run: `python benchmarks/bench_inference.py` (about 2 minutes), `--smoke`.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import common

NETWORKS = {"mlp_32x32": (32, 32), "wide_512x512": (512, 512)}
BATCH_SIZES = (1, 32, 1024)
# variant: (network head, outputs served by `export_saved_model`)
VARIANTS = {
    "softmax": ("softmax", None),
    "edl": ("edl", None),
    "medl": ("medl", None),
    "edl_probabilities_uncertainty": ("edl", ("probabilities", "uncertainty")),
    "medl_probabilities": ("medl", ("probabilities",)),
}


def export(model, variant, path):
    """Writes the SavedModel of one variant; returns the folder to load."""
    from keras_evidential.export import export_saved_model

    if variant == "softmax":
        model.export(str(path), format="tf_saved_model", verbose=False)
        return path
    _, outputs = VARIANTS[variant]
    return Path(export_saved_model(model, path, version=1, outputs=outputs))


def loaded_signature(path):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    _, kwargs = signature.structured_input_signature
    (input_name,) = kwargs
    return loaded, signature, input_name


def main(argv=None):
    def add(parser):
        parser.add_argument("--rounds", type=int, default=0)
        parser.add_argument(
            "--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS)
        )
        parser.add_argument("--name", default="inference")

    args = common.parse_args(__doc__.splitlines()[0], add, argv, script=__file__)
    import tensorflow as tf

    info = common.machine_info(args.command)
    _, _, x_test, _, source = common.load_mnist(args.data_dir, limit=2048)
    networks = args.networks[:1] if args.smoke else args.networks
    batch_sizes = (1, 32) if args.smoke else BATCH_SIZES
    rounds = args.rounds or (2 if args.smoke else 30)
    block_seconds = 0.01 if args.smoke else 0.1
    results = {}
    keep_alive = []
    with tempfile.TemporaryDirectory() as tmp:
        for network_name in networks:
            hidden = NETWORKS[network_name]
            signatures = {}
            for variant in VARIANTS:
                head, _ = VARIANTS[variant]
                model = common.build_network(hidden, head)
                path = export(model, variant, Path(tmp) / f"{network_name}_{variant}")
                loaded, signature, input_name = loaded_signature(path)
                keep_alive.append(loaded)
                signatures[variant] = (signature, input_name)
            for batch_size in batch_sizes:
                x = tf.constant(np.resize(x_test, (batch_size, 784)))
                calls = {}
                for variant, (signature, input_name) in signatures.items():

                    def call(n, signature=signature, input_name=input_name):
                        for _ in range(n):
                            outputs = signature(**{input_name: x})
                        for value in outputs.values():
                            value.numpy()

                    call(20 if not args.smoke else 1)
                    calls[variant] = call
                start = common.timer()
                calls["softmax"](5)
                per_call = (common.timer() - start) / 5
                n = max(1, int(round(block_seconds / per_call)))
                blocks = {v: (lambda c=calls[v]: c(n)) for v in VARIANTS}
                wall, cpu, loads = common.interleave(blocks, rounds)
                key = f"{network_name}/batch_{batch_size}"
                group = {
                    "batch_size": batch_size,
                    "calls_per_block": n,
                    "rounds": rounds,
                    "load": common.load_summary(loads),
                    "variants": {},
                }
                reference = (wall["softmax"], cpu["softmax"], n)
                for v in VARIANTS:
                    entry = common.block_summary(
                        wall[v], cpu[v], n, None if v == "softmax" else reference
                    )
                    entry["throughput_per_s"] = round(
                        batch_size / (entry["wall"]["median_ms"] / 1e3), 1
                    )
                    group["variants"][v] = entry
                results[key] = group
                line = ", ".join(
                    f"{v} {group['variants'][v]['wall']['median_ms']:.3f} ms"
                    for v in VARIANTS
                )
                print(f"{key}: {line}; load {group['load']['median']}", flush=True)
    payload = {
        "benchmark": "inference",
        "smoke": args.smoke,
        "exporter": "keras_evidential.export.export_saved_model",
        "machine": info,
        "target_ratio": 1.05,
        "results": results,
    }
    rows = []
    for key, group in results.items():
        network, batch = key.split("/")
        soft = group["variants"]["softmax"]
        for v in list(VARIANTS)[1:]:
            e = group["variants"][v]
            rw, rc = e["ratio_wall"], e["ratio_cpu"]
            rows.append(
                [
                    network,
                    group["batch_size"],
                    v,
                    f"{e['wall']['median_ms']:.3f} / {soft['wall']['median_ms']:.3f}",
                    f"{rw['median_paired_ratio']:.3f} [{rw['paired_ratio_p25']:.3f}, "
                    f"{rw['paired_ratio_p75']:.3f}]",
                    f"{rc['median_paired_ratio']:.3f} [{rc['paired_ratio_p25']:.3f}, "
                    f"{rc['paired_ratio_p75']:.3f}]",
                    f"{e['throughput_per_s']:.0f} / {soft['throughput_per_s']:.0f}",
                    group["load"]["median"],
                ]
            )
    md = "\n\n".join(
        [
            "# Serving: Dirichlet serving head vs plain softmax export",
            common.machine_markdown(info),
            f"Exporter of the evidential models: {payload['exporter']}; the softmax "
            "model with `model.export`. Each SavedModel is loaded with "
            "`tf.saved_model.load` and its `serving_default` signature called on a "
            "float32 batch; all outputs are fetched. Latency = median wall time per "
            "call over interleaved blocks; ratio = median over rounds of (evidential "
            "/ softmax) [IQR], from wall and from process CPU time. "
            "`edl`, `medl`: all five serving outputs (probabilities, uncertainty, "
            "alpha, class_index, class_label); `edl_probabilities_uncertainty`, "
            "`medl_probabilities`: the same models exported with "
            "`outputs=(...)`, serving only those (m-EDL's probabilities include "
            "the unknown class, so they alone answer 'unknown').",
            common.markdown_table(
                [
                    "network",
                    "batch",
                    "head",
                    "latency ms head / softmax",
                    "ratio wall [IQR]",
                    "ratio CPU [IQR]",
                    "samples/s head / softmax",
                    "load",
                ],
                rows,
            ),
        ]
    )
    common.write_results(args.out, args.name, payload, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
