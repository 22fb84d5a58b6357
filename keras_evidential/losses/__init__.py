"""Evidential losses, each as a class and as a per-sample function (as
`keras.losses` offers `CategoricalCrossentropy` and
`categorical_crossentropy`). `get`, `serialize` and `deserialize` work as
`keras.losses`' do."""

import keras

from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_loss
from keras_evidential.losses.beta_edl_loss import BetaEDLLoss
from keras_evidential.losses.beta_edl_loss import beta_edl_loss
from keras_evidential.losses.daedl_loss import DAEDLLoss
from keras_evidential.losses.daedl_loss import daedl_loss
from keras_evidential.losses.evidential_regression import EvidentialRegressionLoss
from keras_evidential.losses.evidential_regression import MeinertRegressionLoss
from keras_evidential.losses.evidential_regression import evidential_regression_loss
from keras_evidential.losses.evidential_regression import meinert_regression_loss
from keras_evidential.losses.fedl_loss import FEDLLoss
from keras_evidential.losses.fedl_loss import fedl_loss
from keras_evidential.losses.iedl_loss import IEDLLoss
from keras_evidential.losses.iedl_loss import iedl_loss
from keras_evidential.losses.prior_network_loss import PriorNetworkLoss
from keras_evidential.losses.prior_network_loss import prior_network_loss
from keras_evidential.losses.posterior_network_loss import PosteriorNetworkLoss
from keras_evidential.losses.posterior_network_loss import posterior_network_loss
from keras_evidential.losses.correct_evidence_loss import CorrectEvidenceLoss
from keras_evidential.losses.correct_evidence_loss import REDLoss  # deprecated
from keras_evidential.losses.correct_evidence_loss import correct_evidence_loss
from keras_evidential.losses.redl_loss import RelaxedEDLLoss
from keras_evidential.losses.redl_loss import relaxed_edl_loss
from keras_evidential.serialization import namespace_functions

ALL_OBJECTS = (
    BetaEDLLoss,
    DAEDLLoss,
    EDLLoss,
    EvidentialRegressionLoss,
    FEDLLoss,
    IEDLLoss,
    MeinertRegressionLoss,
    PriorNetworkLoss,
    PosteriorNetworkLoss,
    CorrectEvidenceLoss,
    RelaxedEDLLoss,
)
serialize, deserialize, get = namespace_functions(ALL_OBJECTS, "loss", keras.losses.Loss)
