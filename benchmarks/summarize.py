"""Collects the benchmark results of one folder into `SUMMARY.md`.

Reads every `<name>.json` / `<name>.md` pair the benchmark scripts wrote,
puts a headline table (each figure next to its target) first and appends the
per-benchmark sections.

Run: `python benchmarks/summarize.py [--out benchmarks/results]`.
"""

import argparse
import json
import sys
from pathlib import Path

import common

ORDER = (
    "train_step",
    "fit_epoch",
    "profile_loss",
    "author_loss",
    "medl_trial",
    "inference",
    "memory",
)


def _worst_ratio(group, kind, names=None):
    return max(
        entry[f"ratio_{kind}"]["median_paired_ratio"]
        for name, entry in group["variants"].items()
        if f"ratio_{kind}" in entry and (names is None or name in names)
    )


def headline_rows(results):
    rows = []
    train = results.get("train_step")
    if train:
        target = train["target_ratio"]
        for key, group in train["results"].items():
            network, mode = key.split("/")
            wall, cpu = _worst_ratio(group, "wall"), _worst_ratio(group, "cpu")
            applies = network in train["target_networks"]
            rows.append(
                [
                    "1. train step EDL/CE (worst EDL variant)",
                    f"{network}, {mode}",
                    f"wall {wall:.3f}, CPU {cpu:.3f}",
                    f"<= {target}" if applies else "- (reported as is)",
                    ("yes" if cpu <= target else "NO") if applies else "-",
                ]
            )
    epoch = results.get("fit_epoch")
    if epoch:
        target = epoch["target_ratio"]
        for config, entry in epoch["results"].items():
            cpu = entry["edl_over_ce_cpu"]["median_paired_ratio"]
            wall = entry["edl_over_ce_wall"]["median_paired_ratio"]
            applies = config in epoch["target_configs"]
            rows.append(
                [
                    "1b. epoch of fit EDL/CE, m-EDL MLP, batch 64",
                    config,
                    f"wall {wall:.3f}, CPU {cpu:.3f}",
                    f"<= {target}" if applies else "-",
                    ("yes" if cpu <= target else "NO") if applies else "-",
                ]
            )
        for config, entry in epoch["results"].items():
            if "speedup_over_graph_edl_wall" not in entry:
                continue
            edl = entry["speedup_over_graph_edl_wall"]["median_paired_ratio"]
            ce = entry["speedup_over_graph_ce_wall"]["median_paired_ratio"]
            rows.append(
                [
                    "1c. epoch of fit, speed-up over graph mode (wall)",
                    config,
                    f"EDL {edl:.2f}x, CE {ce:.2f}x",
                    "-",
                    "-",
                ]
            )
    author = results.get("author_loss")
    if author:
        for variant, entry in author["variants"].items():
            if "speedup_wall" in entry:
                rows.append(
                    [
                        "2. speed-up over the author-style eager loss",
                        variant,
                        f"wall {entry['speedup_wall']['median_paired_ratio']:.2f}x, "
                        f"CPU {entry['speedup_cpu']['median_paired_ratio']:.2f}x",
                        "-",
                        "-",
                    ]
                )
    trials = [p for name, p in results.items() if name.startswith("medl_trial")]
    for trial in trials:
        for config, s in trial["summary"].items():
            rows.append(
                [
                    "3. one m-EDL trial (60,000 samples, early stopping)",
                    config,
                    f"{s['wall_s_median']:.1f} s wall ({s['cpu_s_median']:.1f} s CPU), "
                    f"epochs {s['epochs']}",
                    f"< {trial['target_seconds']} s",
                    ("yes" if s["wall_s_median"] < trial["target_seconds"] else "NO")
                    if trial["protocol"]["max_epochs"] == 100
                    else "- (capped run)",
                ]
            )
    inference = results.get("inference")
    if inference:
        heads = {
            "all five outputs": {"edl", "medl"},
            "probabilities (+ uncertainty)": {
                "edl_probabilities_uncertainty",
                "medl_probabilities",
            },
        }
        for key, group in inference["results"].items():
            for what, names in heads.items():
                if not names & set(group["variants"]):
                    continue
                wall = _worst_ratio(group, "wall", names)
                cpu = _worst_ratio(group, "cpu", names)
                rows.append(
                    [
                        f"4. serving latency Dirichlet head / softmax, {what} "
                        "(worst of EDL, m-EDL)",
                        key,
                        f"wall {wall:.3f}, CPU {cpu:.3f}",
                        f"<= {inference['target_ratio']}",
                        "yes" if cpu <= inference["target_ratio"] else "NO",
                    ]
                )
    memory = results.get("memory")
    if memory:
        for network, group in memory["results"].items():
            ce = group["ce"]
            worst_rss = max(
                e["rss_training_peak_mib"] / ce["rss_training_peak_mib"]
                for e in group.values()
            )
            worst_tf = max(e["tf_peak_mib"] / ce["tf_peak_mib"] for e in group.values())
            rows.append(
                [
                    "5. peak memory EDL/CE (worst EDL variant)",
                    network,
                    f"training peak RSS {worst_rss:.3f}, TF allocator peak "
                    f"{worst_tf:.3f}",
                    "-",
                    "-",
                ]
            )
    return rows


def summarize(out_dir):
    out_dir = Path(out_dir)
    results, sections = {}, []
    names = [n for n in ORDER if (out_dir / f"{n}.json").exists()]
    names += sorted(
        p.stem
        for p in out_dir.glob("*.json")
        if p.stem not in ORDER and (out_dir / f"{p.stem}.md").exists()
    )
    for name in names:
        payload = json.loads((out_dir / f"{name}.json").read_text())
        results[payload.get("benchmark", name)] = payload
        md_path = out_dir / f"{name}.md"
        if md_path.exists():
            # Each section's title becomes a second-level heading.
            sections.append("#" + md_path.read_text().strip())
    if not results:
        raise SystemExit(f"No benchmark results (*.json) in {out_dir}")
    smoke = any(p.get("smoke") for p in results.values())
    machine = next(iter(results.values()))["machine"]
    intro = [
        "# keras-evidential performance benchmarks: summary",
        "SMOKE RUN: tiny sizes, the figures mean nothing."
        if smoke
        else "Figures from the scripts in `benchmarks/`; how to reproduce them: "
        "`docs/performance.md`.",
        f"Machine: {machine['cpu']}, {machine['usable_cores']} usable cores, GPU: "
        f"{', '.join(machine['gpus']) or 'none (no GPU was available to these runs)'}; "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, Python "
        f"{machine['python']}. Each section below gives its own date, command and "
        "machine load (the 1-minute load average, recorded as the runs went: the "
        "machine may be shared with other jobs). A target counts as met on the "
        "CPU-time ratio, the figure other processes disturb least.",
        common.markdown_table(
            ["item", "case", "figure", "target", "met"], headline_rows(results)
        ),
    ]
    text = "\n\n".join(intro + sections) + "\n"
    path = out_dir / "SUMMARY.md"
    path.write_text(text)
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    summarize(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
