"""`python -m keras_evidential export`: a trained model to TF Serving."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from keras_evidential.export.regression import REGRESSION_OUTPUT_NAMES
from keras_evidential.export.serving import OUTPUT_NAMES


# The classifier's and the regressor's serving outputs; the export checks
# that the chosen ones belong to the model's kind.
ALL_OUTPUT_NAMES = tuple(dict.fromkeys(OUTPUT_NAMES + REGRESSION_OUTPUT_NAMES))
# What each export format's file is, for the messages.
WRITTEN = dict(
    saved_model="SavedModel for TF Serving", onnx="ONNX model", litert="LiteRT model"
)

DESCRIPTION = """\
Export a trained evidential model (.keras) as a SavedModel for TF Serving,
written to BASE_DIR/VERSION with a `serving_default` signature whose outputs
are probabilities, uncertainty, alpha, class_index and class_label (or the
subset given with --outputs).

The model kind is detected: an output layer UnknownClassHead means m-EDL
(K + 1 classes, the last one unknown), DirichletOutput means K-class EDL, and
a model compiled with EDLLoss(from_logits=True) outputs logits (TEDL), to
which the loss's evidence function is applied. Override with --output,
--evidence and --unknown-class. Arguments can be read from a file: @args.txt.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-evidential export",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        fromfile_prefix_chars="@",
    )
    parser.add_argument("model", help="the trained model, a .keras file")
    parser.add_argument("base_dir", help="the model's base directory")
    parser.add_argument(
        "--version",
        type=int,
        default=1,
        help="version subdirectory, a positive integer (default: 1)",
    )
    parser.add_argument(
        "--class-names",
        nargs="+",
        metavar="NAME",
        help="names of the K known classes in output order (default: 0..K-1)",
    )
    parser.add_argument(
        "--unknown-label",
        default="unknown",
        help="label of the unknown class (default: unknown)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="K-class models: answer the unknown class where the "
        "uncertainty exceeds this value in (0, 1)",
    )
    parser.add_argument(
        "--output",
        choices=("alpha", "logits"),
        help="what the model outputs (default: detected)",
    )
    parser.add_argument(
        "--evidence",
        choices=("relu", "softplus", "exp", "elu"),
        help="logits models: the evidence function (default: the compiled EDLLoss's)",
    )
    parser.add_argument(
        "--unknown-class",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the last output is m-EDL's unknown class "
        "(default: detected from UnknownClassHead)",
    )
    parser.add_argument(
        "--outputs",
        nargs="+",
        choices=ALL_OUTPUT_NAMES,
        metavar="NAME",
        help=f"serve only these outputs: for a classifier among "
        f"{', '.join(OUTPUT_NAMES)}; for a NIG regressor among "
        f"{', '.join(REGRESSION_OUTPUT_NAMES)} (default: all)",
    )
    parser.add_argument(
        "--onnx",
        metavar="FILE",
        help="also write an ONNX file with the same outputs (needs tf2onnx)",
    )
    parser.add_argument(
        "--litert",
        metavar="FILE",
        help="also write a LiteRT (.tflite) file with the same outputs",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    import keras

    from keras_evidential.export.tensorflow_child import write_exports
    from keras_evidential.export.via_tensorflow import export_through_tensorflow
    from keras_evidential.saving import load_model

    if args.onnx:
        # Checked before anything is written, so that a rerun after
        # installing tf2onnx does not meet an existing version directory.
        import importlib.util

        missing = [m for m in ("tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
        if missing:
            parser.error(
                f"--onnx needs {' and '.join(missing)}: pip install "
                f"\"keras-evidential[onnx]\". Received: --onnx {args.onnx}"
            )
    try:
        model = load_model(args.model)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    options = dict(
        class_names=args.class_names,
        output=args.output,
        evidence=args.evidence,
        unknown_class=args.unknown_class,
        threshold=args.threshold,
        unknown_label=args.unknown_label,
        outputs=args.outputs,
    )
    exports = [("saved_model", args.base_dir, dict(options, version=args.version))]
    exports += [(name, path, options) for name, path in
                [("onnx", args.onnx), ("litert", args.litert)] if path]
    try:
        if keras.backend.backend() == "tensorflow":
            paths = write_exports(model, exports)
        else:
            # All the formats from one TensorFlow child process.
            paths = export_through_tensorflow(model, exports)
    except (ValueError, ImportError) as error:
        parser.error(str(error))
    for (export_format, _, _), path in zip(exports, paths):
        print(f"{WRITTEN[export_format]} written to {path}")
    return 0
