"""The public API is typed (issue 32, section 3): every parameter and every
return of a public function, and of the methods a public class defines in
this package, has an annotation.

mypy (`.ci/docs.sh`) checks that the annotations are consistent; this test
checks that they are there, on the same set of names the API reference
documents (`tests/test_docs_site.py`).
"""

import importlib
import inspect

import pytest

from tests.test_docs_site import PAGES
from tests.test_docs_site import public_names

PACKAGE = "keras_evidential"
# Dunder methods that are part of a class's public API; the other
# underscored names are private.
PUBLIC_DUNDERS = ("__init__", "__new__", "__call__")


def _is_ours(function):
    """Written in this package: not a Keras method, and not one Python
    generates (a namedtuple's `__new__`, whose module is synthetic)."""
    return (getattr(function, "__module__", None) or "").startswith(PACKAGE)


def _class_functions(cls):
    """`(name, function)` of the public methods and property getters that
    `cls` or a base class of this package defines (a private base class's
    methods are public through the public class that inherits them)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith(PACKAGE):
            continue
        for name, attribute in vars(klass).items():
            if name.startswith("_") and name not in PUBLIC_DUNDERS:
                continue
            if isinstance(attribute, (classmethod, staticmethod)):
                attribute = attribute.__func__
            elif isinstance(attribute, property):
                attribute = attribute.fget
            if inspect.isfunction(attribute) and _is_ours(attribute):
                yield f"{klass.__module__}.{klass.__qualname__}.{name}", attribute


def public_functions(module_names):
    """`{qualified name: function}` of every public function and public
    class method reachable from `module_names`, each once."""
    found = {}
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            value = getattr(module, name)
            if inspect.isclass(value):
                found.update(_class_functions(value))
            elif inspect.isfunction(value) and _is_ours(value):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def missing_annotations(function):
    """The parameters (and `"return"`) of `function` without an annotation;
    `self` and `cls` need none. `*args` and `**kwargs` need one like any
    other parameter."""
    signature = inspect.signature(function)
    missing = [
        parameter.name
        for parameter in signature.parameters.values()
        if parameter.annotation is inspect.Parameter.empty
        and parameter.name not in ("self", "cls")
    ]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_walk_reaches_functions_methods_hooks_and_base_classes():
    functions = public_functions(sorted(PAGES))
    for name in (
        "keras_evidential.dirichlet.parameters.vacuity",
        "keras_evidential.layers.dirichlet_output.DirichletOutput.call",
        "keras_evidential.layers.dirichlet_output.DirichletOutput.get_config",
        "keras_evidential.callbacks.two_stage_fit.TwoStageFit.on_epoch_begin",
        "keras_evidential.metrics.calibration.ExpectedCalibrationError.update_state",
        # Inherited by the public NIG losses from their private base class.
        "keras_evidential.losses.evidential_regression._NIGLoss.__init__",
        # A property's getter.
        "keras_evidential.data.mixing.Mixture.n_unknown",
    ):
        assert name in functions
    # Keras's own methods are Keras's to annotate.
    assert not any(".Layer." in name or name.startswith("keras.") for name in functions)


@pytest.mark.parametrize("module_name", sorted(PAGES))
def test_public_api_is_annotated(module_name):
    unannotated = {
        name: missing
        for name, function in public_functions([module_name]).items()
        if (missing := missing_annotations(function))
    }
    assert not unannotated, f"parameters without type hints: {unannotated}"


def test_missing_annotations_finds_each_gap():
    def partly(a: int, b, *args, c: str = "", **kwargs) -> None:
        del a, b, args, c, kwargs

    def no_return(self, x: int):
        del x

    def complete(self, *args: int, **kwargs: str) -> int:
        return 0

    assert missing_annotations(partly) == ["b", "args", "kwargs"]
    assert missing_annotations(no_return) == ["return"]
    assert missing_annotations(complete) == []
