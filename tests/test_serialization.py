"""Each namespace's `get`, `serialize` and `deserialize`, and the config round
trip of every public class (the `.keras` files are tests/test_saving.py's)."""

import keras
import numpy as np
import pytest
from keras import ops

import keras_evidential as ke
from keras_evidential import metrics
from keras_evidential.serialization import _snake_case

NAMESPACES = [ke.layers, ke.losses, ke.metrics, ke.callbacks]


@keras.saving.register_keras_serializable(package="kee_test_serialization")
def warm_up(epoch):
    return min(0.01, 0.001 * epoch)


REQUIRED_ARGUMENTS = {
    ke.callbacks.TwoStageFit: {"switch_epoch": 2},
    ke.callbacks.RegularizerSchedule: {"schedule": warm_up},
    ke.layers.FlexibleDirichletOutput: {"num_classes": 3},
}



@pytest.mark.parametrize("namespace", NAMESPACES, ids=lambda n: n.__name__)
def test_every_class_is_registered_and_round_trips(namespace):
    for cls in namespace.ALL_OBJECTS:
        assert keras.saving.get_registered_name(cls) == f"keras_evidential>{cls.__name__}"
        obj = cls(**REQUIRED_ARGUMENTS.get(cls, {}))
        config = namespace.serialize(obj)
        assert config == keras.saving.serialize_keras_object(obj)
        restored = namespace.deserialize(config)
        assert type(restored) is cls
        assert restored.get_config() == obj.get_config()


@pytest.mark.parametrize("namespace", NAMESPACES, ids=lambda n: n.__name__)
def test_get_by_name_instance_config_and_none(namespace):
    cls = namespace.ALL_OBJECTS[0]  # one that takes no required argument
    assert type(namespace.get(cls.__name__)) is cls
    assert type(namespace.get(_snake_case(cls.__name__))) is cls
    instance = cls()
    assert namespace.get(instance) is instance
    assert type(namespace.get(namespace.serialize(instance))) is cls
    assert namespace.get(None) is None


@pytest.mark.parametrize(
    "namespace, identifier",
    [(ke.layers, "Dense"), (ke.losses, "mse"), (ke.metrics, 3), (ke.callbacks, {"class_name": "EarlyStopping", "config": {}})],
    ids=["layer", "loss", "metric", "callback"],
)
def test_get_names_what_it_could_not_interpret(namespace, identifier):
    with pytest.raises(ValueError, match="Received: identifier="):
        namespace.get(identifier)


def test_snake_case_names():
    assert _snake_case("EDLLoss") == "edl_loss"
    assert _snake_case("EvidenceReLU") == "evidence_re_lu"
    assert _snake_case("UnknownClassAUROC") == "unknown_class_auroc"


def _data(seed=0, n=600, k=4, unknown_class=False, unknown_share=0.25):
    """alpha with informative evidence for known samples, labels K = unknown."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[rng.random(n) < unknown_share] = k
    alpha = 1.0 + rng.gamma(0.8, 2.0, (n, k))
    known = labels < k
    alpha[np.flatnonzero(known), labels[known]] += rng.gamma(1.5, 6.0, known.sum())
    if unknown_class:
        alpha = np.concatenate([alpha, np.full((n, 1), k + 1.0)], axis=1)
    return alpha.astype("float32"), labels


def _result(metric):
    return float(ops.convert_to_numpy(metric.result()))


ALL_METRICS = (
    lambda: metrics.KnownClassAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.UnknownClassRecall(unknown_class=True),
    lambda: metrics.UnknownClassPrecision(unknown_class=True),
    lambda: metrics.SelectiveAccuracy(unknown_class=True, threshold=0.3),
    lambda: metrics.RejectionRate(unknown_class=True, threshold=0.3),
    lambda: metrics.ExpectedCalibrationError(num_bins=7, unknown_class=True),
    lambda: metrics.MisclassificationAUROC(score="dissonance", unknown_class=True),
    lambda: metrics.UnknownClassAUROC(
        score="mutual_information", unknown_class=True, num_thresholds=300
    ),
)


@pytest.mark.parametrize("make", ALL_METRICS)
def test_metric_round_trip_computes_the_same(make):
    metric = make()
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(metric)
    )
    assert type(restored) is type(metric)
    assert restored.get_config() == metric.get_config()
    alpha, labels = _data(8, unknown_class=True)
    metric.update_state(labels, alpha)
    restored.update_state(labels, alpha)
    assert _result(restored) == pytest.approx(_result(metric))
