"""`python -m keras_evidential.native`: build the fused loss kernel now."""

import sys

from keras_evidential import native


def main():
    try:
        path = native.build()
    except RuntimeError as error:
        print(f"keras_evidential: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
