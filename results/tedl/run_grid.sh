#!/bin/sh
# The grid behind results/tedl, in priority order. Each step appends its
# finished runs to runs.csv and skips runs already there, so the script can be
# stopped and restarted. Run from the repository root.
set -e
T="nice -n 10 python -m experiments.tedl --out results/tedl --no-report"
date -u +"start %FT%TZ"
# 1. CE vs EDL vs TEDL at the paper's default lambda = 0.1 (Fig. 2).
$T --methods ce,edl,tedl --lambdas 0.1 --seeds 0-4
# 2. The lambda sweep (Figs. 3-7); lambda = 0.1 is already done.
$T --methods edl,tedl --lambdas 0.1,0.25,0.5,0.75 --seeds 0-4
# 3. Beyond the paper: TEDL with softplus evidence, and EDL with ELU evidence
#    but no cross-entropy stage (which half of TEDL does the work?).
$T --methods tedl-softplus,edl-elu --lambdas 0.1,0.75 --seeds 0-4
# 4. The second task.
$T --task wikiqa --methods ce,edl,tedl --lambdas 0.1,0.75 --seeds 0-4
# 5. Training-set size (the paper's corpus-size study).
$T --methods ce,edl,tedl --lambdas 0.1 --seeds 0-4 --train-sizes 10000,20000
# 6. WikiQA again with twice the epochs and a later switch: at 8 epochs both
#    EDL methods were still rising (session 2).
$T --task wikiqa --methods ce,edl,tedl --lambdas 0.1,0.75 --seeds 0-4 --epochs 16 --switch-epoch 4
date -u +"end %FT%TZ"
python -m experiments.tedl --out results/tedl --report-only
