"""`model_kind`: one decision of what a classifier outputs, used everywhere.

Export, evaluation and monitoring must agree: a `LearnedUnknownClassHead`
model's K + 1 outputs are K known classes plus u for all three (the issue
found evaluation treating them as K + 1 known classes while export did not).
"""

import keras
import numpy as np
import pytest

import keras_evidential as ke
from keras_evidential import evaluation
from keras_evidential import model_kind

K = 3


def _body(units=K):
    inputs = keras.Input((6,), name="x")
    return inputs, keras.layers.Dense(units)(inputs)


def edl():
    inputs, logits = _body()
    return keras.Model(inputs, ke.layers.DirichletOutput()(logits))


def medl():
    inputs, logits = _body()
    alpha = ke.layers.DirichletOutput()(logits)
    return keras.Model(inputs, ke.layers.UnknownClassHead()(alpha))


def learned_medl():
    inputs, logits = _body()
    alpha = ke.layers.DirichletOutput("softplus")(logits)
    z_u = keras.layers.Dense(1)(inputs)
    return keras.Model(inputs, ke.layers.LearnedUnknownClassHead()([alpha, z_u]))


def tedl():
    inputs, logits = _body()
    model = keras.Model(inputs, logits)
    model.compile(
        "adam",
        ke.losses.EDLLoss(from_logits=True, evidence=ke.layers.EvidenceELU(offset=1.5)),
    )
    return model


def nested_medl():
    """The head inside a nested Sequential: `Model(x, head(base(x)))`."""
    inputs, logits = _body()
    head = keras.Sequential(
        [keras.Input((K,)), ke.layers.DirichletOutput(), ke.layers.UnknownClassHead()]
    )
    return keras.Model(inputs, head(logits))


def alpha_compiled():
    inputs, logits = _body()
    model = keras.Model(inputs, keras.layers.Activation("softplus")(logits) + 1.0)
    model.compile("adam", ke.losses.EDLLoss())
    return model


@pytest.mark.parametrize(
    "build, expected",
    [
        (edl, ("alpha", False, K)),
        (medl, ("alpha", True, K)),
        (learned_medl, ("alpha", True, K)),
        (nested_medl, ("alpha", True, K)),
        (tedl, ("logits", False, K)),
        (alpha_compiled, ("alpha", False, K)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_kind_is_detected(build, expected):
    kind = model_kind(build())
    assert (kind.output, kind.unknown_class, kind.num_known_classes) == expected
    assert (kind.evidence is None) == (kind.output == "alpha")


def test_logits_kind_applies_the_compiled_evidence():
    kind = model_kind(tedl())
    z = np.array([[-2.0, 0.0, 3.0]], "float32")
    # ELU with offset 1.5: elu(z) + 1.5, and alpha = evidence + 1.
    expected = np.where(z > 0, z, np.expm1(z)) + 2.5
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(kind.to_alpha(z)), expected, rtol=1e-6
    )
    assert isinstance(kind.evidence, ke.layers.EvidenceELU)
    assert kind.evidence.offset == 1.5


def test_arguments_override_detection():
    kind = model_kind(medl(), unknown_class=False)
    assert (kind.unknown_class, kind.num_known_classes) == (False, K + 1)
    inputs, logits = _body()
    plain = keras.Model(inputs, logits)
    kind = model_kind(plain, output="logits", evidence="softplus")
    assert (kind.output, kind.num_known_classes) == ("logits", K)
    assert isinstance(kind.evidence, ke.layers.EvidenceSoftplus)


@pytest.mark.parametrize(
    "build, kwargs, message",
    [
        (lambda: keras.Model(*_body()), {}, "output='alpha' or"),
        (lambda: keras.Model(*_body()), {"output": "logits"}, "evidence function"),
        (edl, {"output": "probabilities"}, "output='probabilities'"),
        (edl, {"unknown_class": "yes"}, "unknown_class='yes'"),
        (edl, {"evidence": "elu"}, "evidence='elu'"),
        (tedl, {"unknown_class": True}, "unknown_class=True"),
        (
            lambda: keras.Sequential([keras.layers.Dense(3)]),
            {},
            "not built",
        ),
        (lambda: "model.keras", {}, "Expected a Keras model"),
    ],
)
def test_undecidable_or_contradictory_models_are_refused(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model_kind(build(), **kwargs)


def test_learned_unknown_class_head_is_k_plus_u_in_evaluation_and_monitoring():
    """The silent wrong result of the issue: K + 1 outputs read as K classes."""
    keras.utils.set_random_seed(0)
    model = learned_medl()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, K + 1, 64)  # K = unknown
    report = evaluation.evaluate_uncertainty(model, x, y)
    assert report.unknown_class
    alpha = np.asarray(model.predict(x, verbose=0), np.float64)
    # The vacuity is K / S over the K known columns only.
    np.testing.assert_allclose(
        report.measures["vacuity"], K / alpha[:, :K].sum(-1), rtol=1e-5
    )
    predicted = alpha.argmax(-1)
    known = y < K
    assert report.metrics["known_accuracy"] == pytest.approx(
        np.mean(predicted[known] == y[known])
    )
    assert report.metrics["unknown_recall"] == pytest.approx(
        np.mean(predicted[~known] == K)
    )

    model.compile("adam", ke.losses.EDLLoss())
    monitor = evaluation.UncertaintyMonitor((x, y))
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    alpha = np.asarray(model.predict(x, verbose=0), np.float64)
    predicted = alpha.argmax(-1)
    assert history.history["val_unknown_recall"][-1] == pytest.approx(
        np.mean(predicted[~known] == K)
    )


# Loss and head must agree (issue 28 items 3 and 4) ---------------------------


def _compiled(head_layers, loss):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)] + head_layers)
    model.compile(optimizer="sgd", loss=loss)
    return model


@pytest.mark.parametrize("loss", [ke.losses.DAEDLLoss(), ke.losses.PriorNetworkLoss(),
                                  ke.losses.EDLLoss()], ids=lambda l: type(l).__name__)
def test_flexible_head_refuses_an_alpha_loss(loss):
    """Before: an F-EDL head trained with DAEDLLoss or PriorNetworkLoss
    trained without a word on its packed [alpha, p, tau]."""
    model = keras.Sequential([keras.Input((4,)), ke.layers.FlexibleDirichletOutput(3)])
    model.compile(optimizer="sgd", loss=loss)
    with pytest.raises(ValueError, match="packs"):
        ke.model_kind(model)
    with pytest.raises(ValueError, match="packs"):
        model.fit(np.ones((8, 4)), np.arange(8) % 3, epochs=1, verbose=0,
                  callbacks=[ke.callbacks.FiniteWeightsCheck()])


def test_fedl_loss_refuses_a_dirichlet_head():
    model = _compiled([ke.layers.DirichletOutput()], ke.losses.FEDLLoss())
    with pytest.raises(ValueError, match="FEDLLoss reads FlexibleDirichletOutput"):
        ke.model_kind(model)


def test_relaxed_loss_and_head_must_share_the_prior_concentration():
    """Before: a head with prior weight 1 trained by a loss with 0.1."""
    model = _compiled([ke.layers.DirichletOutput("softplus")], ke.losses.RelaxedEDLLoss(0.1))
    with pytest.raises(ValueError, match=r"prior_concentration=1\b.*prior_concentration=0.1"):
        ke.model_kind(model)
    with pytest.raises(ValueError, match="prior weight"):
        model.fit(np.ones((8, 4)), np.arange(8) % 3, epochs=1, verbose=0,
                  callbacks=[ke.callbacks.KLAnnealing()])
    same = _compiled([ke.layers.DirichletOutput("softplus", prior_concentration=0.1)],
                     ke.losses.RelaxedEDLLoss(0.1))
    assert ke.model_kind(same).prior_concentration == pytest.approx(0.1)
