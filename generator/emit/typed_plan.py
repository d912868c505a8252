"""Plan of the typed classes: which class each table, item and field becomes (before text).

Theory of operation
-------------------
* Every module and macro of the PS3.3 model becomes one file with one top-level class;
  every sequence attribute's item becomes a class nested in the class of the level above
  (``GeneralImageModule.ReferencedImageSequenceItem``).
* **Shared items.**  The tables are flattened (the JSON rendition expands every include), so
  one macro's item (a Code Sequence Macro item, say) recurs thousands of times.  Items are
  keyed by their structure: tags, types, VRs, VMs and the structure of their own items.  The
  first occurrence of a structure, in the order macros then modules, each by table id, is the
  *canonical* one: its class is defined there; every later occurrence refers to it.  A
  reference points to a file seen earlier, so files never import each other in a circle.
  This keeps the output, and mypy's work, proportional to the distinct structures (about 760
  items of 5 500 fields) rather than to the 61 000 expanded rows.
* Rows that cannot be a field are counted in :class:`PlanReport`: tagless rows ("Any
  Attribute …"), tags the data dictionary does not know, a tag listed twice at one level
  (the first is kept), children under an attribute that is not a sequence.

References
----------
PS3.3 §5 (module tables, ``>`` nesting), Chapter 10 (macros); PS3.6 §6 (keywords, VR, VM).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from dicompile.generator.emit.typed_names import (
    file_stem,
    item_class,
    natural_key,
    pascal,
    snake,
    table_label,
)
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    AttributeType,
    MacroDef,
    Part03Model,
)
from dicompile.generator.model import DataElementDef, Provenance, TagPattern

MODULES_DIR = "modules"
MACROS_DIR = "modules/macros"
IODS_DIR = "iods"
PACKAGE = "dicompile.generated"

_SCALAR_TYPES = {
    **dict.fromkeys(("AE", "AS", "CS", "LO", "LT", "SH", "ST", "UC", "UI", "UR", "UT"), "str"),
    **dict.fromkeys(("IS", "US", "UL", "SS", "SL", "SV", "UV", "AT"), "int"),
    **dict.fromkeys(("DS", "FL", "FD"), "float"),
    "PN": "PersonName",
    "DA": "DA",
    "TM": "TM",
    "DT": "DT",
}
_BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_PIXEL_DATA = "7FE00010"
#: Names the generated files import from the runtime, by the annotation words that need them.
VALUE_IMPORTS = {"PersonName", "DA", "TM", "DT"}


class PlanError(ValueError):
    """The model cannot be planned as Python (clashing names: a bug of a pass or a name rule)."""


@attrs.frozen
class ClassRef:
    """Where a class is defined: the dotted module and the qualified name in it."""

    module: str  # "dicompile.generated.modules.general_image"
    qualname: str  # "GeneralImageModule.ReferencedImageSequenceItem"

    @property
    def top(self) -> str:
        return self.qualname.split(".", 1)[0]


@attrs.frozen
class FieldPlan:
    """One field: its name, tag, PS3.6 VR and VM, PS3.3 type, Python annotation and item."""

    name: str
    tag: TagPattern
    keyword: str
    attribute: str  # the PS3.3 name ("Patient's Name")
    vr: str
    vm: str
    requirement: str  # "1", "1C", "2", "2C", "3"
    condition: str
    value_type: str  # "PersonName", "tuple[str, ...]", "tuple[XItem, ...]"
    item: ClassRef | None  # the class of a sequence's items (None: Dataset items or no SQ)
    provenance: Provenance

    @property
    def is_sequence(self) -> bool:
        return self.vr == "SQ"

    @property
    def multiple(self) -> bool:
        return self.vm != "1"


@attrs.frozen
class ClassPlan:
    """A class to define: its name and reference, doc, fields and nested item classes."""

    name: str
    ref: ClassRef
    doc: str
    fields: tuple[FieldPlan, ...]
    nested: tuple[ClassPlan, ...]
    section: str  # "C.7.1.1", or "" when the source gives none
    table: str  # "table_C.7-1"

    @property
    def cite(self) -> str:
        """``PS3.3 C.7.1.1``, or ``PS3.3 Table C.7-1`` without a section label."""
        return f"PS3.3 {self.section}" if self.section else f"PS3.3 {table_label(self.table)}"


@attrs.frozen
class TablePlan:
    """One file of ``generated/modules``: a module or macro and everything defined in it."""

    key: str
    path: str  # "modules/patient.py"
    top: ClassPlan
    imports: tuple[ClassRef, ...]  # classes of other files that annotations refer to
    provenances: tuple[Provenance, ...]


@attrs.frozen
class PlanReport:
    """What the plan could not turn into fields, counted (never silently dropped)."""

    tagless: int = 0
    unknown_tags: tuple[str, ...] = ()
    duplicates: int = 0
    children_of_non_sequence: int = 0
    shared_references: int = 0
    item_classes: int = 0
    fields: int = 0


def _elements_by_tag(elements: Iterable[DataElementDef]) -> dict[str, DataElementDef]:
    return {element.tag.text: element for element in elements}


def _requirement(kind: AttributeType | None) -> str:
    return kind.value if kind is not None else "3"  # normalized tables have no Type column


def value_type(vr: str, vm: str, tag: TagPattern) -> str:
    """The Python type of a non-sequence value of PS3.6 VR ``vr`` and VM ``vm``.

    ``US or SS`` → ``int``; ``OB or OW`` → ``bytes`` (Pixel Data also ``Encapsulated``);
    ``US or OW`` with VM ``1-n or 1`` → ``tuple[int, ...] | bytes``.
    """
    vrs = [part.strip() for part in vr.split(" or ")]
    scalar = list(dict.fromkeys(_SCALAR_TYPES[v] for v in vrs if v in _SCALAR_TYPES))
    parts: list[str] = []
    if scalar:
        joined = " | ".join(scalar)
        parts.append(f"tuple[{joined}, ...]" if vm != "1" else joined)
    if any(v in _BYTES_VRS for v in vrs):
        parts.append("bytes")
        if tag.text == _PIXEL_DATA:
            parts.append("Encapsulated")
    unknown = [v for v in vrs if v not in _SCALAR_TYPES and v not in _BYTES_VRS and v != "SQ"]
    if unknown or not parts:
        raise PlanError(f"{tag.display}: no Python type for VR {vr!r}")
    return " | ".join(parts)


def _structure(
    rules: Sequence[AttributeRule], elements: Mapping[str, DataElementDef]
) -> tuple[object, ...]:
    """The key of an item: what its class's fields and their types depend on."""
    key: list[object] = []
    seen: set[str] = set()
    for rule in rules:
        if rule.tag is None or rule.tag.text not in elements or rule.tag.text in seen:
            continue
        seen.add(rule.tag.text)
        element = elements[rule.tag.text]
        children = _child_rules(rule) if element.vr == "SQ" else []
        key.append(
            (
                rule.tag.text,
                _requirement(rule.type),
                element.vr,
                element.vm,
                element.keyword,
                _structure(children, elements) if children else None,
            )
        )
    return tuple(key)


def _child_rules(rule: AttributeRule) -> list[AttributeRule]:
    return [child for child in rule.children if isinstance(child, AttributeRule)]


def _doc_text(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@attrs.define
class _Planner:
    """Walks the tables in order, defining or referring to item classes (mutable scratch)."""

    elements: Mapping[str, DataElementDef]
    canonical: dict[tuple[object, ...], ClassRef] = attrs.Factory(dict)
    unknown: set[str] = attrs.Factory(set)
    tagless: int = 0
    duplicates: int = 0
    non_sequence_children: int = 0
    shared: int = 0
    item_classes: int = 0
    fields: int = 0

    def plan_table(self, table: AttributeTable, path: str, module: str, section: str) -> TablePlan:
        kind = "Macro" if isinstance(table, MacroDef) else "Module"
        name = pascal(table.name, kind)
        ref = ClassRef(module, name)
        rules = list(table.expanded or ())
        imports: dict[str, ClassRef] = {}
        provenances: list[Provenance] = [table.provenance]
        doc = f"{table.name} {kind} — {cite(section, table.key)}."
        if isinstance(table, MacroDef):
            # An item made of exactly a macro's attributes is an instance of the macro's class.
            structure = _structure(rules, self.elements)
            if structure:
                self.canonical.setdefault(structure, ref)
        top = self._plan_class(name, ref, doc, rules, table, section, imports, provenances)
        return TablePlan(
            key=table.key,
            path=path,
            top=top,
            imports=tuple(sorted(imports.values(), key=lambda r: (r.module, r.top))),
            provenances=tuple(provenances),
        )

    def _plan_class(
        self,
        name: str,
        ref: ClassRef,
        doc: str,
        rules: Sequence[AttributeRule],
        table: AttributeTable,
        section: str,
        imports: dict[str, ClassRef],
        provenances: list[Provenance],
    ) -> ClassPlan:
        fields: list[FieldPlan] = []
        nested: list[ClassPlan] = []
        names: dict[str, str] = {}
        for rule in rules:
            if rule.tag is None:
                self.tagless += 1
                continue
            element = self.elements.get(rule.tag.text)
            if element is None or not element.keyword or not element.vr:
                self.unknown.add(rule.tag.text)
                continue
            field_name = snake(element.keyword)
            if field_name in names:
                if names[field_name] != rule.tag.text:
                    raise PlanError(
                        f"{ref.qualname}: {rule.tag.display} and {names[field_name]} both give"
                        f" the field name {field_name!r}"
                    )
                self.duplicates += 1
                continue
            names[field_name] = rule.tag.text
            provenances.append(element.provenance)
            children = _child_rules(rule)
            item: ClassRef | None = None
            if element.vr == "SQ":
                annotation = "tuple[Dataset, ...]"
                if _structure(children, self.elements):
                    item, local = self._item(
                        element, rule, children, ref, table, section, imports, provenances, nested
                    )
                    annotation = f"tuple[{local}, ...]"
            else:
                if children:
                    self.non_sequence_children += 1
                annotation = value_type(element.vr, element.vm, rule.tag)
            self.fields += 1
            fields.append(
                FieldPlan(
                    name=field_name,
                    tag=rule.tag,
                    keyword=element.keyword,
                    attribute=rule.name or element.name,
                    vr=element.vr,
                    vm=element.vm,
                    requirement=_requirement(rule.type),
                    condition=_doc_text(rule.condition) if rule.type is not None else "",
                    value_type=annotation,
                    item=item,
                    provenance=rule.provenance,
                )
            )
        return ClassPlan(
            name=name,
            ref=ref,
            doc=doc,
            fields=tuple(fields),
            nested=tuple(nested),
            section=section,
            table=table.key,
        )

    def _item(
        self,
        element: DataElementDef,
        rule: AttributeRule,
        children: list[AttributeRule],
        owner: ClassRef,
        table: AttributeTable,
        section: str,
        imports: dict[str, ClassRef],
        provenances: list[Provenance],
        nested: list[ClassPlan],
    ) -> tuple[ClassRef, str]:
        """The class of the sequence's items and how the owner's annotation names it."""
        key = _structure(children, self.elements)
        found = self.canonical.get(key)
        if found is not None:
            self.shared += 1
            if found.module != owner.module:
                imports[f"{found.module}:{found.top}"] = ClassRef(found.module, found.top)
            return found, found.qualname
        name = item_class(element.keyword)
        ref = ClassRef(owner.module, f"{owner.qualname}.{name}")
        self.canonical[key] = ref
        self.item_classes += 1
        doc = (
            f"An item of {element.name} {rule.tag.display if rule.tag else ''}"
            f" — PS3.3 {table.section}, {table_label(table.key)}."
        )
        nested.append(
            self._plan_class(name, ref, doc, children, table, section, imports, provenances)
        )
        return ref, name

    def report(self) -> PlanReport:
        return PlanReport(
            tagless=self.tagless,
            unknown_tags=tuple(sorted(self.unknown)),
            duplicates=self.duplicates,
            children_of_non_sequence=self.non_sequence_children,
            shared_references=self.shared,
            item_classes=self.item_classes,
            fields=self.fields,
        )


def cite(section: str, key: str) -> str:
    """``PS3.3 C.7.1.1, Table C.7-1``; ``PS3.3 Table C.7-1`` without a section label."""
    return f"PS3.3 {section}, {table_label(key)}" if section else f"PS3.3 {table_label(key)}"


def sections_of(model: Part03Model) -> dict[str, str]:
    """Section labels of the tables: their own, else the Reference column of IOD tables.

    The JSON rendition keys tables by anchor only; its IOD tables still give each module's
    section (``C.7.1.1``) and each functional group macro's.
    """
    found: dict[str, str] = {}
    for iod in model.iods:
        for use in iod.modules:
            if use.reference:
                found.setdefault(use.module, use.reference)
        for group in iod.functional_groups:
            if group.reference:
                found.setdefault(group.macro, group.reference)
    tables: tuple[AttributeTable, ...] = (*model.modules, *model.macros)
    for table in tables:
        if table.section:
            found[table.key] = table.section
    return found


def _paths(tables: Sequence[AttributeTable], folder: str, kind: str) -> dict[str, str]:
    paths: dict[str, str] = {}
    taken: dict[str, str] = {}
    for table in tables:
        stem = file_stem(table.name, kind)
        if stem in taken:
            raise PlanError(f"{table.key} and {taken[stem]} both give the file {folder}/{stem}.py")
        taken[stem] = table.key
        paths[table.key] = f"{folder}/{stem}.py"
    return paths


def module_name(path: str) -> str:
    """``modules/patient.py`` → ``dicompile.generated.modules.patient``."""
    return f"{PACKAGE}." + path.removesuffix(".py").replace("/", ".")


def plan_tables(
    model: Part03Model, elements: Iterable[DataElementDef]
) -> tuple[list[TablePlan], PlanReport]:
    """The files of every macro, then every module, each group in table-id order.

    Raises :class:`PlanError` when two tables would share a file or two fields a name.
    """
    by_tag = _elements_by_tag(elements)
    macros = sorted(model.macros, key=lambda t: natural_key(t.key))
    modules = sorted(model.modules, key=lambda t: natural_key(t.key))
    paths = {**_paths(macros, MACROS_DIR, "Macro"), **_paths(modules, MODULES_DIR, "Module")}
    planner = _Planner(by_tag)
    sections = sections_of(model)
    tables: tuple[AttributeTable, ...] = (*macros, *modules)
    plans = [
        planner.plan_table(
            table, paths[table.key], module_name(paths[table.key]), sections.get(table.key, "")
        )
        for table in tables
    ]
    classes = [plan.top.name for plan in plans]
    if len(set(classes)) != len(classes):
        raise PlanError("two tables give one class name")
    return plans, planner.report()
