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


def test_cli_serves_selected_regression_outputs(tmp_path):
    """Before: --outputs accepted only the classifier's names, so `mean` or
    `epistemic_meinert` of a NIG regressor were refused by the parser."""
    import keras

    import keras_evidential as ke

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), name="features"),
                              ke.layers.NormalInverseGammaOutput(units=1)])
    model_path = tmp_path / "nig.keras"
    model.save(model_path)
    argv = [str(model_path), str(tmp_path / "served"), "--outputs", "mean", "epistemic_meinert"]
    assert cli.main(argv) == 0
    signature = load_signature(str(tmp_path / "served" / "1"))
    assert sorted(signature.structured_outputs) == ["epistemic_meinert", "mean"]
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    outputs = call_signature(signature, list(signature.structured_input_signature[1])[0], x)
    gamma, nu, _, _ = np.split(model.predict(x, verbose=0), 4, axis=-1)
    np.testing.assert_allclose(outputs["mean"], gamma, rtol=1e-5)
    np.testing.assert_allclose(outputs["epistemic_meinert"], 1 / np.sqrt(nu), rtol=1e-5)


def test_cli_refuses_a_regression_output_for_a_classifier(exported, tmp_path, capsys):
    case = exported["edl"]
    model_path = tmp_path / "edl.keras"
    case["model"].save(model_path)
    with pytest.raises(SystemExit):
        cli.main([str(model_path), str(tmp_path / "served"), "--outputs", "mean"])
    assert "outputs" in capsys.readouterr().err
