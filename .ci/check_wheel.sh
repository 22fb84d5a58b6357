#!/usr/bin/env bash
# The wheel holds the library only, installs into a fresh virtual environment
# outside the repository, and every public name imports from it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python -m pip wheel --quiet --no-deps . -w "$work/dist"
wheel=$(ls "$work"/dist/keras_evidential-*.whl)
python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
outside = [n for n in names if not (n.startswith("keras_evidential/") or ".dist-info/" in n)]
data = [n for n in names if n.startswith("keras_evidential/") and not n.endswith(".py")
        and n != "keras_evidential/py.typed"]
print(f"wheel: {len(names)} files")
assert not outside, f"files outside the package: {outside}"
assert not data, f"non-Python files in the package: {data}"
assert "keras_evidential/py.typed" in names, "no py.typed (PEP 561) in the wheel"
assert any(n.endswith("licenses/LICENSE") for n in names), "no LICENSE in the wheel"
PY

# A fresh venv with only the wheel installed. Its dependencies (TensorFlow,
# Keras, ...) come from the current environment's site-packages through a
# path file, whose own .pth files (the editable install of this checkout)
# are not processed, so `keras_evidential` can only come from the wheel.
python -m venv "$work/venv"
deps=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
fresh=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$deps" > "$fresh/dependencies.pth"
"$work/venv/bin/python" -m pip install --quiet --no-deps "$wheel"
cd "$work"  # away from the source checkout
"$work/venv/bin/python" - <<'PY'
import importlib, pkgutil
import keras_evidential as ke
assert "site-packages" in ke.__file__, ke.__file__
count = 0
for info in pkgutil.walk_packages(ke.__path__, "keras_evidential."):
    module = importlib.import_module(info.name)
    for name in dir(module):
        if not name.startswith("_"):
            getattr(module, name)
            count += 1
print(f"imported {count} public names from {ke.__file__}")
PY
"$work/venv/bin/keras-evidential" --version
