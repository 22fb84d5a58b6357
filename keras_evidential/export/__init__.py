"""Deploying evidential models: TF Serving SavedModels, ONNX and LiteRT."""

from keras_evidential.export.beta import BETA_OUTPUT_NAMES
from keras_evidential.export.beta import beta_outputs
from keras_evidential.export.litert import export_litert
from keras_evidential.export.onnx import export_onnx
from keras_evidential.export.regression import REGRESSION_OUTPUT_NAMES
from keras_evidential.export.regression import regression_outputs
from keras_evidential.export.serving import OUTPUT_NAMES
from keras_evidential.export.serving import SIGNATURE_NAME
from keras_evidential.export.serving import evidential_outputs
from keras_evidential.export.serving import export_saved_model
from keras_evidential.export.serving import serving_function
from keras_evidential.export.dense import DENSE_OUTPUT_NAMES
from keras_evidential.export.dense import dense_outputs
from keras_evidential.export.dense import export_dense_saved_model
