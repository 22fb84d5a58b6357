"""Pure functions on Dirichlet parameters (`keras.ops`, any backend)."""

from keras_evidential.dirichlet.divergence import kl_to_uniform
from keras_evidential.dirichlet.divergence import misleading_alpha
from keras_evidential.dirichlet.divergence import misleading_evidence_kl
from keras_evidential.dirichlet.evidence import elu_evidence
from keras_evidential.dirichlet.evidence import exp_evidence
from keras_evidential.dirichlet.evidence import relu_evidence
from keras_evidential.dirichlet.evidence import softplus_evidence
from keras_evidential.dirichlet.parameters import add_unknown_class
from keras_evidential.dirichlet.parameters import alpha_from_evidence
from keras_evidential.dirichlet.parameters import belief
from keras_evidential.dirichlet.parameters import expected_probability
from keras_evidential.dirichlet.parameters import known_class_probability
from keras_evidential.dirichlet.parameters import num_classes
from keras_evidential.dirichlet.parameters import strength
from keras_evidential.dirichlet.parameters import vacuity
from keras_evidential.dirichlet.risks import RISKS
from keras_evidential.dirichlet.risks import digamma_risk
from keras_evidential.dirichlet.risks import log_risk
from keras_evidential.dirichlet.risks import sum_of_squares_risk
from keras_evidential.dirichlet.uncertainty import differential_entropy
from keras_evidential.dirichlet.uncertainty import dissonance
from keras_evidential.dirichlet.uncertainty import expected_entropy
from keras_evidential.dirichlet.uncertainty import expected_pairwise_kl
from keras_evidential.dirichlet.uncertainty import mutual_information
from keras_evidential.dirichlet.uncertainty import total_entropy
