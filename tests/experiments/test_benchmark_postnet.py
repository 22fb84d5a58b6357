"""The benchmark's Posterior Network row at toy scale: its towers end in
batch norm and per-class radial flows with the training labels' N_c, train
with the runner's optimiser and losses, and score as Dirichlet rows do."""

import keras
import numpy as np
import pytest


def test_postnet_row_needs_the_class_counts():
    from experiments.benchmark.methods import METHODS
    from experiments.benchmark.methods import build

    with pytest.raises(ValueError, match="Received: class_counts=None"):
        build(METHODS["postnet"], [0], width=4)


@pytest.mark.large
def test_postnet_row_trains_and_scores_at_toy_scale():
    import keras_evidential as ke
    from experiments.benchmark.methods import METHODS
    from experiments.benchmark.methods import NUM_CLASSES
    from experiments.benchmark.methods import build
    from experiments.benchmark.methods import to_probabilities_and_scores

    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CLASSES, 96)
    # Class-dependent blobs, so that two epochs can lower the loss.
    x = rng.normal(0, 0.3, (96, 28, 28, 1)).astype("float32")
    x[np.arange(96), 2 * labels + 4, 14, 0] += 3.0
    method = METHODS["postnet"]
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    model, warmup = build(method, [0], width=4, class_counts=counts)
    assert warmup is None
    heads = [layer for layer in model.layers if isinstance(layer, ke.layers.PosteriorNetworkOutput)]
    assert [layer.name for layer in heads] == ["s0_postnet"]
    for layer in heads:
        assert layer.class_counts == tuple(float(c) for c in counts)
        assert layer.flow_length == 6 and layer.centers.shape == (NUM_CLASSES, 6, NUM_CLASSES)
    model.compile(keras.optimizers.Adam(1e-3), method.make_loss())
    history = model.fit(x, labels, batch_size=32, epochs=3, verbose=0).history["loss"]
    assert np.isfinite(history).all() and history[-1] < history[0]
    for output in [keras.ops.convert_to_numpy(model(x[:16], training=False))]:
        assert output.shape == (16, NUM_CLASSES) and output.min() >= 1.0
        probabilities, scores = to_probabilities_and_scores(method, output)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(scores["alpha0"], output.astype("float64").sum(-1), rtol=1e-5)
