"""`python -m keras_evidential export ...` (also the `keras-evidential` script).

The installed package's command line serves deployment only; the quickstart
and the paper reproductions run from a source checkout (`examples/`,
`experiments/`).
"""

from __future__ import annotations

import sys
from typing import Sequence

from keras_evidential.export import cli


USAGE = """usage: keras-evidential export MODEL.keras EXPORT_DIR [options]

commands:
  export      export a trained model as a SavedModel for TF Serving (and ONNX)

options:
  --version   print the package's version

Run `keras-evidential export --help` for its options."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "--version":
        from keras_evidential.version import __version__

        print(f"keras-evidential {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, argv = argv[0], argv[1:]
    if command != "export":
        print(USAGE, file=sys.stderr)
        print(f"\nerror: unknown command {command!r}", file=sys.stderr)
        return 2
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
