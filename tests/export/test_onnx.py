"""ONNX export (optional extra): named outputs, parity with Keras on digits."""

import pytest

from keras_evidential.export import OUTPUT_NAMES
from keras_evidential.export import cli
from keras_evidential.export import export_onnx
from tests.models import DIGIT_NAMES
from tests.models import KNOWN
from tests.models import assert_matches
from tests.models import digits
from tests.models import raw_output
from tests.models import reference_outputs

pytest.importorskip(
    "tf2onnx", reason="ONNX export needs: pip install tf2onnx==1.17.0 onnx==1.23.2"
)
ort = pytest.importorskip(
    "onnxruntime", reason="running ONNX needs: pip install onnxruntime==1.32.0"
)

# name -> (model outputs logits, export options)
CASES = {
    "edl": (False, dict(class_names=DIGIT_NAMES, threshold=0.4)),
    "medl": (False, dict(class_names=DIGIT_NAMES)),
    "tedl": (True, dict()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_matches_keras(exported, name, tmp_path):
    logits, options = CASES[name]
    model = exported[name]["model"]
    path = tmp_path / f"{name}.onnx"
    if name == "tedl":
        # Through the command line: the evidence function comes from the
        # EDLLoss compiled into the saved .keras file.
        model.save(tmp_path / "tedl.keras")
        argv = [str(tmp_path / "tedl.keras"), str(tmp_path / "served")]
        assert cli.main(argv + ["--onnx", str(path)]) == 0
        assert (tmp_path / "served" / "1" / "saved_model.pb").exists()
    else:
        export_onnx(model, path, **options)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["pixels"]
    assert sorted(o.name for o in session.get_outputs()) == sorted(OUTPUT_NAMES)

    x = digits()[1][0]  # the 397 held-out digits, all ten of them
    values = session.run(list(OUTPUT_NAMES), {"pixels": x})
    outputs = dict(zip(OUTPUT_NAMES, values))
    names = options.get("class_names") or [str(k) for k in range(KNOWN)]
    expected = reference_outputs(
        raw_output(model, x), logits, names, options.get("threshold")
    )
    assert_matches(outputs, expected, atol=1e-5)
    assert outputs["uncertainty"].shape == (len(x),)
