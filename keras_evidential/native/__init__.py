"""The EDL loss as one TensorFlow CPU op, compiled on first use.

In a TensorFlow graph each op costs the executor a few microseconds, whatever
its size. Written with `keras.ops`, the EDL loss (risk, KL regulariser, their
gradients and the value check) is ~150 small ops: 13-17 % of a training step
of the m-EDL paper's 784-32-32 MLP at batch 64. `edl_loss_kernel.cc` computes
the same formulas (`keras_evidential.dirichlet` stays the reference) and
their gradients in one op, so `EDLLoss` costs about what cross-entropy costs.

`EDLLoss` uses the kernel when all of these hold (`can_fuse`):

- the Keras backend is TensorFlow, and the loss is not traced for XLA
  (`jit_compile=True`; XLA fuses the `keras.ops` form itself);
- TensorFlow sees no GPU or TPU (the kernel is CPU-only, and an accelerator
  should not wait for a copy to the host);
- the loss computes in float32 or float64;
- the kernel is enabled (`KERAS_EVIDENTIAL_NATIVE=0` or `set_enabled(False)`
  turns it off) and it compiles.

It is built once per TensorFlow version with the C++ compiler that compiles
Python packages (`$CXX`, else `c++`; about 30 s), and cached in
`$KERAS_EVIDENTIAL_CACHE` (default `~/.cache/keras_evidential`). Build it
ahead of time with `python -m keras_evidential.native`. If it cannot be built
`EDLLoss` warns once and computes the loss with `keras.ops`, which gives the
same values and gradients, only more slowly on small networks.
"""

import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

SOURCE = Path(__file__).with_name("edl_loss_kernel.cc")
SWITCH_VARIABLE = "KERAS_EVIDENTIAL_NATIVE"
CACHE_VARIABLE = "KERAS_EVIDENTIAL_CACHE"
_OFF_VALUES = ("0", "false", "off", "no")

_lock = threading.Lock()
# The loaded op module. A process keeps the first one it loads: TensorFlow
# registers an op name once, so a rebuilt library could not replace it.
_library = None
_failed = set()  # library paths that did not build or load
_enabled_override = None


def set_enabled(enabled):
    """Turns the kernel on (`True`), off (`False`), or back to the
    environment's choice (`None`: on unless `KERAS_EVIDENTIAL_NATIVE=0`)."""
    global _enabled_override
    if enabled not in (True, False, None):
        raise ValueError(
            f"`enabled` must be True, False or None. Received: enabled={enabled!r}"
        )
    _enabled_override = enabled


def is_enabled():
    if _enabled_override is not None:
        return _enabled_override
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in _OFF_VALUES


def _compile_command(source, output):
    import tensorflow as tf

    compiler = os.environ.get("CXX", "c++")
    return (
        [compiler, "-shared", "-fPIC", "-O2", "-w", str(source), "-o", str(output)]
        + tf.sysconfig.get_compile_flags()
        + tf.sysconfig.get_link_flags()
    )


def library_path():
    """Where the compiled kernel for this TensorFlow and source is cached."""
    import tensorflow as tf

    cache = Path(
        os.environ.get(CACHE_VARIABLE, Path.home() / ".cache" / "keras_evidential")
    )
    key = hashlib.sha256()
    key.update(SOURCE.read_bytes())
    key.update(" ".join(_compile_command("source", "output")).encode())
    key.update(f"{tf.__version__} {sys.platform} {platform.machine()}".encode())
    return cache / f"edl_loss_kernel-tf{tf.__version__}-{key.hexdigest()[:16]}.so"


def build(force=False):
    """Compiles the kernel unless it is cached, and returns the library's path.

    Raises:
        RuntimeError: if the compiler fails or is missing, with its output.
    """
    path = library_path()
    if path.exists() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    print(
        "keras_evidential: compiling the fused EDL loss kernel for this "
        f"TensorFlow (once, about 30 s) into {path}",
        file=sys.stderr,
        flush=True,
    )
    # Compile to a temporary name, then rename: processes that build at the
    # same time never load a half-written library.
    handle, partial = tempfile.mkstemp(suffix=".so", dir=path.parent)
    os.close(handle)
    command = _compile_command(SOURCE, partial)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        os.unlink(partial)
        raise RuntimeError(f"Could not run `{command[0]}`: {error}") from error
    if result.returncode != 0:
        os.unlink(partial)
        raise RuntimeError(
            f"`{' '.join(command)}` failed with exit status "
            f"{result.returncode}:\n{result.stderr[-4000:]}"
        )
    os.replace(partial, path)
    return path


def load():
    """The loaded op library, building it if needed; None if that fails.

    A failure is reported once per process as a warning, not raised: the
    loss then runs on `keras.ops`.
    """
    global _library
    import tensorflow as tf

    with _lock:
        if _library is not None:
            return _library
        path = library_path()
        if path in _failed:
            return None
        try:
            _library = tf.load_op_library(str(build()))
        except (RuntimeError, OSError, tf.errors.OpError) as error:
            _failed.add(path)
            warnings.warn(
                "keras_evidential could not build its fused EDL loss "
                "kernel, so EDLLoss computes the loss with keras.ops "
                "(same values, slower on small networks in graph mode). "
                f"Set {SWITCH_VARIABLE}=0 to skip the attempt. Cause: {error}",
                RuntimeWarning,
                stacklevel=2,
            )
        return _library


def _traced_for_xla():
    import tensorflow as tf

    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # A TensorFlow without this module: assume XLA.
        return not tf.executing_eagerly()
    return control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )


def can_fuse(alpha):
    """Whether `edl_loss` can compute the loss on `alpha` (see the module doc)."""
    import keras

    if keras.backend.backend() != "tensorflow" or not is_enabled():
        return False
    import tensorflow as tf

    if alpha.dtype not in (tf.float32, tf.float64) or _traced_for_xla():
        return False
    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices(
        "TPU"
    ):
        return False
    return load() is not None


def edl_loss(y, alpha, kl_weight, risk, validate=False):
    """Per-sample `losses.edl_loss` of one-hot `y` and `alpha`, in one op.

    With `validate`, checks `alpha` like
    `losses.validation.check_concentrations`: eagerly a `ValueError`, in a
    graph an `InvalidArgumentError` from the kernel. Call only where
    `can_fuse(alpha)` holds.
    """
    import tensorflow as tf

    from keras_evidential.losses import validation

    if validate and tf.executing_eagerly():
        # Eagerly the check raises a ValueError, as on the keras.ops path.
        validation.check_concentrations(alpha)
        validate = False
    library = load()
    y = tf.cast(y, alpha.dtype)
    kl_weight = tf.cast(kl_weight, alpha.dtype)

    @tf.custom_gradient
    def fused(y, alpha, kl_weight):
        loss, kl, d_alpha, d_y = library.keras_evidential_edl_loss(
            y,
            alpha,
            kl_weight,
            risk=risk,
            validate=validate,
            error_message=validation.concentration_error_message("y_pred"),
        )

        def grad(upstream):
            per_entry = tf.expand_dims(upstream, -1)
            return per_entry * d_y, per_entry * d_alpha, tf.reduce_sum(upstream * kl)

        return loss, grad

    return fused(y, alpha, kl_weight)
