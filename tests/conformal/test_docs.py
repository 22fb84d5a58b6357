"""docs/conformal.md's complete example runs as written."""

import pathlib
import re

import pytest

# It trains a small model for two epochs.
pytestmark = pytest.mark.large

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "conformal.md"


def test_complete_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    complete = [b for b in blocks if b.startswith("import ")]
    assert complete
    monkeypatch.chdir(tmp_path)  # it saves sets.keras
    for block in complete:
        namespace = {}
        exec(compile(block, str(DOC), "exec"), namespace)
        mask = namespace["mask"]
        assert mask.shape == (100, 3) and mask.dtype == bool
        reloaded = namespace["reloaded"]
        x = namespace["x"]
        assert (reloaded.predict(x[500:], verbose=0)["sets"].shape == (100, 3))
