"""Pass: correct the known errors of PS3.3 tables, each reported as an ``ERRATUM`` issue.

Every correction names the edition, table and body rows it applies to and what those rows
read as there, so it does nothing on another edition or once the text is fixed.
``tests/generator/test_part03_errata.py`` fails when the edition in ``../shared`` no longer has
the error, so that the entry can be removed.  Run it after reading and before linking.

References
----------
DESIGN.md (errata register); PS3.3 §5.2 (nesting by ">"), §5.4 (Include).
"""

from __future__ import annotations

import enum

import attrs

from dicompile.generator.iod_model import (
    AttributeRule,
    Entry,
    IssueKind,
    MacroDef,
    MacroInclude,
    ModuleDef,
    Part03Issue,
    Part03Model,
)


class Correction(enum.Enum):
    """What an erratum does to its rows."""

    NEST = "nest in the sequence above"  # the rows lost the ">" of their nesting
    DROP = "drop"  # the row should not be there


@attrs.frozen
class Part03Erratum:
    """Rows of one table of one edition that are wrong, and how to correct them.

    ``reads_as`` is what the rows hold in the erroneous text: the tag of each row for
    :attr:`Correction.NEST`, the included table for :attr:`Correction.DROP`.
    """

    edition: str
    table_id: str
    rows: tuple[int, ...]
    correction: Correction
    reads_as: tuple[str, ...]
    why: str


ERRATA: tuple[Part03Erratum, ...] = (
    # ERRATUM: PS3.3 2016c Table C.12-1 (SOP Common) rows 19-22 and 24-26 lack the ">" that
    # puts them in the Item of Context Group Identification Sequence (0008,0123) and Mapping
    # Resource Identification Sequence (0008,0124); as written Mapping Resource (0008,0105) is
    # a top-level attribute twice.  Later editions nest them.
    Part03Erratum(
        "2016c",
        "table_C.12-1",
        (19, 20, 21, 22),
        Correction.NEST,
        ("0008010F", "00080117", "00080105", "00080106"),
        "the attributes of Context Group Identification Sequence (0008,0123) lack '>'",
    ),
    Part03Erratum(
        "2016c",
        "table_C.12-1",
        (24, 25, 26),
        Correction.NEST,
        ("00080105", "00080118", "00080122"),
        "the attributes of Mapping Resource Identification Sequence (0008,0124) lack '>'",
    ),
    # ERRATUM: PS3.3 2016c Table 10-18 (Issuer of Patient ID Macro) row 8 includes Table 10-18
    # in its own Assigning Facility Sequence (0040,0036), after row 7 included Table 10-17
    # (HL7v2 Hierarchic Designator Macro) there; later editions have only Table 10-17.
    Part03Erratum(
        "2016c",
        "table_10-18",
        (8,),
        Correction.DROP,
        ("table_10-18",),
        "the macro includes itself in Assigning Facility Sequence (0040,0036)",
    ),
)


def apply_part03_errata(
    model: Part03Model, errata: tuple[Part03Erratum, ...] = ERRATA
) -> Part03Model:
    """Return ``model`` with the errata that apply corrected, each reported as an issue.

    References
    ----------
    DESIGN.md (errata register); PS3.3 §5.2, §5.4.
    """
    issues: list[Part03Issue] = []

    def fix(table: ModuleDef | MacroDef) -> ModuleDef | MacroDef:
        for erratum in errata:
            if (
                table.key == erratum.table_id
                and table.provenance.edition == erratum.edition
                and reads_as(table.entries, erratum)
            ):
                table = attrs.evolve(table, entries=_correct(table.entries, erratum))
                issues.append(
                    Part03Issue(
                        IssueKind.ERRATUM,
                        f"{erratum.correction.value}: rows {list(erratum.rows)} ({erratum.why})",
                        attrs.evolve(table.provenance, row=erratum.rows[0]),
                    )
                )
        return table

    modules = tuple(fix(m) for m in model.modules)
    macros = tuple(fix(m) for m in model.macros)
    return attrs.evolve(
        model,
        modules=tuple(m for m in modules if isinstance(m, ModuleDef)),
        macros=tuple(m for m in macros if isinstance(m, MacroDef)),
        issues=(*model.issues, *issues),
    )


def reads_as(entries: tuple[Entry, ...], erratum: Part03Erratum) -> bool:
    """Whether the table still has the error as the erratum describes it."""
    if erratum.correction is Correction.NEST:
        by_row = {e.provenance.row: e for e in entries if isinstance(e, AttributeRule)}
        rules = [by_row.get(row) for row in erratum.rows]
        return all(
            rule is not None and rule.tag is not None and rule.tag.text == expected
            for rule, expected in zip(rules, erratum.reads_as, strict=True)
        )
    found = _find_includes(entries, erratum.rows)
    return [i.target for i in found] == list(erratum.reads_as)


def _find_includes(entries: tuple[Entry, ...], rows: tuple[int, ...]) -> list[MacroInclude]:
    found: list[MacroInclude] = []
    for entry in entries:
        if isinstance(entry, MacroInclude) and entry.provenance.row in rows:
            found.append(entry)
        found.extend(_find_includes(entry.children, rows))
    return found


def _correct(entries: tuple[Entry, ...], erratum: Part03Erratum) -> tuple[Entry, ...]:
    if erratum.correction is Correction.DROP:
        return _drop(entries, erratum.rows)
    moved = [e for e in entries if e.provenance.row in erratum.rows]
    result: list[Entry] = []
    for entry in entries:
        if entry in moved:
            continue
        result.append(entry)
    first = min(erratum.rows)
    parent_index = max(
        i
        for i, e in enumerate(result)
        if isinstance(e, AttributeRule) and (e.provenance.row or 0) < first
    )
    parent = result[parent_index]
    assert isinstance(parent, AttributeRule)
    nested = tuple(_repath(e, parent.path) for e in moved)
    result[parent_index] = attrs.evolve(parent, children=parent.children + nested)
    return tuple(result)


def _drop(entries: tuple[Entry, ...], rows: tuple[int, ...]) -> tuple[Entry, ...]:
    kept: list[Entry] = []
    for entry in entries:
        if isinstance(entry, MacroInclude) and entry.provenance.row in rows:
            continue
        kept.append(attrs.evolve(entry, children=_drop(entry.children, rows)))
    return tuple(kept)


def _repath(entry: Entry, parent_path: str) -> Entry:
    if isinstance(entry, MacroInclude):
        return entry
    segment = entry.path.rpartition("/")[2]
    path = f"{parent_path}/{segment}"
    return attrs.evolve(entry, path=path, children=tuple(_repath(c, path) for c in entry.children))
