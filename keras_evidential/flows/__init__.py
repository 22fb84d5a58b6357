"""Normalising flows on a latent space (`keras.ops`, any backend): the
class-conditional densities of Posterior Network."""

from keras_evidential.flows.radial import radial_flow
from keras_evidential.flows.radial import radial_flow_log_density
from keras_evidential.flows.radial import radial_flow_parameters
from keras_evidential.flows.radial import standard_normal_log_density
