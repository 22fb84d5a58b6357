"""Runs a check script in a fresh interpreter on the JAX backend.

The UCI experiment trains on JAX, which a process that has imported Keras
with another backend cannot switch to.
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_on_jax(script, *args, default_xla=False):
    """Runs `script` with `args` on the JAX backend; fails the test unless it
    exits 0 and prints "ok".

    `default_xla`: without the `XLA_FLAGS` of the calling process (CI lowers
    XLA's CPU compiler settings for speed), for checks of bitwise-identical
    results, which hold for the compiler settings the experiments run with.
    """
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(REPO))
    if default_xla:
        env.pop("XLA_FLAGS", None)
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout[-2000:] + result.stderr[-3000:]
