"""Training callbacks for evidential models."""

from keras_evidential.callbacks.kl_annealing import KLAnnealing
from keras_evidential.callbacks.regularizer_schedule import RegularizerSchedule
from keras_evidential.callbacks.two_stage_fit import TwoStageFit
