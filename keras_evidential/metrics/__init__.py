"""Keras metrics of evidential models.

Every classification metric takes the model output `alpha` as `y_pred` and
integer labels in `[0, K]` as `y_true`, where the label K marks a sample of an
unknown class (see `keras_evidential.labels`). The `NIG*` regression metrics
take Normal-Inverse-Gamma parameters (see `keras_evidential.metrics.regression`).
`for_model(model, [...])` builds metrics with a model's output settings
(unknown class, prior weight, minimum alpha, F-EDL's packed output).
`get`, `serialize` and `deserialize` work as `keras.metrics`' do.
"""

import keras

from keras_evidential.metrics.auc import MisclassificationAUROC
from keras_evidential.metrics.auc import ThresholdedAUC
from keras_evidential.metrics.auc import UnknownClassAUROC
from keras_evidential.metrics.calibration import ExpectedCalibrationError
from keras_evidential.metrics.coefficient import LossCoefficient
from keras_evidential.metrics.configured import for_model
from keras_evidential.metrics.dense import PixelAccuracy
from keras_evidential.metrics.dense import PixelExpectedCalibrationError
from keras_evidential.metrics.dense import PixelMeanIoU
from keras_evidential.metrics.dense import PixelOODAUPR
from keras_evidential.metrics.dense import PixelOODAUROC
from keras_evidential.metrics.dense import PixelOODFPR
from keras_evidential.metrics.multilabel import MultilabelCalibrationError
from keras_evidential.metrics.multilabel import MultilabelMeanAveragePrecision
from keras_evidential.metrics.multilabel import MultilabelOODAUPR
from keras_evidential.metrics.open_set import KnownClassAccuracy
from keras_evidential.metrics.open_set import RejectionRate
from keras_evidential.metrics.open_set import SelectiveAccuracy
from keras_evidential.metrics.open_set import UnknownClassPrecision
from keras_evidential.metrics.open_set import UnknownClassRecall
from keras_evidential.metrics.detection import BrierScore
from keras_evidential.metrics.detection import MisclassificationAUPR
from keras_evidential.metrics.detection import UnknownClassAUPR
from keras_evidential.metrics.detection import UnknownClassFPR
from keras_evidential.metrics.regression import NIGContinuousRankedProbabilityScore
from keras_evidential.metrics.regression import NIGIntervalCoverage
from keras_evidential.metrics.regression import NIGNegativeLogLikelihood
from keras_evidential.metrics.regression import NIGRootMeanSquaredError
from keras_evidential.metrics.ranking_metric import RankingMetric
from keras_evidential.metrics.risk import BayesRisk
from keras_evidential.metrics.selective import AURC
from keras_evidential.metrics.selective import AccuracyAtCoverage
from keras_evidential.metrics.selective import ExcessAURC
from keras_evidential.metrics.scores import UNCERTAINTY_SCORES
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (
    AURC,
    AccuracyAtCoverage,
    ExcessAURC,
    BayesRisk,
    BrierScore,
    ExpectedCalibrationError,
    KnownClassAccuracy,
    LossCoefficient,
    MisclassificationAUPR,
    MisclassificationAUROC,
    MultilabelCalibrationError,
    MultilabelMeanAveragePrecision,
    MultilabelOODAUPR,
    NIGContinuousRankedProbabilityScore,
    NIGIntervalCoverage,
    NIGNegativeLogLikelihood,
    NIGRootMeanSquaredError,
    PixelAccuracy,
    PixelExpectedCalibrationError,
    PixelMeanIoU,
    PixelOODAUPR,
    PixelOODAUROC,
    PixelOODFPR,
    RejectionRate,
    SelectiveAccuracy,
    ThresholdedAUC,
    UnknownClassAUPR,
    UnknownClassAUROC,
    UnknownClassFPR,
    UnknownClassPrecision,
    UnknownClassRecall,
)
serialize, deserialize, get = namespace_functions(
    ALL_OBJECTS, "metric", keras.metrics.Metric
)
