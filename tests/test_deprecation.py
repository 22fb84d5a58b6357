"""1.0's renames: the old names warn and keep working until 2.0."""

import warnings

import keras
import numpy as np
import pytest

import keras_evidential as ke


def _quiet(build):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return build()


@pytest.mark.parametrize("build_old, build_new", [
    (lambda: ke.layers.DirichletOutput("softplus", prior_weight=0.3),
     lambda: ke.layers.DirichletOutput("softplus", prior_concentration=0.3)),
    (lambda: ke.losses.RelaxedEDLLoss(prior_weight=0.3),
     lambda: ke.losses.RelaxedEDLLoss(prior_concentration=0.3)),
    (lambda: ke.losses.RelaxedEDLLoss.re_edl(prior_weight=0.3),
     lambda: ke.losses.RelaxedEDLLoss.re_edl(prior_concentration=0.3)),
    (lambda: ke.metrics.KnownClassAccuracy(prior_weight=0.3),
     lambda: ke.metrics.KnownClassAccuracy(prior_concentration=0.3)),
    (lambda: ke.metrics.UnknownClassAUROC(prior_weight=0.3),
     lambda: ke.metrics.UnknownClassAUROC(prior_concentration=0.3)),
], ids=["DirichletOutput", "RelaxedEDLLoss", "re_edl", "KnownClassAccuracy", "UnknownClassAUROC"])
def test_prior_weight_keyword_warns_and_works(build_old, build_new):
    with pytest.warns(DeprecationWarning, match="`prior_weight` is deprecated.*prior_concentration"):
        old = build_old()
    new = _quiet(build_new)
    assert old.prior_concentration == new.prior_concentration == pytest.approx(0.3)
    drop_names = lambda c: {k: v for k, v in c.items() if k not in ("name", "evidence")}
    assert drop_names(old.get_config()) == drop_names(new.get_config())


def test_prior_weight_keyword_of_functions():
    alpha = np.array([[0.3, 1.3], [2.0, 0.5]], "float32")
    with pytest.warns(DeprecationWarning):
        old = ke.dirichlet.vacuity(alpha, prior_weight=0.3)
    # lambda K / S by hand.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(old), 0.3 * 2 / alpha.sum(-1), rtol=1e-6)
    with pytest.warns(DeprecationWarning):
        measures = ke.evaluation.uncertainty_measures(alpha, prior_weight=0.3)
    np.testing.assert_allclose(measures["vacuity"], 0.3 * 2 / alpha.sum(-1), rtol=1e-6)
    with pytest.raises(ValueError, match="pass one"):
        ke.dirichlet.vacuity(alpha, prior_weight=0.3, prior_concentration=0.3)


def test_a_config_saved_before_the_rename_loads():
    config = {"name": "alpha", "evidence": "softplus", "prior_weight": 0.1}
    with pytest.warns(DeprecationWarning):
        layer = ke.layers.DirichletOutput.from_config(config)
    assert layer.prior_concentration == pytest.approx(0.1)
    loss_config = {"prior_weight": 0.1, "kl_weight": 0.0, "name": "relaxed_edl_loss",
                   "reduction": "sum_over_batch_size", "dtype": None}
    with pytest.warns(DeprecationWarning):
        loss = ke.losses.RelaxedEDLLoss.from_config(loss_config)
    assert loss.prior_concentration == pytest.approx(0.1)


def test_prior_weight_attribute_warns():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              ke.layers.DirichletOutput("softplus", prior_concentration=0.2)])
    with pytest.warns(DeprecationWarning):
        assert model.layers[-1].prior_weight == pytest.approx(0.2)
    with pytest.warns(DeprecationWarning):
        assert ke.model_kind(model).prior_weight == pytest.approx(0.2)
