"""Evaluating the uncertainty of evidential classifiers: NumPy curves and
figures, an all-in-one report with CSV and PNG output, and a callback; and of
evidential regressors (`regression`: scores and the coverage curve)."""

from keras_evidential.evaluation.callback import UncertaintyMonitor
from keras_evidential.evaluation.curves import DEFAULT_THRESHOLDS
from keras_evidential.evaluation.curves import accuracy_vs_threshold

from keras_evidential.evaluation.curves import auc_vs_threshold
from keras_evidential.evaluation.curves import label_indices
from keras_evidential.evaluation.curves import predicted_labels
from keras_evidential.evaluation.curves import roc_auc
from keras_evidential.evaluation.curves import uncertainty_distribution
from keras_evidential.evaluation.curves import uncertainty_measures
from keras_evidential.evaluation.curves import uncertainty_metrics
from keras_evidential.evaluation.plots import plot_accuracy_vs_threshold
from keras_evidential.evaluation.plots import plot_auc_vs_threshold
from keras_evidential.evaluation.plots import plot_uncertainty_distribution
from keras_evidential.evaluation.regression import coverage_curve
from keras_evidential.evaluation.regression import plot_coverage_curve
from keras_evidential.evaluation.regression import regression_scores
from keras_evidential.evaluation.report import UncertaintyReport
from keras_evidential.evaluation.report import evaluate_uncertainty
from keras_evidential.evaluation.report import write_csv
from keras_evidential.evaluation.detection import CONFIDENCE_SCORES
from keras_evidential.evaluation.detection import average_precision
from keras_evidential.evaluation.detection import brier_score
from keras_evidential.evaluation.detection import confidence_scores
from keras_evidential.evaluation.detection import expected_calibration_error
from keras_evidential.evaluation.detection import fpr_at_tpr
from keras_evidential.evaluation.detection import misclassification_detection
from keras_evidential.evaluation.detection import ood_detection
from keras_evidential.evaluation.detection import reliability_bins
from keras_evidential.evaluation.selective import aurc
from keras_evidential.evaluation.selective import dirichlet_uncertainties
from keras_evidential.evaluation.selective import excess_aurc
from keras_evidential.evaluation.selective import nig_uncertainties
from keras_evidential.evaluation.selective import plot_risk_coverage
from keras_evidential.evaluation.selective import risk_at_coverage
from keras_evidential.evaluation.selective import risk_coverage_curve
from keras_evidential.evaluation.selective import selective_classification
