"""The PS3.3 part of the generator's model: IODs, modules, macros and their attribute rules.

Theory of operation
-------------------
* Readers (``sources/docbook/part03.py`` for NEMA's DocBook, ``sources/json_part03.py`` for the
  JSON rendition) translate PS3.3 tables into these frozen records and nothing else: they keep
  the standard's words (condition prose, usage notes) as text, and they do not expand macros.
* **Identity.**  Modules, macros and IODs are keyed by the ``xml:id`` of their table in PS3.3
  (``table_C.8-3`` for the CT Image Module, ``table_A.3-1`` for the CT Image IOD).  NEMA keeps
  these ids stable across editions and both sources carry them: the DocBook as ``xml:id``, the
  JSON rendition as the anchor of each item's ``linkToStandard``.  Names are not stable ("Enhanced
  X-Ray Angiographic Image" in 2016c is "Enhanced XA Image" in the 2020 rendition), so the
  name-derived :func:`slug` is a second key, used only to pair items whose table id changed.
* **Attribute entries.**  A module or macro table is a sequence of :data:`Entry` values: an
  :class:`AttributeRule` (one row with a tag, or an "Any Attribute …" row with ``tag=None``) or a
  :class:`MacroInclude` ("Include Table 10-16 …", with its optional condition and context ids).
  Rows nested with ``>`` become ``children`` of the sequence attribute above them.
* **Linking.**  ``passes/link_iods.py`` resolves includes and fills :attr:`ModuleDef.expanded`
  with the flattened rules (macros inlined, each rule remembering the tables it came ``via``).
  The JSON rendition is already flattened: its readers set ``expanded`` directly.
* Conditions are kept raw (``condition``); ``generator/conditions.py`` parses them into
  ``parsed_condition`` in a later pass.

References
----------
PS3.3 §5 (conventions: types, ``>`` nesting, Include), §7 (module usage M/C/U), §8.8 and Chapter
10 (macros), Annex A (IOD module and functional group tables), Annex C (module tables).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import attrs

from dicompile.generator.model import Provenance, TagPattern

if TYPE_CHECKING:
    # Only for the annotation: the model does not import the parser at run time.
    from dicompile.generator.conditions.ast import ParsedCondition

PART = "PS3.3"


class AttributeType(enum.Enum):
    """Data element type of an attribute in a module or macro (PS3.5 §7.4)."""

    T1 = "1"
    T1C = "1C"
    T2 = "2"
    T2C = "2C"
    T3 = "3"

    @classmethod
    def parse(cls, text: str) -> AttributeType:
        """Read the Type column (``"1"``, ``"1C"``, ``"2C "``); :class:`ValueError` otherwise."""
        cleaned = text.strip().upper()
        for member in cls:
            if member.value == cleaned:
                return member
        raise ValueError(f"not an attribute type: {text!r}")

    @property
    def conditional(self) -> bool:
        return self in (AttributeType.T1C, AttributeType.T2C)

    @property
    def must_have_value(self) -> bool:
        """Types 1 and 1C: when present the value shall not be empty."""
        return self in (AttributeType.T1, AttributeType.T1C)


class Usage(enum.Enum):
    """Usage of a module or functional group macro in an IOD (PS3.3 §A.1.3)."""

    MANDATORY = "M"
    CONDITIONAL = "C"
    USER_OPTION = "U"


class ValueListKind(enum.Enum):
    """Whether a list of values is closed (enumerated) or open (defined terms), PS3.3 §5.3."""

    ENUMERATED = "Enumerated Values"
    DEFINED = "Defined Terms"


@attrs.frozen
class ValueTerm:
    """One value of an enumerated or defined-term list, with its meaning when given."""

    value: str
    meaning: str = ""


@attrs.frozen
class ValueList:
    """Enumerated values or defined terms of an attribute (all values, or Value ``n`` only).

    ``source`` says where the list was read: ``"description"`` for the attribute's own cell, or
    the section or table id that refines the attribute (``sect_C.7.3.1.1.1``, ``table_C.8-127``).
    """

    kind: ValueListKind
    terms: tuple[ValueTerm, ...]
    value_index: int | None = None  # "Enumerated Values for Value 3" -> 3
    source: str = "description"

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(term.value for term in self.terms)


class ContextKind(enum.Enum):
    """How strongly a context group or template constrains a code (PS3.16 §6.1.2)."""

    DEFINED = "Defined"
    BASELINE = "Baseline"
    ENUMERATED = "Enumerated"
    UNSPECIFIED = ""


@attrs.frozen(order=True)
class ContextRef:
    """A context group (``CID``) or template (``TID``) named in a description or include note."""

    resource: str  # "CID" or "TID"
    number: int
    kind: ContextKind = attrs.field(default=ContextKind.UNSPECIFIED, order=False)

    def cite(self) -> str:
        prefix = f"{self.kind.value} " if self.kind.value else ""
        return f"{prefix}{self.resource} {self.number}"


class IncludeKind(enum.Enum):
    """What an "Include …" row pulls in."""

    TABLE = "table"  # "Include Table 10-16 …": the attributes of another table
    FUNCTIONAL_GROUPS = "functional groups"  # "Include one or more Functional Group Macros"


@attrs.frozen
class MacroInclude:
    """An "Include Table …" row of a module or macro table (PS3.3 §5.4, macros).

    ``target`` is the table id of the included macro (``table_10-16``), or ``""`` for
    :attr:`IncludeKind.FUNCTIONAL_GROUPS`, whose macros the IOD's functional group table names.
    ``condition`` is the prose after the reference (``"if and only if Value Type (0040,A040) is
    NUM."``); ``note`` the description column.
    """

    target: str
    kind: IncludeKind
    depth: int  # number of ">" before "Include": 0 at the top level of the table
    condition: str
    note: str
    context_ids: tuple[ContextRef, ...]
    provenance: Provenance
    target_label: str = ""  # "Table 10-16" as written, for messages
    # Rows nested one level deeper right after the include: they extend the Item of the last
    # sequence the included macro defines (PS3.3 Table C.18.4-1 adds ">Referenced Frame
    # Number" to the Referenced SOP Sequence of the included Table C.18.3-1).
    children: tuple[Entry, ...] = ()
    parsed_condition: ParsedCondition | None = attrs.field(default=None, eq=False)


@attrs.frozen
class AttributeRule:
    """One attribute of a module or macro table, with the items of a sequence as ``children``.

    ``tag`` is ``None`` for a row that stands for attributes without naming a tag ("Any
    Attribute from the main data set that was modified …", PS3.3 Table C.12-1).  ``path`` is the
    chain of tags from the table's top level, ``/``-joined in the 8-digit form of
    :class:`TagPattern` (``"00081115/00081150"``; ``"*"`` for a tagless row).  ``type`` is
    ``None`` in normalized modules, whose tables have no Type column (PS3.3 Annex B/C.2-C.4).
    """

    tag: TagPattern | None
    name: str
    path: str
    type: AttributeType | None
    description: str
    condition: str  # the raw "Required if …" prose of a 1C/2C attribute, "" otherwise
    provenance: Provenance
    value_lists: tuple[ValueList, ...] = ()
    context_ids: tuple[ContextRef, ...] = ()
    references: tuple[str, ...] = ()  # ids of sections the description points to ("See …")
    children: tuple[Entry, ...] = ()
    via: tuple[str, ...] = ()  # table ids of the macros this rule was included through
    # Conditions of the includes it came through ("if and only if Value Type (0040,A040) is
    # NUM."): the rule applies only where they hold.  Filled by the linker.
    include_conditions: tuple[str, ...] = ()
    # Filled by a conditions pass (generator/conditions: parse_condition); None until then.
    parsed_condition: ParsedCondition | None = attrs.field(default=None, eq=False)

    @property
    def is_sequence(self) -> bool:
        return bool(self.children)

    @property
    def depth(self) -> int:
        return self.path.count("/")


Entry = AttributeRule | MacroInclude


@attrs.frozen
class ModuleDef:
    """A module of PS3.3 Annex C: its attribute table.

    ``entries`` is the table as written (includes unexpanded); ``expanded`` is filled by the
    linker (or, for an already flattened source, by its reader): the attribute rules with every
    include replaced by the included rules.
    """

    key: str  # table id: "table_C.8-3"
    name: str  # "CT Image"
    section: str  # label of the section defining it: "C.8.2.1"
    entries: tuple[Entry, ...]
    provenance: Provenance
    typed: bool = True  # False when the table has no Type column (normalized modules)
    expanded: tuple[AttributeRule, ...] | None = None

    @property
    def slug(self) -> str:
        return slug(self.name)


@attrs.frozen
class MacroDef:
    """A macro (PS3.3 Chapter 10, §8.8, functional group macros of §C.7.6.16.2, …)."""

    key: str  # table id: "table_10-16"
    name: str  # "SOP Instance Reference"
    section: str
    entries: tuple[Entry, ...]
    provenance: Provenance
    typed: bool = True
    expanded: tuple[AttributeRule, ...] | None = None

    @property
    def slug(self) -> str:
        return slug(self.name)


AttributeTable = ModuleDef | MacroDef


@attrs.frozen
class ModuleUse:
    """One row of an IOD's module table: IE, module, reference, usage (PS3.3 Annex A)."""

    ie: str  # "Image"
    module: str  # key of the module: "table_C.8-3"
    name: str  # "CT Image", as the IOD table writes it
    usage: Usage
    condition: str  # "Required if contrast media was used in this image", "" for M/U
    provenance: Provenance
    reference: str = ""  # "C.8.2.1": the section the Reference column points to
    parsed_condition: ParsedCondition | None = attrs.field(default=None, eq=False)


@attrs.frozen
class FunctionalGroupUse:
    """One row of an enhanced IOD's functional group macro table (PS3.3 A.38-2, A.47-2)."""

    macro: str  # key of the macro: "table_C.7.6.16-2"
    name: str  # "Pixel Measures"
    usage: Usage
    condition: str  # the text after the usage letter ("May not be used as a Shared …")
    provenance: Provenance
    reference: str = ""  # section label of the macro
    parsed_condition: ParsedCondition | None = attrs.field(default=None, eq=False)


@attrs.frozen
class IODDef:
    """A composite IOD: its modules and, for enhanced multi-frame IODs, its functional groups."""

    key: str  # table id of the module table: "table_A.3-1"
    name: str  # "CT Image"
    section: str  # "A.3"
    modules: tuple[ModuleUse, ...]
    provenance: Provenance
    functional_groups: tuple[FunctionalGroupUse, ...] = ()
    functional_groups_table: str = ""  # "table_A.38-2"

    @property
    def slug(self) -> str:
        return slug(self.name)


class TableKind(enum.Enum):
    """How a PS3.3 table was read."""

    IOD_MODULES = "IOD modules"
    FUNCTIONAL_GROUPS = "functional group macros"
    MODULE = "module attributes"
    MACRO = "macro attributes"
    VALUES = "enumerated values or defined terms"
    OTHER = "other"  # read as text (character set tables, segment layouts, …)


@attrs.frozen
class TableRecord:
    """Every table of a source, with how it was read: the evidence that none was skipped."""

    table_id: str
    kind: TableKind
    caption: str
    rows: int
    provenance: Provenance
    duplicate: bool = False  # a second definition of an id (the excerpt's cut sections)


@attrs.frozen
class ValueTableDef:
    """A table of enumerated values or defined terms (PS3.3 Table C.8-127 and the like)."""

    key: str
    caption: str
    values: ValueList
    provenance: Provenance


@attrs.frozen
class SectionNote:
    """A section that refines attributes ("C.8.2.1.1.1 Image Type"): its text and value lists.

    Attribute rules point to it through :attr:`AttributeRule.references`; the value lists it
    holds (its own variable lists and the value tables it references) apply to the attribute
    its title names, and its paragraphs may restate a type or values ("For NM images, Image
    Type (0008,0008) Value 3 is specified to be Type 1", C.8.4.9.1.1).
    """

    section_id: str  # "sect_C.8.2.1.1.1"
    label: str  # "C.8.2.1.1.1"
    title: str  # "Image Type"
    value_lists: tuple[ValueList, ...]
    tables: tuple[str, ...]  # ids of the tables the section references or contains
    provenance: Provenance
    paragraphs: tuple[str, ...] = ()  # its prose (sub-sections excluded), notes left out


class IssueKind(enum.Enum):
    """What a reader or the linker found wrong, or worth reporting, in a source."""

    DUPLICATE_ID = "duplicate xml:id"
    DUPLICATE_TABLE = "table defined twice"
    DANGLING_REFERENCE = "dangling reference"
    MISSING_CONDITION = "conditional type without condition text"
    UNREADABLE_ROW = "row not understood"
    INCLUDE_CYCLE = "include cycle"
    DUPLICATE_ATTRIBUTE = "attribute listed twice at one level"
    ERRATUM = "erratum corrected"  # an error of the text, corrected by passes/part03_errata.py
    UNKNOWN_TAG = "tag not in the data dictionary"  # passes/part03_names.py


@attrs.frozen
class Part03Issue:
    """A finding about the source, kept as data and reported (never silently dropped)."""

    kind: IssueKind
    message: str
    provenance: Provenance

    def describe(self) -> str:
        return f"{self.kind.value}: {self.message} ({self.provenance.cite()})"


class ChangeKind(enum.Enum):
    """How two sources (editions) of PS3.3 differ about one item (see ``iod_merge``)."""

    ITEM_ADDED = "item added"  # an IOD, module or macro only the newer source has
    ITEM_ONLY_IN_OLDER = "item only in older"  # kept: the newer source lacks it
    KEY_CHANGED = "table id changed"  # paired by slug; the newer id is kept
    MODULE_ADDED = "module added"
    MODULE_REMOVED = "module removed"
    FUNCTIONAL_GROUP_ADDED = "functional group added"
    FUNCTIONAL_GROUP_REMOVED = "functional group removed"
    USAGE_CHANGED = "usage changed"
    IE_CHANGED = "information entity changed"
    CONDITION_CHANGED = "condition changed"
    ATTRIBUTE_ADDED = "attribute added"
    ATTRIBUTE_REMOVED = "attribute removed"
    TYPE_CHANGED = "type changed"


@attrs.frozen
class IODConflict:
    """A typed record of a difference between two sources; the newer (``kept``) one wins.

    ``item`` is the key of the IOD, module or macro; ``detail`` what inside it differs: a module
    or macro key for module and functional group uses, an attribute path for attributes.
    """

    kind: ChangeKind
    item: str
    detail: str
    kept_value: str
    other_value: str
    kept: Provenance
    other: Provenance

    def describe(self) -> str:
        inside = f" {self.detail}" if self.detail else ""
        return (
            f"{self.kind.value}: {self.item}{inside}: {self.other_value!r} ({self.other.cite()})"
            f" → {self.kept_value!r} ({self.kept.cite()})"
        )


@attrs.frozen
class Part03Model:
    """Everything one PS3.3 source yields (or a merged standard set, see ``iod_merge``)."""

    edition: str
    source_files: tuple[str, ...]
    iods: tuple[IODDef, ...] = ()
    modules: tuple[ModuleDef, ...] = ()
    macros: tuple[MacroDef, ...] = ()
    value_tables: tuple[ValueTableDef, ...] = ()
    sections: tuple[SectionNote, ...] = ()
    tables: tuple[TableRecord, ...] = ()
    issues: tuple[Part03Issue, ...] = ()
    conflicts: tuple[IODConflict, ...] = ()  # filled when sources are merged

    def iod(self, key: str) -> IODDef:
        """The IOD keyed ``key``; :class:`KeyError` when absent."""
        for iod in self.iods:
            if iod.key == key:
                return iod
        raise KeyError(key)

    def attribute_table(self, key: str) -> AttributeTable:
        """The module or macro keyed ``key``; :class:`KeyError` when absent."""
        tables: tuple[AttributeTable, ...] = (*self.modules, *self.macros)
        for table in tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def refinements(self, rule: AttributeRule) -> tuple[SectionNote, ...]:
        """The sections ``rule``'s description points to that this model holds, in order."""
        sections = {s.section_id: s for s in self.sections}
        return tuple(sections[r] for r in rule.references if r in sections)

    def map_tables(
        self,
        fix: Callable[[AttributeTable], AttributeTable],
        issues: tuple[Part03Issue, ...] = (),
    ) -> Part03Model:
        """A copy with ``fix`` applied to every module and macro, and ``issues`` added.

        A pass returns each table as it found it or corrected; a module stays a module and a
        macro a macro.
        """
        modules = tuple(fix(m) for m in self.modules)
        macros = tuple(fix(m) for m in self.macros)
        return attrs.evolve(
            self,
            modules=tuple(m for m in modules if isinstance(m, ModuleDef)),
            macros=tuple(m for m in macros if isinstance(m, MacroDef)),
            issues=(*self.issues, *issues),
        )

    def attribute_tables(self) -> dict[str, AttributeTable]:
        """Modules and macros by key (modules first when a key were shared)."""
        found: dict[str, AttributeTable] = {}
        tables: tuple[AttributeTable, ...] = (*self.modules, *self.macros)
        for table in tables:
            found.setdefault(table.key, table)
        return found


_SLUG_DROP = re.compile(r"[^a-z0-9 /-]")
_SLUG_SPACE = re.compile(r"[ /]")


def slug(name: str) -> str:
    """The rendition's id for a name: ``"Plane Position (Patient)"`` → ``plane-position-patient``.

    Lower-case; characters other than letters, digits, space, ``/`` and ``-`` dropped; each space
    and ``/`` becomes ``-`` (so ``"Image - Equipment …"`` gives ``image---equipment-…``, as the
    rendition writes it).
    """
    return _SLUG_SPACE.sub("-", _SLUG_DROP.sub("", name.lower().strip()))


def walk(entries: tuple[Entry, ...]) -> Iterator[Entry]:
    """Every entry of a table in document order, depth first (rows under includes too)."""
    for entry in entries:
        yield entry
        yield from walk(entry.children)


def tag_paths(rules: tuple[AttributeRule, ...] | tuple[Entry, ...]) -> frozenset[str]:
    """The set of ``path`` values of the attribute rules (tagless rows excluded)."""
    return frozenset(
        entry.path for entry in walk(tuple(rules)) if isinstance(entry, AttributeRule) and entry.tag
    )
