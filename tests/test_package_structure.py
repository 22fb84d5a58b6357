"""The package stays inside Keras's contracts: no call-stack walking, private
Keras APIs only in `keras_compat`, and no import circles (issue 27)."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_evidential"
FRAME_WALKING = ("_getframe", "f_locals", "f_back", "inspect.stack", "currentframe")
# Private Keras names the package needs, read in keras_compat only.
PRIVATE_KERAS = ("keras.src", "_flatten_layers", "_inbound_nodes", "_keras_history",
                 "_compile_loss", "_flat_losses")


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every `keras_evidential` module the file imports, at any depth (a
    function-level import closes a circle just the same)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("keras_evidential"):
                found.add(node.module)
                for alias in node.names:
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("keras_evidential"))
    return found


def test_no_frame_walking_in_the_package():
    offenders = [
        f"{path.name}: {word}"
        for path in _modules()
        for word in FRAME_WALKING
        if word in path.read_text()
    ]
    assert not offenders


def test_private_keras_apis_live_in_keras_compat_only():
    offenders = [
        f"{path.name}: {name}"
        for path in _modules()
        for name in PRIVATE_KERAS
        if path.name != "keras_compat.py" and name in path.read_text()
    ]
    assert not offenders


def test_no_import_circles():
    """No two modules import each other, directly or through others.

    A package's `__init__` only re-exports its modules, so it is left out of
    the graph (an edge into it would make every re-export look circular).
    Strongly connected components with more than one module are circles.
    """
    names = {_name(path): path for path in _modules()}
    modules = {n for n, path in names.items() if path.name != "__init__.py"}
    graph = {
        name: sorted(t for t in _imports(names[name]) if t in modules and t != name)
        for name in modules
    }
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def connect(node):  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(modules):
        if name not in index:
            connect(name)
    assert not circles, circles


def test_the_circle_check_can_fail(tmp_path, monkeypatch):
    """Two modules importing each other are reported."""
    package = tmp_path / "keras_evidential"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from keras_evidential.b import x\n")
    (package / "b.py").write_text("def f():\n    from keras_evidential.a import y\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", package)
    with pytest.raises(AssertionError):
        test_no_import_circles()
