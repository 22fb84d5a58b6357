import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED_DATA = Path(
    os.environ.get(
        "KERAS_EVIDENTIAL_DATA",
        Path(__file__).resolve().parents[1].parent / "shared" / "data",
    )
)


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"needs the offline datasets at {SHARED_DATA} (../shared/data beside "
            "the repository, or KERAS_EVIDENTIAL_DATA)"
        )
    return SHARED_DATA


def pytest_collection_modifyitems(items):
    # Tests over the full offline datasets are slow: CI's `large` lane.
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.large)
