"""Evidential losses."""

from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_loss
from keras_evidential.losses.evidential_regression import EvidentialRegressionLoss
from keras_evidential.losses.evidential_regression import MeinertRegressionLoss
from keras_evidential.losses.evidential_regression import evidential_regression_loss
from keras_evidential.losses.targets import one_hot_targets
