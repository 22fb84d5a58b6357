"""The models, data and recorder that the distribution scripts share.

Imported by tests/scripts/jax_data_parallel.py and
tests/scripts/mirrored_states.py after each has set up its devices and
backend, so that both train the same models on the same data from the same
initial weights and record the same quantities.
"""

import keras
import numpy as np

import keras_evidential as ke

LEARNING_RATE = 0.5
EPOCHS = 3
BATCH_SIZE = 32
SAMPLES = 128
FEATURES = 6
# m-EDL's, and the metrics', label of the unknown class (3 known classes).
UNKNOWN = 3


def data():
    """Inputs, class labels (0..3, 3 = unknown) and regression targets."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    labels = rng.integers(0, UNKNOWN + 1, size=SAMPLES)
    targets = (x[:, :1] ** 3 + 0.1 * rng.normal(size=(SAMPLES, 1))).astype("float32")
    return x, labels, targets


def _sequential(*layers):
    return keras.Sequential([keras.Input((FEATURES,)), *layers])


def build(setup, x, labels, targets):
    """`(model, callbacks, y)` of one setup, compiled with plain SGD.

    - edl: softplus evidence, `EDLLoss` with `KLAnnealing`.
    - medl: m-EDL (`UnknownClassHead`), `EDLLoss(kl_weight=0.5)`,
      compiled with `UnknownClassAUROC`, `UnknownClassAUPR` and
      `ExpectedCalibrationError`.
    - tedl: logits, `EDLLoss(from_logits=True)` with `TwoStageFit` and
      `KLAnnealing`.
    - nig: `NormalInverseGammaOutput`, `EvidentialRegressionLoss` with
      `RegularizerSchedule`.
    - daedl: `DensityAwareDirichlet` with `DAEDLLoss` and `FitDensity`.
    - dead: a `SpectralNormalization`-wrapped hidden layer and ReLU evidence
      with a dead unit, `DeadEvidenceMonitor`.
    """
    known = labels % UNKNOWN
    metrics = []
    callbacks = []
    y = known
    if setup == "edl":
        model = _sequential(
            # Named for the layout map of the ModelParallel run.
            keras.layers.Dense(8, activation="tanh", name="hidden"),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("softplus"),
        )
        loss = ke.losses.EDLLoss(kl_weight=0.0)
        # 0, 0.5, 0.5: a change, then none (which needs no new compilation).
        callbacks = [ke.callbacks.KLAnnealing(increment=0.5, max_weight=0.5)]
    elif setup == "medl":
        model = _sequential(
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(3),
            ke.layers.DirichletOutput("softplus"),
            ke.layers.UnknownClassHead(),
        )
        loss = ke.losses.EDLLoss(kl_weight=0.5)
        y = labels
        metrics = [
            # Bucketed: the counts aggregate on every engine (the exact
            # buffer is refused under a multi-replica tf.distribute).
            ke.metrics.UnknownClassAUROC(unknown_class=True, num_thresholds=200),
            ke.metrics.UnknownClassAUPR(unknown_class=True, num_thresholds=200),
            ke.metrics.ExpectedCalibrationError(num_bins=10, unknown_class=True),
        ]
    elif setup == "tedl":
        model = _sequential(
            keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)
        )
        loss = ke.losses.EDLLoss(
            from_logits=True, evidence=ke.layers.EvidenceELU(), stage=1
        )
        callbacks = [
            ke.callbacks.TwoStageFit(switch_epoch=1),
            ke.callbacks.KLAnnealing(increment=0.5),
        ]
    elif setup == "nig":
        model = _sequential(
            keras.layers.Dense(8, activation="tanh"),
            ke.layers.NormalInverseGammaOutput(units=1),
        )
        loss = ke.losses.EvidentialRegressionLoss(regularizer_weight=0.0)
        y = targets
        callbacks = [ke.callbacks.RegularizerSchedule(regularizer_schedule)]
    elif setup == "daedl":
        inputs = keras.Input((FEATURES,))
        features = keras.layers.Dense(8, activation="tanh")(inputs)
        logits = keras.layers.Dense(3)(features)
        alpha = ke.layers.DensityAwareDirichlet()([features, logits])
        model = keras.Model(inputs, alpha)
        loss = ke.losses.DAEDLLoss(kl_weight=0.0)
        callbacks = [ke.callbacks.FitDensity(x, known, batch_size=BATCH_SIZE)]
    elif setup == "dead":
        model = _sequential(
            ke.layers.SpectralNormalization(keras.layers.Dense(8, activation="tanh")),
            # The third unit starts dead: its ReLU evidence is 0 everywhere.
            keras.layers.Dense(
                3, bias_initializer=keras.initializers.Constant([0.0, 0.0, -100.0])
            ),
            ke.layers.DirichletOutput("relu"),
        )
        loss = ke.losses.EDLLoss(kl_weight=0.0)
        callbacks = [
            ke.callbacks.DeadEvidenceMonitor(x, warn=False, batch_size=BATCH_SIZE)
        ]
    else:
        raise ValueError(f"Unknown setup: {setup!r}")
    initialize(model)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=loss, metrics=metrics
    )
    return model, callbacks, y


def regularizer_schedule(epoch):
    return min(0.5, 0.5 * epoch)


def initialize(model):
    """Sets the kernels and power-iteration vectors from a fixed NumPy
    stream, so that every backend starts from the same weights (the other
    weights have constant initializers)."""
    rng = np.random.default_rng(1)
    for variable in model.weights:
        if variable.name in ("kernel", "vector_u"):
            kernel = variable.name == "kernel"
            fan_in = variable.shape[0] if kernel else variable.shape[-1]
            variable.assign(
                rng.normal(scale=fan_in**-0.5, size=variable.shape).astype("float32")
            )


SETUPS = ("edl", "medl", "tedl", "nig", "daedl", "dead")

# What the epoch logs hold besides the loss, per setup.
EPOCH_LOG_KEYS = (
    "kl_weight",
    "stage",
    "regularizer_weight",
    "dead_units",
    "zero_evidence_fraction",
    "unknown_auroc",
    "unknown_aupr",
    "ece",
)


def _numpy(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable)).tolist()


class StepRecorder(keras.callbacks.Callback):
    """Records the weights before training, every step's logged loss and
    the weights after it, and the epoch logs (schedule values, monitor
    statistics, metrics)."""

    def __init__(self):
        super().__init__()
        self.losses, self.trainable, self.non_trainable = [], [], []
        self.epoch_logs = {}

    def on_train_begin(self, logs=None):
        self.initial_trainable = [_numpy(v) for v in self.model.trainable_variables]
        self.initial_non_trainable = [
            _numpy(v) for v in self.model.non_trainable_variables
        ]

    def on_train_batch_end(self, batch, logs=None):
        # JAX keeps the training state outside the variables during an
        # epoch; this puts it back so that the weights can be read.
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()
        self.losses.append(float(logs["loss"]))
        self.trainable.append([_numpy(v) for v in self.model.trainable_variables])
        self.non_trainable.append(
            [_numpy(v) for v in self.model.non_trainable_variables]
        )

    def on_epoch_end(self, epoch, logs=None):
        for key in EPOCH_LOG_KEYS:
            if key in logs:
                self.epoch_logs.setdefault(key, []).append(float(logs[key]))


def recorded(recorder):
    return {
        "initial_trainable": recorder.initial_trainable,
        "initial_non_trainable": recorder.initial_non_trainable,
        "losses": recorder.losses,
        "trainable": recorder.trainable,
        "non_trainable": recorder.non_trainable,
        "epoch_logs": recorder.epoch_logs,
    }


def results_after_fit(setup, model, callbacks, x, y):
    """What a setup is compared on once `fit` has ended."""
    out = {}
    if setup == "daedl":
        layer = next(
            layer
            for layer in model.layers
            if isinstance(layer, ke.layers.DensityAwareDirichlet)
        )
        out["density"] = {v.name: _numpy(v) for v in layer.non_trainable_variables}
        out["predictions"] = model.predict(x, batch_size=BATCH_SIZE, verbose=0).tolist()
    if setup == "dead":
        (monitor,) = callbacks
        out["dead_history"] = monitor.history
    if setup == "medl":
        logs = model.evaluate(x, y, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
        out["evaluate"] = {k: float(v) for k, v in logs.items()}
        out["metric_variables"] = {
            v.path: _numpy(v) for v in model.metrics_variables
        }
        out["predictions"] = model.predict(x, batch_size=BATCH_SIZE, verbose=0).tolist()
    return out
