"""Every docstring example of `keras_evidential` runs and shows its output.

The examples run as doctests in a namespace with `keras`, `np`, `ops` and
`keras_evidential` imported, as a user's session would have them.
"""

import doctest
import importlib
import pkgutil

import keras
import numpy as np
import pytest
from keras import ops

import keras_evidential

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Examples that need an optional package run only where it is installed.
OPTIONAL_PACKAGES = {"keras_evidential.export.onnx": ("tf2onnx", "onnxruntime")}


def _module_names():
    names = [keras_evidential.__name__]
    for info in pkgutil.walk_packages(
        keras_evidential.__path__, prefix=keras_evidential.__name__ + "."
    ):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def _examples(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # Only the module's own objects: re-exports are tested where defined.
    return [
        test
        for test in finder.find(module, module_name)
        if test.examples and _defined_in(test, module_name)
    ]


def _defined_in(test, module_name):
    return test.name == module_name or test.filename == importlib.import_module(
        module_name
    ).__file__


MODULES = [name for name in _module_names() if _examples(name)]


def test_modules_with_examples_are_collected():
    assert "keras_evidential.layers.evidence" in MODULES
    assert "keras_evidential.metrics.open_set" in MODULES


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    for package in OPTIONAL_PACKAGES.get(module_name, ()):
        pytest.importorskip(package)
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    tests = _examples(module_name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = []
    previous_policy = keras.config.dtype_policy()
    try:
        for test in tests:
            test.globs.update(
                keras=keras, np=np, ops=ops, keras_evidential=keras_evidential
            )
            keras.utils.set_random_seed(0)
            runner.run(test, out=report.append)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    assert runner.failures == 0, "".join(report)
