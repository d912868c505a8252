"""Names and literals of the generated service modules (``generated/services/``).

How PS3.4 titles become module, constant and class names (``Query/Retrieve Service Class`` ->
``query_retrieve``, ``Change UPS State`` -> ``ChangeUPSState``), and the literal forms of tags
and texts in the data rows.  Every name is checked for clashes by the callers.

References
----------
PS3.4 (annex titles, SOP class names); PS3.6 (keywords).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from dicompile.generator.emit.pyfmt import py_str
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    TagPattern,
    UIDDef,
)

SERVICE_SUFFIX = re.compile(
    r"\s+(Service and SOP Classes|Service Classes|Service Class|SOP Classes|Service)$"
)
_SOP_SUFFIX = re.compile(r"\s+(SOP Classes|SOP Class|Information Model|Meta SOP Class)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class EmitError(ValueError):
    """The model cannot be rendered as valid Python (clashing names: a reader bug)."""


def module_name(service_class: str) -> str:
    """``Query/Retrieve Service Class`` -> ``query_retrieve``."""
    stem = SERVICE_SUFFIX.sub("", service_class)
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")


def constant_name(text: str) -> str:
    """``Study Root ... - FIND`` -> ``STUDY_ROOT_..._FIND``; a leading digit gets ``UID_``."""
    name = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")
    return f"UID_{name}" if name[:1].isdigit() else name


def keyword_constant(keyword: str) -> str:
    """``CTImageStorage`` -> ``CT_IMAGE_STORAGE``."""
    return constant_name(_CAMEL.sub("_", keyword))


def pascal(text: str) -> str:
    """``Change UPS State`` -> ``ChangeUPSState``; ``12-lead`` -> ``N12Lead``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    name = "".join(w[0].upper() + w[1:] for w in words)
    return f"N{name}" if name[:1].isdigit() else name


def scope_stem(scope: str) -> str:
    """``Basic Film Session SOP Class`` -> ``Basic Film Session``."""
    return _SOP_SUFFIX.sub("", scope.strip())


def cite(provenance: Provenance) -> str:
    """``PS3.4 2013 table_C.4-1``: the ``source`` text of a data row."""
    return f"{provenance.part} {provenance.edition} {provenance.table_id}"


def py_text(text: str) -> str:
    """A string literal of ``text`` with its whitespace runs made single spaces."""
    return py_str(" ".join(text.split()))


def tag_literal(tag: TagPattern | None) -> str:
    """``0x00100010`` or ``None``; a repeating-group tag is an :class:`EmitError`."""
    if tag is None:
        return "None"
    if tag.is_repeating:
        raise EmitError(f"repeating-group tag {tag.text} in a service table")
    return f"0x{tag.text}"


@attrs.frozen
class Names:
    """Keywords by tag text and by UID, from the merged PS3.6 model (may be empty)."""

    elements: Mapping[str, str]
    uids: Mapping[str, str]

    @classmethod
    def of(cls, elements: Iterable[DataElementDef], uids: Iterable[UIDDef]) -> Names:
        return cls({e.tag.text: e.keyword for e in elements}, {u.uid: u.keyword for u in uids})

    def keyword(self, tag: TagPattern | None) -> str:
        return "" if tag is None else self.elements.get(tag.text, "")
