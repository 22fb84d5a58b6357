"""One call from a model (or its `alpha`) and labelled data to every figure,
curve and plot of `keras_evidential.evaluation`."""

from __future__ import annotations

import csv
import dataclasses
import os
from typing import Any
from typing import Mapping

import keras
import numpy as np
from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.evaluation import curves as curves_lib
from keras_evidential.evaluation import plots
from keras_evidential.metrics.predictions import num_known_classes
from keras_evidential.model_kind import model_kind
from keras_evidential.model_kind import output_layer
from keras_evidential.tensor_types import ArrayLike
from keras_evidential.tensor_types import PathLike


@dataclasses.dataclass
class UncertaintyReport:
    """The figures and curves of an evidential classifier on labelled data.

    Attributes:
        metrics: `uncertainty_metrics` at the report's threshold (scalars).
        threshold_free: `uncertainty_metrics` without a threshold (EDL
            `argmax`, m-EDL `argmax` over K + 1), the reference lines.
        accuracy_curve: `accuracy_vs_threshold`.
        auc_curve: `auc_vs_threshold` for binary tasks, else None.
        distribution: `uncertainty_distribution` of the vacuity.
        measures: `uncertainty_measures`, per sample, with `label` and
            `prediction` (threshold-free).
        unknown_class: Whether the outputs were m-EDL's K + 1.
    """

    metrics: dict
    threshold_free: dict
    accuracy_curve: dict
    auc_curve: dict | None
    distribution: dict
    measures: dict
    unknown_class: bool

    def save(
        self, directory: PathLike, plot: bool = True, prefix: str = ""
    ) -> list[str]:
        """Writes the report as CSV files and, with `plot=True`, PNG plots.

        Files (each name preceded by `prefix`): `metrics.csv` (columns
        `metric, value, threshold_free_value`), `accuracy_vs_threshold.csv`,
        `auc_vs_threshold.csv` (binary tasks), `uncertainty_distribution.csv`,
        `measures.csv` (one row per sample), and the plots
        `accuracy_vs_threshold.png`, `auc_vs_threshold.png` (binary tasks)
        and `uncertainty_distribution.png`.

        Args:
            directory: Output folder, created if missing.
            plot: Whether to write the PNG plots (needs matplotlib).
            prefix: Optional prefix of every file name.

        Returns:
            The list of paths written.
        """
        os.makedirs(directory, exist_ok=True)

        def path(name: str) -> str:
            return os.path.join(directory, prefix + name)

        written = [path("metrics.csv")]
        with open(written[0], "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["metric", "value", "threshold_free_value"])
            for name, value in self.metrics.items():
                writer.writerow([name, value, self.threshold_free.get(name, "")])
        tables = {
            "accuracy_vs_threshold.csv": self.accuracy_curve,
            "auc_vs_threshold.csv": self.auc_curve,
            "uncertainty_distribution.csv": self.distribution,
            "measures.csv": self.measures,
        }
        for name, table in tables.items():
            if table is not None:
                written.append(path(name))
                write_csv(written[-1], table)
        if plot:
            known_lines = {
                "threshold-free accuracy for k": self.threshold_free["known_accuracy"]
            }
            unknown_lines = (
                {"threshold-free recall of u": self.threshold_free["unknown_recall"]}
                if self.unknown_class
                else None
            )
            plots.plot_accuracy_vs_threshold(
                self.accuracy_curve,
                reference_lines=known_lines,
                unknown_reference_lines=unknown_lines,
                path=path("accuracy_vs_threshold.png"),
            )
            written.append(path("accuracy_vs_threshold.png"))
            if self.auc_curve is not None:
                plots.plot_auc_vs_threshold(
                    self.auc_curve, path=path("auc_vs_threshold.png")
                )
                written.append(path("auc_vs_threshold.png"))
            plots.plot_uncertainty_distribution(
                self.distribution, path=path("uncertainty_distribution.png")
            )
            written.append(path("uncertainty_distribution.png"))
        return written


def write_csv(path: PathLike, table: Mapping[str, ArrayLike]) -> PathLike:
    """Writes a dict of equal-length 1-D arrays as a CSV with a header row."""
    names = list(table)
    columns = [np.asarray(table[name]).reshape(-1) for name in names]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows(zip(*(column.tolist() for column in columns)))
    return path


@renamed_argument("prior_weight", "prior_concentration")
def evaluate_uncertainty(
    model_or_alpha: keras.Model | ArrayLike,
    x: ArrayLike = None,
    y: ArrayLike = None,
    unknown_class: bool | None = None,
    threshold: float | None = None,
    thresholds: ArrayLike | None = None,
    bins: int = 20,
    num_bins: int = 15,
    num_thresholds: int | None = None,
    batch_size: int = 256,
    output_dir: PathLike | None = None,
    evidence: str | keras.layers.Layer | None = None,
    output: str | None = None,
    prior_concentration: float | None = None,
    minimum_alpha: float | None = None,
) -> UncertaintyReport:
    """Evaluates an evidential classifier's uncertainty on labelled data.

    Heads with another prior than EDL's are evaluated with their own: R-EDL's
    `DirichletOutput(prior_concentration=lambda)` (`alpha = e + lambda`, vacuity
    `lambda K / S`), DAEDL's `DensityAwareDirichlet` (`alpha > 0`, vacuity
    `K / S`), and F-EDL's `FlexibleDirichletOutput`, scored through the
    Dirichlet with its mean, `alpha + tau p`
    (`keras_evidential.dirichlet.flexible_equivalent_alpha`): every figure,
    its vacuity `K / (alpha_0 + tau)` included, is that Dirichlet's, not
    F-EDL's own epistemic uncertainty.

    Args:
        model_or_alpha: A Keras model that outputs `alpha` (it is run on `x`),
            or an array of `alpha`, shape `(N, K)` or `(N, K + 1)`.
        x: Inputs of the model; unused with an array.
        y: Integer labels `(N,)` in `[0, K]`, K marking unknown samples (or
            one-hot labels).
        unknown_class: Whether the outputs have m-EDL's unknown class as their
            last column. Defaults to None: for a model, detected by
            `keras_evidential.model_kind` (an unknown-class head, also inside
            a nested model); False for an array.
        threshold: Vacuity threshold of the scalar open-set figures in
            `metrics`. None (default) means threshold-free predictions.
        thresholds: Thresholds of the curves. Defaults to 0 to 1 by 0.05.
        bins: Bins of the uncertainty histogram.
        num_bins: Bins of the expected calibration error.
        num_thresholds: None (default) for the exact ranking figures (AUROC,
            AUPR, FPR95), or the buckets of their approximation.
        batch_size: Batch size of `model.predict`.
        output_dir: If given, `report.save(output_dir)` is called.
        evidence: For outputs that are logits (`EDLLoss(from_logits=True)`,
            TEDL), the evidence function, e.g. `"elu"`. For a model, None
            detects it from the compiled loss.
        output: For a model: `None` (detect), `"alpha"` or `"logits"`, as in
            `keras_evidential.model_kind`.
        prior_concentration: The prior weight `lambda` of the head (`alpha = e +
            lambda`), which scales the vacuity to `lambda K / S` and is the
            smallest valid `alpha`. None (default): for a model, read by
            `keras_evidential.model_kind`; 1 (EDL) for an array. Pass it for
            an array of R-EDL's alpha.
        minimum_alpha: The smallest valid `alpha`. None (default): for a
            model, read by `model_kind` (0 for DAEDL and F-EDL, whose alpha
            is only > 0) unless `prior_concentration` is given; otherwise
            `prior_concentration`. 0 means `alpha > 0`.

    Returns:
        An `UncertaintyReport`.

    Example:

    On an array of alpha (K = 2; label 2 marks an unknown sample):

    >>> alpha = np.array([[9.0, 1.0], [1.0, 2.0], [1.0, 9.0], [1.2, 1.0]])
    >>> report = keras_evidential.evaluation.evaluate_uncertainty(
    ...     alpha, y=np.array([0, 0, 1, 2]))
    >>> float(report.metrics["known_accuracy"])  # predictions 0, 1, 1
    0.6666666666666666
    >>> float(report.metrics["unknown_auroc"])  # the unknown is the vaguest
    1.0

    A model is run on `x` first, e.g.
    `evaluate_uncertainty(model, x_test, y_test, output_dir="results/edl")`
    (which also writes the CSV files and plots).
    """
    if y is None:
        raise ValueError("`y` (the labels) is required. Received: y=None")
    if hasattr(model_or_alpha, "predict"):
        if x is None:
            raise ValueError(
                "With a model, `x` (its inputs) is required. Received: x=None"
            )
        kind = model_kind(
            model_or_alpha,
            output="logits" if evidence is not None and output is None else output,
            evidence=evidence,
            unknown_class=unknown_class,
        )
        unknown_class = kind.unknown_class
        if prior_concentration is None:
            prior_concentration = kind.prior_concentration
            if minimum_alpha is None:
                minimum_alpha = kind.minimum_alpha
        elif (
            hasattr(output_layer(model_or_alpha), "prior_concentration")
            and float(prior_concentration) != kind.prior_concentration
        ):
            # The head knows its prior: another value would scale every
            # vacuity (and the threshold predictions) without an error.
            raise ValueError(
                "`prior_concentration` contradicts the model's head, whose prior "
                f"weight is {kind.prior_concentration}; leave it None to use the "
                f"head's. Received: prior_concentration={prior_concentration!r}"
            )
        outputs = model_or_alpha.predict(x, batch_size=batch_size, verbose=0)
        alpha = np.asarray(ops.convert_to_numpy(kind.to_alpha(outputs)), "float32")
    else:
        alpha = curves_lib.alpha_from_outputs(model_or_alpha, evidence)
    unknown_class = bool(unknown_class)
    prior_concentration = 1.0 if prior_concentration is None else prior_concentration
    labels = np.asarray(y)
    prior: dict[str, Any] = {
        "prior_concentration": prior_concentration,
        "minimum_alpha": minimum_alpha,
    }
    common = {
        "unknown_class": unknown_class,
        "num_bins": num_bins,
        "num_thresholds": num_thresholds,
        **prior,
    }
    binary = num_known_classes(alpha, unknown_class) == 2
    measures = curves_lib.uncertainty_measures(alpha, unknown_class, **prior)
    threshold_free = curves_lib.uncertainty_metrics(alpha, labels, **common)
    report = UncertaintyReport(
        metrics=(
            threshold_free
            if threshold is None
            else curves_lib.uncertainty_metrics(
                alpha, labels, threshold=threshold, **common
            )
        ),
        threshold_free=threshold_free,
        accuracy_curve=curves_lib.accuracy_vs_threshold(
            alpha, labels, thresholds, unknown_class, **prior
        ),
        auc_curve=(
            curves_lib.auc_vs_threshold(
                alpha,
                labels,
                thresholds,
                unknown_class,
                num_thresholds=num_thresholds,
                **prior,
            )
            if binary
            else None
        ),
        distribution=curves_lib.uncertainty_distribution(
            alpha, labels, bins, unknown_class, **prior
        ),
        measures={
            "label": curves_lib.label_indices(alpha, labels, unknown_class),
            "prediction": curves_lib.predicted_labels(alpha, unknown_class),
            **measures,
        },
        unknown_class=unknown_class,
    )
    if output_dir is not None:
        report.save(output_dir)
    return report
