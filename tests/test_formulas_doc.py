"""docs/formulas.md names every public loss, layer and callback (issue 27).

The README says the page holds every formula the package implements; this
keeps a new public class from being added without its formula there.
"""

import pathlib
import re

import pytest

from keras_evidential import callbacks
from keras_evidential import layers
from keras_evidential import losses

FORMULAS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "formulas.md"

# Public classes that compute no formula, so the page has nothing to state.
WITHOUT_FORMULA = {
    # An identity layer that only checks its input for NaN and inf.
    "AssertFinite": "checks values, computes nothing",
    # Reads the weights back and raises on NaN or inf; sets no coefficient.
    "FiniteWeightsCheck": "checks values, computes nothing",
}

PUBLIC_CLASSES = sorted(
    {cls.__name__ for module in (losses, layers, callbacks) for cls in module.ALL_OBJECTS}
)


def _named(name, text):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)


@pytest.mark.parametrize(
    "name", [name for name in PUBLIC_CLASSES if name not in WITHOUT_FORMULA]
)
def test_every_public_class_is_named_in_formulas_md(name):
    found = _named(name, FORMULAS.read_text(encoding="utf-8"))
    assert found, (
        f"{name} (in an ALL_OBJECTS of keras_evidential.losses, .layers or "
        f".callbacks) is not named in {FORMULAS.name}: add its formula, or, "
        "if it computes none, list it in WITHOUT_FORMULA with the reason"
    )


def test_exemptions_are_public_classes():
    # A renamed or removed class must not stay exempt by a stale name.
    assert set(WITHOUT_FORMULA) <= set(PUBLIC_CLASSES)


def test_name_matching_needs_the_whole_name():
    # `EDLLoss` inside `IEDLLoss` or `DAEDLLoss` does not count as naming it.
    assert not _named("EDLLoss", "IEDLLoss and DAEDLLoss, `CorrectEvidenceLoss`")
    assert _named("EDLLoss", "the loss `EDLLoss(risk=...)`")
