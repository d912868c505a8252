"""Reader of PS3.3 (Information Object Definitions) in NEMA's DocBook.

Theory of operation
-------------------
* Every ``<table>`` of the part is read and accounted for in :attr:`Part03Model.tables`, sorted
  by its header row (tables are found by ``xml:id``; the header says what a table is):

  ====================================================  =============================
  header                                                read as
  ====================================================  =============================
  IE | Module | Reference | Usage                       IOD module table (Annex A)
  Functional Group Macro | Section | Usage              functional groups of an IOD
  Attribute Name | Tag | Type | (Attribute) Description module or macro attributes
  Attribute Name | Tag | Attribute Description         the same, normalized (untyped)
  Enumerated Value Name / Defined Term Name | …         value table
  anything else                                         recorded as OTHER
  ====================================================  =============================

  A table whose caption says "Module" is a module, any other attribute table a macro.
* Attribute rows nest by their leading ``>`` count: a row of depth *n* belongs to the Item of
  the last sequence of depth *n-1* (PS3.3 §5.2).  "Include Table …" rows become
  :class:`MacroInclude` entries at that place, with the prose after the reference kept as the
  include's condition and the description column as its note (context ids read from both).
* An IOD's Reference column and a functional group's Section column point at a *section*
  (``sect_C.8.2.1``); the module is the first attribute table inside that section.  A section
  missing from the file (the excerpt is cut) leaves the section id as the key, and the linker
  reports it.
* The 2016c excerpt defines some ids twice; ``common.load_part`` keeps the first.  A second
  ``<table>`` with an id already read is recorded with ``duplicate=True`` and reported, with
  whether its text equals the first one's.

References
----------
PS3.3 §5 (table conventions), Annex A (IODs), Annex C (modules), Chapter 10 (macros).
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
from lxml import etree

from dicompile.generator.iod_model import (
    PART,
    AttributeRule,
    AttributeType,
    Entry,
    FunctionalGroupUse,
    IncludeKind,
    IODDef,
    IssueKind,
    MacroDef,
    MacroInclude,
    ModuleDef,
    ModuleUse,
    Part03Issue,
    Part03Model,
    SectionNote,
    TableKind,
    TableRecord,
    Usage,
    ValueList,
    ValueListKind,
    ValueTableDef,
    ValueTerm,
    walk,
)
from dicompile.generator.model import Provenance, TagPattern
from dicompile.generator.sources.docbook.common import (
    XML_ID,
    Cell,
    DocBookPart,
    Row,
    body_rows,
    header_texts,
    load_part,
    q,
    text_of,
)
from dicompile.generator.sources.docbook.richtext import inline_text, linkends, render
from dicompile.generator.sources.part03_text import condition_text, context_refs, usage_of
from dicompile.runtime.errors import StandardSourceError

# Some IOD tables spell the first column out ("Information Entity").
_IOD_HEADERS = (
    ("ie", "module", "reference", "usage"),
    ("information entity", "module", "reference", "usage"),
)
_FG_HEADER = ("functional group macro", "section", "usage")
_ATTRIBUTE_HEADER = ("attribute name", "tag")
_CAPTION_SUFFIX = re.compile(
    r"\s*(?:\b(?:Module|Macro)\b)?\s*(?:\bAttributes\b)?\s*(?:\b(?:Description|Table)\b)?\s*$"
)
_IOD_SUFFIX = re.compile(r"\s*\bIOD Modules\s*$")
_FG_SUFFIX = re.compile(r"\s*\bFunctional Group Macros\s*$")
_INCLUDE = re.compile(r"^(?P<depth>>*)\s*Include\b", re.IGNORECASE)


def read_part03(path: Path) -> Part03Model:
    """Read every table of a DocBook PS3.3 into the PS3.3 model (includes left unexpanded).

    Parameters
    ----------
    path
        ``part03.xml`` of an edition (or the 2016c excerpt).

    Returns
    -------
    Part03Model
        IODs, modules, macros, value tables, refining sections, a record of every table, and
        the issues found (duplicate ids, rows not understood, 1C/2C without condition).

    Raises
    ------
    StandardSourceError
        When the file cannot be parsed, is not PS3.3, or a table is malformed beyond reading.

    References
    ----------
    PS3.3 Annex A (IOD module tables), Annex C (module tables), Chapter 10 (macros).
    """
    part = load_part(path)
    if part.part != PART:
        raise StandardSourceError(
            f"expected {PART}, found {part.part}", source_file=part.source_file
        )
    return _Reader(part).read()


@attrs.define
class _Node:
    """An entry being built: frozen once the rows nested under it are known."""

    entry: AttributeRule | MacroInclude
    children: list[_Node] = attrs.Factory(list)


@attrs.define
class _Reader:
    part: DocBookPart
    issues: list[Part03Issue] = attrs.Factory(list)
    tables: list[TableRecord] = attrs.Factory(list)
    modules: list[ModuleDef] = attrs.Factory(list)
    macros: list[MacroDef] = attrs.Factory(list)
    value_tables: list[ValueTableDef] = attrs.Factory(list)
    iods: list[IODDef] = attrs.Factory(list)
    fg_tables: list[tuple[etree._Element, tuple[FunctionalGroupUse, ...]]] = attrs.Factory(list)

    def provenance(self, table_id: str, row: int | None = None) -> Provenance:
        return Provenance(PART, self.part.edition, table_id, self.part.source_file, row)

    def issue(self, kind: IssueKind, message: str, table_id: str, row: int | None = None) -> None:
        self.issues.append(Part03Issue(kind, message, self.provenance(table_id, row)))

    # -- the whole part ---------------------------------------------------------------------

    def read(self) -> Part03Model:
        for xml_id in self.part.duplicate_ids:
            self.issue(IssueKind.DUPLICATE_ID, f"xml:id {xml_id!r} is defined twice", xml_id)
        seen: set[str] = set()
        for table in self.part.root.iter(q("table")):
            table_id = table.get(XML_ID) or f"line-{table.sourceline}"
            caption_element = table.find(q("caption"))
            caption = text_of(caption_element) if caption_element is not None else ""
            kind = self.kind_of(table, caption)
            rows = len(table.findall(f"{q('tbody')}/{q('tr')}"))
            duplicate = table_id in seen
            self.tables.append(
                TableRecord(table_id, kind, caption, rows, self.provenance(table_id), duplicate)
            )
            if duplicate:
                identical = text_of(table) == text_of(self.part.table(table_id))
                self.issue(
                    IssueKind.DUPLICATE_TABLE,
                    f"{caption!r} is defined again at line {table.sourceline}"
                    f" ({'identical' if identical else 'different'} text); the first is read",
                    table_id,
                )
                continue
            seen.add(table_id)
            self.read_table(table, table_id, kind, caption)
        self.attach_functional_groups()
        return Part03Model(
            edition=self.part.edition,
            source_files=(self.part.source_file,),
            iods=tuple(self.iods),
            modules=tuple(self.modules),
            macros=tuple(self.macros),
            value_tables=tuple(self.value_tables),
            sections=self.read_sections(),
            tables=tuple(self.tables),
            issues=tuple(self.issues),
        )

    @staticmethod
    def kind_of(table: etree._Element, caption: str) -> TableKind:
        header = tuple(h.casefold() for h in header_texts(table))
        if header in _IOD_HEADERS:
            return TableKind.IOD_MODULES
        if header == _FG_HEADER:
            return TableKind.FUNCTIONAL_GROUPS
        if header[:2] == _ATTRIBUTE_HEADER:
            return TableKind.MODULE if re.search(r"\bModule\b", caption) else TableKind.MACRO
        if header[:1] in (("enumerated value name",), ("defined term name",)):
            return TableKind.VALUES
        return TableKind.OTHER

    def read_table(
        self, table: etree._Element, table_id: str, kind: TableKind, caption: str
    ) -> None:
        if kind is TableKind.IOD_MODULES:
            self.iods.append(self.read_iod(table, table_id, caption))
        elif kind is TableKind.FUNCTIONAL_GROUPS:
            self.fg_tables.append((table, self.read_functional_groups(table, table_id)))
        elif kind in (TableKind.MODULE, TableKind.MACRO):
            self.read_attribute_table(table, table_id, kind, caption)
        elif kind is TableKind.VALUES:
            self.value_tables.append(self.read_value_table(table, table_id, caption))

    # -- IOD module and functional group tables --------------------------------------------

    def iod_section(self, element: etree._Element) -> str:
        """The label of the IOD's own section: the nearest one titled "… IOD" (A.38.1)."""
        for ancestor in element.iterancestors(q("section")):
            title = ancestor.find(q("title"))
            if title is not None and text_of(title).endswith(" IOD"):
                return ancestor.get("label", "")
        return self.section_label(element)

    def section_label(self, element: etree._Element) -> str:
        for ancestor in element.iterancestors(q("section"), q("chapter"), q("appendix")):
            label = ancestor.get("label")
            if label:
                return label
        return ""

    def table_of_section(self, section_id: str) -> str:
        """The first attribute table in the section ``section_id`` (its module or macro)."""
        section = self.part.ids.get(section_id)
        if section is None:
            return section_id
        candidates = [t for t in section.iter(q("table")) if t.get(XML_ID)]
        for table in candidates:
            header = tuple(h.casefold() for h in header_texts(table))
            if header[:2] == _ATTRIBUTE_HEADER:
                return table.get(XML_ID) or section_id
        return section_id

    def reference(self, cell: Cell) -> tuple[str, str]:
        """(section id, section label) of the xref in a Reference/Section cell."""
        ends = linkends(cell.element)
        if not ends:
            return "", cell.text
        target = ends[0]
        element = self.part.ids.get(target)
        label = element.get("label", "") if element is not None else ""
        return target, label or target.removeprefix("sect_")

    def usage(self, cell: Cell, table_id: str, row: Row) -> tuple[Usage, str]:
        text = inline_text(self.part, cell.element)
        try:
            return usage_of(text)
        except ValueError as exc:
            raise StandardSourceError(
                str(exc), source_file=self.part.source_file, table_id=table_id, row=row.index
            ) from exc

    def read_iod(self, table: etree._Element, table_id: str, caption: str) -> IODDef:
        uses: list[ModuleUse] = []
        for row in body_rows(table):
            if len(row.cells) != 4:
                self.issue(IssueKind.UNREADABLE_ROW, f"{len(row.cells)} cells", table_id, row.index)
                continue
            ie, module, reference, usage_cell = row.cells
            section_id, label = self.reference(reference)
            usage, condition = self.usage(usage_cell, table_id, row)
            uses.append(
                ModuleUse(
                    ie=ie.text,
                    module=self.table_of_section(section_id) if section_id else module.text,
                    name=module.text,
                    usage=usage,
                    condition=condition,
                    provenance=self.provenance(table_id, row.index),
                    reference=label,
                )
            )
        return IODDef(
            key=table_id,
            name=_IOD_SUFFIX.sub("", caption),
            section=self.iod_section(table),
            modules=tuple(uses),
            provenance=self.provenance(table_id),
        )

    def read_functional_groups(
        self, table: etree._Element, table_id: str
    ) -> tuple[FunctionalGroupUse, ...]:
        uses: list[FunctionalGroupUse] = []
        for row in body_rows(table):
            if len(row.cells) != 3:
                self.issue(IssueKind.UNREADABLE_ROW, f"{len(row.cells)} cells", table_id, row.index)
                continue
            name, reference, usage_cell = row.cells
            section_id, label = self.reference(reference)
            usage, condition = self.usage(usage_cell, table_id, row)
            uses.append(
                FunctionalGroupUse(
                    macro=self.table_of_section(section_id) if section_id else name.text,
                    name=name.text,
                    usage=usage,
                    condition=condition,
                    provenance=self.provenance(table_id, row.index),
                    reference=label,
                )
            )
        return tuple(uses)

    def attach_functional_groups(self) -> None:
        """Give each functional group table to the IOD whose section holds it (A.38.1.4 → A.38)."""
        iod_tables = {iod.key: index for index, iod in enumerate(self.iods)}
        for table, uses in self.fg_tables:
            table_id = table.get(XML_ID) or ""
            owner: int | None = None
            for ancestor in table.iterancestors(q("section")):
                inside = [t.get(XML_ID) for t in ancestor.iter(q("table"))]
                owners = [iod_tables[t] for t in inside if t in iod_tables]
                if owners:
                    owner = owners[-1]
                    break
            if owner is None:
                self.issue(
                    IssueKind.DANGLING_REFERENCE, "no IOD for this functional group table", table_id
                )
                continue
            self.iods[owner] = attrs.evolve(
                self.iods[owner], functional_groups=uses, functional_groups_table=table_id
            )

    # -- module and macro attribute tables --------------------------------------------------

    def read_attribute_table(
        self, table: etree._Element, table_id: str, kind: TableKind, caption: str
    ) -> None:
        header = [h.casefold() for h in header_texts(table)]
        typed = len(header) >= 3 and header[2] == "type"
        top: list[_Node] = []
        stack: list[_Node] = []  # stack[d]: the entry of depth d that rows of depth d+1 join
        for row in body_rows(table):
            cells = row.cells
            name_text = cells[0].text if cells else ""
            include = _INCLUDE.match(name_text)
            if include:
                depth = len(include["depth"])
                node = _Node(self.read_include(row, depth, table_id))
                self.place(top, stack, depth, node, table_id, row)
                continue
            expected = 4 if typed else 3
            if len(cells) != expected:
                self.issue(IssueKind.UNREADABLE_ROW, f"{len(cells)} cells", table_id, row.index)
                continue
            if all(c.spanned for c in cells[1:]) and not cells[0].spanned:
                continue  # a heading row across the table ("BASIC CODED ENTRY ATTRIBUTES")
            depth = len(name_text) - len(name_text.lstrip(">"))
            rule = self.read_attribute(row, typed, table_id)
            if rule is not None:
                self.place(top, stack, depth, _Node(rule), table_id, row)
        entries = tuple(self.freeze(entry, "") for entry in top)
        name = _CAPTION_SUFFIX.sub("", caption) or caption
        section = self.section_label(table)
        provenance = self.provenance(table_id)
        if kind is TableKind.MODULE:
            self.modules.append(ModuleDef(table_id, name, section, entries, provenance, typed))
        else:
            self.macros.append(MacroDef(table_id, name, section, entries, provenance, typed))

    def place(
        self, top: list[_Node], stack: list[_Node], depth: int, node: _Node, table_id: str, row: Row
    ) -> None:
        """Put ``node`` under the entry of depth ``depth - 1`` and open it for deeper rows."""
        if len(stack) < depth:
            self.issue(
                IssueKind.UNREADABLE_ROW,
                f"nesting depth {depth} under no entry of depth {depth - 1}; placed at the"
                f" deepest open level {len(stack)}",
                table_id,
                row.index,
            )
            depth = len(stack)
        (stack[depth - 1].children if depth else top).append(node)
        del stack[depth:]
        stack.append(node)

    def read_attribute(self, row: Row, typed: bool, table_id: str) -> AttributeRule | None:
        cells = row.cells
        name = cells[0].text.lstrip(">").strip()
        provenance = self.provenance(table_id, row.index)
        tag: TagPattern | None
        if cells[1].spanned:
            tag = None  # "Any Attribute from the main data set …" (Table C.12-1)
        else:
            try:
                tag = TagPattern.parse(cells[1].text)
            except ValueError:
                self.issue(
                    IssueKind.UNREADABLE_ROW,
                    f"tag {cells[1].text!r} of {name!r}",
                    table_id,
                    row.index,
                )
                return None
        attribute_type: AttributeType | None = None
        if typed:
            try:
                attribute_type = AttributeType.parse(cells[2].text)
            except ValueError:
                self.issue(
                    IssueKind.UNREADABLE_ROW,
                    f"type {cells[2].text!r} of {name!r}",
                    table_id,
                    row.index,
                )
        body = render(self.part, cells[-1].element)
        condition = ""
        if attribute_type is not None and attribute_type.conditional:
            condition = condition_text(body.paragraphs)
            if not condition:
                self.issue(
                    IssueKind.MISSING_CONDITION,
                    f"{name} {tag.display if tag else ''} is type {attribute_type.value}",
                    table_id,
                    row.index,
                )
        rule = AttributeRule(
            tag=tag,
            name=name,
            path="",
            type=attribute_type,
            description=body.text,
            condition=condition,
            provenance=provenance,
            value_lists=body.value_lists,
            context_ids=context_refs(" ".join((*body.paragraphs, *body.notes))),
            references=tuple(x for x in dict.fromkeys(body.xrefs) if x.startswith("sect_")),
        )
        return rule

    def read_include(self, row: Row, depth: int, table_id: str) -> MacroInclude:
        name_cell = row.cells[0]
        note_cell = row.cells[-1] if len(row.cells) > 1 and not row.cells[-1].spanned else None
        note = render(self.part, note_cell.element) if note_cell is not None else None
        note_text = note.text if note is not None else ""
        ends = linkends(name_cell.element)
        provenance = self.provenance(table_id, row.index)
        context = context_refs(note_text + " " + " ".join(note.notes if note else ()))
        if not ends:
            # "Include one or more Functional Group Macros …" (Table C.7.6.16-1).
            text = inline_text(self.part, name_cell.element).lstrip(">").strip()
            kind = (
                IncludeKind.FUNCTIONAL_GROUPS
                if "functional group" in text.casefold()
                else IncludeKind.TABLE
            )
            if kind is IncludeKind.TABLE:
                self.issue(
                    IssueKind.UNREADABLE_ROW,
                    f"include without a reference: {text!r}",
                    table_id,
                    row.index,
                )
            return MacroInclude("", kind, depth, text, note_text, context, provenance)
        target = ends[0]
        condition = self.text_after_reference(name_cell.element)
        label = inline_text(self.part, name_cell.element)
        return MacroInclude(
            target=target,
            kind=IncludeKind.TABLE,
            depth=depth,
            condition=condition,
            note=note_text,
            context_ids=context,
            provenance=provenance,
            target_label=label.lstrip(">").strip(),
        )

    def text_after_reference(self, cell: etree._Element) -> str:
        """The prose after the first ``<xref>`` of an include cell (its condition, if any)."""
        xref = next(cell.iter(q("xref")))
        parts: list[str] = [xref.tail or ""]
        # Text of the following siblings of the xref and of each ancestor up to the cell.
        node: etree._Element | None = xref
        while node is not None and node is not cell:
            for sibling in node.itersiblings():
                parts.append(inline_text(self.part, sibling))
                parts.append(sibling.tail or "")
            parent = node.getparent()
            if parent is not None and parent is not cell:
                parts.append(parent.tail or "")
            node = parent
        text = " ".join(" ".join(parts).split())
        return "" if text in (".", "") else text.removesuffix(" .").strip()

    def freeze(self, node: _Node, parent_path: str) -> Entry:
        entry = node.entry
        if isinstance(entry, MacroInclude):
            # Rows under an include extend a sequence of the macro: their paths are completed
            # by the linker, which knows that sequence.
            return attrs.evolve(
                entry, children=tuple(self.freeze(child, "") for child in node.children)
            )
        segment = entry.tag.text if entry.tag is not None else "*"
        path = f"{parent_path}/{segment}" if parent_path else segment
        return attrs.evolve(
            entry, path=path, children=tuple(self.freeze(child, path) for child in node.children)
        )

    # -- value tables and refining sections -------------------------------------------------

    def read_value_table(self, table: etree._Element, table_id: str, caption: str) -> ValueTableDef:
        header = header_texts(table)
        kind = (
            ValueListKind.ENUMERATED
            if header[0].casefold().startswith("enumerated")
            else ValueListKind.DEFINED
        )
        terms = tuple(
            ValueTerm(row.cells[0].text, row.cells[1].text if len(row.cells) > 1 else "")
            for row in body_rows(table)
            if row.cells and row.cells[0].text
        )
        match = re.search(r"\bValue (\d+)\b", caption)
        values = ValueList(kind, terms, int(match[1]) if match else None, table_id)
        return ValueTableDef(table_id, caption, values, self.provenance(table_id))

    def read_sections(self) -> tuple[SectionNote, ...]:
        """Sections that refine attributes: those with value lists or that a rule points to."""
        value_tables = {v.key: v for v in self.value_tables}
        tables: list[ModuleDef | MacroDef] = [*self.modules, *self.macros]
        referenced = {
            reference
            for table in tables
            for entry in walk(table.entries)
            if isinstance(entry, AttributeRule)
            for reference in entry.references
        }
        attribute_tables = {
            t.table_id for t in self.tables if t.kind in (TableKind.MODULE, TableKind.MACRO)
        }
        notes: list[SectionNote] = []
        seen: set[str] = set()
        for section in self.part.root.iter(q("section")):
            section_id = section.get(XML_ID) or ""
            if not section_id or section_id in seen:
                continue
            seen.add(section_id)
            own_tables = [t.get(XML_ID) or "" for t in section.findall(q("table"))]
            if any(t in attribute_tables for t in own_tables):
                continue  # the section of a module or macro, not a refinement
            body = render(self.part, section)
            cited = [x for x in dict.fromkeys((*body.xrefs, *own_tables)) if x in value_tables]
            lists = [attrs.evolve(v, source=section_id) for v in body.value_lists] + [
                value_tables[t].values for t in cited
            ]
            if not lists and section_id not in referenced:
                continue
            title = section.find(q("title"))
            notes.append(
                SectionNote(
                    section_id=section_id,
                    label=section.get("label", ""),
                    title=text_of(title) if title is not None else "",
                    value_lists=tuple(lists),
                    tables=tuple(cited),
                    provenance=self.provenance(section_id),
                    paragraphs=body.paragraphs,
                )
            )
        return tuple(notes)
