"""Evidential Keras layers."""

from keras_evidential.layers.dirichlet_output import DirichletOutput
from keras_evidential.layers.evidence import Evidence
from keras_evidential.layers.evidence import EvidenceELU
from keras_evidential.layers.evidence import EvidenceExp
from keras_evidential.layers.evidence import EvidenceReLU
from keras_evidential.layers.evidence import EvidenceSoftplus
from keras_evidential.layers.evidence import get as get_evidence
from keras_evidential.layers.learned_unknown_class_head import LearnedUnknownClassHead
from keras_evidential.layers.unknown_class_head import UnknownClassHead
from keras_evidential.layers.density_aware_dirichlet import DensityAwareDirichlet
from keras_evidential.layers.flexible_dirichlet_output import FlexibleDirichletOutput
