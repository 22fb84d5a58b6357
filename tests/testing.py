"""The shared test helper: Keras's `TestCase` plus loss and metric checks.

`run_layer_test` is Keras's own (build, symbolic and eager call,
serialization, masking, mixed precision, a training step), with
`assert_built_after_instantiation=True` by default: a stateless layer must be
built when created, and a layer with a `build` must not claim to be.

`run_loss_test` and `run_metric_test` do the same for losses and metrics:
the value against an independent reference, the config round trip, the
compiled step of the current backend (and XLA on TensorFlow), mixed
precision, and a short `fit` or `evaluate`.
"""

import keras
import numpy as np
from keras import ops
from keras.src import testing
from packaging.version import Version


def compiled(fn, jit_compile=False):
    """`fn` as the current backend compiles a training step's code.

    TensorFlow: a `tf.function` (XLA with `jit_compile=True`); JAX:
    `jax.jit`; PyTorch runs eagerly, as `model.fit` does by default.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit_compile)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def to_numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def keras_at_least(version):
    """Whether the installed Keras is `version` or later.

    For the few tests whose reference depends on a documented change in
    Keras itself (CI runs the lowest and the newest Keras that
    `pyproject.toml` declares).
    """
    return Version(keras.version()) >= Version(version)


def _zero_loss(y_true, y_pred):
    return ops.zeros(ops.shape(y_pred)[:1])


class TestCase(testing.TestCase):
    """Keras's `TestCase` with checks for this package's losses and metrics."""

    def run_layer_test(self, layer_cls, init_kwargs, **kwargs):
        """Keras's `run_layer_test`, stateless layers built at instantiation.

        `expected_output` may be NumPy (e.g. a float64 reference): Keras
        compares its type with the output's, so it is made a backend tensor.
        """
        kwargs.setdefault("assert_built_after_instantiation", True)
        if kwargs.get("expected_output") is not None:
            kwargs["expected_output"] = keras.tree.map_structure(
                ops.convert_to_tensor, kwargs["expected_output"]
            )
        return super().run_layer_test(layer_cls, init_kwargs, **kwargs)

    def run_loss_test(
        self,
        loss_cls,
        init_kwargs,
        y_true,
        y_pred,
        expected,
        sample_weight=None,
        rtol=1e-5,
        atol=1e-6,
        model_fn=None,
        run_mixed_precision_check=True,
        run_xla_check=True,
    ):
        """Checks a loss class against a reference value.

        Args:
            loss_cls: The `keras.losses.Loss` subclass.
            init_kwargs: Its constructor arguments.
            y_true, y_pred: NumPy inputs.
            expected: The reduced loss from an independent (float64)
                reference.
            sample_weight: Optional sample weights for every call.
            model_fn: Optional function of no arguments returning an
                uncompiled model that maps inputs of shape `(None, 4)` to
                outputs shaped like `y_pred`; if given, two epochs of `fit`
                with this loss must give finite losses and update weights.
            run_mixed_precision_check: Whether a float16 `y_pred` under the
                `mixed_float16` policy must give a float32 loss close to
                `expected` (rtol 1e-2).
            run_xla_check: On TensorFlow, also under `jit_compile=True`.
        """
        loss = loss_cls(**init_kwargs)

        def value(fn, *args):
            return to_numpy(fn(*args))

        def call(yt, yp):
            return loss(yt, yp, sample_weight=sample_weight)

        self.assertAllClose(value(call, y_true, y_pred), expected, rtol=rtol, atol=atol)
        # Config round trip, both ways Keras restores a loss.
        restored = loss_cls.from_config(loss.get_config())
        self.assertAllClose(
            to_numpy(restored(y_true, y_pred, sample_weight=sample_weight)),
            expected, rtol=rtol, atol=atol,
        )
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(loss)
        )
        self.assertIsInstance(revived, loss_cls)
        self.assertEqual(revived.get_config(), loss.get_config())
        # The compiled forms a training step uses.
        y_true_t = ops.convert_to_tensor(y_true)
        y_pred_t = ops.convert_to_tensor(y_pred)
        self.assertAllClose(
            value(compiled(call), y_true_t, y_pred_t), expected, rtol=rtol, atol=atol
        )
        if run_xla_check and keras.backend.backend() == "tensorflow":
            self.assertAllClose(
                value(compiled(call, jit_compile=True), y_true_t, y_pred_t),
                expected, rtol=rtol, atol=atol,
            )
        if run_mixed_precision_check:
            previous = keras.config.dtype_policy()
            keras.config.set_dtype_policy("mixed_float16")
            try:
                mixed = loss_cls(**init_kwargs)
                out = mixed(
                    y_true, ops.cast(y_pred, "float16"), sample_weight=sample_weight
                )
            finally:
                keras.config.set_dtype_policy(previous)
            self.assertEqual(keras.backend.standardize_dtype(out.dtype), "float32")
            self.assertAllClose(to_numpy(out), expected, rtol=1e-2, atol=1e-3)
        if model_fn is not None:
            self._run_training_check(model_fn, loss_cls(**init_kwargs), y_true)

    def _run_training_check(self, model_fn, loss, y_true):
        model = model_fn()
        model.compile(optimizer="adam", loss=loss)
        x = np.random.default_rng(0).normal(size=(len(y_true), 4)).astype("float32")
        before = [to_numpy(w).copy() for w in model.trainable_weights]
        history = model.fit(x, y_true, batch_size=max(1, len(x) // 2), epochs=2, verbose=0)
        self.assertTrue(np.all(np.isfinite(history.history["loss"])), history.history)
        after = [to_numpy(w) for w in model.trainable_weights]
        self.assertTrue(any(not np.array_equal(a, b) for a, b in zip(before, after)))

    def run_metric_test(
        self,
        metric_cls,
        init_kwargs,
        y_true,
        y_pred,
        expected,
        sample_weight=None,
        rtol=1e-5,
        atol=1e-6,
        run_evaluate_check=True,
    ):
        """Checks a stateful metric against a reference value.

        The metric is updated with the data in two halves (state must
        accumulate), reset (a second pass gives the same result), restored
        from its config, and used in `model.evaluate` of an identity model in
        two batches.
        """
        metric = metric_cls(**init_kwargs)
        half = len(y_true) // 2
        weights = [None, None] if sample_weight is None else [
            sample_weight[:half], sample_weight[half:]
        ]
        for part, w in zip((slice(0, half), slice(half, None)), weights):
            metric.update_state(y_true[part], y_pred[part], sample_weight=w)
        self.assertAllClose(to_numpy(metric.result()), expected, rtol=rtol, atol=atol)
        metric.reset_state()
        metric.update_state(y_true, y_pred, sample_weight=sample_weight)
        self.assertAllClose(to_numpy(metric.result()), expected, rtol=rtol, atol=atol)

        restored = metric_cls.from_config(metric.get_config())
        restored.update_state(y_true, y_pred, sample_weight=sample_weight)
        self.assertAllClose(to_numpy(restored.result()), expected, rtol=rtol, atol=atol)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        self.assertIsInstance(revived, metric_cls)

        if run_evaluate_check:
            inputs = keras.Input(y_pred.shape[1:])
            model = keras.Model(inputs, keras.layers.Identity()(inputs))
            # Keras needs a loss to evaluate; this one ignores the labels.
            # Sample weights reach only `weighted_metrics`.
            listed = [metric_cls(**init_kwargs)]
            if sample_weight is None:
                model.compile(loss=_zero_loss, metrics=listed)
            else:
                model.compile(loss=_zero_loss, weighted_metrics=listed)
            results = model.evaluate(
                y_pred, y_true, sample_weight=sample_weight,
                batch_size=max(1, half), verbose=0, return_dict=True,
            )
            name = metric_cls(**init_kwargs).name
            self.assertAllClose(results[name], expected, rtol=max(rtol, 1e-5), atol=atol)
