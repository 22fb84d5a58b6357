"""FitDensity and fit_model_density: DAEDL's density fitted to the final
weights' features, against class means and GDA densities computed in NumPy
from the model's weights."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from tests import reference_family as ref

N, D, H, K = 90, 6, 4, 3
RNG = np.random.default_rng(28)
X = RNG.normal(size=(N, D)).astype("float32")
Y = np.repeat(np.arange(K), N // K)


def daedl_model(seed=0, spectral=False):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((D,))
    dense = keras.layers.Dense(H, name="features")
    features = (ke.layers.SpectralNormalization(dense) if spectral else dense)(inputs)
    logits = keras.layers.Dense(K, name="logits")(features)
    alpha = ke.layers.DensityAwareDirichlet(name="density", jitter=0.0)([features, logits])
    return keras.Model(inputs, alpha)


def numpy_features(model, x):
    kernel, bias = model.get_layer("features").get_weights()
    return x.astype("float64") @ kernel + bias


def class_means(features, labels):
    return np.stack([features[labels == c].mean(0) for c in range(K)])


def density(model):
    return model.get_layer("density")


def assert_fitted_to(model, features, labels):
    layer = density(model)
    assert layer.density_fitted
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.means), class_means(features, labels), rtol=1e-4, atol=1e-5)
    log_density = ref.gda_log_density(features, labels, features, K)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.density_range),
                               [log_density.min(), log_density.max()], rtol=1e-4)


def fit(model, callbacks, epochs=1, learning_rate=0.05, x=X, y=Y):
    model.compile(keras.optimizers.SGD(learning_rate), ke.losses.DAEDLLoss())
    return model.fit(x, y, epochs=epochs, batch_size=30, shuffle=False, verbose=0, callbacks=callbacks)


def test_fit_density_callback_and_saving(tmp_path):
    model = daedl_model(spectral=True)
    fit(model, [ke.callbacks.FitDensity(X, Y)])
    assert density(model).density_fitted
    far = model.predict(X[:3] * 1e3, verbose=0)
    np.testing.assert_allclose(far, np.ones_like(far), atol=1e-5)  # s = 0: flat
    path = str(tmp_path / "daedl.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.get_layer("density").density_fitted
    np.testing.assert_allclose(restored.predict(X[:5], verbose=0), model.predict(X[:5], verbose=0), rtol=1e-6)


class WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.kernels = []

    def on_epoch_end(self, epoch, logs=None):
        self.kernels.append(self.model.get_layer("features").get_weights()[0])


def test_density_is_fitted_to_the_restored_best_weights():
    # Issue 28, 2(a). mode="max" makes the first epoch the best, so the
    # restored weights differ from the last epoch's.
    model = daedl_model()
    weights = WeightsPerEpoch()
    stopping = keras.callbacks.EarlyStopping("loss", mode="max", patience=5, restore_best_weights=True)
    fit(model, [weights, stopping, ke.callbacks.FitDensity(X, Y)], epochs=3)
    kernel = model.get_layer("features").get_weights()[0]
    np.testing.assert_array_equal(kernel, weights.kernels[0])
    assert not np.allclose(kernel, weights.kernels[-1])
    assert_fitted_to(model, numpy_features(model, X), Y)


def test_density_replaced_by_a_later_restore_is_refused():
    # Issue 28, 2(a): FitDensity before EarlyStopping(restore_best_weights):
    # the restore brought back the best epoch's unfitted density and the
    # model was evaluated and exported as DAEDL without a word.
    model = daedl_model()
    stopping = keras.callbacks.EarlyStopping("loss", patience=5, restore_best_weights=True)
    fit(model, [ke.callbacks.FitDensity(X, Y), stopping], epochs=2)
    assert not density(model).density_fitted
    with pytest.raises(ValueError, match=r"after any `EarlyStopping\(restore_best_weights=True\)`"):
        ke.model_kind(model)
    ke.callbacks.fit_model_density(model, X, Y)  # the remedy the message names
    assert_fitted_to(model, numpy_features(model, X), Y)
    assert ke.model_kind(model).minimum_alpha == 0.0


def test_checkpoint_saved_during_fit_says_its_density_is_not_fitted(tmp_path):
    # Issue 28, 2(a): on a second fit, the best checkpoint carried the first
    # fit's density (fitted to other weights) as if it were its own.
    model = daedl_model()
    fit(model, [ke.callbacks.FitDensity(X, Y)])
    path = str(tmp_path / "best.keras")
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)
    fit(model, [checkpoint, ke.callbacks.FitDensity(X, Y)], epochs=2)
    assert_fitted_to(model, numpy_features(model, X), Y)
    best = keras.saving.load_model(path)
    assert not best.get_layer("density").density_fitted
    with pytest.raises(ValueError, match="fit_model_density"):
        ke.model_kind(best)


def test_unfitted_model_is_refused_for_evaluation():
    # Issue 28, 2(b).
    model = daedl_model()
    fit(model, [])
    with pytest.raises(ValueError, match=r"'density' has no fitted density.*FitDensity"):
        ke.model_kind(model)
    with pytest.raises(ValueError, match="no fitted density"):
        ke.evaluation.evaluate_uncertainty(model, X, Y)


def test_monitors_read_the_model_while_fit_runs():
    # Issue 28, 2(b): until FitDensity fits the density when fit ends, the
    # model is DAEDL's training stage, alpha = exp(z), and may be monitored.
    model = daedl_model()
    monitor = ke.evaluation.UncertaintyMonitor((X, Y))
    history = fit(model, [monitor, ke.callbacks.FitDensity(X, Y)], epochs=2)
    assert len(history.history["val_known_accuracy"]) == 2
    assert density(model).density_fitted
    ke.model_kind(model)


def test_training_mode_after_fitting_is_exp_of_logits():
    # Issue 28, 2(e): a second fit (fine-tuning) trains on exp(z), as the
    # paper's training does; prediction scales the logits by the density.
    model = daedl_model()
    fit(model, [ke.callbacks.FitDensity(X, Y)])
    kernel, bias = model.get_layer("logits").get_weights()
    logits = numpy_features(model, X) @ kernel + bias
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(X, training=True)), np.exp(logits), rtol=1e-4)
    assert not np.allclose(model.predict(X, verbose=0), np.exp(logits), rtol=1e-2)


def test_shuffled_dataset_pairs_features_with_their_labels():
    # Issue 28, 2(c): labels taken from another pass over a reshuffled
    # dataset moved the class means by 0.53.
    tf = pytest.importorskip("tensorflow")
    model = daedl_model()
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(N, seed=1).batch(16)
    fit(model, [ke.callbacks.FitDensity(dataset)], learning_rate=0.0)
    assert_fitted_to(model, numpy_features(model, X), Y)
    with pytest.raises(ValueError, match=r"same pass.*Received: x=.*, y=ndarray"):
        ke.callbacks.FitDensity(dataset, Y)
    with pytest.raises(ValueError, match="finite"):
        ke.callbacks.fit_model_density(model, dataset.repeat())


class Batches(keras.utils.PyDataset):
    def __init__(self, order):
        super().__init__()
        self.order = order

    def __len__(self):
        return 3

    def __getitem__(self, i):
        rows = self.order[30 * i:30 * (i + 1)]
        return X[rows], Y[rows]


def test_py_dataset_of_batches():
    model = daedl_model()
    fit(model, [ke.callbacks.FitDensity(Batches(RNG.permutation(N)))], learning_rate=0.0)
    assert_fitted_to(model, numpy_features(model, X), Y)


def test_one_hot_labels():
    # Issue 28, unclear errors: one-hot labels failed with a shape message.
    model = daedl_model()
    fit(model, [ke.callbacks.FitDensity(X, np.eye(K)[Y])], learning_rate=0.0)
    assert_fitted_to(model, numpy_features(model, X), Y)


def test_unknown_samples_are_left_out():
    # Issue 28, 2(d): samples labelled K (out of distribution) were fitted
    # into the density (class weights summing to 0.75).
    model = daedl_model()
    outliers = RNG.normal(5.0, 3.0, size=(30, D)).astype("float32")
    x, y = np.r_[X, outliers], np.r_[Y, np.full(30, K)]
    fit(model, [ke.callbacks.FitDensity(x, y)], learning_rate=0.0, x=X, y=Y)
    assert_fitted_to(model, numpy_features(model, X), Y)
    np.testing.assert_allclose(np.exp(keras.ops.convert_to_numpy(density(model).log_weights)), [1 / K] * K, rtol=1e-6)


def test_nested_head_model():
    # Issue 28, unclear errors: Model(inp, head(backbone(inp))) failed with
    # "Output ... is not connected to `inputs`".
    keras.utils.set_random_seed(1)
    backbone = keras.Sequential([keras.Input((D,)), keras.layers.Dense(5, activation="tanh", name="hidden")])
    head_in = keras.Input((5,))
    features = keras.layers.Dense(H, name="features")(head_in)
    alpha = ke.layers.DensityAwareDirichlet(name="density", jitter=0.0)([features, keras.layers.Dense(K)(features)])
    head = keras.Model(head_in, alpha, name="head")
    inputs = keras.Input((D,))
    model = keras.Model(inputs, head(backbone(inputs)))
    fit(model, [ke.callbacks.FitDensity(X, Y)])
    hidden_kernel, hidden_bias = backbone.get_layer("hidden").get_weights()
    kernel, bias = head.get_layer("features").get_weights()
    features = np.tanh(X.astype("float64") @ hidden_kernel + hidden_bias) @ kernel + bias
    assert_fitted_to(head, features, Y)
    ke.model_kind(model)


def test_subclassed_model_is_refused_with_what_to_do():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.features = keras.layers.Dense(H)
            self.logits = keras.layers.Dense(K)
            self.density = ke.layers.DensityAwareDirichlet()

        def call(self, x):
            features = self.features(x)
            return self.density([features, self.logits(features)])

    model = Subclassed()
    model(X[:2])
    with pytest.raises(ValueError, match=r"call `layer.fit_density\(features, labels\)`"):
        ke.callbacks.fit_model_density(model, X, Y)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: y=None"):
        ke.callbacks.FitDensity(X)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        ke.callbacks.FitDensity(X, Y, batch_size=0)


@pytest.mark.large  # a few seconds of training: the large lane
def test_torch_data_loader_of_batches():
    torch = pytest.importorskip("torch")
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=16, shuffle=True)
    model = daedl_model()
    fit(model, [ke.callbacks.FitDensity(loader)], learning_rate=0.0)
    assert_fitted_to(model, numpy_features(model, X), Y)
