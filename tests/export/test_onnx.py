"""ONNX export (optional extra): named outputs, parity with Keras on digits."""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential.export import OUTPUT_NAMES
from keras_evidential.export import cli
from keras_evidential.export import export_onnx
from tests.models import DIGIT_NAMES
from tests.models import KNOWN
from tests.models import assert_matches
from tests.models import digits
from tests.models import raw_output
from tests.models import reference_outputs
from tests import reference_family as ref_family

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


# --- the family's heads: R-EDL, DAEDL, F-EDL and the learned unknown class ---

FEATURES = 6
FAMILY_K = 4
FAMILY_NAMES = ["a", "b", "c", "d"]


def family_data(n, seed):
    return np.random.default_rng(seed).normal(0.0, 2.0, (n, FEATURES)).astype("float32")


def family_model(head):
    """A small untrained model ending in `head`; its float64 serving reference.

    Returns the model and a function from its raw output (float64) to the
    served `alpha`, `probabilities` and `uncertainty`, written from the papers.
    """
    keras.utils.set_random_seed(5)
    inputs = keras.Input((FEATURES,), name="features")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    logits = keras.layers.Dense(FAMILY_K)(hidden)
    if head == "redl":
        # R-EDL: alpha = e + lambda; vacuity lambda K / S (Chen et al. 2024).
        lam = 0.1
        alpha = ke.layers.DirichletOutput("softplus", prior_concentration=lam)(logits)
        model = keras.Model(inputs, alpha)

        def reference(alpha):
            return alpha, alpha / alpha.sum(-1, keepdims=True), lam * FAMILY_K / alpha.sum(-1)

    elif head == "daedl":
        # DAEDL: alpha = exp(z s(x)), which can be < 1; vacuity K / S.
        model = keras.Model(inputs, ke.layers.DensityAwareDirichlet()([hidden, logits]))
        ke.callbacks.fit_model_density(
            model, family_data(200, seed=9), np.arange(200) % FAMILY_K
        )

        def reference(alpha):
            return alpha, alpha / alpha.sum(-1, keepdims=True), FAMILY_K / alpha.sum(-1)

    elif head == "fedl":
        # F-EDL serves the flexible Dirichlet's mean, the Dirichlet alpha + tau p
        # with that mean, and the epistemic uncertainty sum_k Var[pi_k], here
        # from the mixture sum_j p_j Dir(alpha + tau e_j) (Yoon & Kim 2025).
        model = keras.Model(inputs, ke.layers.FlexibleDirichletOutput(FAMILY_K)(hidden))

        def reference(packed):
            alpha, p, tau = np.split(packed, [FAMILY_K, 2 * FAMILY_K], axis=-1)
            mean, variance = ref_family.flexible_moments(alpha, p, tau)
            return alpha + tau * p, mean, variance.sum(-1)

    else:  # "learned_unknown": alpha_u = K + 1 + relu(z_u)
        alpha = ke.layers.DirichletOutput("relu")(logits)
        z_u = keras.layers.Dense(1)(hidden)
        model = keras.Model(inputs, ke.layers.LearnedUnknownClassHead()([alpha, z_u]))

        def reference(alpha_plus):
            known = alpha_plus[:, :FAMILY_K]
            return (
                alpha_plus,
                alpha_plus / alpha_plus.sum(-1, keepdims=True),
                FAMILY_K / known.sum(-1),
            )

    return model, reference


@pytest.mark.large
@pytest.mark.parametrize("head", ["redl", "daedl", "fedl", "learned_unknown"])
def test_onnx_serves_every_head_kind(head, tmp_path):
    model, reference = family_model(head)
    x = family_data(64, seed=1)
    path = export_onnx(model, tmp_path / f"{head}.onnx", class_names=FAMILY_NAMES)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = dict(zip(OUTPUT_NAMES, session.run(list(OUTPUT_NAMES), {"features": x})))

    alpha, probabilities, uncertainty = reference(raw_output(model, x))
    if head == "daedl":
        assert alpha.min() < 1.0  # exp(z s) of a negative logit: served, not refused
    index = probabilities.argmax(-1)
    for name, want in [("alpha", alpha), ("probabilities", probabilities),
                       ("uncertainty", uncertainty)]:
        np.testing.assert_allclose(outputs[name], want, rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_array_equal(outputs["class_index"], index)
    labels = np.array(FAMILY_NAMES + ["unknown"])[index]
    assert np.asarray(outputs["class_label"]).astype(str).tolist() == labels.tolist()
    if head == "learned_unknown":
        # m-EDL's floor alpha_u >= K + 1, raised by the learned evidence.
        assert alpha[:, FAMILY_K].min() >= FAMILY_K + 1.0
        assert alpha[:, FAMILY_K].max() > FAMILY_K + 1.0
