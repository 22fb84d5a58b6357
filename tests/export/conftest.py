"""The four exported models the export tests share (trained once per session)."""

import pytest

from keras_evidential.export import export_saved_model
from tests.models import DIGIT_NAMES
from tests.models import KNOWN
from tests.models import TEXT_NAMES
from tests.models import digits
from tests.models import middle_threshold
from tests.models import raw_output
from tests.models import reference_outputs
from tests.models import text_inputs
from tests.models import train_edl
from tests.models import train_medl
from tests.models import train_tedl
from tests.models import train_text


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """Four trained models, each exported once: name -> a dict of facts."""
    base = tmp_path_factory.mktemp("serving")
    _, (x_test, _) = digits()
    x_test = x_test[:64]
    cases = {}

    edl = train_edl()
    threshold = middle_threshold(edl, x_test, False, KNOWN)
    cases["edl"] = dict(
        model=edl,
        x=x_test,
        input="pixels",
        logits=False,
        options=dict(class_names=DIGIT_NAMES, threshold=threshold),
    )
    cases["medl"] = dict(
        model=train_medl(),
        x=x_test,
        input="pixels",
        logits=False,
        options=dict(class_names=DIGIT_NAMES, unknown_label="other"),
    )
    cases["tedl"] = dict(
        model=train_tedl(),
        x=x_test,
        input="pixels",
        logits=True,
        options=dict(),
    )
    text = train_text()
    x_text = text_inputs()
    cases["text"] = dict(
        model=text,
        x=x_text,
        input="text",
        logits=True,
        options=dict(
            class_names=TEXT_NAMES,
            threshold=middle_threshold(text, x_text, True, 2),
        ),
    )
    for name, case in cases.items():
        case["path"] = export_saved_model(
            case["model"], base / name, version=1, **case["options"]
        )
        names = case["options"].get("class_names") or [str(k) for k in range(KNOWN)]
        case["expected"] = reference_outputs(
            raw_output(case["model"], case["x"]),
            case["logits"],
            names,
            case["options"].get("threshold"),
            case["options"].get("unknown_label", "unknown"),
        )
    return cases
