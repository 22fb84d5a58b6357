"""`python -m keras_evidential` / `keras-evidential`: only `export` and `--version`.

In-process through `main(argv)`: a fresh interpreter is not the point here
(the console script's entry point is this same function).
"""

import pytest

from keras_evidential import __main__ as command
from keras_evidential.version import __version__


def test_help_lists_the_export_command(capsys):
    assert command.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: keras-evidential export")
    assert "export a trained model as a SavedModel" in out


def test_no_arguments_prints_usage_and_fails(capsys):
    assert command.main([]) == 2
    assert "usage: keras-evidential" in capsys.readouterr().out


def test_version(capsys):
    assert command.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"keras-evidential {__version__}"


@pytest.mark.parametrize("name", ["nope", "quickstart"])
def test_unknown_command(capsys, name):
    assert command.main([name]) == 2
    assert f"unknown command {name!r}" in capsys.readouterr().err


def test_export_hands_its_arguments_to_the_export_cli(capsys):
    with pytest.raises(SystemExit) as exit:
        command.main(["export", "--help"])
    assert exit.value.code == 0
    assert "usage: keras-evidential export" in capsys.readouterr().out


def test_console_script_points_here():
    from importlib import metadata

    try:
        entry_points = metadata.entry_points(group="console_scripts")
    except TypeError:  # Python < 3.10
        pytest.skip("entry_points(group=...) needs Python 3.10")
    scripts = {ep.name: ep.value for ep in entry_points if ep.name == "keras-evidential"}
    if not scripts:
        pytest.skip("the package is not installed (only on PYTHONPATH)")
    assert scripts["keras-evidential"] == "keras_evidential.__main__:main"
