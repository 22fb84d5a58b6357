"""A gRPC Predict round trip with TF Serving's own protos.

TF Serving's model server cannot be installed here, so a minimal
PredictionService servicer (test-only) loads the exported SavedModel the way
the server does (the highest version under the base directory, the requested
signature) and answers a real `PredictRequest` over gRPC on 127.0.0.1. The
request and response are TF Serving's protos from `tensorflow-serving-api`.
"""

import os
from concurrent import futures

import numpy as np
import pytest
import tensorflow as tf

from keras_evidential.export import export_saved_model
from tests.models import DIGIT_NAMES
from tests.models import TEXT_NAMES
from tests.models import assert_matches
from tests.models import digits
from tests.models import raw_output
from tests.models import reference_outputs
from tests.models import text_inputs
from tests.models import train_medl
from tests.models import train_text

pytestmark = pytest.mark.large

grpc = pytest.importorskip("grpc", reason="needs grpcio (comes with TensorFlow)")
apis = pytest.importorskip(
    "tensorflow_serving.apis",
    reason="needs TF Serving's protos: "
    "pip install --no-deps tensorflow-serving-api==2.21.0",
)
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Serves `<base_dir>/<highest version>` like TF Serving's Predict."""

    def __init__(self, base_dir):
        self.version = max(int(v) for v in os.listdir(base_dir) if v.isdigit())
        loaded = tf.saved_model.load(os.path.join(base_dir, str(self.version)))
        self.signatures = loaded.signatures
        self._loaded = loaded

    def Predict(self, request, context):
        name = request.model_spec.signature_name or "serving_default"
        if name not in self.signatures:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"no signature {name}")
        signature = self.signatures[name]
        expected = set(signature.structured_input_signature[1])
        if set(request.inputs) != expected:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"inputs {sorted(request.inputs)} != {sorted(expected)}",
            )
        feeds = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        outputs = signature(**{k: tf.constant(v) for k, v in feeds.items()})
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.signature_name = name
        response.model_spec.version.value = self.version
        wanted = request.output_filter or outputs
        for key in wanted:
            response.outputs[key].CopyFrom(tf.make_tensor_proto(outputs[key].numpy()))
        return response


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A text model and an m-EDL model, each behind its own gRPC server."""
    base = tmp_path_factory.mktemp("grpc")
    text = train_text()
    medl = train_medl()
    export_saved_model(
        text, base / "text", version=1, class_names=TEXT_NAMES, threshold=0.5
    )
    export_saved_model(medl, base / "digits", version=1, class_names=DIGIT_NAMES)
    # A newer version: the servicer, like TF Serving, must pick it.
    export_saved_model(medl, base / "digits", version=2, class_names=DIGIT_NAMES)
    servers, stubs = [], {}
    for name in ("text", "digits"):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionServicer(base / name), server
        )
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stubs[name] = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    yield {"text": text, "digits": medl}, stubs
    for server in servers:
        server.stop(grace=None)


def predict(stub, model_name, input_name, x, output_filter=()):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = "serving_default"
    request.inputs[input_name].CopyFrom(tf.make_tensor_proto(x))
    request.output_filter.extend(output_filter)
    response = stub.Predict(request, timeout=60)
    return response, {
        key: tf.make_ndarray(proto) for key, proto in response.outputs.items()
    }


def test_grpc_predict_on_raw_strings(served):
    models, stubs = served
    x = text_inputs()
    response, outputs = predict(
        stubs["text"], "text", "text", np.array([s.encode() for s in x], object)
    )
    assert response.model_spec.version.value == 1
    assert response.outputs["class_label"].dtype == tf.string.as_datatype_enum
    expected = reference_outputs(
        raw_output(models["text"], x), True, TEXT_NAMES, threshold=0.5
    )
    assert_matches(outputs, expected)


def test_grpc_predict_medl_picks_latest_version_and_filters(served):
    models, stubs = served
    x = digits()[1][0][:32]
    response, outputs = predict(stubs["digits"], "digits", "pixels", x)
    assert response.model_spec.version.value == 2
    expected = reference_outputs(raw_output(models["digits"], x), False, DIGIT_NAMES)
    assert_matches(outputs, expected)

    _, filtered = predict(
        stubs["digits"], "digits", "pixels", x, ["class_label", "uncertainty"]
    )
    assert sorted(filtered) == ["class_label", "uncertainty"]


def test_grpc_rejects_a_wrong_input_name(served):
    _, stubs = served
    with pytest.raises(grpc.RpcError) as error:
        predict(stubs["digits"], "digits", "image", np.zeros((1, 64), "float32"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
