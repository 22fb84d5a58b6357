"""ONNX export (optional extra): named outputs, parity with Keras on digits."""

import pytest

from keras_evidential.export import OUTPUT_NAMES
from keras_evidential.export import cli
from keras_evidential.export import export_onnx
from tests.test_export import DIGIT_NAMES
from tests.test_export import KNOWN
from tests.test_export import assert_matches
from tests.test_export import digits
from tests.test_export import raw_output
from tests.test_export import reference_outputs
from tests.test_export import train_edl
from tests.test_export import train_medl
from tests.test_export import train_tedl

pytest.importorskip(
    "tf2onnx", reason="ONNX export needs: pip install tf2onnx==1.17.0 onnx==1.23.2"
)
ort = pytest.importorskip(
    "onnxruntime", reason="running ONNX needs: pip install onnxruntime==1.32.0"
)

CASES = {
    "edl": (train_edl, False, dict(class_names=DIGIT_NAMES, threshold=0.4)),
    "medl": (train_medl, False, dict(class_names=DIGIT_NAMES)),
    "tedl": (train_tedl, True, dict()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_matches_keras(name, tmp_path):
    train, logits, options = CASES[name]
    model = train()
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
