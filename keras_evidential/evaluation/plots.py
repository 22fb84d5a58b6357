"""Plots of the evaluation curves (matplotlib, an optional dependency).

Each function takes the dict returned by the matching function of
`keras_evidential.evaluation.curves`, or a dict `{label: curve}` to compare
several models (or epochs), returns a `matplotlib.figure.Figure`, and writes
it as PNG when `path` is given. No pyplot state is used, so the functions
work on headless machines and in threads.
"""

from __future__ import annotations

from typing import Any
from typing import Mapping

import numpy as np

from keras_evidential.tensor_types import PathLike


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib, an optional dependency of "
            "keras-evidential. Install it with "
            "`pip install keras-evidential[plots]` or `pip install matplotlib`."
        ) from error
    return Figure


def _labelled(curves, required_key):
    """`{label: curve}` from one curve or a dict of curves."""
    if required_key in curves:
        return {"": curves}
    return dict(curves)


def _finish(figure, path):
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, format="png", dpi=120)
    return figure


def plot_accuracy_vs_threshold(
    curves: Mapping[str, Any],
    reference_lines: Mapping[str, float] | None = None,
    unknown_reference_lines: Mapping[str, float] | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Any:
    """Accuracy against the vacuity threshold, m-EDL's Fig. 3 style.

    Left: for known classes, the selective accuracy (accuracy of the kept
    samples, solid) and the known-class accuracy (rejecting a known sample
    is wrong, dashed). Right, when any curve has unknown samples: the recall
    (solid) and precision (dashed) of "unknown" predictions.

    Args:
        curves: A result of `accuracy_vs_threshold`, or `{label: result}`.
        reference_lines: Optional `{label: accuracy}` drawn as horizontal
            lines on the left, e.g. an m-EDL model's threshold-free accuracy.
        unknown_reference_lines: Optional `{label: value}` drawn as
            horizontal lines on the right, e.g. m-EDL's unknown recall.
        path: Optional path of the PNG to write.
        title: Optional figure title.

    Returns:
        The `matplotlib.figure.Figure`.
    """
    Figure = _figure_class()
    curves = _labelled(curves, "selective_accuracy")
    with_unknown = any(
        np.isfinite(curve["unknown_recall"]).any() for curve in curves.values()
    )
    figure = Figure(figsize=(10 if with_unknown else 5.5, 4))
    axes = figure.subplots(1, 2 if with_unknown else 1, squeeze=False)[0]
    for index, (label, curve) in enumerate(curves.items()):
        color = f"C{index}"
        prefix = f"{label}: " if label else ""
        axes[0].plot(
            curve["threshold"],
            curve["selective_accuracy"],
            color=color,
            marker="o",
            markersize=3,
            label=f"{prefix}accuracy of kept samples",
        )
        axes[0].plot(
            curve["threshold"],
            curve["known_accuracy"],
            color=color,
            linestyle="--",
            label=f"{prefix}accuracy for k",
        )
        if with_unknown:
            axes[1].plot(
                curve["threshold"],
                curve["unknown_recall"],
                color=color,
                marker="o",
                markersize=3,
                label=f"{prefix}recall of u (accuracy for u)",
            )
            axes[1].plot(
                curve["threshold"],
                curve["unknown_precision"],
                color=color,
                linestyle="--",
                label=f"{prefix}precision of u",
            )
    for offset, (label, value) in enumerate((reference_lines or {}).items()):
        axes[0].axhline(
            value, color=f"C{len(curves) + offset}", linewidth=2.5, label=label
        )
    if with_unknown:
        for offset, (label, value) in enumerate(
            (unknown_reference_lines or {}).items()
        ):
            axes[1].axhline(
                value, color=f"C{len(curves) + offset}", linewidth=2.5, label=label
            )
    axes[0].set_title("known classes")
    if with_unknown:
        axes[1].set_title("unknown class u")
    for ax in axes:
        ax.set_xlabel("uncertainty (vacuity) threshold")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def plot_auc_vs_threshold(
    curves: Mapping[str, Any], path: PathLike | None = None, title: str | None = None
) -> Any:
    """ROC AUC on the samples with vacuity `<= t`, against `t` (TEDL Fig. 3).

    The share of samples kept is drawn dashed on the right axis.

    Args:
        curves: A result of `auc_vs_threshold`, or `{label: result}`.
        path: Optional path of the PNG to write.
        title: Optional figure title.

    Returns:
        The `matplotlib.figure.Figure`.
    """
    Figure = _figure_class()
    curves = _labelled(curves, "auc")
    figure = Figure(figsize=(5.5, 4))
    ax = figure.subplots()
    coverage_ax = ax.twinx()
    for index, (label, curve) in enumerate(curves.items()):
        color = f"C{index}"
        ax.plot(
            curve["threshold"],
            curve["auc"],
            color=color,
            marker="o",
            markersize=3,
            label=label or "ROC AUC",
        )
        coverage_ax.plot(
            curve["threshold"], curve["coverage"], color=color, linestyle=":", alpha=0.7
        )
    ax.set_xlabel("uncertainty (vacuity) threshold")
    ax.set_ylabel("ROC AUC of samples with vacuity <= threshold")
    coverage_ax.set_ylabel("share of samples kept (dotted)")
    coverage_ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    return _finish(figure, path)


def plot_uncertainty_distribution(
    distributions: Mapping[str, Any],
    path: PathLike | None = None,
    title: str | None = None,
    xlabel: str = "vacuity",
) -> Any:
    """Histograms of uncertainty by outcome (TEDL Fig. 4), one panel each.

    Args:
        distributions: A result of `uncertainty_distribution`, or
            `{label: result}` (e.g. one per epoch) for side-by-side panels.
        path: Optional path of the PNG to write.
        title: Optional figure title.
        xlabel: Label of the score axis. Defaults to `"vacuity"`.

    Returns:
        The `matplotlib.figure.Figure`.
    """
    Figure = _figure_class()
    distributions = _labelled(distributions, "bin_left")
    count = len(distributions)
    figure = Figure(figsize=(min(4.5 * count, 18), 3.6))
    axes = figure.subplots(1, count, squeeze=False, sharey=True)[0]
    groups = (("correct", "C2"), ("misclassified", "C3"), ("unknown", "C7"))
    for ax, (label, histogram) in zip(axes, distributions.items()):
        edges = np.append(histogram["bin_left"], histogram["bin_right"][-1])
        for group, color in groups:
            counts = np.asarray(histogram[group])
            if counts.sum() == 0:
                continue
            ax.stairs(counts, edges, color=color, fill=True, alpha=0.35)
            ax.stairs(
                counts,
                edges,
                color=color,
                linewidth=1.5,
                label=f"{group} ({int(counts.sum())})",
            )
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        if label:
            ax.set_title(label)
    axes[0].set_ylabel("samples")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)
