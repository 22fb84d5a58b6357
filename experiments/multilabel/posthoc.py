"""POST HOC, exploratory: which Beta evidence ranks the OOD composites?

Not part of the pre-registered protocol (experiments/multilabel/README.md,
section "Post hoc analysis (2026-12-07)"): it was chosen after seeing the
pre-registered result (Beta Score-Sum AUPR below that of a random score).
It retrains the pre-registered beta_edl runs (same data, settings and seeds)
and scores the same test and OOD composites by every `ood_score`
(Score-Sum / Score-Max of the positive, negative or both evidences), and
records the mean pooled evidence of each population.

    python -m experiments.multilabel.posthoc [--seeds 0 1 2 3 4] [--epochs 8]

Resumable (rows of results/multilabel/posthoc.csv are kept); writes
posthoc.csv and posthoc.md there. Nothing here replaces the pre-registered
verdicts in results.md.
"""

import argparse

import numpy as np

from experiments import harness
from experiments.multilabel.__main__ import OUT
from experiments.multilabel.__main__ import build_data
from experiments.multilabel.__main__ import train

EVIDENCES = ("both", "positive", "negative")
REDUCTIONS = ("sum", "max")
SCORES = [f"{r}_{e}" for e in EVIDENCES for r in REDUCTIONS]
FIELDS = (
    ["seed", "map"]
    + [f"{kind}_{name}" for name in SCORES for kind in ("aupr", "fpr95")]
    + [f"mean_{side}_evidence_{population}"
       for side in ("positive", "negative") for population in ("test", "ood")]
)


def analyse(seed, data, epochs):
    import keras

    import keras_evidential as ke
    from keras_evidential.evaluation import multilabel as ml

    _, (test_x, test_y), ood_x = data
    model, _ = train(seed, "beta_edl", data, epochs)
    test_out = model.predict(test_x, batch_size=1000, verbose=0)
    ood_out = model.predict(ood_x, batch_size=1000, verbose=0)
    probabilities = keras.ops.convert_to_numpy(ke.beta.expected_probability(test_out))
    row = {"seed": seed, "map": ml.mean_average_precision(test_y, probabilities)}
    for evidence in EVIDENCES:
        for reduction in REDUCTIONS:
            figures = ml.multilabel_ood_detection(
                ml.beta_ood_scores(test_out, reduction, evidence),
                ml.beta_ood_scores(ood_out, reduction, evidence),
            )
            row[f"aupr_{reduction}_{evidence}"] = figures["aupr_out"]
            row[f"fpr95_{reduction}_{evidence}"] = figures["fpr95"]
    for population, params in (("test", test_out), ("ood", ood_out)):
        # Pooled over the 10 labels, per sample, then averaged.
        row[f"mean_positive_evidence_{population}"] = float(
            np.mean(np.sum(params[..., 0] - 1.0, axis=-1)))
        row[f"mean_negative_evidence_{population}"] = float(
            np.mean(np.sum(params[..., 1] - 1.0, axis=-1)))
    return row


def report(rows):
    pre = {int(r["seed"]): r for r in harness.ResultsCSV(
        OUT / "runs.csv", ["seed", "model"]).rows() if r["model"] == "sigmoid_bce"}
    pre_beta = {int(r["seed"]): r for r in harness.ResultsCSV(
        OUT / "runs.csv", ["seed", "model"]).rows() if r["model"] == "beta_edl"}
    rows = sorted(rows, key=lambda r: int(r["seed"]))
    seeds = [int(r["seed"]) for r in rows]
    get = lambda key: np.array([float(r[key]) for r in rows])
    lines = [
        "# POST HOC (exploratory): OOD scores of the Beta models\n\n",
        "Chosen after the pre-registered result; not a verdict. The pre-registered "
        "verdicts are in [results.md](results.md) and stand. Retrained runs of the "
        "pre-registered beta_edl setting, seeds " + ", ".join(map(str, seeds)) + ".\n\n",
    ]
    same = [abs(float(pre_beta[s]["map"]) - float(r["map"])) for s, r in zip(seeds, rows)
            if s in pre_beta]
    if same:
        lines.append(
            f"Reproduction: largest |mAP(retrained) - mAP(runs.csv)| = {max(same) * 100:.3f} pt.\n\n")
    table = []
    for name in SCORES:
        reduction, evidence = name.split("_")
        table.append([f"Score-{reduction.capitalize()}", evidence,
                      harness.mean_std(get(f"aupr_{name}"), 100),
                      harness.mean_std(get(f"fpr95_{name}"), 100)])
    for base in ("max_probability", "mean_probability"):
        values = np.array([float(pre[s][f"aupr_{base}"]) for s in seeds])
        fpr = np.array([float(pre[s][f"fpr95_{base}"]) for s in seeds])
        table.append([f"BCE {base} (runs.csv)", "-", harness.mean_std(values, 100),
                      harness.mean_std(fpr, 100)])
    lines.append("Mean ± std over seeds, in %; AUPR with the OOD composites positive "
                 "(half the samples: a random score has 50).\n\n")
    lines.append(harness.markdown_table(
        ["score", "evidence", "AUPR (OOD positive)", "FPR95"], table))
    lines.append("\nMean pooled evidence per sample (sum over the 10 labels):\n\n")
    lines.append(harness.markdown_table(
        ["population", "positive evidence", "negative evidence"],
        [[population,
          harness.mean_std(get(f"mean_positive_evidence_{population}")),
          harness.mean_std(get(f"mean_negative_evidence_{population}"))]
         for population in ("test", "ood")]))
    best = max(SCORES, key=lambda name: get(f"aupr_{name}").mean())
    lines.append("\nPaired differences by seed (descriptive; exploratory, so no "
                 "verdict), best post hoc score `" + best + "` vs each BCE score:\n\n")
    diffs = []
    for base in ("max_probability", "mean_probability"):
        test = harness.paired_test(
            get(f"aupr_{best}"), [float(pre[s][f"aupr_{base}"]) for s in seeds])
        diffs.append([base, f"{test['mean_diff'] * 100:+.2f}",
                      f"{test['std_diff'] * 100:.2f}", f"{test['wins']}/{test['n']}",
                      "-" if test["t_p"] is None else f"{test['t_p']:.4f}"])
    lines.append(harness.markdown_table(
        ["BCE score", "mean diff (pt)", "std diff (pt)", "wins", "t-test p (two-sided)"],
        diffs))
    (OUT / "posthoc.md").write_text("".join(lines))
    print("".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    results = harness.ResultsCSV(OUT / "posthoc.csv", ["seed"])
    done = results.done()
    data = build_data()
    for seed in args.seeds:
        if (str(seed),) in done:
            continue
        row = analyse(seed, data, args.epochs)
        results.append_many([row], FIELDS)
        print(f"seed {seed}: " + ", ".join(
            f"{name} {row[f'aupr_{name}']:.3f}" for name in SCORES), flush=True)
    report(results.rows())


if __name__ == "__main__":
    main()
