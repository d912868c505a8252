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
    walk,
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


@attrs.frozen
class PathErratum:
    """Subtrees of a flat source's table (the JSON rendition) hung under the wrong parent.

    The rendition gives each row as a path of tags, not as a table row with ">" marks, so an
    error there is a wrong path prefix.  ``moves`` lists, in the order they are to follow
    their new siblings, the path of each misplaced subtree *as the source has it* and the
    path of the attribute it belongs under.
    """

    edition: str
    table_id: str
    moves: tuple[tuple[str, str], ...]
    why: str


_RT_ROI = "30060080"  # RT ROI Observations Sequence
_PRIMARY_ANATOMY = "00082228"  # Primary Anatomic Structure Sequence

PATH_ERRATA: tuple[PathErratum, ...] = (
    # ERRATUM (rendition): PS3.3 2020 Table C.8-44 (RT ROI Observations Module) includes the
    # General Anatomy Optional Macro (Table 10-7) with ">" inside RT ROI Observations Sequence
    # (3006,0080), followed by the Item's remaining attributes.  The rendition dropped that
    # level: the macro's sequences sit at the top of the module and every later attribute of
    # the Item (RT ROI Interpreted Type (3006,00A4), ROI Interpreter (3006,00A6), …) under
    # Primary Anatomic Structure Sequence (0008,2228).  Real RT Structure Sets (and the 2013
    # Table C.8.8-8 in PS3.3, and dcmtk's and dciodvfy's tables) have them in the Item.
    PathErratum(
        "2020",
        "table_C.8-44",
        (
            ("00082218", _RT_ROI),
            (_PRIMARY_ANATOMY, _RT_ROI),
            *(
                (f"{_PRIMARY_ANATOMY}/{tag}", _RT_ROI)
                for tag in (
                    "00620003",
                    "30060086",
                    "300600A0",
                    "300600A4",
                    "300600A6",
                    "300A00E1",
                    "300600B0",
                )
            ),
        ),
        "the General Anatomy Optional Macro and the rest of the Item lost their '>'",
    ),
    # ERRATUM (rendition): PS3.3 2020 Table C.8.31.7-1 (X-Ray Grid Macro) includes the X-Ray
    # Grid Description Macro (Table C.8-36b) with ">" in the Item of X-Ray Grid Sequence
    # (0018,9555), after Grid (0018,1166); the rendition puts its attributes at the top.
    PathErratum(
        "2020",
        "table_C.8.31.7-1",
        tuple(
            (tag, "00189555")
            for tag in (
                "00187040",
                "00187041",
                "00187042",
                "00187044",
                "00187046",
                "00187048",
                "0018704C",
                "00181006",
            )
        ),
        "the included X-Ray Grid Description Macro lost its '>'",
    ),
)


def apply_path_errata(
    model: Part03Model, errata: tuple[PathErratum, ...] = PATH_ERRATA
) -> Part03Model:
    """Return ``model`` with the path errata that apply corrected, each reported as an issue.

    A table of the erratum's edition whose rows no longer read as described (the source was
    fixed) is left alone.

    References
    ----------
    DESIGN.md (errata register); PS3.3 §5.2 (nesting of Sequence Items).
    """
    issues: list[Part03Issue] = []

    def fix(table: ModuleDef | MacroDef) -> ModuleDef | MacroDef:
        for erratum in errata:
            if (
                table.key == erratum.table_id
                and table.provenance.edition == erratum.edition
                and path_reads_as(table.entries, erratum)
            ):
                entries = _move(table.entries, erratum)
                # A flat source's expanded rules are its entries (nothing to include).
                flat = table.expanded is not None and table.expanded == table.entries
                expanded = tuple(e for e in entries if isinstance(e, AttributeRule))
                table = attrs.evolve(
                    table, entries=entries, expanded=expanded if flat else table.expanded
                )
                issues.append(
                    Part03Issue(
                        IssueKind.ERRATUM,
                        f"move {len(erratum.moves)} subtrees ({erratum.why})",
                        table.provenance,
                    )
                )
        return table

    fixed = model.map_tables(fix)  # fix() collects the issues as it goes
    return attrs.evolve(fixed, issues=(*fixed.issues, *issues))


def path_reads_as(entries: tuple[Entry, ...], erratum: PathErratum) -> bool:
    """Whether every misplaced subtree is still where the erratum says the source has it."""
    paths = {e.path for e in walk(entries) if isinstance(e, AttributeRule)}
    return all(old in paths for old, _ in erratum.moves)


def _move(entries: tuple[Entry, ...], erratum: PathErratum) -> tuple[Entry, ...]:
    targets = {old for old, _ in erratum.moves}
    detached: dict[str, Entry] = {}

    def detach(level: tuple[Entry, ...]) -> tuple[Entry, ...]:
        kept: list[Entry] = []
        for entry in level:
            entry = attrs.evolve(entry, children=detach(entry.children))
            if isinstance(entry, AttributeRule) and entry.path in targets:
                detached[entry.path] = entry
            else:
                kept.append(entry)
        return tuple(kept)

    def attach(level: tuple[Entry, ...], parent: str, subtree: Entry) -> tuple[Entry, ...]:
        result: list[Entry] = []
        for entry in level:
            if isinstance(entry, AttributeRule) and entry.path == parent:
                entry = attrs.evolve(entry, children=(*entry.children, _repath(subtree, parent)))
            elif entry.children:
                entry = attrs.evolve(entry, children=attach(entry.children, parent, subtree))
            result.append(entry)
        return tuple(result)

    moved = detach(entries)
    for old, parent in erratum.moves:
        moved = attach(moved, parent, detached[old])
    return moved


def apply_part03_errata(
    model: Part03Model,
    errata: tuple[Part03Erratum, ...] = ERRATA,
    path_errata: tuple[PathErratum, ...] = PATH_ERRATA,
) -> Part03Model:
    """Return ``model`` with the errata that apply corrected, each reported as an issue.

    Row errata (:data:`ERRATA`, DocBook tables) first, then path errata (:data:`PATH_ERRATA`,
    flat sources).

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

    fixed = model.map_tables(fix)  # fix() collects the issues as it goes
    return apply_path_errata(attrs.evolve(fixed, issues=(*fixed.issues, *issues)), path_errata)


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
