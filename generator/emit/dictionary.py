"""Emitter of the data dictionary (``generated/dictionary/``) and tags (``generated/tags/``).

Layout: one module per group (``group_0010.py``), a group of more than
:data:`MAX_ENTRIES_PER_MODULE` entries split by element ranges (``group_0018_0000.py``,
``group_0018_9000.py``), and the repeating-group entries in ``repeating.py``; ``__init__``
maps each group to its modules and loads them on first use.  ``tags/`` mirrors the same
modules with ``Keyword: Final = 0xGGGGEEEE`` constants.
"""

from __future__ import annotations

import itertools
import keyword as python_keyword
from collections.abc import Sequence

import attrs

from dicompile.generator.emit import pyfmt
from dicompile.generator.emit.render import (
    GeneratedFile,
    citation_constants,
    header,
    render,
    sources_used,
)
from dicompile.generator.model import DataElementDef, Provenance, StandardModel

DICTIONARY_DIR = "dictionary"
TAGS_DIR = "tags"
MAX_ENTRIES_PER_MODULE = 400
REPEATING_MODULE = "repeating"
# Names a tags module defines or imports itself: a keyword must not shadow them.
_TAGS_RESERVED = frozenset({"Final", "annotations"})


@attrs.frozen
class Chunk:
    """The entries of one generated module."""

    module: str
    group: int | None  # None for the repeating-group module
    elements: tuple[DataElementDef, ...]


def citation(provenance: Provenance) -> str:
    """The ``source`` of an entry: ``PS3.6 2013 table_6-1``, ``PS3.6 2020 attributes.json``."""
    return f"{provenance.part} {provenance.edition} {provenance.table_id}"


def chunks(elements: Sequence[DataElementDef]) -> list[Chunk]:
    """Split the registry into modules: by group, large groups by ranges of 0x1000 elements."""
    fixed = sorted((e for e in elements if not e.tag.is_repeating), key=lambda e: e.tag.base)
    result: list[Chunk] = []
    for group, items in itertools.groupby(fixed, key=lambda e: e.tag.group):
        members = tuple(items)
        if len(members) <= MAX_ENTRIES_PER_MODULE:
            result.append(Chunk(f"group_{group:04x}", group, members))
            continue
        current: list[DataElementDef] = []
        for _, block in itertools.groupby(members, key=lambda e: e.tag.base & 0xF000):
            block_items = list(block)
            if current and len(current) + len(block_items) > MAX_ENTRIES_PER_MODULE:
                result.append(_split_chunk(group, current))
                current = []
            current.extend(block_items)
        if current:
            result.append(_split_chunk(group, current))
    repeating = tuple(
        sorted((e for e in elements if e.tag.is_repeating), key=lambda e: e.tag.sort_key)
    )
    if repeating:
        result.append(Chunk(REPEATING_MODULE, None, repeating))
    return result


def _split_chunk(group: int, members: Sequence[DataElementDef]) -> Chunk:
    start = members[0].tag.base & 0xF000
    return Chunk(f"group_{group:04x}_{start:04x}", group, tuple(members))


def _entry_lines(chunk: Chunk, names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for element in chunk.elements:
        key = element.tag.text if chunk.group is None else f"0x{element.tag.text}"
        key_text = pyfmt.py_str(key) if chunk.group is None else key
        lines.append(
            f"{pyfmt.INDENT}{key_text}: "
            + pyfmt.call_line(
                "DictEntry",
                [
                    element.tag.text,
                    element.vr,
                    element.vm,
                    element.keyword,
                    element.name,
                    element.retired,
                    pyfmt.Code(names[citation(element.provenance)]),
                ],
            )
            + ","
        )
    return lines


def _title(chunk: Chunk, what: str) -> str:
    if chunk.group is None:
        return f"{what} of the repeating groups (PS3.6 §6; PS3.5 §7.6)."
    first, last = chunk.elements[0].tag, chunk.elements[-1].tag
    if chunk.module.count("_") == 1:
        return f"{what} of group {first.text[:4]} (PS3.6)."
    return f"{what} of group {first.text[:4]}, elements {first.text[4:]}-{last.text[4:]} (PS3.6)."


def emit_dictionary(model: StandardModel) -> list[GeneratedFile]:
    """Render ``dictionary/`` (entries by group, lookups) from the model's data elements.

    References
    ----------
    PS3.6 §6-8, Tables 6-1, 7-1, 8-1.
    """
    parts = chunks(model.data_elements)
    all_sources = sources_used(model.sources, (e.provenance for e in model.data_elements))
    files = [
        render(
            "dictionary_entry.py.j2",
            f"{DICTIONARY_DIR}/entry.py",
            header=header(all_sources),
        )
    ]
    group_modules: dict[int, list[str]] = {}
    for chunk in parts:
        if chunk.group is not None:
            group_modules.setdefault(chunk.group, []).append(chunk.module)
        names = dict(citation_constants(citation(e.provenance) for e in chunk.elements))
        files.append(
            render(
                "dictionary_group.py.j2",
                f"{DICTIONARY_DIR}/{chunk.module}.py",
                header=header(sources_used(model.sources, (e.provenance for e in chunk.elements))),
                title=_title(chunk, "Data elements"),
                citations=names,
                key_type="str" if chunk.group is None else "int",
                entry_lines=_entry_lines(chunk, names),
            )
        )
    group_lines = [
        f"{pyfmt.INDENT}0x{group:04X}: {pyfmt.py_tuple(modules)},"
        for group, modules in sorted(group_modules.items())
    ]
    files.append(
        render(
            "dictionary_init.py.j2",
            f"{DICTIONARY_DIR}/__init__.py",
            header=header(all_sources),
            group_lines=group_lines,
        )
    )
    return files


def _check_constant_names(elements: Sequence[DataElementDef]) -> None:
    seen: set[str] = set()
    for element in elements:
        name = element.keyword
        if not name.isidentifier() or python_keyword.iskeyword(name) or name in _TAGS_RESERVED:
            raise ValueError(f"{element.tag.display}: keyword {name!r} cannot be a constant")
        if name in seen:
            raise ValueError(f"{element.tag.display}: keyword {name!r} is not unique")
        seen.add(name)


def emit_tags(model: StandardModel) -> list[GeneratedFile]:
    """Render ``tags/``: one ``int`` constant per keyword, in the dictionary's module layout.

    References
    ----------
    PS3.6 §6 (keywords).
    """
    _check_constant_names([e for e in model.data_elements if e.keyword])
    parts = chunks(model.data_elements)
    files: list[GeneratedFile] = []
    modules: list[str] = []
    for chunk in parts:
        named = [e for e in chunk.elements if e.keyword]
        if not named:
            continue
        modules.append(chunk.module)
        lines = [
            line
            for e in named
            for line in pyfmt.assign_line(f"{e.keyword}: Final", pyfmt.Code(f"0x{e.tag.base:08X}"))
        ]
        files.append(
            render(
                "tags_group.py.j2",
                f"{TAGS_DIR}/{chunk.module}.py",
                header=header(sources_used(model.sources, (e.provenance for e in named))),
                title=_title(chunk, "Tags"),
                constant_lines=lines,
            )
        )
    files.append(
        render(
            "tags_init.py.j2",
            f"{TAGS_DIR}/__init__.py",
            header=header(sources_used(model.sources, (e.provenance for e in model.data_elements))),
            modules=modules,
        )
    )
    return files
