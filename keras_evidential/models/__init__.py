"""Ready-made models for the experiments."""

from keras_evidential.models.two_tower import PairInteraction
from keras_evidential.models.two_tower import TokenEncoder
from keras_evidential.models.two_tower import build_text_pair_model
from keras_evidential.models.two_tower import build_two_tower_model
from keras_evidential.models.two_tower import make_vectorizer
