"""SavedModel export for TF Serving: signature contract and parity with Keras.

The exported outputs are checked against `tests.models.reference_outputs`, a
float64 NumPy computation from the Keras model's raw output (alpha or
logits) with the formulas of docs/formulas.md.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_evidential as ke
from keras_evidential.export import OUTPUT_NAMES
from keras_evidential.export import export_saved_model
from tests.models import DIGIT_NAMES
from tests.models import ELU_OFFSET
from tests.models import KNOWN
from tests.models import NEGATIVE
from tests.models import NEUTRAL
from tests.models import POSITIVE
from tests.models import TEXT_NAMES
from tests.models import assert_matches
from tests.models import call_signature
from tests.models import digits
from tests.models import digits_body
from tests.models import load_signature
from tests.models import raw_output
from tests.models import reference_outputs
from tests.models import sentences

def saved_model_cli(*args):
    executable = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(executable):
        executable = shutil.which("saved_model_cli")
    if executable is None:
        pytest.skip("saved_model_cli (installed with TensorFlow) not found")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def signature_width(name):
    return {"medl": KNOWN + 1, "text": 2}.get(name, KNOWN)


# One subprocess each (TensorFlow starts every time); "tedl" has the same
# signature as "edl", which test_signature_outputs_match_keras checks.
@pytest.mark.large
@pytest.mark.parametrize("name", ["edl", "medl", "text"])
def test_saved_model_cli_shows_the_serving_signature(exported, name):
    case = exported[name]
    assert os.path.basename(case["path"]) == "1"
    assert os.path.exists(os.path.join(case["path"], "saved_model.pb"))
    shown = saved_model_cli("show", "--all", "--dir", case["path"])
    block = shown.split("signature_def['serving_default']:")[1]
    block = block.split("signature_def[")[0]
    assert "Method name is: tensorflow/serving/predict" in block

    tensors = dict(
        (key, (dtype, shape))
        for key, dtype, shape in re.findall(
            r"(\w+\['\w+'\]) tensor_info:\s+dtype: (\w+)\s+shape: (\S+(?: \S+)?)",
            block,
        )
    )
    width = signature_width(name)
    if name == "text":
        expected_input = {"inputs['text']": ("DT_STRING", "(-1)")}
    else:
        expected_input = {"inputs['pixels']": ("DT_FLOAT", "(-1, 64)")}
    assert tensors == {
        **expected_input,
        "outputs['probabilities']": ("DT_FLOAT", f"(-1, {width})"),
        "outputs['uncertainty']": ("DT_FLOAT", "(-1)"),
        "outputs['alpha']": ("DT_FLOAT", f"(-1, {width})"),
        "outputs['class_index']": ("DT_INT64", "(-1)"),
        "outputs['class_label']": ("DT_STRING", "(-1)"),
    }


@pytest.mark.large
@pytest.mark.parametrize("name", ["edl", "text"])
def test_saved_model_cli_run_matches_keras(exported, name, tmp_path):
    case = exported[name]
    if name == "text":
        feed = ["--input_exprs", f"text={case['x'].tolist()!r}"]
    else:
        np.save(tmp_path / "x.npy", case["x"])
        feed = ["--inputs", f"pixels={tmp_path / 'x.npy'}"]
    saved_model_cli(
        "run",
        "--dir",
        case["path"],
        "--tag_set",
        "serve",
        "--signature_def",
        "serving_default",
        *feed,
        "--outdir",
        str(tmp_path / "out"),
    )
    outputs = {
        file[:-4]: np.load(tmp_path / "out" / file, allow_pickle=True)
        for file in os.listdir(tmp_path / "out")
    }
    assert_matches(outputs, case["expected"])


@pytest.mark.parametrize("name", ["edl", "medl", "tedl", "text"])
def test_signature_outputs_match_keras(exported, name):
    case = exported[name]
    signature = load_signature(case["path"])
    specs = {
        key: (spec.dtype.name, tuple(spec.shape))
        for key, spec in signature.structured_outputs.items()
    }
    width = signature_width(name)
    assert specs == {
        "probabilities": ("float32", (None, width)),
        "uncertainty": ("float32", (None,)),
        "alpha": ("float32", (None, width)),
        "class_index": ("int64", (None,)),
        "class_label": ("string", (None,)),
    }
    outputs = call_signature(signature, case["input"], case["x"])
    assert_matches(outputs, case["expected"])
    assert {value.shape[0] for value in outputs.values()} == {len(case["x"])}


def test_threshold_and_unknown_class_answer_unknown(exported):
    # Both the K-class threshold and m-EDL's own class u produce "unknown"
    # rows in the reference, and the exported model answers them the same.
    edl = exported["edl"]["expected"]
    assert 0 < np.sum(edl["class_label"] == "unknown") < len(edl["class_label"])
    assert set(edl["class_index"][edl["class_label"] == "unknown"]) == {KNOWN}
    medl = exported["medl"]
    outputs = call_signature(load_signature(medl["path"]), "pixels", medl["x"])
    predicted_u = outputs["class_index"] == KNOWN
    assert 0 < predicted_u.sum() < len(predicted_u)
    assert set(outputs["class_label"][predicted_u].tolist()) == {b"other"}
    np.testing.assert_allclose(outputs["alpha"][:, KNOWN], KNOWN + 1)
    np.testing.assert_allclose(outputs["probabilities"].sum(-1), 1.0, rtol=1e-6)


def rest_predict(signature, body):
    """TF Serving's REST predict API (row and column formats) on a signature.

    Follows https://www.tensorflow.org/tfx/serving/api_rest: `instances`
    (row format) answers `predictions`, one object of named outputs per row,
    which requires every output to share dimension 0; `inputs` (column
    format) answers `outputs`, an object of named output tensors.
    """
    request = json.loads(body)
    names = list(signature.structured_input_signature[1])

    def tensor(values, name):
        spec = signature.structured_input_signature[1][name]
        return tf.constant(np.array(values), dtype=spec.dtype)

    def jsonable(value):
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if isinstance(value, list):
            return [jsonable(item) for item in value]
        return value

    if "instances" in request:
        rows = request["instances"]
        if len(names) == 1 and not isinstance(rows[0], dict):
            rows = [{names[0]: row} for row in rows]
        feeds = {n: tensor([row[n] for row in rows], n) for n in names}
        outputs = {k: v.numpy() for k, v in signature(**feeds).items()}
        if len({value.shape[0] for value in outputs.values()}) != 1:
            raise ValueError("row format needs outputs sharing dimension 0")
        predictions = [
            {k: jsonable(v[i : i + 1].tolist()[0]) for k, v in outputs.items()}
            for i in range(len(rows))
        ]
        return json.dumps({"predictions": predictions})
    inputs = request["inputs"]
    if not isinstance(inputs, dict):
        inputs = {names[0]: inputs}
    outputs = signature(**{n: tensor(inputs[n], n) for n in names})
    return json.dumps(
        {"outputs": {k: jsonable(v.numpy().tolist()) for k, v in outputs.items()}}
    )


@pytest.mark.parametrize("name", ["medl", "text"])
def test_rest_row_and_column_formats(exported, name):
    case = exported[name]
    signature = load_signature(case["path"])
    expected = case["expected"]
    x = case["x"][:3].tolist()
    width = expected["alpha"].shape[1]

    row = json.loads(rest_predict(signature, json.dumps({"instances": x})))
    assert list(row) == ["predictions"] and len(row["predictions"]) == 3
    for i, prediction in enumerate(row["predictions"]):
        assert sorted(prediction) == sorted(OUTPUT_NAMES)
        assert len(prediction["probabilities"]) == width
        assert len(prediction["alpha"]) == width
        assert isinstance(prediction["uncertainty"], float)
        assert prediction["uncertainty"] == pytest.approx(
            expected["uncertainty"][i], abs=1e-6
        )
        assert prediction["class_index"] == expected["class_index"][i]
        assert prediction["class_label"] == expected["class_label"][i]

    body = {"inputs": {case["input"]: x}}
    column = json.loads(rest_predict(signature, json.dumps(body)))
    assert list(column) == ["outputs"]
    outputs = column["outputs"]
    assert np.shape(outputs["probabilities"]) == (3, width)
    assert np.shape(outputs["uncertainty"]) == (3,)
    assert outputs["class_label"] == expected["class_label"][:3].tolist()
    np.testing.assert_allclose(
        outputs["probabilities"], expected["probabilities"][:3], atol=1e-6
    )


def test_learned_unknown_class_head_is_served_as_medl(tmp_path):
    keras.utils.set_random_seed(8)
    inputs, logits = digits_body(3)
    z_u = keras.layers.Dense(1)(inputs)
    alpha = ke.layers.DirichletOutput("softplus")(logits)
    model = keras.Model(inputs, ke.layers.LearnedUnknownClassHead()([alpha, z_u]))
    path = export_saved_model(model, tmp_path, class_names=["a", "b", "c"])
    x = digits()[1][0][:16]
    outputs = call_signature(load_signature(path), "pixels", x)
    expected = reference_outputs(raw_output(model, x), False, ["a", "b", "c"])
    assert_matches(outputs, expected)


def test_logits_model_without_compiled_loss_needs_evidence(tmp_path):
    inputs, logits = digits_body(3)
    model = keras.Model(inputs, logits)
    with pytest.raises(ValueError, match="output='alpha' or"):
        export_saved_model(model, tmp_path)
    with pytest.raises(ValueError, match="needs an evidence function"):
        export_saved_model(model, tmp_path, output="logits")
    path = export_saved_model(
        model,
        tmp_path,
        output="logits",
        evidence=ke.layers.EvidenceELU(offset=ELU_OFFSET),
    )
    x = digits()[1][0][:8]
    outputs = call_signature(load_signature(path), "pixels", x)
    expected = reference_outputs(raw_output(model, x), True, ["0", "1", "2"])
    assert_matches(outputs, expected)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(class_names=["a", "b"]), "class_names"),
        (dict(class_names=["a"] * KNOWN), "unique"),
        (dict(class_names=DIGIT_NAMES, unknown_label="zero"), "unknown_label"),
        (dict(threshold=1.5), "threshold"),
        (dict(output="probabilities"), "output"),
        (dict(evidence="elu"), "evidence"),
        (dict(output="logits", unknown_class=True), "unknown_class"),
        (dict(version=0), "version"),
        (dict(outputs=["probabilities", "entropy"]), "outputs"),
        (dict(outputs=[]), "outputs"),
        (dict(outputs=["alpha", "alpha"]), "outputs"),
    ],
)
def test_invalid_options_are_rejected(exported, tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        export_saved_model(exported["edl"]["model"], tmp_path, **options)


def test_models_without_keras_input_are_rejected(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(3), ke.layers.DirichletOutput()])
    with pytest.raises(ValueError, match="keras.Input"):
        export_saved_model(unbuilt, tmp_path)


def test_medl_takes_no_threshold_and_versions_are_not_overwritten(exported):
    case = exported["medl"]
    with pytest.raises(ValueError, match="threshold"):
        export_saved_model(case["model"], "unused", threshold=0.5)
    base = os.path.dirname(case["path"])
    with pytest.raises(ValueError, match="version"):
        export_saved_model(case["model"], base, version=1)


def test_multi_input_text_model_keeps_its_input_names(tmp_path):
    """A sentence-pair model with two raw-string inputs (TEDL's task)."""
    keras.utils.set_random_seed(6)
    vocabulary = POSITIVE + NEGATIVE + NEUTRAL
    vectorize = keras.layers.TextVectorization(
        output_sequence_length=6, vocabulary=vocabulary
    )
    embed = keras.layers.Embedding(len(vocabulary) + 2, 4)
    pool = keras.layers.GlobalAveragePooling1D()
    a = keras.Input((), dtype="string", name="sentence_a")
    b = keras.Input((), dtype="string", name="sentence_b")
    towers = [pool(embed(vectorize(text))) for text in (a, b)]
    logits = keras.layers.Dense(2)(keras.layers.Concatenate()(towers))
    alpha = ke.layers.DirichletOutput(evidence="softplus")(logits)
    model = keras.Model({"sentence_a": a, "sentence_b": b}, alpha)

    path = export_saved_model(model, tmp_path, class_names=TEXT_NAMES)
    signature = load_signature(path)
    specs = signature.structured_input_signature[1]
    assert sorted(specs) == ["sentence_a", "sentence_b"]
    assert {spec.dtype.name for spec in specs.values()} == {"string"}
    first, second = sentences(5, seed=11)[0], sentences(5, seed=12)[0]
    outputs = signature(sentence_a=tf.constant(first), sentence_b=tf.constant(second))
    alpha = model({"sentence_a": tf.constant(first), "sentence_b": tf.constant(second)})
    expected = reference_outputs(np.asarray(alpha), False, TEXT_NAMES)
    assert_matches({k: v.numpy() for k, v in outputs.items()}, expected)
