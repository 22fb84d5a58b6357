"""The documentation site (issue 32): the API reference names every public
object, the navigation points at pages that exist, and the Python examples of
the guides run (all but the blocks marked as fragments).

The site itself is built by `mkdocs build --strict` in CI (`.ci/docs.sh`),
which fails on a broken link or an object mkdocstrings cannot find; the
browser check of the built pages is `.ci/browser_check.py`.
"""

import __future__
import importlib
import pathlib
import re
import sys
import types

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"

# The public namespaces and the reference page of each: the package's top
# level, its subpackages, and the modules the top level imports.
PAGES = {
    "keras_evidential": "top_level.md",
    "keras_evidential.beta": "beta.md",
    "keras_evidential.calibration": "calibration.md",
    "keras_evidential.conformal": "conformal.md",
    "keras_evidential.flows": "flows.md",
    "keras_evidential.callbacks": "callbacks.md",
    "keras_evidential.config": "config.md",
    "keras_evidential.data": "data.md",
    "keras_evidential.dirichlet": "dirichlet.md",
    "keras_evidential.evaluation": "evaluation.md",
    "keras_evidential.export": "export.md",
    "keras_evidential.layers": "layers.md",
    "keras_evidential.losses": "losses.md",
    "keras_evidential.metrics": "metrics.md",
    "keras_evidential.nig": "nig.md",
    "keras_evidential.saving": "saving.md",
}
# Names in those namespaces that are not part of the API, with the reason.
NOT_PUBLIC = {
    "namespace_functions": "the helper that builds get/serialize/deserialize",
}
# Every ```python block of the guides runs (large lane), the blocks of a
# page in order as one session, except a fragment: a block fenced as
# ```python title="Fragment: why it does not run" (needs a trained model,
# several devices, a server, a download...), the title shown on the site.
FRAGMENT = re.compile(r'^python title="Fragment: [^"]+"$')
# Pages whose examples need an optional package (an extra of pyproject.toml).
PAGE_PACKAGES = {"keras_hub.md": ("keras_hub",)}


def public_names(module_name):
    """Names a user reaches in the namespace: not private, not a module, and
    defined in this package (not `keras` imported for internal use)."""
    module = importlib.import_module(module_name)
    names = []
    for name, value in vars(module).items():
        if (name.startswith("_") and name != "__version__") or name in NOT_PUBLIC:
            continue
        # `from __future__ import annotations` leaves the name in the module.
        if isinstance(value, types.ModuleType) or value is __future__.annotations:
            continue
        owner = getattr(value, "__module__", None)
        if callable(value) and owner and not owner.startswith("keras_evidential"):
            continue
        names.append(name)
    return names


def documented(page_text, module_name, name):
    """A `::: path.name` directive, or a heading naming `module.name`
    (the generated `get`/`serialize`/`deserialize` have no source to render)."""
    directive = re.search(rf"^::: [\w.]+\.{re.escape(name)}$", page_text, re.MULTILINE)
    heading = re.search(
        rf"^#+ .*`{re.escape(module_name)}\.{re.escape(name)}`", page_text, re.MULTILINE
    )
    return bool(directive or heading)


@pytest.mark.parametrize("module_name", sorted(PAGES))
def test_every_public_name_is_in_the_api_reference(module_name):
    text = (API / PAGES[module_name]).read_text(encoding="utf-8")
    missing = [n for n in public_names(module_name) if not documented(text, module_name, n)]
    assert not missing, (
        f"{missing} of {module_name} are not in docs/api/{PAGES[module_name]}: add "
        f"a `::: {module_name}.NAME` line (or list the name in NOT_PUBLIC, with why)"
    )


def test_public_names_leave_out_imports_and_helpers():
    names = public_names("keras_evidential.layers")
    assert "DirichletOutput" in names and "ALL_OBJECTS" in names
    assert "keras" not in names and "namespace_functions" not in names


def test_documented_needs_the_whole_name():
    page = "::: keras_evidential.losses.IEDLLoss\n## `keras_evidential.losses.get`\n"
    assert not documented(page, "keras_evidential.losses", "EDLLoss")
    assert documented(page, "keras_evidential.losses", "IEDLLoss")
    assert documented(page, "keras_evidential.losses", "get")


def nav_pages():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    # Active entries only: `- Title: page.md` lines that are not commented out.
    return re.findall(r"^\s*- [^#\n]*?:\s*([\w./-]+\.md)\s*$", text, re.MULTILINE)


def test_navigation_pages_exist():
    pages = nav_pages()
    assert "index.md" in pages and "api/layers.md" in pages
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert not missing, f"mkdocs.yml lists pages that are not in docs/: {missing}"


def test_every_api_page_is_in_the_navigation():
    pages = set(nav_pages())
    assert {f"api/{page}" for page in PAGES.values()} <= pages


def python_blocks(page):
    """The page's ```python blocks: (info string after the fence, code)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"^```(python[^\n]*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def runnable_blocks(page):
    return [code for info, code in python_blocks(page) if info == "python"]


def guide_pages():
    return sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))


RUNNABLE_PAGES = [page for page in guide_pages() if runnable_blocks(page)]


def test_every_python_block_runs_or_is_a_marked_fragment():
    unmarked = [
        f"{page}: ```{info}"
        for page in guide_pages()
        for info, _ in python_blocks(page)
        if info != "python" and not FRAGMENT.match(info)
    ]
    assert not unmarked, f"neither runnable nor a marked fragment: {unmarked}"
    assert {"getting-started.md", "core.md", "dense.md"} <= set(RUNNABLE_PAGES)


def test_fragments_are_left_out_of_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "DOCS", tmp_path)
    (tmp_path / "page.md").write_text(
        '```python\nx = 1\n```\n\n```python title="Fragment: needs y"\nprint(y)\n```\n',
        encoding="utf-8",
    )
    assert runnable_blocks("page.md") == ["x = 1\n"]
    assert [info for info, _ in python_blocks("page.md")][1] == 'python title="Fragment: needs y"'


@pytest.mark.large  # each trains a small model for a few seconds
@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_guide_examples_run(page, tmp_path, monkeypatch, capsys):
    for package in PAGE_PACKAGES.get(page, ()):
        pytest.importorskip(package)
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    namespace = {"__name__": f"docs_{page}"}
    for block in runnable_blocks(page):
        exec(compile(block, f"docs/{page}", "exec"), namespace)
    assert capsys.readouterr().out  # each page's example prints its result
