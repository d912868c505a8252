"""PS3.3 as the emitters see it: the merged, linked, named model with every condition parsed.

Theory of operation
-------------------
* :func:`build_iods` runs ``part03_build.build_part03`` on the ``--standard`` folders (DocBook
  ``part03.xml`` excerpts and the JSON rendition: read, errata, link, merge, name) and then
  parses every condition prose the model holds (Type 1C/2C rules, the conditions of includes,
  conditional module usages, functional group usages) with ``generator/conditions``.
* The result, :class:`IODModel`, is what the pipeline's ``Build.iods`` holds; the emitters of
  ``generated/modules``, ``generated/iods`` and ``generated/requirements`` all render from it.
* Every :class:`~dicompile.generator.iod_model.AttributeRule` (in ``entries`` and in
  ``expanded``, at every depth), every include, module use and functional group use gets its
  ``parsed_condition`` filled (``None`` without condition text); :meth:`IODModel.condition`
  looks any condition text of the model up.  Parsing depends only on the text and the
  dictionary, so each distinct text is parsed once.

References
----------
PS3.3 §5.4 (usage "C", Include), PS3.5 §7.4 (Types 1C/2C); DESIGN.md ("Conditions").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from dicompile.generator.conditions import NameEntry, NameIndex, ParsedCondition, parse_condition
from dicompile.generator.iod_model import (
    PART,
    AttributeRule,
    AttributeTable,
    Entry,
    MacroDef,
    MacroInclude,
    ModuleDef,
    Part03Model,
    Usage,
    walk,
)
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    UIDDef,
    edition_sort_key,
    uid_sort_key,
)
from dicompile.generator.part03_build import DOCBOOK_FILE, build_part03, read_part03_folder
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.passes.part03_errata import apply_part03_errata
from dicompile.generator.service_merge import SOPS_FILE, read_storage_sops


@attrs.frozen
class SOPClassIOD:
    """A Storage SOP Class and the IOD it instantiates (PS3.4 B.5, Table B.5-1)."""

    uid: str
    name: str  # "CT Image Storage"
    iod: str  # key of the IOD: "table_A.3-1"
    provenance: Provenance


@attrs.frozen
class IODModel:
    """The PS3.3 standard set with parsed conditions (``Build.iods`` in the pipeline).

    Attributes
    ----------
    model
        The merged PS3.3 model; every attribute rule carries its ``parsed_condition``.
    sources
        The files it was read from, with their sha256 and the tables each gave (for headers).
    names
        The name index the conditions were parsed against (PS3.6 names of the dictionary).
    conditions
        Every distinct condition text of the model → its parse (rules, includes, usages).
    sop_classes
        The Storage SOP Classes of each IOD, sorted by UID: from the JSON rendition's
        ``sops.json`` when a folder has it (its IOD column), else by the UID registry's names
        ("<IOD name> Storage").
    """

    model: Part03Model
    sources: tuple[SourceDigest, ...] = attrs.field(eq=False, repr=False)
    names: NameIndex = attrs.field(eq=False, repr=False)
    conditions: Mapping[str, ParsedCondition] = attrs.field(eq=False, repr=False)
    sop_classes: tuple[SOPClassIOD, ...] = attrs.field(default=(), eq=False, repr=False)

    def condition(self, text: str) -> ParsedCondition | None:
        """The parse of a condition text of the model; ``None`` for ``""``.

        Raises :class:`KeyError` for a text the model does not hold.
        """
        return self.conditions[text] if text else None


def name_index(elements: Iterable[DataElementDef]) -> NameIndex:
    """The condition parser's index of the data dictionary (repeating groups at their base).

    References
    ----------
    PS3.6 §6, Table 6-1.
    """
    return NameIndex(
        NameEntry(name=e.name, tag=e.tag.base, vr=e.vr or None, retired=e.retired)
        for e in elements
        if e.name
    )


def _entry_texts(entries: Iterable[Entry]) -> Iterator[str]:
    for entry in entries:
        if isinstance(entry, AttributeRule):
            yield entry.condition
            yield from entry.include_conditions
        else:
            yield entry.condition
        yield from _entry_texts(entry.children)


def condition_texts(model: Part03Model) -> list[str]:
    """Every distinct non-empty condition text of ``model``, sorted."""
    texts: set[str] = set()
    tables: tuple[AttributeTable, ...] = (*model.modules, *model.macros)
    for table in tables:
        texts.update(_entry_texts(table.entries))
        texts.update(_entry_texts(table.expanded or ()))
    for iod in model.iods:
        texts.update(use.condition for use in iod.modules)
        texts.update(use.condition for use in iod.functional_groups)
    texts.discard("")
    return sorted(texts)


def _with_parsed(entry: Entry, parsed: Mapping[str, ParsedCondition]) -> Entry:
    children = tuple(_with_parsed(c, parsed) for c in entry.children)
    if isinstance(entry, MacroInclude):
        return attrs.evolve(
            entry,
            children=children,
            parsed_condition=parsed[entry.condition] if entry.condition else None,
        )
    return attrs.evolve(
        entry,
        children=children,
        parsed_condition=parsed[entry.condition] if entry.condition else None,
    )


def _rule_with_parsed(rule: AttributeRule, parsed: Mapping[str, ParsedCondition]) -> AttributeRule:
    done = _with_parsed(rule, parsed)
    assert isinstance(done, AttributeRule)
    return done


def _table(
    table: ModuleDef | MacroDef, parsed: Mapping[str, ParsedCondition]
) -> ModuleDef | MacroDef:
    entries = tuple(_with_parsed(e, parsed) for e in table.entries)
    expanded = (
        tuple(_rule_with_parsed(r, parsed) for r in table.expanded)
        if table.expanded is not None
        else None
    )
    return attrs.evolve(table, entries=entries, expanded=expanded)


def _provenances(model: Part03Model) -> Iterator[Provenance]:
    for iod in model.iods:
        yield iod.provenance
        yield from (use.provenance for use in iod.modules)
        yield from (use.provenance for use in iod.functional_groups)
    tables: tuple[AttributeTable, ...] = (*model.modules, *model.macros)
    for table in tables:
        yield table.provenance
        yield from (e.provenance for e in walk(table.expanded or table.entries))


def source_digests(model: Part03Model, folders: Sequence[Path]) -> tuple[SourceDigest, ...]:
    """The files of ``model.source_files`` (``"innolitics-2020/modules.json"``) with sha256.

    A source file is found in the ``--standard`` folder named like its first component.
    """
    tables: dict[str, set[str]] = {}
    editions: dict[str, str] = {}
    for provenance in _provenances(model):
        tables.setdefault(provenance.source_file, set()).add(provenance.table_id)
        editions.setdefault(provenance.source_file, provenance.edition)
    by_name = {folder.name: folder for folder in folders}
    digests = []
    for source in model.source_files:
        folder_name, _, file_name = source.partition("/")
        folder = by_name.get(folder_name)
        if folder is None or not (folder / file_name).is_file():
            continue
        sha256 = hashlib.sha256((folder / file_name).read_bytes()).hexdigest()
        digests.append(
            SourceDigest(
                part=PART,
                edition=editions.get(source, model.edition),
                source_file=source,
                sha256=sha256,
                table_ids=tuple(sorted(tables.get(source, ()))),
            )
        )
    return tuple(digests)


def _include_paths(rules: Iterable[Entry]) -> dict[str, list[tuple[str, ...]]]:
    """The include conditions of each rule path, in document order (one entry per row)."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for entry in walk(tuple(rules)):
        if isinstance(entry, AttributeRule):
            found.setdefault(entry.path, []).append(entry.include_conditions)
    return found


def _occurrences(rules: Iterable[Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in walk(tuple(rules)):
        if isinstance(entry, AttributeRule):
            counts[entry.path] = counts.get(entry.path, 0) + 1
    return counts


class _Donor:
    """Hands out the older table's include conditions path by path, row by row."""

    def __init__(self, donor: Iterable[Entry], receiver: Iterable[Entry]) -> None:
        self.paths = _include_paths(donor)
        self.counts = _occurrences(receiver)
        self.seen: dict[str, int] = {}

    def rule(self, rule: AttributeRule) -> AttributeRule:
        index = self.seen.get(rule.path, 0)
        self.seen[rule.path] = index + 1
        children = tuple(self.rule(c) if isinstance(c, AttributeRule) else c for c in rule.children)
        found = self.paths.get(rule.path, [])
        include = rule.include_conditions
        if not include and found:
            if len(set(found)) == 1:
                include = found[0]  # every row of this path came through the same includes
            elif len(found) == self.counts.get(rule.path, 0):
                include = found[index]  # one row per include, in the same order in both
        return attrs.evolve(rule, children=children, include_conditions=include)


def rescue_include_conditions(model: Part03Model, older: Sequence[Part03Model]) -> Part03Model:
    """Give back the include conditions a flattened source lost, from a DocBook source.

    The JSON rendition inlines every "Include Table …" without its condition ("if and only if
    Value Type (0040,A040) is NUM", PS3.3 Table C.17-4): read as is, every Content Item would
    need the attributes of every value type.  Where an older DocBook source has the same
    table, each rule of the newer table takes the include conditions of the rule at the same
    path in the older one: the one set of conditions of that path, or, for a path reached
    through several includes (Referenced SOP Sequence of the COMPOSITE, IMAGE and WAVEFORM
    macros), the set of the row of the same rank when both tables have as many rows there.

    References
    ----------
    PS3.3 §5.4 (Include with a condition), Table C.17-4 (SR Document Content Module).
    """
    tables: dict[str, AttributeTable] = {}
    for source in older:
        candidates: tuple[AttributeTable, ...] = (*source.modules, *source.macros)
        for table in candidates:
            if table.expanded and any(
                isinstance(e, AttributeRule) and e.include_conditions
                for e in walk(tuple(table.expanded))
            ):
                tables.setdefault(table.key, table)

    def fix(table: ModuleDef | MacroDef) -> ModuleDef | MacroDef:
        donor = tables.get(table.key)
        if donor is None or table.expanded is None or donor is table:
            return table
        if any(isinstance(e, AttributeRule) and e.include_conditions for e in walk(table.expanded)):
            return table  # the newer source kept its own include conditions
        giver = _Donor(donor.expanded or (), table.expanded)
        return attrs.evolve(table, expanded=tuple(giver.rule(r) for r in table.expanded))

    return model.map_tables(fix)


def rescue_functional_group_remarks(
    model: Part03Model, older: Sequence[Part03Model]
) -> Part03Model:
    """Give back the usage remarks of functional group rows that a newer source lost.

    The JSON rendition keeps no text after "M" in the functional group tables, so "M - May
    not be used as a Shared Functional Group" (Frame Content of PS3.3 Table A.38-2) reads as a
    plain "M".  A row of the same IOD and macro in an older DocBook source that has a remark
    gives it back when the newer row has none.

    References
    ----------
    PS3.3 §C.7.6.16 (Shared and Per-frame Functional Groups), Tables A.38-2 and A.47-2.
    """
    remarks: dict[tuple[str, str], str] = {}
    for source in older:
        for iod in source.iods:
            for use in iod.functional_groups:
                if use.condition:
                    remarks.setdefault((iod.key, use.macro), use.condition)
    iods = tuple(
        attrs.evolve(
            iod,
            functional_groups=tuple(
                attrs.evolve(use, condition=remarks.get((iod.key, use.macro), ""))
                if not use.condition and use.usage is Usage.MANDATORY
                else use
                for use in iod.functional_groups
            ),
        )
        for iod in model.iods
    )
    return attrs.evolve(model, iods=iods)


def include_condition_text(text: str) -> str:
    """An include's condition as a sentence the parser reads: ``"if and only if X"`` →
    ``"Required if X"`` (the macro's attributes apply only where X holds, PS3.3 §5.4)."""
    stripped = text.strip()
    lowered = stripped.lower()
    for opener in ("if and only if ", "if "):
        if lowered.startswith(opener):
            return "Required if " + stripped[len(opener) :]
    return stripped


def parse_conditions(
    model: Part03Model, names: NameIndex, sources: tuple[SourceDigest, ...] = ()
) -> IODModel:
    """Parse every condition of ``model`` and fill the rules' ``parsed_condition``.

    References
    ----------
    PS3.3 §5.4; PS3.5 §7.4.
    """
    parsed = {
        text: parse_condition(include_condition_text(text), names=names)
        for text in condition_texts(model)
    }
    modules = tuple(_table(m, parsed) for m in model.modules)
    macros = tuple(_table(m, parsed) for m in model.macros)
    iods = tuple(
        attrs.evolve(
            iod,
            modules=tuple(
                attrs.evolve(u, parsed_condition=parsed.get(u.condition)) for u in iod.modules
            ),
            functional_groups=tuple(
                attrs.evolve(u, parsed_condition=parsed.get(u.condition))
                for u in iod.functional_groups
            ),
        )
        for iod in model.iods
    )
    linked = attrs.evolve(
        model,
        iods=iods,
        modules=tuple(m for m in modules if isinstance(m, ModuleDef)),
        macros=tuple(m for m in macros if isinstance(m, MacroDef)),
    )
    return IODModel(model=linked, sources=sources, names=names, conditions=parsed)


def storage_sop_classes(
    model: Part03Model, folders: Sequence[Path], uids: Iterable[UIDDef] = ()
) -> tuple[tuple[SOPClassIOD, ...], tuple[SourceDigest, ...]]:
    """The Storage SOP Classes of the IODs of ``model``, and the files that said so.

    The rendition's ``sops.json`` names each class's IOD (PS3.4 Table B.5-1, "IOD
    Specification"); the newest such file wins.  Without it, a SOP Class of the UID registry
    named "<IOD name> Storage" is taken for the IOD of that name.

    References
    ----------
    PS3.4 B.5 (Standard SOP Classes); PS3.6 Annex A (UID registry).
    """
    by_name: dict[str, str] = {}
    for iod in model.iods:
        by_name.setdefault(iod.name.casefold(), iod.key)
    found: dict[str, SOPClassIOD] = {}
    digests: list[SourceDigest] = []
    files = [f / SOPS_FILE for f in folders if (f / SOPS_FILE).is_file()]
    if files:
        read = [read_storage_sops(path, "Storage Service Class") for path in files]
        newest = max(read, key=lambda r: edition_sort_key(r.source.edition))
        digests.append(newest.source)
        for sop in newest.sop_classes:
            key = by_name.get(sop.iod.casefold())
            if key is not None:
                found[sop.uid] = SOPClassIOD(sop.uid, sop.name, key, sop.provenance)
    for uid in uids:
        name = uid.name.removesuffix(" (Retired)")
        if uid.uid in found or not name.endswith(" Storage"):
            continue
        key = by_name.get(name.removesuffix(" Storage").casefold())
        if key is not None:
            found[uid.uid] = SOPClassIOD(uid.uid, uid.name, key, uid.provenance)
    ordered = sorted(found.values(), key=lambda s: uid_sort_key(s.uid))
    return tuple(ordered), tuple(digests)


def build_iods(
    folders: Sequence[Path], elements: Sequence[DataElementDef], uids: Iterable[UIDDef] = ()
) -> IODModel | None:
    """The PS3.3 of the ``--standard`` folders with parsed conditions; ``None`` without PS3.3.

    Parameters
    ----------
    folders
        ``--standard`` folders; those holding ``part03.xml`` or the JSON rendition's PS3.3
        files contribute, the others are ignored.
    elements
        The merged data dictionary (``StandardModel.data_elements``): rules are named after it
        and conditions resolved against its names.
    uids
        The UID registry (``StandardModel.uids``), for SOP Classes no ``sops.json`` maps.

    References
    ----------
    PS3.3 Annex A, Annex C, Chapter 10; PS3.6 §6.
    """
    model = build_part03(folders, elements)
    if model is None:
        return None
    older = [
        link_part03(apply_part03_errata(found))
        for folder in folders
        if (folder / DOCBOOK_FILE).is_file()
        for found in (read_part03_folder(folder),)
        if found is not None
    ]
    model = rescue_functional_group_remarks(rescue_include_conditions(model, older), older)
    built = parse_conditions(model, name_index(elements), source_digests(model, folders))
    sop_classes, digests = storage_sop_classes(built.model, folders, uids)
    return attrs.evolve(built, sop_classes=sop_classes, sources=(*built.sources, *digests))
