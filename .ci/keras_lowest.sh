#!/usr/bin/env bash
# CI: the core tests on the TensorFlow backend with the lowest Keras that
# pyproject.toml declares (`keras>=X.Y`: Keras X.Y.0). The main lanes of
# .ci/run test the newest Keras; this one tests the other end of the range.
#
# Run from CI's environment (.venv-ci active, set up by .ci/run). A second
# virtual environment, .venv-ci-low, holds the lowest Keras alone (with
# --no-deps: tensorflow-cpu 2.21 declares keras>=3.12, so pip would otherwise
# refuse or upgrade it) and reads the same versions of everything else from
# CI's environment. Keras's own dependencies (numpy, h5py, optree, ml-dtypes,
# rich, namex, absl-py, packaging) are there from the newest Keras.
set -euo pipefail
cd "$(dirname "$0")/.."

lowest=$(sed -n 's/^ *"keras>=\([0-9][0-9.]*\)".*/\1/p' pyproject.toml)
if [ -z "$lowest" ]; then
    echo "no \"keras>=X.Y\" requirement found in pyproject.toml" >&2
    exit 1
fi
case "$lowest" in
    *.*.*) ;;
    *) lowest="$lowest.0" ;;
esac

# A virtual environment that holds only the lowest Keras, and sees everything
# else (TensorFlow, NumPy, the test tools) in CI's environment through a .pth
# file: its own site-packages come first on sys.path, so `import keras` is
# the lowest Keras. (Installing TensorFlow a second time took ~50 s of the
# lane's time.) The tests import this checkout: `python -m pytest` puts the
# working directory first on sys.path.
rm -rf .venv-ci-low
python -m venv --without-pip .venv-ci-low
low=.venv-ci-low/bin/python
ci_site=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
low_site=$("$low" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$ci_site" > "$low_site/ci-environment.pth"
python -m pip --python "$low" install --quiet --no-compile --no-deps "keras==$lowest"
"$low" - "$lowest" <<'PY'
import sys

import keras
import tensorflow as tf

assert keras.__version__ == sys.argv[1], (keras.__version__, keras.__file__)
print(f"Keras {keras.__version__} ({keras.__file__}), TensorFlow {tf.__version__}")
PY
echo "environment ready in ${SECONDS} s"

# What depends on Keras's own classes: the losses, layers, the schedule
# callbacks, saving and serialization, model kind, the serving signatures and
# the package's structure (keras_compat), in one process: CI's two cores are
# busy with the large and JAX lanes meanwhile. (The maths in tests/dirichlet
# and tests/nig, the metrics and the data callbacks run on keras.ops and
# Keras's public API alone: they passed on Keras 3.10.0 when 1.0's design
# landed, and are left to the newest Keras's lanes to keep CI within 12
# minutes. Of the losses and layers, the files that meet Keras's loss
# reduction and masking (the ignored pixels' loss mask goes through
# keras_compat), the build-at-init of the stateless heads and the calibrators
# appended after them.)
CORE="tests/losses/test_edl_loss.py tests/losses/test_ignore_class.py tests/losses/test_redl_loss.py tests/layers/test_dirichlet_output.py tests/layers/test_unknown_class_head.py tests/calibration/test_layers.py tests/callbacks/test_coefficient_schedule.py tests/callbacks/test_kl_annealing.py tests/callbacks/test_two_stage_fit.py tests/callbacks/test_compiled_losses.py tests/test_saving.py tests/test_serialization.py tests/test_model_kind.py tests/test_package_structure.py tests/test_deprecation.py tests/export/test_serving.py"
export KERAS_BACKEND=tensorflow
status=0
echo "=== Keras $lowest, core tests"
"$low" -m pytest -n 0 -q -p no:cacheprovider $CORE || status=1
echo "done in ${SECONDS} s"
exit $status
