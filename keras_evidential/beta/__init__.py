"""Pure functions on Beta parameters: binary and multi-label evidence.

A Beta head outputs, for each of L labels, the pair `(alpha_l, beta_l)` of
a `Beta(alpha_l, beta_l)` over the label's probability `p_l`, stacked on a
last axis of size 2: shape `(..., L, 2)`. A Beta is the Dirichlet of K = 2
classes (label present, label absent), so every per-label formula here is
the K = 2 case of `keras_evidential.dirichlet`, applied over that last axis.
"""

from keras_evidential.beta.parameters import beta_parameters
from keras_evidential.beta.parameters import bernoulli_targets
from keras_evidential.beta.parameters import expected_probability
from keras_evidential.beta.parameters import split_beta
from keras_evidential.beta.parameters import strength
from keras_evidential.beta.parameters import vacuity
from keras_evidential.beta.parameters import variance
from keras_evidential.beta.risks import RISKS
from keras_evidential.beta.risks import beta_risk
from keras_evidential.beta.risks import misleading_evidence_kl
from keras_evidential.beta.uncertainty import OOD_EVIDENCE
from keras_evidential.beta.uncertainty import OOD_REDUCTIONS
from keras_evidential.beta.uncertainty import expected_entropy
from keras_evidential.beta.uncertainty import mutual_information
from keras_evidential.beta.uncertainty import ood_score
from keras_evidential.beta.uncertainty import score_max
from keras_evidential.beta.uncertainty import score_sum
from keras_evidential.beta.uncertainty import total_entropy
