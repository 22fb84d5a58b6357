"""Command line: `python -m keras_evidential [COMMAND] [ARGS...]`.

Without a command it runs the quickstart: EDL and m-EDL trained on the MNIST
and Fashion-MNIST sample that ships with the package.
"""

import importlib
import sys

COMMANDS = {
    "quickstart": "keras_evidential.experiments.quickstart",
    "export": "keras_evidential.export.cli",
    "medl": "keras_evidential.experiments.medl.runner",
    "tedl": "keras_evidential.experiments.tedl.runner",
}

USAGE = """usage: python -m keras_evidential [COMMAND] [ARGS...]

commands:
  quickstart  train EDL and m-EDL on the shipped sample, print a table (default)
  export      export a trained model as a SavedModel for TF Serving
  medl        reproduce the m-EDL paper's studies
  tedl        reproduce the TEDL paper's studies

Run `python -m keras_evidential COMMAND --help` for a command's options."""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command = "quickstart"
    if argv and not argv[0].startswith("-"):
        command, argv = argv[0], argv[1:]
    if command not in COMMANDS:
        print(USAGE, file=sys.stderr)
        print(f"\nerror: unknown command {command!r}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command])
    return module.main(argv)


if __name__ == "__main__":
    sys.exit(main())
