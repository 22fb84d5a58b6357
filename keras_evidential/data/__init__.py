"""Datasets of the papers' experiments: IDX loaders and m-EDL's mixing."""

from keras_evidential.data.datasets import as_tf_dataset
from keras_evidential.data.datasets import load
from keras_evidential.data.datasets import load_cifar10_gray
from keras_evidential.data.datasets import load_emnist_letters
from keras_evidential.data.datasets import load_fashion_mnist
from keras_evidential.data.datasets import load_mnist
from keras_evidential.data.datasets import resolve_data_dir
from keras_evidential.data.datasets import to_float_vectors
from keras_evidential.data.idx import read_idx
from keras_evidential.data.mixing import Mixture
from keras_evidential.data.mixing import mix
from keras_evidential.data.mixing import mix_indices
from keras_evidential.data.mixing import split_pool
