"""Python source fragments laid out as ``ruff format`` would lay them out (line length 100).

Templates call these as filters so that generated files are formatted when written: no
formatter runs afterwards, and ``ruff format --check generated`` passes (a test checks it).
Only the few shapes the templates use are covered: string literals, calls as dict values or
as statements, and annotated assignments.  Data tables (the rows of the dictionary, the UID
registry) are written one row per line between ``# fmt: off`` and ``# fmt: on``: a table reads
and diffs best a row per line, and the formatter leaves such regions alone.
"""

from __future__ import annotations

from collections.abc import Sequence

LINE_LENGTH = 100
INDENT = "    "


def py_str(text: str) -> str:
    """A string literal in ruff's preferred quotes (double, unless single need fewer escapes)."""
    text = text.replace("\\", "\\\\")
    if text.count('"') > text.count("'"):
        return "'" + text.replace("'", "\\'") + "'"
    return '"' + text.replace('"', '\\"') + '"'


def py_value(value: object) -> str:
    """A literal for a str, bool, int or None; a :class:`Code` is inserted as it is."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, str):
        return py_str(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    raise TypeError(f"no literal for {value!r}")


def py_tuple(values: Sequence[object]) -> str:
    """A tuple literal on one line: ``("a",)``, ``("a", "b")``."""
    texts = [py_value(v) for v in values]
    return f"({texts[0]},)" if len(texts) == 1 else f"({', '.join(texts)})"


class Code:
    """Source text to insert as it is (a name, a hex literal)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def call_line(function: str, args: Sequence[object]) -> str:
    """``function(arg, ...)`` on one line, for the rows of a data table under ``# fmt: off``."""
    return f"{function}({', '.join(py_value(a) for a in args)})"


def call_lines(
    prefix: str, function: str, args: Sequence[object], *, indent: str = "", suffix: str = ""
) -> list[str]:
    """``{prefix}{function}(arg, ...){suffix}`` on one line if it fits, else split as ruff does.

    Ruff first tries all arguments on one indented line between the brackets; when that does
    not fit either, it puts one argument per line with a trailing comma.
    """
    texts = [py_value(a) for a in args]
    joined = ", ".join(texts)
    line = f"{indent}{prefix}{function}({joined}){suffix}"
    if len(line) <= LINE_LENGTH:
        return [line]
    inner = indent + INDENT
    head = f"{indent}{prefix}{function}("
    tail = f"{indent}){suffix}"
    if len(inner + joined) <= LINE_LENGTH:
        return [head, inner + joined, tail]
    return [head, *(f"{inner}{t}," for t in texts), tail]


def assign_line(target: str, value: object) -> list[str]:
    """``target = value``; parenthesised on its own line when too long and that helps."""
    text = py_value(value)
    line = f"{target} = {text}"
    if len(line) <= LINE_LENGTH or len(f"{target} = (") > LINE_LENGTH:
        return [line]
    if len(INDENT + text) > LINE_LENGTH:
        return [line]  # splitting would not make it fit: ruff leaves it long
    return [f"{target} = (", INDENT + text, ")"]
