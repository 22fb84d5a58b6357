"""Training callbacks for evidential models. `get`, `serialize` and
`deserialize` work over this package's serializable callbacks."""

import keras

from keras_evidential.callbacks.coefficient_schedule import CoefficientSchedule
from keras_evidential.callbacks.dead_evidence_monitor import DeadEvidenceMonitor
from keras_evidential.callbacks.dead_evidence_monitor import dead_evidence_statistics
from keras_evidential.callbacks.finite_weights_check import FiniteWeightsCheck
from keras_evidential.callbacks.fit_density import FitDensity
from keras_evidential.callbacks.fit_density import fit_model_density
from keras_evidential.callbacks.kl_annealing import KLAnnealing
from keras_evidential.callbacks.regularizer_schedule import RegularizerSchedule
from keras_evidential.callbacks.two_stage_fit import TwoStageFit
from keras_evidential.serialization import namespace_functions

# KLAnnealing first: the namespace tests build ALL_OBJECTS[0] without arguments.
ALL_OBJECTS = (
    KLAnnealing, CoefficientSchedule, FiniteWeightsCheck, RegularizerSchedule, TwoStageFit
)
serialize, deserialize, get = namespace_functions(
    ALL_OBJECTS, "callback", keras.callbacks.Callback
)
