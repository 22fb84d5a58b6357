"""docs/core.md's table of what each head takes, against the heads themselves.

Every head of `keras_evidential.layers` is in the table, and called on the
input the table names it gives the output shape the table names.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import keras_evidential as ke

CORE = Path(__file__).resolve().parents[1] / "docs" / "core.md"
# Layers that are not heads: evidence functions, a check, a wrapper, and
# the post-hoc calibrators appended after a head (docs/calibration.md), and
# the uncertainty maps computed from a head's alpha (docs/dense.md).
NOT_HEADS = {
    "AssertFinite",
    "DirichletUncertaintyMaps",
    "StudentTScaling",
    "TemperatureScaling",
    "VectorScaling",
    "EvidenceELU",
    "EvidenceExp",
    "EvidenceReLU",
    "EvidenceSoftplus",
    "NormalInverseGammaRescaling",
    "SpectralNormalization",
}


def head_table():
    text = CORE.read_text()
    section = text.split("## What each head takes", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)\(", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_every_head_is_in_the_table():
    heads = {cls.__name__ for cls in ke.layers.ALL_OBJECTS} - NOT_HEADS
    assert heads == set(head_table())


# (constructor, the input the table names, the output shape the table names)
# with batch 2, K = 3 classes, H = 5 features, L = 2 labels, D = 4.
K, H, L, D = 3, 5, 2, 4
CASES = {
    "DirichletOutput": (lambda: ke.layers.DirichletOutput(), [(2, K)], (2, K)),
    "UnknownClassHead": (lambda: ke.layers.UnknownClassHead(), [(2, K)], (2, K + 1)),
    "LearnedUnknownClassHead": (
        lambda: ke.layers.LearnedUnknownClassHead(),
        [(2, K), (2, 1)],
        (2, K + 1),
    ),
    "BetaOutput": (lambda: ke.layers.BetaOutput(), [(2, 2 * L)], (2, L, 2)),
    "FlexibleDirichletOutput": (
        lambda: ke.layers.FlexibleDirichletOutput(K),
        [(2, H)],
        (2, 2 * K + 1),
    ),
    "PosteriorNetworkOutput": (
        lambda: ke.layers.PosteriorNetworkOutput([10, 20, 30]),
        [(2, D)],
        (2, K),
    ),
    "NormalInverseGammaOutput": (
        lambda: ke.layers.NormalInverseGammaOutput(units=2),
        [(2, H)],
        (2, 4 * 2),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_table_says_what_the_head_takes_and_gives(name):
    make, input_shapes, output_shape = CASES[name]
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(1.0, 2.0, shape).astype("float32") for shape in input_shapes]
    layer = make()
    output = layer(inputs if len(inputs) > 1 else inputs[0])
    assert tuple(output.shape) == output_shape
    assert name in head_table()
