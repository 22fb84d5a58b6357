"""Why AUC falls on the most confident test pairs: class mix and accuracy per threshold.

Trains EDL and TEDL (lambda 0.1, seed 0, the runner's defaults) once more, saves
them as raw-string models (the runner's --save-model) and prints, for each
uncertainty threshold, the size of the subset u <= threshold, its share of
positives, its accuracy (argmax) and its ROC AUC. Output: confident_subsets.txt.
Run from the repository root:

    nice -n 10 python results/tedl/confident_subsets.py
"""

import os
import tempfile

import keras
from keras import ops

from keras_evidential import dirichlet
from keras_evidential import evaluation
from keras_evidential.evaluation.curves import alpha_from_outputs
from experiments.tedl import runner
from experiments.tedl.epoch_log import THRESHOLDS

args = runner.build_parser().parse_args(["--seeds", "0"])
corpus = runner.Corpus(args, None)
SCRATCH = tempfile.mkdtemp()
for method, evidence in (("tedl", "elu"), ("edl", "relu")):
    args.save_model = os.path.join(SCRATCH, f"confident_subsets_{method}.keras")
    rows = runner.train_one(args, corpus, method, 0.1, 0, log=None)
    token_model = keras.saving.load_model(args.save_model).get_layer("two_tower_tokens")
    logits = token_model.predict(corpus.x_test, batch_size=2048, verbose=0)
    alpha = alpha_from_outputs(logits, evidence)
    p = ops.convert_to_numpy(dirichlet.expected_probability(alpha))[:, 1]
    u, y = ops.convert_to_numpy(dirichlet.vacuity(alpha)), corpus.y_test
    print(method, "final auc", rows[-1]["auc"], flush=True)
    for t in THRESHOLDS:
        k = u <= t + 1e-6
        if k.sum() == 0:
            continue
        acc = ((p[k] > 0.5) == (y[k] == 1)).mean()
        print(
            f"  u<={t:.1f} n={k.sum():5d} pos_rate={y[k].mean():.3f} acc={acc:.3f} "
            f"auc={evaluation.roc_auc(y[k], p[k]):.3f} "
            f"p1_range=[{p[k].min():.2f},{p[k].max():.2f}]",
            flush=True,
        )
    print("  overall acc", ((p > 0.5) == (y == 1)).mean(), "majority", 1 - y.mean())
