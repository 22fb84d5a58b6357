"""The evidential classification benchmark on MNIST: train, test, record.

Resumable grid over (method, seed): each finished run appends one row to
`<out>/runs.csv` (a rerun skips finished rows) and writes its plot data to
`<out>/runs/<method>_s<seed>.json`. Several seeds of one method train as one
Keras model (`--pack`, independent towers, each on its own split and batch
order) because on a small CPU the per-step overhead, not the arithmetic,
decides the time. The pre-registered configuration is `PROTOCOL.md`.

Protocol (I-EDL / R-EDL MNIST configs): the conv net of `methods.py`, Adam
1e-3, StepLR(15, 0.1), batch 64, a per-seed 80/20 train/validation split and
per-seed batch order (`data.seed_split`, `data.epoch_order`), the epoch of
best validation accuracy tested, KL annealed min(1, epoch / 10). A shorter
run (`--epochs E < 60`) cannot keep the protocol's step counts, so it keeps
lr 1e-3 for the first 80 % of its epochs (one step to 1e-4 after that) and
anneals the KL over the first half; scaling the 60-epoch schedule by E / 60
instead left EDL 2 epochs at lr 1e-3 and was measured to cost it 10-20
accuracy points (results/benchmark/README.md).

    python -m experiments.benchmark.runner --epochs 15 --width 64 --init torch   # PROTOCOL.md
    python -m experiments.benchmark.runner --smoke   # 1 epoch, 3,000 samples
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np

import keras_evidential as ke
from experiments import harness
from experiments.benchmark import data as data_lib
from experiments.benchmark.methods import METHODS
from experiments.benchmark.methods import NUM_CLASSES
from experiments.benchmark.methods import INITIALIZERS
from experiments.benchmark.methods import build
from experiments.benchmark.methods import evidence_alpha
from experiments.benchmark.methods import to_probabilities_and_scores

OUT = harness.REPO / "results" / "benchmark"
FULL_EPOCHS, LR_STEP, KL_EPOCHS = 60, 15, 10
DEAD_EVIDENCE = 0.01  # evidence at or below this counts as none (softplus never reaches 0)
EVALUATION_MARGIN_S = 45  # kept free before a time limit for testing and writing a row


class SeedBatches(keras.utils.PyDataset):
    """Each tower's batches from its own training set, in its own order.

    Seed s visits `x[s]` in the order `data.epoch_order(n, s, epoch)`, so its
    batches do not depend on the seeds packed beside it. Yields
    `((x_s0, x_s1, ...), (y_s0, y_s1, ...))` for a model with one input per
    tower (`methods.build(..., input_per_tower=True)`). Fit it with
    `shuffle=False` (Keras would shuffle the batches) and `epoch_callback()`:
    Keras also reads batches before the first epoch and calls `on_epoch_end`
    then, so the epoch is set when Keras begins it, not counted.
    """

    def __init__(self, x, y, seeds, batch_size):
        super().__init__()
        self.x, self.y, self.seeds, self.batch_size = x, y, list(seeds), batch_size
        self.num_samples = len(x[self.seeds[0]])
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.orders = {s: data_lib.epoch_order(self.num_samples, s, epoch) for s in self.seeds}

    def epoch_callback(self):
        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs=None: self.set_epoch(epoch))

    def __len__(self):
        return math.ceil(self.num_samples / self.batch_size)

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        picks = {s: self.orders[s][batch] for s in self.seeds}
        return tuple(self.x[s][picks[s]] for s in self.seeds), tuple(self.y[s][picks[s]] for s in self.seeds)


class BestTowerWeights(keras.callbacks.Callback):
    """Keeps each tower's weights at its best validation accuracy (each on its
    own validation set), restores them at the end, and records each
    evidential tower's dead-evidence statistics after every epoch (the
    `DeadEvidenceMonitor`'s `dead_evidence_statistics`)."""

    def __init__(self, method, seeds, x_val, y_val, log=None, batch_size=1024, deadline=None):
        super().__init__()
        self.method, self.seeds, self.log = method, seeds, log
        self.x_val, self.y_val, self.batch_size = x_val, y_val, batch_size
        self.deadline = deadline
        self.best = {seed: (-1.0, None, -1) for seed in seeds}
        self.traces = {seed: [] for seed in seeds}
        self.epoch_times, self._start = [], None
        self.last_epoch = None

    def _tower_weights(self, seed):
        prefix = f"s{seed}_"
        return [w for w in self.model.weights if w.path.split("/")[0].startswith(prefix)]

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_times.append(time.perf_counter() - self._start)
        outputs = self.model.predict([self.x_val[s] for s in self.seeds], batch_size=self.batch_size, verbose=0)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for seed, output in zip(self.seeds, outputs):
            probabilities, _ = to_probabilities_and_scores(self.method, output)
            accuracy = float(np.mean(probabilities.argmax(-1) == self.y_val[seed]))
            evidence = evidence_alpha(self.method, output)
            if evidence is not None:
                dead = ke.callbacks.dead_evidence_statistics(*evidence, tolerance=DEAD_EVIDENCE)
                self.traces[seed].append({"epoch": epoch + 1, "val_accuracy": accuracy, **dead})
            if logs is not None:
                logs[f"val_accuracy_s{seed}"] = accuracy
            if accuracy > self.best[seed][0]:
                weights = [np.array(keras.ops.convert_to_numpy(w)) for w in self._tower_weights(seed)]
                self.best[seed] = (accuracy, weights, epoch)
        if self.log is not None:
            accuracies = ", ".join(f"{logs[f'val_accuracy_s{s}']:.4f}" for s in self.seeds) if logs else ""
            self.log(f"  {self.method.name} epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}, "
                     f"val acc {accuracies}, {self.epoch_times[-1]:.0f} s")
        self.last_epoch = epoch + 1
        # A time limit cuts the run at an epoch boundary, leaving time to test:
        # the row then records how many epochs it trained.
        if self.deadline is not None and time.time() + 1.5 * self.epoch_times[-1] + EVALUATION_MARGIN_S > self.deadline:
            self.model.stop_training = True
            if self.log is not None:
                self.log(f"  {self.method.name}: time limit, stopping after epoch {epoch + 1}")

    def restore(self):
        for seed in self.seeds:
            for variable, value in zip(self._tower_weights(seed), self.best[seed][1]):
                variable.assign(value)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves, after every epoch, what a rerun needs to continue a row's
    training at the next epoch: the model's weights, the optimizer's state,
    and the best-epoch weights, traces and epoch times of `best`.

    One `.npz` (arrays) beside one `.json` (the rest), each written to a
    temporary file and renamed, so an interrupted write leaves the previous
    epoch's checkpoint. Only the evidential stage is saved: a CE-first row
    interrupted in its cross-entropy stage restarts that stage.
    """

    def __init__(self, path, best):
        super().__init__()
        self.path, self.best = str(path), best

    def on_epoch_end(self, epoch, logs=None):
        arrays = {f"weight_{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"optimizer_{i}": np.asarray(keras.ops.convert_to_numpy(v))
                       for i, v in enumerate(self.model.optimizer.variables)})
        best = {}
        for seed, (accuracy, weights, best_epoch) in self.best.best.items():
            best[str(seed)] = [accuracy, best_epoch, len(weights)]
            arrays.update({f"best_{seed}_{i}": w for i, w in enumerate(weights)})
        meta = {"epochs_done": epoch + 1, "best": best, "traces": {str(k): v for k, v in self.best.traces.items()},
                "epoch_times": self.best.epoch_times}
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path + ".tmp.npz", "wb") as f:
            np.savez(f, **arrays)
        Path(self.path + ".tmp.json").write_text(json.dumps(meta))
        Path(self.path + ".tmp.npz").replace(self.path + ".npz")
        Path(self.path + ".tmp.json").replace(self.path + ".json")


def resume(path, model, best):
    """Loads `EpochCheckpoint`'s files into the compiled `model` and `best`;
    returns the number of epochs done (0 without a checkpoint)."""
    path = str(path)
    if not (Path(path + ".json").exists() and Path(path + ".npz").exists()):
        return 0
    meta = json.loads(Path(path + ".json").read_text())
    arrays = np.load(path + ".npz")
    model.optimizer.build(model.trainable_variables)
    model.set_weights([arrays[f"weight_{i}"] for i in range(len(model.weights))])
    for i, variable in enumerate(model.optimizer.variables):
        variable.assign(arrays[f"optimizer_{i}"])
    for seed in best.seeds:
        accuracy, best_epoch, count = meta["best"][str(seed)]
        best.best[seed] = (accuracy, [arrays[f"best_{seed}_{i}"] for i in range(count)], best_epoch)
        best.traces[seed] = meta["traces"][str(seed)]
    best.epoch_times = list(meta["epoch_times"])
    best.last_epoch = meta["epochs_done"]
    return meta["epochs_done"]


def schedules(epochs, protocol=False):
    """`(lr_step, kl_epochs)`: the protocol's StepLR(15) and KL over 10 epochs at 60
    epochs, or when `protocol` keeps them for a run cut short; otherwise a shorter
    run steps the lr once, after 80 % of its epochs, and anneals the KL over its
    first half."""
    if protocol or epochs >= FULL_EPOCHS:
        return LR_STEP, KL_EPOCHS
    return max(1, int(math.ceil(0.8 * epochs))), max(1, int(math.ceil(0.5 * epochs)))


def train(method, seeds, data, args, log=None, checkpoint=None):
    """Trains the towers of `seeds`; with `checkpoint` (a path without
    suffix) it saves every epoch there and continues from what it finds."""
    model, warmup = build(method, seeds, args.width, args.exp_clip, args.keras_spectral_normalization,
                          init=args.init, input_per_tower=True,
                          class_counts={s: np.bincount(data["y_train"][s], minlength=NUM_CLASSES) for s in seeds})
    lr_step, kl_epochs = schedules(args.epochs, args.protocol_schedule)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 0.1 ** (epoch // lr_step))
    x, y = dict(data["x_train"]), dict(data["y_train"])
    if method.outlier_exposure:
        unknown = np.full(len(data["outliers"]), NUM_CLASSES, "int32")
        x = {s: np.concatenate([x[s], data["outliers"]]) for s in seeds}
        y = {s: np.concatenate([y[s], unknown]) for s in seeds}
    compile_args = dict(jit_compile=args.jit, steps_per_execution=args.steps_per_execution)
    batches = SeedBatches(x, y, seeds, args.batch_size)
    warmup_epochs = int(round(method.warmup_ce_share * args.epochs)) if warmup is not None else 0
    started = time.perf_counter()
    warmup_times = []
    losses = [method.make_loss() for _ in seeds]
    model.compile(keras.optimizers.Adam(1e-3), losses, **compile_args)
    best = BestTowerWeights(method, seeds, data["x_val"], data["y_val"], log, deadline=args.deadline)
    epochs_done = resume(checkpoint, model, best) if checkpoint is not None else 0
    if epochs_done and log is not None:
        log(f"  {method.name}: continuing seeds {seeds} after epoch {epochs_done} (checkpoint)")
    if warmup_epochs and not epochs_done:
        warmup.compile(
            keras.optimizers.Adam(1e-3),
            [keras.losses.SparseCategoricalCrossentropy(from_logits=True)] * len(seeds),
            **compile_args,
        )
        timer = EpochTimer()
        warmup.fit(batches, epochs=warmup_epochs, callbacks=[batches.epoch_callback(), schedule, timer],
                   shuffle=False, verbose=0)
        warmup_times = timer.times
    callbacks = [batches.epoch_callback(), schedule, best]
    if checkpoint is not None:
        callbacks.append(EpochCheckpoint(checkpoint, best))
    if method.anneal_kl:
        # The KL weight is 0 at the first evidential epoch, after the
        # cross-entropy stage of the earlier `fit`.
        callbacks.append(
            ke.callbacks.KLAnnealing(increment=1.0 / kl_epochs, start_epoch=warmup_epochs)
        )
    history = model.fit(
        batches, epochs=args.epochs, initial_epoch=max(warmup_epochs, epochs_done), callbacks=callbacks,
        shuffle=False, verbose=0,
    )
    best.restore()
    if method.head == "density":
        for seed in seeds:
            # Every input gets the seed's training set: the density is fitted
            # to this tower's features of its own split.
            inputs = [data["x_train"][seed]] * len(seeds)
            ke.callbacks.fit_model_density(model, inputs, data["y_train"][seed], layer_name=f"s{seed}_density")
    train_time = time.perf_counter() - started
    epoch_times = warmup_times + best.epoch_times
    return model, best, train_time, epoch_times, history


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def evaluate(method, output_id, y_test, outputs_ood):
    """One tower's figures, and its plot data."""
    probabilities, id_scores = to_probabilities_and_scores(method, output_id)
    predictions = probabilities.argmax(-1)
    correct = predictions == y_test
    row = {
        "accuracy": float(correct.mean()),
        "ece15": ke.evaluation.expected_calibration_error(probabilities, y_test, 15),
        "brier": ke.evaluation.brier_score(probabilities, y_test),
    }
    # Classes the model has lost (test recall below one half), and, for EDL-style
    # heads, classes whose evidence is (near) zero on every test sample: the
    # zero-evidence regions that RED targets.
    recalls = [np.mean(predictions[y_test == k] == k) for k in range(NUM_CLASSES)]
    row["collapsed_classes"] = int(sum(r < 0.5 for r in recalls))
    evidence = evidence_alpha(method, output_id)
    if evidence is not None:
        dead = ke.callbacks.dead_evidence_statistics(*evidence, tolerance=DEAD_EVIDENCE)
        row["dead_units"] = dead["dead_units"]
        row["zero_evidence_fraction"] = dead["zero_evidence_fraction"]
    miscls = ke.evaluation.misclassification_detection(correct, id_scores["max_probability"])
    row.update({"miscls_aupr": miscls["aupr"], "miscls_auroc": miscls["auroc"]})
    plots = {
        "reliability": {k: np.nan_to_num(v, nan=-1).tolist() for k, v in ke.evaluation.reliability_bins(probabilities, y_test, 15).items()},
        "histograms": {},
    }
    for ood_name, output in outputs_ood.items():
        _, ood_scores = to_probabilities_and_scores(method, output)
        for score in id_scores:
            figures = ke.evaluation.ood_detection(id_scores[score], ood_scores[score])
            for key, value in figures.items():
                row[f"{ood_name}_{score}_{key}"] = value
        score = "alpha0" if "alpha0" in id_scores else "max_probability"
        values = np.r_[id_scores[score], ood_scores[score]]
        transform = np.log10 if score == "alpha0" else (lambda v: v)
        edges = np.linspace(transform(values.min()), transform(values.max()) + 1e-9, 31)
        plots["histograms"][ood_name] = {
            "score": score if score != "alpha0" else "log10 alpha0",
            "edges": edges.tolist(),
            "in": np.histogram(transform(id_scores[score]), edges)[0].tolist(),
            "out": np.histogram(transform(ood_scores[score]), edges)[0].tolist(),
        }
    return row, plots


def run(args):
    out = Path(args.out)
    results = harness.ResultsCSV(out / "runs.csv", ["method", "seed", "config"])
    log = harness.RunLog(out / "run.log")
    config = f"e{args.epochs}_w{args.width}_n{args.train_size or 'all'}" + ("_protocol" if args.protocol_schedule else "")
    config += f"_{args.init}init_seedsplit"
    if args.exp_clip is not None:
        config += f"_clip{args.exp_clip:g}"
    if args.keras_spectral_normalization:
        config += "_kerassn"
    args.deadline = time.time() + args.time_limit if args.time_limit else None
    if args.no_value_checks:
        ke.config.disable_value_checks()
    lr_step, kl_epochs = schedules(args.epochs, args.protocol_schedule)
    command = "python -m experiments.benchmark.runner " + " ".join(sys.argv[1:])
    log(f"start: {command} config={config} machine={harness.machine_info()}")
    data = data_lib.load(args.data_dir, args.train_size, args.seeds)
    log(f"data: per seed train {len(data['x_train'][args.seeds[0]])}, val {len(data['x_val'][args.seeds[0]])}, "
        f"test {len(data['x_test'])}, "
        + ", ".join(f"{k} {len(v)}" for k, v in data["ood"].items()))
    done = results.done()
    for name in args.methods:
        method = METHODS[name]
        todo = [s for s in args.seeds if (name, str(s), config) not in done]
        for start in range(0, len(todo), args.pack):
            seeds = todo[start : start + args.pack]
            log(f"{name}: training seeds {seeds}")
            checkpoint = out / "checkpoints" / f"{name}_s{'-'.join(map(str, seeds))}_{config}"
            model, best, train_time, epoch_times, _ = train(method, seeds, data, args, log, checkpoint)
            predict = lambda x: (lambda o: o if isinstance(o, list) else [o])(
                model.predict([x] * len(seeds), batch_size=1024, verbose=0)
            )
            id_outputs = predict(data["x_test"])
            ood_outputs = {k: predict(v) for k, v in data["ood"].items()}
            for i, seed in enumerate(seeds):
                row, plots = evaluate(method, id_outputs[i], data["y_test"], {k: v[i] for k, v in ood_outputs.items()})
                row = {
                    "method": name, "seed": seed, "config": config,
                    **row,
                    "best_epoch": best.best[seed][2] + 1,
                    "val_accuracy": best.best[seed][0],
                    "train_time_s": train_time / len(seeds),
                    "epoch_time_s": float(np.median(epoch_times)) / len(seeds),
                    "epochs": args.epochs, "epochs_trained": best.last_epoch,
                    "lr_step": lr_step, "kl_epochs": kl_epochs,
                    "width": args.width, "pack": len(seeds), "backend": keras.backend.backend(),
                    "value_checks": ke.config.value_checks_enabled(),
                    "exp_clip": "" if args.exp_clip is None else args.exp_clip,
                    "spectral_normalization": "" if not method.spectral else (
                        "keras" if args.keras_spectral_normalization else "keras_evidential"),
                    "jit": args.jit, "steps_per_execution": args.steps_per_execution,
                    "init": args.init, "split": "per_seed",
                }
                results.append(row)
                plot_path = out / "runs" / f"{name}_s{seed}_{config}.json"
                plot_path.parent.mkdir(parents=True, exist_ok=True)
                plot_path.write_text(json.dumps({**plots, "dead_evidence": best.traces[seed]}))
                log(f"{name} seed {seed}: acc {row['accuracy']:.4f}, FMNIST AUPR (max p) "
                    f"{row['fmnist_max_probability_aupr_in']:.4f}, epoch {row['epoch_time_s']:.1f} s/seed")
            for suffix in (".npz", ".json"):
                Path(f"{checkpoint}{suffix}").unlink(missing_ok=True)
            keras.backend.clear_session()
    log("done")


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--init", default="keras", choices=INITIALIZERS,
                        help="the towers' initialiser: Keras's Glorot uniform, or PyTorch's default (PROTOCOL.md)")
    parser.add_argument("--pack", type=int, default=1, help="seeds trained as one model (measured: no gain on 2 CPUs)")
    parser.add_argument("--jit", action="store_true", help="XLA (jit_compile=True)")
    parser.add_argument("--steps-per-execution", type=int, default=16)
    parser.add_argument("--protocol-schedule", action="store_true",
                        help="keep the protocol's StepLR(15) and 10-epoch KL annealing in a run of fewer than 60 epochs")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds: each row stops training at the epoch that would cross it, and records its epochs")
    parser.add_argument("--no-value-checks", action="store_true",
                        help="keras_evidential.config.disable_value_checks(): no host callback per step under JAX")
    parser.add_argument("--exp-clip", type=float, default=None,
                        help="logit clip of DAEDL's and F-EDL's exp heads (default: the library's, 50; it was 10)")
    parser.add_argument("--keras-spectral-normalization", action="store_true",
                        help="wrap the spectral rows' tower in keras.layers.SpectralNormalization instead of "
                             "keras_evidential's (the A/B of docs/results/benchmark/spectral_normalization)")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--smoke", action="store_true",
                        help="1 epoch on 3,000 samples, 2 rows, seed 0, into <out>/smoke")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.train_size, args.seeds = 1, 3000, [0]
        if args.methods == list(METHODS):
            args.methods = ["edl_relu", "re_edl"]
        args.out = str(Path(args.out) / "smoke")
    return args


if __name__ == "__main__":
    run(parse())
