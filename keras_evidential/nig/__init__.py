"""Pure functions on Normal-Inverse-Gamma parameters (`keras.ops`, any backend)."""

from keras_evidential.nig.parameters import NIGParameters
from keras_evidential.nig.parameters import concat_nig
from keras_evidential.nig.parameters import nig_from_outputs
from keras_evidential.nig.parameters import num_targets
from keras_evidential.nig.parameters import split_nig
from keras_evidential.nig.parameters import total_evidence
from keras_evidential.nig.predictive import betainc
from keras_evidential.nig.predictive import gaussian_crps
from keras_evidential.nig.predictive import gaussian_nll
from keras_evidential.nig.predictive import nig_nll
from keras_evidential.nig.predictive import student_t_cdf
from keras_evidential.nig.predictive import student_t_crps
from keras_evidential.nig.predictive import student_t_nll
from keras_evidential.nig.predictive import student_t_predictive
from keras_evidential.nig.predictive import student_t_two_sided_tail
from keras_evidential.nig.predictive import student_t_width
from keras_evidential.nig.regularizers import amini_regularizer
from keras_evidential.nig.regularizers import gaussian_variance
from keras_evidential.nig.regularizers import meinert_alternative_loss
from keras_evidential.nig.regularizers import meinert_regularizer
from keras_evidential.nig.uncertainty import UNCERTAINTIES
from keras_evidential.nig.uncertainty import aleatoric_amini
from keras_evidential.nig.uncertainty import aleatoric_meinert
from keras_evidential.nig.uncertainty import epistemic_amini
from keras_evidential.nig.uncertainty import epistemic_meinert
from keras_evidential.nig.uncertainty import predictive_variance
