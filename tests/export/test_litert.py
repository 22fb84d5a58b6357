"""LiteRT (TFLite) export: the serving outputs in LiteRT's interpreter, against
the float64 NumPy reference of tests/models.py and tests/reference_nig.py."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential.export import OUTPUT_NAMES
from keras_evidential.export import REGRESSION_OUTPUT_NAMES
from keras_evidential.export import cli
from tests import reference_nig as ref
from tests.models import DIGIT_NAMES
from tests.models import KNOWN
from tests.models import assert_matches
from tests.models import digits
from tests.models import raw_output
from tests.models import reference_outputs

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="runs the TensorFlow exporter in process"
)
litert = pytest.importorskip(
    "ai_edge_litert.interpreter", reason="the LiteRT runtime needs: pip install ai-edge-litert"
)

# name -> (model outputs logits, export options)
CASES = {
    "edl": (False, dict(class_names=DIGIT_NAMES, threshold=0.4)),
    "medl": (False, dict(class_names=DIGIT_NAMES, unknown_label="other")),
    "tedl": (True, dict()),
}


def signature_runner(path):
    interpreter = litert.Interpreter(model_path=str(path))
    assert list(interpreter.get_signature_list()) == ["serving_default"]
    return interpreter.get_signature_runner("serving_default")


# The fast lane converts the EDL model; m-EDL and the command line's TEDL
# (two more conversions) run in the large lane.
@pytest.mark.parametrize(
    "name",
    ["edl", pytest.param("medl", marks=pytest.mark.large),
     pytest.param("tedl", marks=pytest.mark.large)],
)
def test_litert_matches_the_reference(exported, name, tmp_path):
    logits, options = CASES[name]
    model = exported[name]["model"]
    path = tmp_path / f"{name}.tflite"
    if name == "tedl":
        # Through the command line: the evidence function comes from the
        # EDLLoss compiled into the saved .keras file.
        model.save(tmp_path / "tedl.keras")
        argv = [str(tmp_path / "tedl.keras"), str(tmp_path / "served")]
        assert cli.main(argv + ["--litert", str(path)]) == 0
    else:
        assert ke.export.export_litert(model, path, **options) == path
    serve = signature_runner(path)
    x = digits()[1][0]  # the 397 held-out digits, all ten of them
    outputs = serve(pixels=x)
    assert sorted(outputs) == sorted(OUTPUT_NAMES)
    names = options.get("class_names") or [str(k) for k in range(KNOWN)]
    expected = reference_outputs(
        raw_output(model, x),
        logits,
        names,
        options.get("threshold"),
        options.get("unknown_label", "unknown"),
    )
    assert_matches(outputs, expected, atol=1e-5)
    assert outputs["uncertainty"].shape == (len(x),)


def test_litert_serves_the_nig_regressor(tmp_path):
    model = keras.Sequential([
        keras.Input((3,), name="features"),
        keras.layers.Dense(8, activation="tanh"),
        ke.layers.NormalInverseGammaOutput(2),
        ke.layers.NormalInverseGammaRescaling([5.0, 5.0], [2.0, 2.0]),
    ])
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    path = ke.export.export_litert(model, tmp_path / "regressor.tflite")
    got = signature_runner(path)(features=x)
    assert sorted(got) == sorted(REGRESSION_OUTPUT_NAMES)
    g, nu, a, b = np.split(np.asarray(model.predict(x, verbose=0), "float64"), 4, -1)
    expected = {
        "mean": g, "gamma": g, "nu": nu, "alpha": a, "beta": b,
        "aleatoric_amini": ref.aleatoric_amini(nu, a, b),
        "epistemic_amini": ref.epistemic_amini(nu, a, b),
        "aleatoric_meinert": ref.aleatoric_meinert(nu, a, b),
        "epistemic_meinert": ref.epistemic_meinert(nu, a, b),
    }
    for name, want in expected.items():
        np.testing.assert_allclose(got[name], want, rtol=1e-5, err_msg=name)


def test_litert_serves_only_the_chosen_outputs(tmp_path):
    model = keras.Sequential([
        keras.Input((4,), name="pixels"), keras.layers.Dense(3),
        ke.layers.DirichletOutput(),
    ])
    path = ke.export.export_litert(
        model, tmp_path / "m.tflite", outputs=("uncertainty", "class_index")
    )
    got = signature_runner(path)(pixels=np.zeros((2, 4), "float32"))
    # Zero inputs: alpha = 1, so the vacuity K / S is 1.
    assert sorted(got) == ["class_index", "uncertainty"]
    np.testing.assert_allclose(got["uncertainty"], [1.0, 1.0])
    with pytest.raises(ValueError, match="outputs="):
        ke.export.export_litert(model, tmp_path / "n.tflite", outputs=("mean",))
