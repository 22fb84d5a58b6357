"""The evaluation plots: real PNG files with the expected curves and panels."""

import sys

import pytest

from keras_evidential import evaluation
from tests.evaluation.helpers import assert_png
from tests.evaluation.helpers import synthetic_alpha


def test_plots_compare_several_curves(tmp_path):
    pytest.importorskip("matplotlib")
    curves = {}
    for seed in (9, 10):
        alpha, labels = synthetic_alpha(seed, k=2)
        curves[f"model {seed}"] = evaluation.auc_vs_threshold(alpha, labels)
    figure = evaluation.plot_auc_vs_threshold(curves, path=tmp_path / "a.png")
    assert len(figure.axes[0].lines) == 2
    assert_png(tmp_path / "a.png")
    alpha, labels = synthetic_alpha(11)
    dists = {
        f"epoch {e}": evaluation.uncertainty_distribution(alpha * e, labels)
        for e in (1, 2, 3)
    }
    figure = evaluation.plot_uncertainty_distribution(dists, path=tmp_path / "d.png")
    assert len(figure.axes) == 3
    assert_png(tmp_path / "d.png")


def test_missing_matplotlib_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    alpha, labels = synthetic_alpha(12)
    curve = evaluation.accuracy_vs_threshold(alpha, labels)
    with pytest.raises(ImportError, match="pip install"):
        evaluation.plot_accuracy_vs_threshold(curve)
