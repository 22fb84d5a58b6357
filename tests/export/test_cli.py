"""`keras-evidential export`: the command line over `export_saved_model`."""

import numpy as np
import pytest

from keras_evidential.export import cli
from tests.models import DIGIT_NAMES
from tests.models import assert_matches
from tests.models import call_signature
from tests.models import load_signature


def test_help_describes_the_options(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: keras-evidential export")
    for option in ("--class-names", "--threshold", "--outputs", "--onnx"):
        assert option in out


def test_missing_arguments_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main([])
    assert exit.value.code == 2
    assert "the following arguments are required: model, base_dir" in (
        capsys.readouterr().err
    )


def test_cli_serves_only_the_selected_outputs(exported, tmp_path):
    # The values are those of the full export (computed from the model,
    # independently of the output selection); only the chosen ones are served.
    case = exported["medl"]
    model_path = tmp_path / "medl.keras"
    case["model"].save(model_path)
    argv = [str(model_path), str(tmp_path / "served"), "--outputs",
            "uncertainty", "class_label", "--class-names", *DIGIT_NAMES,
            "--unknown-label", "other"]  # fmt: skip
    assert cli.main(argv) == 0
    signature = load_signature(str(tmp_path / "served" / "1"))
    assert sorted(signature.structured_outputs) == ["class_label", "uncertainty"]
    outputs = call_signature(signature, case["input"], case["x"])
    np.testing.assert_allclose(
        outputs["uncertainty"], case["expected"]["uncertainty"], rtol=1e-6, atol=1e-6
    )
    labels = [label.decode() for label in np.asarray(outputs["class_label"]).tolist()]
    assert labels == case["expected"]["class_label"].tolist()


def test_cli_exports_a_saved_keras_model(exported, tmp_path):
    case = exported["edl"]
    model_path = tmp_path / "edl.keras"
    case["model"].save(model_path)
    threshold = case["options"]["threshold"]
    argv = [
        str(model_path),
        str(tmp_path / "served"),
        "--version",
        "3",
        "--class-names",
        *DIGIT_NAMES,
        "--threshold",
        repr(threshold),
    ]
    assert cli.main(argv) == 0
    path = tmp_path / "served" / "3"
    outputs = call_signature(load_signature(str(path)), "pixels", case["x"])
    assert_matches(outputs, case["expected"])
    with pytest.raises(SystemExit):
        cli.main(argv)  # the version exists already
