"""Evidential losses."""

from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_loss
from keras_evidential.losses.targets import one_hot_targets
