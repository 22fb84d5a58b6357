"""Training callbacks for evidential models."""

from keras_evidential.callbacks.kl_annealing import KLAnnealing
from keras_evidential.callbacks.two_stage_fit import TwoStageFit
from keras_evidential.callbacks.dead_evidence_monitor import DeadEvidenceMonitor
from keras_evidential.callbacks.dead_evidence_monitor import dead_evidence_statistics
from keras_evidential.callbacks.fit_density import FitDensity
from keras_evidential.callbacks.fit_density import fit_model_density
