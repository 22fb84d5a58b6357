"""Griffe extension for the API reference: Keras-style doctest examples.

The package's docstrings follow Keras's own: an `Example:` title, then
`>>>` lines at the docstring's indentation. Griffe's Google parser reads
them as prose, so their printed outputs (`[0.0, 0.1]`) would become Markdown
links. This fences every run of doctest lines (up to the next blank line) as
a code block, and joins an argument list documented together that wraps
onto a second line, when the docstring is loaded; the source is unchanged.
"""

import re

import griffe

# An argument list documented together and wrapped: "a, b,\n    c: As for f".
WRAPPED_NAMES = re.compile(r"^(\s+)(\w+(?:, \w+)*,)\n\1(?=\w+(?:, \w+)*:)", re.MULTILINE)


def fence_doctests(text):
    """Wraps each run of lines that starts with `>>>` in a ```pycon fence."""
    lines, fenced, inside = text.split("\n"), [], False
    for line in lines:
        if not inside and line.lstrip().startswith(">>>"):
            fenced.append(line[: len(line) - len(line.lstrip())] + "```pycon")
            inside = True
        elif inside and not line.strip():
            fenced.append("```")
            inside = False
        fenced.append(line)
    if inside:
        fenced.append("```")
    return "\n".join(fenced)


class KerasDoctestExamples(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            text = WRAPPED_NAMES.sub(r"\1\2 ", obj.docstring.value)
            obj.docstring.value = fence_doctests(text)
