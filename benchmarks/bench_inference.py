"""Serving latency: the exported Dirichlet serving head vs a plain softmax export.

The same network (same hidden weights) is exported three ways and each
SavedModel is loaded back with `tf.saved_model.load`, as a server would:

- `softmax`: `Dense(K, softmax)` exported with `model.export` (its
  `serving_default` returns the probabilities);
- `edl`: `Dense(K) -> DirichletOutput` exported with
  `keras_evidential.export.export_saved_model` (probabilities, uncertainty,
  alpha, class index and class label);
- `medl`: the same with `UnknownClassHead` (K + 1 outputs);
- `edl_probabilities`: the `edl` network behind an endpoint that returns only
  `expected_probability(alpha)`, the softmax export's single output: it
  separates the cost of the Dirichlet arithmetic from that of the serving
  head's four extra outputs.

For each batch size (1, 32, 1024) blocks of calls of the three
`serving_default` signatures alternate; the result is the median latency
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
VARIANTS = ("softmax", "edl", "medl", "edl_probabilities")


def exporter_description():
    try:
        from keras_evidential.export import export_saved_model  # noqa: F401
    except ImportError:
        return "keras.export.ExportArchive endpoint over keras_evidential.dirichlet"
    return "keras_evidential.export.export_saved_model"


def export(model, variant, path):
    """Writes the SavedModel of one variant; returns the folder to load."""
    if variant == "softmax":
        model.export(str(path), format="tf_saved_model", verbose=False)
        return path
    if variant == "edl_probabilities":
        return _export_fallback(model, variant, path, probabilities_only=True)
    try:
        from keras_evidential.export import export_saved_model
    except ImportError:
        return _export_fallback(model, variant, path)
    return Path(export_saved_model(model, path, version=1))


def _export_fallback(model, variant, path, probabilities_only=False):
    """A Dirichlet serving endpoint built from `keras_evidential.dirichlet`."""
    import keras
    import tensorflow as tf

    from keras_evidential import dirichlet

    def serve(x):
        alpha = model(x, training=False)
        known = alpha[:, :-1] if variant == "medl" else alpha
        probabilities = dirichlet.expected_probability(alpha)
        if probabilities_only:
            return {"probabilities": probabilities}
        return {
            "probabilities": probabilities,
            "uncertainty": dirichlet.vacuity(known),
            "alpha": alpha,
            "class_index": tf.argmax(probabilities, axis=-1),
        }

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default", serve, input_signature=[tf.TensorSpec((None, 784), "float32")]
    )
    archive.write_out(str(path), verbose=False)
    return path


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

    args = common.parse_args(__doc__.splitlines()[0], add, argv)
    import tensorflow as tf

    info = common.machine_info()
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
                head = {"softmax": "softmax", "medl": "medl"}.get(variant, "edl")
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
        "exporter": exporter_description(),
        "machine": info,
        "target_ratio": 1.05,
        "results": results,
    }
    rows = []
    for key, group in results.items():
        network, batch = key.split("/")
        soft = group["variants"]["softmax"]
        for v in VARIANTS[1:]:
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
            "`edl_probabilities`: the EDL network with only `alpha / S` as output.",
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
