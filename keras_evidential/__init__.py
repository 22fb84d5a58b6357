"""keras-evidential: calibrated uncertainty for Keras classifiers with EDL."""

from keras_evidential import beta
from keras_evidential import calibration
from keras_evidential import callbacks
from keras_evidential import config
from keras_evidential import conformal
from keras_evidential import data
from keras_evidential import dirichlet
from keras_evidential import evaluation
from keras_evidential import export
from keras_evidential import flows
from keras_evidential import layers
from keras_evidential import losses
from keras_evidential import metrics
from keras_evidential import nig
from keras_evidential import saving
from keras_evidential.model_kind import ModelKind
from keras_evidential.model_kind import model_kind
from keras_evidential.version import __version__
