"""Post-hoc calibration: calibrators fitted on held-out data and appended to a
trained model as Keras layers (`keras_evidential.layers.TemperatureScaling`,
`VectorScaling`, `StudentTScaling`), so they save, load and export with it."""

from keras_evidential.calibration.classification import calibration_nll
from keras_evidential.calibration.classification import fit_temperature
from keras_evidential.calibration.classification import fit_vector_scaling
from keras_evidential.calibration.model import append_calibrator
from keras_evidential.calibration.model import calibrate
from keras_evidential.calibration.regression import fit_student_t_scale
from keras_evidential.calibration.regression import student_t_scale_nll
from keras_evidential.layers.calibration import StudentTScaling
from keras_evidential.layers.calibration import TemperatureScaling
from keras_evidential.layers.calibration import VectorScaling
from keras_evidential.layers.calibration import scale_evidence
from keras_evidential.layers.calibration import scale_logits
from keras_evidential.layers.calibration import scale_student_t
