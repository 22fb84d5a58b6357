"""Evidential Keras layers. `get`, `serialize` and `deserialize` work over
this package's layers."""

import keras

from keras_evidential.layers.assert_finite import AssertFinite
from keras_evidential.layers.beta_output import BetaOutput
from keras_evidential.layers.calibration import StudentTScaling
from keras_evidential.layers.calibration import TemperatureScaling
from keras_evidential.layers.calibration import VectorScaling
from keras_evidential.layers.density_aware_dirichlet import DensityAwareDirichlet
from keras_evidential.layers.dirichlet_output import DirichletOutput
from keras_evidential.layers.dirichlet_uncertainty_maps import DirichletUncertaintyMaps
from keras_evidential.layers.evidence import Evidence
from keras_evidential.layers.evidence import EvidenceELU
from keras_evidential.layers.evidence import EvidenceExp
from keras_evidential.layers.evidence import EvidenceReLU
from keras_evidential.layers.evidence import EvidenceSoftplus
from keras_evidential.layers.flexible_dirichlet_output import FlexibleDirichletOutput
from keras_evidential.layers.learned_unknown_class_head import LearnedUnknownClassHead
from keras_evidential.layers.normal_inverse_gamma import NormalInverseGammaOutput
from keras_evidential.layers.normal_inverse_gamma import NormalInverseGammaRescaling
from keras_evidential.layers.posterior_network_output import PosteriorNetworkOutput
from keras_evidential.layers.spectral_normalization import SpectralNormalization
from keras_evidential.layers.unknown_class_head import UnknownClassHead
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (
    AssertFinite,
    BetaOutput,
    DensityAwareDirichlet,
    DirichletOutput,
    DirichletUncertaintyMaps,
    EvidenceELU,
    EvidenceExp,
    EvidenceReLU,
    EvidenceSoftplus,
    FlexibleDirichletOutput,
    LearnedUnknownClassHead,
    NormalInverseGammaOutput,
    NormalInverseGammaRescaling,
    PosteriorNetworkOutput,
    SpectralNormalization,
    UnknownClassHead,
    StudentTScaling,
    TemperatureScaling,
    VectorScaling,
)
serialize, deserialize, get = namespace_functions(ALL_OBJECTS, "layer", keras.layers.Layer)
