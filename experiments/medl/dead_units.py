"""Why EDL's accuracy without rejection scatters: dead evidence units in Q1.

Retrains the Q1 trainings (no u anywhere, seeds 0-9) of one model, EDL or
m-EDL, as one group of towers exactly as the grid does (same settings, draws
and protocol), and prints per seed the accuracy on the 10,000 MNIST test
images, the output units whose ReLU evidence is 0 on every test image ("dead":
that class is never predicted), the share of test images with no evidence at
all, and the worst class. Output: dead_units.txt. Run from the repository root:

    python results/medl/dead_units.py edl
    python results/medl/dead_units.py medl

Two runs of this script give identical output. They differ from the grid's
rows for the same seeds (epochs, and whether m-EDL seed 8 loses a unit):
those trials ran with earlier versions of the loss, whose float32 rounding
differs slightly, and training amplifies that.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

from experiments.medl import experiment
from experiments.medl import towers

K = 10


def main(head):
    settings = experiment.Settings()
    bank = experiment.Bank(set(), {"fashion", "emnist"}, settings)
    with tempfile.TemporaryDirectory() as tmp:
        runner = experiment.Runner(
            bank, settings, towers.Protocol(), Path(tmp) / "trials.csv", log=print
        )
        group = [(head, "none", 0.0, seed) for seed in range(settings.towers)]
        results, seconds = runner.run_group(group)
    model = runner.models[head]
    print(f"{head}: {len(group)} trainings in {seconds:.0f} s")
    for t, (_, _, _, seed) in enumerate(group):
        index, labels, _ = experiment.mixed_set(
            bank, "test", "none", 0.0, settings.test_size, seed
        )
        alpha = towers.predict_alpha(
            model, np.stack([index] * settings.towers, 1).astype(np.int32)
        )[:, t]
        evidence = alpha[:, :K] - 1.0
        predicted = alpha.argmax(-1)
        per_class = [np.mean(predicted[labels == j] == j) for j in range(K)]
        worst = int(np.argmin(per_class))
        print(
            f"seed {seed}: acc_k {np.mean(predicted == labels):.4f}, "
            f"epochs {results[t].epochs}, "
            f"dead units {[j for j in range(K) if np.all(evidence[:, j] <= 0)]}, "
            f"no-evidence share {np.mean(evidence.sum(-1) <= 0):.3f}, "
            f"worst class {worst} (acc {per_class[worst]:.3f})"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "edl")
