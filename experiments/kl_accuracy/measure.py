"""float32 accuracy and speed of `dirichlet_kl`, `kl_to_uniform` against float64 SciPy.

Run from the repository root: `python -m experiments.kl_accuracy.measure`.
Prints a Markdown table of relative errors per case and concentration scale,
and the time of value + gradient on a (1024, 10) batch.
"""

import time

import keras
import numpy as np
from keras import ops

import keras_evidential as ke
from experiments.harness import machine_description
from experiments.harness import markdown_table
from tests import reference_family as ref

SCALES = (1e-2, 1e0, 1e2, 1e3, 1e4, 1e5, 1e6)


def cases(s):
    """(name, alpha, beta) float32 pairs at concentration scale s."""
    rng = np.random.default_rng(0)
    k = 10
    yield "brief [s,1.01s,.99s] vs [1.02s,s,s]", [[s, 1.01 * s, 0.99 * s]], [[1.02 * s, s, s]]
    yield "alpha = 2 beta, K=10", 2.0 * s * np.ones((1, k)), s * np.ones((1, k))
    yield "random log-uniform x [0.5, 2], K=10", s * rng.uniform(0.5, 2, (64, k)), s * rng.uniform(0.5, 2, (64, k))
    yield "Prior Net: alpha vs 1 + 100 y, K=10", s * rng.uniform(0.5, 2, (64, k)), 1.0 + 100.0 * np.eye(k)[rng.integers(0, k, 64)]
    yield "K=100, 1 % perturbation", s * (1 + 0.01 * rng.standard_normal((16, 100))), s * np.ones((16, 100))


def relative_error(fn, alpha, beta):
    alpha = np.asarray(alpha, "float32")
    beta = np.broadcast_to(np.asarray(beta, "float32"), alpha.shape)
    got = np.asarray(ops.convert_to_numpy(fn(alpha, beta)), "float64")
    expected = ref.kl_dirichlet(alpha.astype("float64"), beta.astype("float64"))
    return float(np.max(np.abs(got - expected) / np.abs(expected)))


def value_and_gradient_fn(fn, beta, mode):
    """`alpha -> (sum KL, d sum KL / d alpha)` as a training step runs it."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def step(alpha):
            with tf.GradientTape() as tape:
                tape.watch(alpha)
                value = ops.sum(fn(alpha, beta))
            return value, tape.gradient(value, alpha)

        if mode == "eager":
            return step
        return tf.function(step, jit_compile=mode == "jit")
    if backend == "jax":
        import jax

        step = jax.value_and_grad(lambda a: ops.sum(fn(a, beta)))
        return jax.jit(step) if mode == "jit" else step
    from tests.gradients import value_and_gradient

    return lambda alpha: value_and_gradient(lambda a: ops.sum(fn(a, beta)), alpha)


def seconds_per_call(step, alpha, repeats=100):
    alpha = ops.convert_to_tensor(alpha)
    ops.convert_to_numpy(step(alpha)[1])
    start = time.perf_counter()
    for _ in range(repeats):
        ops.convert_to_numpy(step(alpha)[1])
    return (time.perf_counter() - start) / repeats


def main():
    rows = {}
    for s in SCALES:
        for name, alpha, beta in cases(s):
            rows.setdefault(name, []).append(f"{relative_error(ke.dirichlet.dirichlet_kl, alpha, beta):.1e}")
    print(markdown_table(["case (max relative error)"] + [f"s={s:g}" for s in SCALES], [[n] + r for n, r in rows.items()]))
    rng = np.random.default_rng(1)
    alpha = (1.0 + np.exp(rng.uniform(0, 10, (1024, 10)))).astype("float32")
    beta = (1.0 + 100.0 * np.eye(10)[rng.integers(0, 10, 1024)]).astype("float32")
    modes = {"tensorflow": ("eager", "graph", "jit"), "jax": ("eager", "jit")}
    for mode in modes.get(keras.backend.backend(), ("eager",)):
        step = value_and_gradient_fn(ke.dirichlet.dirichlet_kl, ops.convert_to_tensor(beta), mode)
        seconds = min(seconds_per_call(step, alpha) for _ in range(3))
        print(f"{keras.backend.backend()} value + gradient, (1024, 10), {mode}: {1e6 * seconds:.0f} us")
    print(machine_description())


if __name__ == "__main__":
    main()
