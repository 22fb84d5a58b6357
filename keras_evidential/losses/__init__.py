"""Evidential losses. `get`, `serialize` and `deserialize` work as
`keras.losses`' do."""

import keras

from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_loss
from keras_evidential.losses.evidential_regression import EvidentialRegressionLoss
from keras_evidential.losses.evidential_regression import MeinertRegressionLoss
from keras_evidential.losses.evidential_regression import evidential_regression_loss
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (EDLLoss, EvidentialRegressionLoss, MeinertRegressionLoss)
serialize, deserialize, get = namespace_functions(ALL_OBJECTS, "loss", keras.losses.Loss)
