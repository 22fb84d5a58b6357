"""Each namespace's `get`, `serialize` and `deserialize`, and the config round
trip of every public class (the `.keras` files are tests/test_saving.py's)."""

import keras
import pytest

import keras_evidential as ke
from keras_evidential import metrics
from keras_evidential.serialization import _snake_case
from tests.metrics.data import open_set_data as _data
from tests.metrics.data import result as _result

NAMESPACES = [ke.layers, ke.losses, ke.metrics, ke.callbacks]


@keras.saving.register_keras_serializable(package="kee_test_serialization")
def warm_up(epoch):
    return min(0.01, 0.001 * epoch)


REQUIRED_ARGUMENTS = {
    ke.callbacks.TwoStageFit: {"switch_epoch": 2},
    ke.callbacks.RegularizerSchedule: {"schedule": warm_up},
    ke.callbacks.CoefficientSchedule: {"schedule": warm_up},
    ke.layers.FlexibleDirichletOutput: {"num_classes": 3},
    ke.layers.VectorScaling: {"scale": [1.0, 2.0]},
    ke.layers.SpectralNormalization: {"layer": keras.layers.Dense(2)},
    ke.layers.PosteriorNetworkOutput: {"class_counts": [3, 4]},
    ke.metrics.PixelAccuracy: {"num_classes": 3},
    ke.metrics.PixelMeanIoU: {"num_classes": 3},
    ke.metrics.MultilabelCalibrationError: {"num_labels": 2},
    ke.metrics.MultilabelMeanAveragePrecision: {"num_labels": 2},
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
