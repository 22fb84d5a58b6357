"""Keras metrics of evidential classifiers: open-set accuracy, AUROC, ECE.

Every metric takes the model output `alpha` as `y_pred` and integer labels
in `[0, K]` as `y_true`, where the label K marks a sample of an unknown class
(see `keras_evidential.metrics.labels`).
"""

from keras_evidential.metrics.auc import MisclassificationAUROC
from keras_evidential.metrics.auc import ThresholdedAUC
from keras_evidential.metrics.auc import UnknownClassAUROC
from keras_evidential.metrics.calibration import ExpectedCalibrationError
from keras_evidential.metrics.labels import class_labels
from keras_evidential.metrics.labels import predict_labels
from keras_evidential.metrics.open_set import KnownClassAccuracy
from keras_evidential.metrics.open_set import RejectionRate
from keras_evidential.metrics.open_set import SelectiveAccuracy
from keras_evidential.metrics.open_set import UnknownClassPrecision
from keras_evidential.metrics.open_set import UnknownClassRecall
from keras_evidential.metrics.open_set import open_set_counts
from keras_evidential.metrics.scores import UNCERTAINTY_SCORES
from keras_evidential.metrics.scores import uncertainty_score
from keras_evidential.metrics.detection import BrierScore
from keras_evidential.metrics.detection import MisclassificationAUPR
from keras_evidential.metrics.detection import UnknownClassAUPR
from keras_evidential.metrics.detection import UnknownClassFPR
