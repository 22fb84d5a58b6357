"""The cubic toy of Amini et al. (2020) and Meinert et al. (2023), several seeds.

    python -m experiments.regression.cubic_toy            # 10 seeds (the committed run), resumable

Data: 1,000 points x ~ U[-4, 4], y = x^3 + N(0, 3^2) (Meinert et al.,
Sec. 2.2; Amini et al.'s code uses an evenly spaced x); test on a grid of
[-7, 7]. Network and training as Amini et al.'s `run_cubic_tests.py`: 4
hidden ReLU layers of 100 units, Adam (learning rate 5e-3), batch 128, 5,000
steps; all with `keras.Model.fit` on the library's layer and losses.

Losses: `der_amini` (lambda = 0.01), `der_meinert` (Meinert's regulariser,
p = 1, lambda = 0.01) and `meinert_alternative` (Eq. 12, lambda = 2, their
value for Fig. 2c).

Measured per run: the epistemic uncertainty outside the training range
(|x| in [5, 7]) over inside (|x| <= 4), in both conventions
(`sqrt(Var[mu])` and `1 / sqrt(nu)`), and the aleatoric uncertainty inside
the range against the true sigma = 3 (`sqrt(E[sigma^2])` and `w_St`;
`sqrt(beta / nu)` for the alternative loss).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import time
from pathlib import Path

import numpy as np

from experiments import harness
from experiments.regression import ratios

OUT = harness.REPO / "results" / "regression"
LOSSES = {
    "der_amini": ("EvidentialRegressionLoss", {"regularizer_weight": 0.01}),
    "der_meinert": ("EvidentialRegressionLoss", {"regularizer_weight": 0.01, "regularizer": "meinert"}),
    "meinert_alternative": ("MeinertRegressionLoss", {"regularizer_weight": 2.0}),
}
SIGMA = 3.0
X_TEST = np.linspace(-7, 7, 281).astype("float32")[:, None]


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, (1000, 1)).astype("float32")
    y = (x**3 + rng.normal(0, SIGMA, x.shape)).astype("float32")
    return x, y


def train(loss_name, seed, steps=5000, batch_size=128):
    import keras

    import keras_evidential as ke

    keras.utils.set_random_seed(seed)
    x, y = data(seed)
    model = keras.Sequential(
        [keras.Input((1,))]
        + [keras.layers.Dense(100, activation="relu") for _ in range(4)]
        + [ke.layers.NormalInverseGammaOutput(1)]
    )
    cls, kwargs = LOSSES[loss_name]
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss=getattr(ke.losses, cls)(**kwargs),
                  steps_per_execution=8)
    epochs = int(np.ceil(steps / np.ceil(len(x) / batch_size)))
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return model.predict(X_TEST, verbose=0), history.history["loss"][-1]


def uncertainties(pred, loss_name):
    from keras import ops

    from keras_evidential import nig

    g, nu, a, b = (pred[:, i] for i in range(4))
    out = {"mean": g}
    for name, fn in nig.UNCERTAINTIES.items():
        out[name] = np.asarray(ops.convert_to_numpy(fn(nu, a, b)), "float64")
    if loss_name == "meinert_alternative":
        # alpha is untrained: the aleatoric estimate is sigma = sqrt(beta / nu).
        out["aleatoric_meinert"] = np.sqrt(np.asarray(ops.convert_to_numpy(nig.gaussian_variance(nu, b))))
        out["aleatoric_amini"] = out["epistemic_amini"] = np.full_like(g, np.nan)
    # Amini's conventions are variances; their square roots are in y's units.
    out["aleatoric_amini"] = np.sqrt(out["aleatoric_amini"])
    out["epistemic_amini"] = np.sqrt(out["epistemic_amini"])
    return out


def measures(u):
    x = X_TEST[:, 0]
    inside, outside = np.abs(x) <= 4, np.abs(x) >= 5
    row = {"rmse_inside": float(np.sqrt(np.mean((u["mean"][inside] - x[inside] ** 3) ** 2)))}
    for convention in ("amini", "meinert"):
        ep = u[f"epistemic_{convention}"]
        row[f"epistemic_ratio_{convention}"] = float(ep[outside].mean() / ep[inside].mean())
        row[f"aleatoric_inside_{convention}"] = float(u[f"aleatoric_{convention}"][inside].mean())
    return row


def figure(runs, path):
    plt = harness.pyplot()
    x = X_TEST[:, 0]
    names = list(LOSSES)
    fig, axes = plt.subplots(len(names), 3, figsize=(12, 3.2 * len(names)), squeeze=False)
    xd, yd = data(0)
    for r, loss_name in enumerate(names):
        seeds = sorted(s for (l, s) in runs if l == loss_name)
        if not seeds:
            continue
        first = runs[(loss_name, seeds[0])]
        ax = axes[r, 0]
        ax.scatter(xd[:, 0], yd[:, 0], s=1, color="0.5", label="training data (seed 0)")
        ax.plot(x, x**3, "r--", linewidth=1, label="x^3")
        for k, alpha in ((3, 0.15), (2, 0.25), (1, 0.35)):
            ep = first["epistemic_meinert"] * first["aleatoric_meinert"]
            ax.fill_between(x, first["mean"] - k * ep, first["mean"] + k * ep, color="C0",
                            alpha=alpha, linewidth=0)
        ax.plot(x, first["mean"], color="C0", label="gamma ± k u_ep u_al (seed %d)" % seeds[0])
        ax.axvspan(-7, -4, color="0.9", zorder=0)
        ax.axvspan(4, 7, color="0.9", zorder=0)
        ax.set_ylim(-150, 150)
        ax.set_title(f"{loss_name}: prediction")
        ax.legend(loc="upper left")
        for c, kind in ((1, "aleatoric"), (2, "epistemic")):
            ax = axes[r, c]
            for s in seeds:
                u = runs[(loss_name, s)]
                if np.all(np.isfinite(u[f"{kind}_amini"])):
                    ax.plot(x, u[f"{kind}_amini"], color="C1", alpha=0.5, linewidth=0.8,
                            label="Amini (sqrt)" if s == seeds[0] else None)
                ax.plot(x, u[f"{kind}_meinert"], color="C2", alpha=0.5, linewidth=0.8,
                        label="Meinert" if s == seeds[0] else None)
            if kind == "aleatoric":
                ax.axhline(SIGMA, color="r", linestyle="--", linewidth=1, label="true sigma = 3")
                ax.set_ylim(0, 12)
            else:
                ax.set_yscale("log")
            ax.axvspan(-7, -4, color="0.9", zorder=0)
            ax.axvspan(4, 7, color="0.9", zorder=0)
            ax.set_title(f"{loss_name}: {kind} ({len(seeds)} seeds)")
            ax.legend(loc="upper center")
    for ax in axes[-1]:
        ax.set_xlabel("x (grey: outside the training range)")
    harness.save_figure(fig, path)


def calibration(runs, path, runs_dir):
    """Coverage curves on fresh noisy targets at the in-range grid points (20 per point).

    DER models are scored with their Student-t (`ke.evaluation.coverage_curve`);
    Meinert's alternative loss with its Gaussian N(gamma, beta / nu).
    """
    from scipy import stats

    import keras_evidential as ke

    x = X_TEST[:, 0]
    inside = np.abs(x) <= 4
    rng = np.random.default_rng(12345)
    y = x[inside, None] ** 3 + rng.normal(0, SIGMA, (inside.sum(), 20))
    levels = ke.evaluation.regression.DEFAULT_LEVELS
    curves, rows = {}, []
    for loss_name in LOSSES:
        per_seed = []
        for (name, seed), _ in sorted(runs.items()):
            if name != loss_name:
                continue
            pred = np.load(runs_dir / f"{name}_seed{seed}.npz")["pred"][inside].astype("float64")
            if loss_name == "meinert_alternative":
                sd = np.sqrt(pred[:, 3] / pred[:, 1])[:, None]
                central = np.abs(2 * stats.norm.cdf((y - pred[:, :1]) / sd) - 1).reshape(-1)
                observed = np.array([np.mean(central <= c) for c in levels])
                curve = {"expected": np.asarray(levels), "observed": observed,
                         "calibration_error": float(np.mean(np.abs(observed - levels)))}
            else:
                tiled = np.repeat(pred[:, None, :], y.shape[1], axis=1).reshape(-1, 4)
                curve = ke.evaluation.coverage_curve(y.reshape(-1), tiled, levels)
            per_seed.append(curve)
        if not per_seed:
            continue
        mean_observed = np.mean([c["observed"] for c in per_seed], axis=0)
        curves[f"{loss_name} (mean of {len(per_seed)} seeds)"] = {
            "expected": np.asarray(levels), "observed": mean_observed,
            "calibration_error": float(np.mean(np.abs(mean_observed - levels))),
        }
        rows.append([loss_name, len(per_seed),
                     harness.mean_std([c["calibration_error"] for c in per_seed], digits=3),
                     harness.mean_std([c["observed"][list(levels).index(0.95)] for c in per_seed],
                                      digits=3)])
    ke.evaluation.plot_coverage_curve(curves, path=path, title="cubic toy, |x| <= 4")
    return harness.markdown_table(
        ["loss", "seeds", "calibration error (mean abs gap)", "coverage of the 95 % interval"], rows)


def report(rows):
    header = ["loss", "seeds", "RMSE in range", "epistemic out/in (Amini sqrt Var[mu]) [95 % CI]",
              "epistemic out/in (Meinert 1/sqrt(nu)) [95 % CI]", "aleatoric in range (Amini sqrt E[sigma^2])",
              "aleatoric in range (Meinert w_St)", "seeds with out/in > 1 (Amini)",
              "seeds with out/in > 1 (Meinert)"]
    table = []
    for loss_name in LOSSES:
        rs = [r for r in rows if r["loss"] == loss_name]
        if not rs:
            continue
        col = lambda k: [float(r[k]) for r in rs]  # noqa: E731
        grows = sum(v > 1 for v in col("epistemic_ratio_meinert"))
        grows_amini = sum(v > 1 for v in col("epistemic_ratio_amini"))
        amini = loss_name != "meinert_alternative"
        amini_cell = f"{grows_amini}/{len(rs)}" if amini else "-"
        table.append([loss_name, len(rs), harness.mean_std(col("rmse_inside")),
                      ratios.describe(col("epistemic_ratio_amini")) if amini else "-",
                      ratios.describe(col("epistemic_ratio_meinert")),
                      harness.mean_std(col("aleatoric_inside_amini")),
                      harness.mean_std(col("aleatoric_inside_meinert")),
                      amini_cell, f"{grows}/{len(rs)}"])
    return ("# Cubic toy (Amini et al. 2020, Meinert et al. 2023)\n\n"
            "Mean ± std over seeds (data, initialisation and batches all change with the seed), "
            "except the epistemic out/in ratios: they are right-skewed, so they are given as the "
            "median with its distribution-free 95 % interval (order statistics) and the geometric "
            "mean with its 95 % t interval on the log scale. "
            "In range: |x| <= 4 (the training range); out: 5 <= |x| <= 7. Epistemic out/in: the "
            "mean epistemic uncertainty out of range over its mean in range. Aleatoric: mean in "
            "range; the truth is sigma = 3. For "
            "`meinert_alternative` the aleatoric value is sqrt(beta / nu) and alpha is untrained, "
            "so Amini's convention does not apply.\n\n"
            + harness.markdown_table(header, table)
            + "\n![cubic toy](cubic_toy.png)\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    out = Path(args.out)
    runs_dir = out / "cubic_toy"
    results = harness.ResultsCSV(out / "cubic_toy.csv", ["loss", "seed"])
    log = harness.RunLog(out / "cubic_toy.log")
    log(f"{harness.command_line()} on {harness.machine_info()}")
    runs_dir.mkdir(parents=True, exist_ok=True)
    done = results.done()
    for seed in range(args.seeds):
        for loss_name in LOSSES:
            npz = runs_dir / f"{loss_name}_seed{seed}.npz"
            if (loss_name, str(seed)) in done and npz.exists():
                continue
            start = time.monotonic()
            pred, final_loss = train(loss_name, seed, steps=args.steps)
            np.savez_compressed(npz, pred=pred.astype("float32"))
            row = {"loss": loss_name, "seed": seed, "steps": args.steps,
                   "final_train_loss": float(final_loss),
                   **measures(uncertainties(pred, loss_name)),
                   "wall_s": round(time.monotonic() - start, 1)}
            results.append(row)
            log(f"{loss_name} seed {seed}: {row}")
    runs = {}
    for npz in sorted(runs_dir.glob("*_seed*.npz")):
        loss_name, seed = npz.stem.rsplit("_seed", 1)
        if loss_name in LOSSES and int(seed) < args.seeds:
            runs[(loss_name, int(seed))] = uncertainties(np.load(npz)["pred"], loss_name)
    figure(runs, out / "cubic_toy.png")
    rows = [r for r in results.rows() if int(r["seed"]) < args.seeds]
    text = report(rows) + (
        "\n## Calibration in the training range\n\n"
        "Fresh targets y = x^3 + N(0, 9), 20 per in-range grid point; expected against observed "
        "coverage of the central predictive intervals (DER: Student-t; alternative loss: "
        "Gaussian). Mean ± std over seeds.\n\n"
        + calibration(runs, out / "cubic_toy_calibration.png", runs_dir)
        + "\n![calibration](cubic_toy_calibration.png)\n"
    )
    (out / "cubic_toy.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
