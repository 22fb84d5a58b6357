"""Keras metrics of evidential classifiers: open-set accuracy, AUROC, ECE.

Every metric takes the model output `alpha` as `y_pred` and integer labels
in `[0, K]` as `y_true`, where the label K marks a sample of an unknown class
(see `keras_evidential.labels`). `get`, `serialize` and `deserialize` work as
`keras.metrics`' do.
"""

import keras

from keras_evidential.metrics.auc import MisclassificationAUROC
from keras_evidential.metrics.auc import ThresholdedAUC
from keras_evidential.metrics.auc import UnknownClassAUROC
from keras_evidential.metrics.calibration import ExpectedCalibrationError
from keras_evidential.metrics.open_set import KnownClassAccuracy
from keras_evidential.metrics.open_set import RejectionRate
from keras_evidential.metrics.open_set import SelectiveAccuracy
from keras_evidential.metrics.open_set import UnknownClassPrecision
from keras_evidential.metrics.open_set import UnknownClassRecall
from keras_evidential.metrics.risk import BayesRisk
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (
    BayesRisk,
    ExpectedCalibrationError,
    KnownClassAccuracy,
    MisclassificationAUROC,
    RejectionRate,
    SelectiveAccuracy,
    ThresholdedAUC,
    UnknownClassAUROC,
    UnknownClassPrecision,
    UnknownClassRecall,
)
serialize, deserialize, get = namespace_functions(
    ALL_OBJECTS, "metric", keras.metrics.Metric
)
