#!/usr/bin/env bash
# Every row of the benchmark as its own process, all at once, for a machine
# with many cores and one accelerator (small conv nets leave a GPU mostly idle
# between kernel launches; 13 processes keep it busy). Each row writes to
# $BENCH_DIR/<method>/; `python -m experiments.benchmark.merge $BENCH_DIR/*`
# adds them to docs/results/benchmark/.
#
#   KERAS_BACKEND=jax EPOCHS=40 TIME_LIMIT=500 bash experiments/benchmark/parallel_rows.sh
#
# Environment: EPOCHS (40), WIDTH (64), TIME_LIMIT in seconds (each row stops
# at the epoch that would cross it), BENCH_DIR (build/benchmark_rows, under the repository root), DATA_DIR,
# PYTHON (python3), METHODS (all rows), EXTRA (more runner flags).
set -u
EPOCHS=${EPOCHS:-40}
WIDTH=${WIDTH:-64}
TIME_LIMIT=${TIME_LIMIT:-500}
BENCH_DIR=${BENCH_DIR:-build/benchmark_rows}
PYTHON=${PYTHON:-python3}
METHODS=${METHODS:-"softmax edl_relu edl_softplus iedl redl re_edl red daedl fedl tedl tedl_redl medl prior_network"}
DATA=${DATA_DIR:+--data-dir $DATA_DIR}
mkdir -p "$BENCH_DIR"
for method in $METHODS; do
    mkdir -p "$BENCH_DIR/$method"
    # The outer timeout only guards against a hung process: the runner stops
    # itself at TIME_LIMIT and tests what it trained.
    timeout $((${TIME_LIMIT%.*} + 60)) "$PYTHON" -m experiments.benchmark.runner \
        --methods "$method" --epochs "$EPOCHS" --width "$WIDTH" --pack 5 --jit \
        --protocol-schedule --time-limit "$TIME_LIMIT" $DATA ${EXTRA:-} \
        --out "$BENCH_DIR/$method" >"$BENCH_DIR/$method/stdout.txt" 2>&1 &
done
wait
