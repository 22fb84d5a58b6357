"""Data helpers for open-set training: mixing an unknown class into a dataset."""

from keras_evidential.data.mixing import Mixture
from keras_evidential.data.mixing import mix_indices
from keras_evidential.data.mixing import mix_unknown_class
