"""The UCI experiment's stacked JAX trainer against `keras.Model.fit` with the
library's layer and Loss class, on one split, from the same initial weights
over the same batches.

Needs the offline data and the JAX backend, which a process that has
imported Keras with another backend cannot switch to: the check runs in a
fresh interpreter.
"""

import textwrap

import pytest

from tests.experiments.jax_process import run_on_jax

pytestmark = pytest.mark.large

CHECK = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    import keras_evidential as ke
    from experiments.regression import uci

    x, y, splits, meta = uci.load("yacht", Path(sys.argv[1]))
    arrays = uci.split_arrays(x, y, splits, [0])
    xtr, ytr = jnp.asarray(arrays["xtr"]), jnp.asarray(arrays["ytr"])
    n_train, n_in = xtr.shape[1], xtr.shape[2]
    lr, batch_size, lam = 1e-3, 32, 0.01
    init, epoch, _, _, batches = uci.make_trainer(n_in, 50, 1, lam, lr, batch_size, n_train)
    key = jax.random.PRNGKey(0)
    params = init(key)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = (params, zeros, zeros, jnp.zeros((), "float32"))
    xs, ys = [], []
    for e in range(2):
        epoch_key = jax.random.fold_in(key, e + 1)
        xb, yb = batches(xtr, ytr, epoch_key)  # (steps, trial, batch, ...)
        xs.append(np.asarray(xb[:, 0]).reshape(-1, n_in))
        ys.append(np.asarray(yb[:, 0]).reshape(-1, 1))
        state = epoch(state, xtr, ytr, epoch_key)

    # Tower (split 0, loss 0) is `der_amini`: EvidentialRegressionLoss(lambda).
    model = keras.Sequential([
        keras.Input((n_in,)), keras.layers.Dense(50, activation="relu"),
        ke.layers.NormalInverseGammaOutput(1),
    ])
    model.set_weights([np.asarray(params[k][0, 0]) for k in ("w1", "b1", "w2", "b2")])
    model.compile(keras.optimizers.Adam(lr, epsilon=1e-7), ke.losses.EvidentialRegressionLoss(lam))
    model.fit(np.concatenate(xs), np.concatenate(ys), batch_size=batch_size, epochs=1, shuffle=False,
              verbose=0)
    worst = 0.0
    for name, ours in zip(("w1", "b1", "w2", "b2"), model.get_weights()):
        stacked = np.asarray(state[0][name][0, 0])
        worst = max(worst, float(np.max(np.abs(ours - stacked))))
        moved = float(np.max(np.abs(stacked - np.asarray(params[name][0, 0]))))
        assert moved > 1e-3, (name, moved)  # the weights did train
    assert worst < 1e-5, worst
    print("ok", worst)
    """
)


def test_stacked_trainer_equals_model_fit_with_the_library_loss(shared_data):
    run_on_jax(CHECK, shared_data)


LOAD = textwrap.dedent(
    """
    import gzip
    import sys
    from pathlib import Path

    import numpy as np

    from experiments.regression import uci

    root = Path(sys.argv[1])
    table = np.loadtxt(gzip.open(root / "uci/naval-propulsion-plant/data.txt.gz", "rt"))
    x, y, _, meta = uci.load("naval_turbine", root)
    assert np.array_equal(y, table[:, 17]) and np.array_equal(x, table[:, :16])
    _, y16, _, _ = uci.load("naval", root)
    assert np.array_equal(y16, table[:, 16])
    assert uci.load("protein_h50", root)[3]["n_hidden"] == 50
    assert uci.load("protein", root)[3]["n_hidden"] == 100
    print("ok")
    """
)


def test_extra_rows_load_amini_et_als_target_and_width(shared_data):
    run_on_jax(LOAD, shared_data)
