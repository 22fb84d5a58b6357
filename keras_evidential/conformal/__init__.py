"""Conformal prediction: sets and intervals with a finite-sample coverage guarantee."""

from keras_evidential.conformal.quantile import conformal_quantile
from keras_evidential.conformal.quantile import conformal_rank
from keras_evidential.conformal.quantile import coverage_band
from keras_evidential.conformal.scores import aps_scores
from keras_evidential.conformal.scores import belief_scores
from keras_evidential.conformal.scores import lac_scores
from keras_evidential.conformal.scores import probabilities_from
from keras_evidential.conformal.scores import raps_scores
from keras_evidential.conformal.sets import ConformalSets
from keras_evidential.conformal.sets import label_scores
from keras_evidential.conformal.intervals import ConformalInterval
from keras_evidential.conformal.intervals import base_interval
from keras_evidential.conformal.intervals import interval_scores
