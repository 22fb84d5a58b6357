"""Evidential losses. `get`, `serialize` and `deserialize` work as
`keras.losses`' do."""

import keras

from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_loss
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (EDLLoss,)
serialize, deserialize, get = namespace_functions(ALL_OBJECTS, "loss", keras.losses.Loss)
