"""Reproduce TEDL (Li, Shen, Charles, 2022) on public sentence-pair tasks.

`python -m experiments.tedl --help`. Trains the two-tower model with
softmax cross-entropy (`ce`), EDL (`edl`: ReLU evidence, annealed KL) and TEDL
(`tedl`: cross-entropy stage, then EDL with ELU evidence) over seeds, KL
increments lambda and training-set sizes, and records per epoch the ROC AUC,
the AUC below each uncertainty threshold, the uncertainty distribution and the
dying-ReLU statistics. Other evidence functions are named `edl-<evidence>` /
`tedl-<evidence>` (e.g. `tedl-softplus`, `edl-elu`).

Every finished run is appended to `<out>/runs.csv` at once (one row per
epoch); a restarted command skips the runs already there. The tables and
figures (`results.md`, `*.png`) are regenerated from the CSV at the end, or
alone with `--report-only`.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from experiments.harness import ResultsCSV
from experiments.harness import machine_description

DEFAULT_OUT = Path("docs") / "results" / "tedl"
CSV_NAME = "runs.csv"
BASE_EVIDENCE = {"edl": "relu", "tedl": "elu"}
EVIDENCES = ("relu", "softplus", "exp", "elu")


def parse_method(method):
    """`"ce"`, `"edl"`, `"tedl"` or `"<edl|tedl>-<evidence>"` -> (two_stage, evidence).

    For `"ce"` the evidence is None.
    """
    if method == "ce":
        return False, None
    base, _, evidence = method.partition("-")
    evidence = evidence or BASE_EVIDENCE.get(base)
    if base not in BASE_EVIDENCE or evidence not in EVIDENCES:
        raise ValueError(
            "A method is 'ce', 'edl', 'tedl' or '<edl|tedl>-<evidence>' with "
            f"evidence in {EVIDENCES}. Received: method={method!r}"
        )
    return base == "tedl", evidence


def parse_seeds(text):
    """`"0-4"` or `"0,2,5"` -> a list of integers."""
    seeds = []
    for part in text.split(","):
        start, _, end = part.partition("-")
        seeds.extend(range(int(start), int(end or start) + 1))
    return seeds


def parse_sizes(text):
    """`"full"` or `"10000,20000,full"` -> sizes, None meaning the whole split."""
    return [None if s == "full" else int(s) for s in text.split(",")]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m experiments.tedl",
        description="CE vs EDL vs TEDL on a public binary text-pair task.",
    )
    parser.add_argument("--task", default="twitter_url", choices=["twitter_url", "wikiqa"])
    parser.add_argument(
        "--methods",
        default="ce,edl,tedl",
        help="comma-separated: ce, edl, tedl, or edl-/tedl-<relu|softplus|exp|elu>",
    )
    parser.add_argument(
        "--lambdas",
        default="0.1",
        help="comma-separated per-epoch KL increments (the paper's lambda)",
    )
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,1,7")
    parser.add_argument(
        "--train-sizes",
        default="full",
        help="comma-separated numbers of training pairs, or 'full'",
    )
    parser.add_argument("--epochs", type=int, default=8, help="total epochs of every method")
    parser.add_argument(
        "--switch-epoch",
        type=int,
        default=2,
        help="TEDL: zero-based epoch at which the EDL stage begins",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--encoder", default="cnn", choices=["transformer", "gru", "cnn"])
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=10000)
    parser.add_argument("--sequence-length", type=int, default=32)
    parser.add_argument(
        "--max-test", type=int, default=None, help="evaluate on this many test pairs only"
    )
    parser.add_argument("--data-dir", default=None, help="folder with twitter_url/, wikiqa/")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results folder")
    parser.add_argument(
        "--report-only", action="store_true", help="only rebuild tables/figures from the CSV"
    )
    parser.add_argument("--no-report", action="store_true", help="skip tables/figures")
    parser.add_argument(
        "--save-model",
        default=None,
        help="save the last trained model (raw-string inputs) to this .keras file",
    )
    return parser


def config_tag(args):
    """Identifies the training setup, so runs of other setups are not mixed."""
    return (
        f"{args.encoder}{args.embedding_dim}-v{args.max_tokens}-l{args.sequence_length}"
        f"-e{args.epochs}-s{args.switch_epoch}-b{args.batch_size}-lr{args.learning_rate:g}"
        + (f"-t{args.max_test}" if args.max_test else "")
    )


def run_key(task, train_size, method, lam, seed, config):
    return (task, str(train_size), method, f"{lam:g}", str(seed), config)


def row_key(row):
    return (
        row["task"],
        row["train_size"],
        row["method"],
        f"{float(row['lam']):g}",
        row["seed"],
        row["config"],
    )


def read_rows(path):
    return ResultsCSV(path, ()).rows()


def append_rows(path, rows):
    """Appends one run's rows; the header is written with the first run."""
    from experiments.tedl.report import COLUMNS

    ResultsCSV(path, ()).append_many(rows, COLUMNS)


def write_log(out, argv, started, trained, planned):
    """Appends the command, the machine and the wall time to `<out>/runs.log`."""
    import tensorflow as tf

    line = (
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))} "
        f"python -m experiments.tedl {' '.join(argv if argv is not None else sys.argv[1:])}"
        f" | {machine_description()}, TF {tf.__version__}"
        f" | {trained} of {planned} runs trained, wall {time.time() - started:.0f} s\n"
    )
    with open(Path(out) / "runs.log", "a") as f:
        f.write(line)


class Corpus:
    """One task at one training size, vectorised once for all of its runs."""

    def __init__(self, args, train_size):
        import tensorflow as tf

        from experiments.data.textpairs import load_text_pairs
        from experiments.tedl.two_tower import make_vectorizer

        train = load_text_pairs(args.task, "train", args.data_dir)
        test = load_text_pairs(args.task, "test", args.data_dir)
        # The training subset is fixed (seed 0) so that seeds vary only the
        # initialisation and the batch order.
        train = train.subsample(train_size, seed=0)
        if args.max_test:
            test = test.subsample(args.max_test, seed=0)
        self.train_size = len(train)
        self.vectorizer = make_vectorizer(
            np.concatenate([train.a, train.b]),
            max_tokens=args.max_tokens,
            sequence_length=args.sequence_length,
        )

        def vectorize(texts):
            return np.concatenate(
                [
                    self.vectorizer(tf.constant(texts[i : i + 8192].astype(str))).numpy()
                    for i in range(0, len(texts), 8192)
                ]
            ).astype("int32")

        self.x_train = [vectorize(train.a), vectorize(train.b)]
        self.y_train = train.labels
        self.x_test = [vectorize(test.a), vectorize(test.b)]
        self.y_test = test.labels


def train_one(args, corpus, method, lam, seed, log=print):
    """Trains one run and returns its per-epoch rows (dicts)."""
    import keras

    from keras_evidential.callbacks import KLAnnealing
    from keras_evidential.callbacks import TwoStageFit
    from experiments.tedl.epoch_log import EpochEvaluator
    from keras_evidential.layers.evidence import get as get_evidence
    from keras_evidential.losses import EDLLoss
    from experiments.tedl.two_tower import build_two_tower_model

    two_stage, evidence = parse_method(method)
    keras.utils.set_random_seed(seed)
    model = build_two_tower_model(
        corpus.vectorizer.vocabulary_size(),
        sequence_length=args.sequence_length,
        embedding_dim=args.embedding_dim,
        head_dim=args.embedding_dim,
        hidden_dim=2 * args.embedding_dim,
        num_heads=1,
        encoder=args.encoder,
    )
    callbacks = []
    if evidence is None:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        loss = EDLLoss(from_logits=True, evidence=get_evidence(evidence))
        if two_stage:
            callbacks.append(TwoStageFit(switch_epoch=args.switch_epoch))
        callbacks.append(KLAnnealing(increment=lam))
    evaluator = EpochEvaluator(corpus.x_test, corpus.y_test, evidence, log=log)
    callbacks.append(evaluator)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=loss)
    start = time.time()
    model.fit(
        corpus.x_train,
        corpus.y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    wall = time.time() - start
    if args.save_model:
        from experiments.tedl.two_tower import build_text_pair_model

        build_text_pair_model(corpus.vectorizer, model).save(args.save_model)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = []
    for record in evaluator.records:
        record.update(
            task=args.task,
            train_size=corpus.train_size,
            method=method,
            evidence=evidence or "softmax",
            lam=lam,
            seed=seed,
            config=config_tag(args),
            run_s=round(wall, 2),
            finished_at=stamp,
        )
        rows.append(record)
    return rows


def planned_runs(args):
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for method in methods:
        parse_method(method)
    lambdas = [float(x) for x in args.lambdas.split(",")]
    runs = []
    for size in parse_sizes(args.train_sizes):
        for seed in parse_seeds(args.seeds):
            for lam in lambdas:
                for method in methods:
                    # Cross-entropy has no KL term: one run per seed, lambda 0.
                    run_lam = 0.0 if method == "ce" else lam
                    run = (size, method, run_lam, seed)
                    if run not in runs:
                        runs.append(run)
    return runs


def main(argv=None):
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / CSV_NAME
    if not args.report_only:
        import tensorflow as tf

        threads = int(os.environ.get("TEDL_THREADS", "0"))
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        runs = planned_runs(args)
        config = config_tag(args)
        done = {row_key(r) for r in read_rows(csv_path)}
        corpora = {}
        print(
            f"TEDL study: {len(runs)} runs planned, config {config}, "
            f"machine {platform.node()} ({os.cpu_count()} cores), results in {out}",
            flush=True,
        )
        started = time.time()
        trained = 0
        for i, (size, method, lam, seed) in enumerate(runs, 1):
            if size not in corpora:
                corpora = {size: Corpus(args, size)}
            corpus = corpora[size]
            key = run_key(args.task, corpus.train_size, method, lam, seed, config)
            # Another command may share the CSV: look again before each run.
            done |= {row_key(r) for r in read_rows(csv_path)}
            if key in done:
                print(f"[{i}/{len(runs)}] skip (done): {key[:5]}", flush=True)
                continue
            print(
                f"[{i}/{len(runs)}] {args.task} n={corpus.train_size} {method} "
                f"lambda={lam:g} seed={seed}",
                flush=True,
            )

            def log(message):
                print(f"    {message}", flush=True)

            rows = train_one(args, corpus, method, lam, seed, log=log)
            append_rows(csv_path, rows)
            done.add(key)
            trained += 1
            print(
                f"    done in {rows[-1]['run_s']:.0f} s, final AUC {rows[-1]['auc']:.4f}",
                flush=True,
            )
        write_log(out, argv, started, trained, len(runs))
    if not args.no_report:
        from experiments.tedl.report import write_report

        written = write_report(csv_path, out)
        print("wrote " + ", ".join(str(p) for p in written), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
