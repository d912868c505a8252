"""Emitter of ``generated/requirements/``: the PS3.3 rule tables the runtime validator executes.

Theory of operation
-------------------
* Input: the pipeline's PS3.3 build (:class:`~dicompile.generator.iod_build.IODModel`: linked,
  merged, every condition parsed) and the data dictionary (VR and VM of every rule).
* Output: plain data, constructor calls of the runtime's records
  (:mod:`dicompile.runtime.validate.tables`, :mod:`dicompile.runtime.validate.conditions`), one
  row per line under ``# fmt: off``, so that the files read as tables, import fast and
  type-check fast.  The runtime never imports the generator.

  ``conditions_<n>.py``
      every distinct parsed condition once, as ``C_<hash>: Final = Condition(...)`` or
      ``Unparsed(...)``; the name is a hash of the constant's text, so it is stable across runs
      and editions and a change shows as a changed line.
  ``items_h<height>[_<k>].py``
      the rules of Sequence Items (``Items``), each distinct Item content once, named after the
      Sequence it first serves and a hash (``ReferencedImageSequence_3f2a1b``).  Macros that the
      sources inline everywhere (the JSON rendition flattens every include) are shared again
      this way.  An Item only refers to Items of a lower height (nesting depth below it), so
      the files import one another without cycles.
  ``tables_<section>.py``
      one ``AttributeTable`` per module and macro, grouped by PS3.3 section.
  ``iods_a_<nn>.py``
      one ``IOD`` per composite IOD, with module and functional group usages.
  ``__init__.py``
      the index the runtime's registry reads: table and IOD keys to (module, constant), and
      Storage SOP Class UIDs to IOD keys.
* Value lists: the attribute's own Enumerated Values / Defined Terms, plus those of the
  sections its description refers to whose title is the attribute's name (PS3.3 writes the
  values of Image Type (0008,0008) of CT in C.8.2.1.1.1 "Image Type"), and the value tables
  such a section holds.  Hexadecimal terms of binary VRs (``0001H``) are written as numbers.
  A section's terms "in addition to" (or "plus") those of another section are joined with
  that section's (C.8.8.12.1.2 Patient Position adds SITTING to C.7.3.1.1.2), or dropped
  when that section is not in the model; the bit values of a bit field (Region Flags) are
  left out.
* An attribute listed twice at one level (the SR content item macros include Referenced SOP
  Sequence three times) becomes one rule: its type and condition when all rows agree, Type 3
  otherwise, applying where any of its includes' conditions holds, with the union of the
  Items' rules (open).

References
----------
PS3.3 §5 (attribute tables), §7 and Annex A (IOD module tables), Chapter 10, Annex C;
PS3.6 §6 (VR, VM); DESIGN.md ("Generated code"); STYLE.md §10-§12.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from dicompile.generator.conditions import (
    Absent,
    AmbiguousCode,
    And,
    Compare,
    Condition,
    ContainsCode,
    CountCompare,
    Empty,
    Equals,
    Expr,
    HasValue,
    IsUrnOrUrl,
    LengthCompare,
    Not,
    OneOf,
    Or,
    ParsedCondition,
    Present,
    PrivateTagValue,
    Undecidable,
    Unparsed,
)
from dicompile.generator.emit.pyfmt import py_str
from dicompile.generator.emit.render import (
    REGENERATE,
    GeneratedFile,
    header,
    render,
    sources_used,
)
from dicompile.generator.iod_build import IODModel
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    AttributeType,
    IODDef,
    MacroDef,
    Part03Model,
    SectionNote,
    Usage,
    ValueList,
    ValueListKind,
)
from dicompile.generator.model import DataElementDef, Provenance, SourceDigest, StandardModel

FOLDER = "requirements/"
PACKAGE = "dicompile.generated.requirements"
RUNTIME_CONDITIONS = "dicompile.runtime.validate.conditions"
RUNTIME_TABLES = "dicompile.runtime.validate.tables"
CONDITION_FILES = 4  # conditions_0 … conditions_3, by the first hex digit of the name's hash
ITEM_LINES_PER_FILE = 1500  # an Item height's file is split by hash beyond this many lines
TABLE_RULES_PER_FILE = 600  # a section group larger than this is split one level deeper
TABLE_NUMBER_BUCKET = 25  # …and the tables of its own level by table number
IOD_GROUP = 10  # iods_a_00 holds A.0-A.9, iods_a_10 A.10-A.19, …

_NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "AT", "OB", "OW", "US or SS"})
_HEX_TERM = re.compile(r"([0-9A-Fa-f]{1,8})H")
_BIT_FIELD = re.compile(r"\bBits? \d")
_IN_ADDITION = re.compile(r"\bin addition to\b|\bplus the following\b", re.IGNORECASE)
_SECTION_REF = re.compile(r"\bSection ([A-Z](?:\.\d+)+|\d+(?:\.\d+)+)")
_NOT_SHARED = re.compile(r"may not be used as a shared functional group", re.IGNORECASE)
# Sentences about the number of Items, unconditional (PS3.3 descriptions of Sequences).
_ONE_ITEM = re.compile(
    r"(?:^|[.:]\s+)(?:Only a single|Only one|A single|Exactly one|One|Zero or one)"
    r" Item (?:shall be (?:included|present)|is permitted|may be (?:included|present))"
    r"(?: in (?:this|the) Sequence)?\s*(?:\.|$)"
)
_TWO_OR_MORE = re.compile(
    r"(?:^|[.:]\s+)Two or more Items (?:shall be included|are permitted)"
    r"(?: in (?:this|the) Sequence)?\s*(?:\.|$)"
)
_ONE_OR_TWO = re.compile(
    r"(?:^|[.:]\s+)One or two Items shall be included(?: in (?:this|the) Sequence)?\s*(?:\.|$)"
)
_TYPES = {
    AttributeType.T1: "T1",
    AttributeType.T1C: "T1C",
    AttributeType.T2: "T2",
    AttributeType.T2C: "T2C",
    AttributeType.T3: "T3",
}


class EmitError(ValueError):
    """The model cannot be rendered (a bug of a reader or pass, not of the standard)."""


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _hex_tag(tag: int) -> str:
    return f"0x{tag:08X}"


def _path(path: Sequence[int]) -> str:
    tags = ", ".join(_hex_tag(t) for t in path)
    return f"({tags},)" if len(path) == 1 else f"({tags})"


def _tuple(texts: Sequence[str]) -> str:
    return f"({texts[0]},)" if len(texts) == 1 else f"({', '.join(texts)})"


def _literal(value: str | int) -> str:
    return _hex_tag(value) if isinstance(value, int) else py_str(value)


def _number(value: int | float) -> str:
    return repr(value)


def _identifier(text: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper()
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "_" + name
    return name


# --- conditions ---------------------------------------------------------------------------


class _Imports:
    """The names a generated file uses, by the module they come from."""

    def __init__(self) -> None:
        self.names: dict[str, set[str]] = {}
        self.modules: dict[str, str] = {}  # alias -> module of dicompile.generated.requirements

    def use(self, module: str, name: str) -> str:
        self.names.setdefault(module, set()).add(name)
        return name

    def sibling(self, module: str, alias: str) -> str:
        self.modules[alias] = module
        return alias

    def lines(self) -> list[str]:
        """Import lines as ruff's isort orders them (modules, then constants, classes)."""
        out = [
            f"from {PACKAGE} import {module} as {alias}"
            for alias, module in sorted(self.modules.items(), key=lambda item: item[1])
        ]
        for module in sorted(self.names):
            names = sorted(self.names[module], key=_member_key)
            joined = ", ".join(names)
            line = f"from {module} import {joined}"
            if len(line) <= 100:
                out.append(line)
            else:
                out.append(f"from {module} import (")
                out.extend(f"    {n}," for n in names)
                out.append(")")
        return out


def _member_key(name: str) -> tuple[int, str, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then other names; case-insensitive."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return kind, name.lower(), name


def _expr(expr: Expr, imports: _Imports) -> str:
    use = imports.use
    m = RUNTIME_CONDITIONS
    if isinstance(expr, And | Or):
        kind = use(m, "And" if isinstance(expr, And) else "Or")
        return f"{kind}({_tuple([_expr(e, imports) for e in expr.operands])})"
    if isinstance(expr, Not):
        return f"{use(m, 'Not')}({_expr(expr.operand, imports)})"
    if isinstance(expr, Present | Absent | HasValue | Empty | PrivateTagValue):
        return f"{use(m, type(expr).__name__)}({_path(expr.path)})"
    if isinstance(expr, Equals):
        index = f", {expr.value_index}" if expr.value_index is not None else ""
        return f"{use(m, 'Equals')}({_path(expr.path)}, {_literal(expr.value)}{index})"
    if isinstance(expr, OneOf):
        index = f", {expr.value_index}" if expr.value_index is not None else ""
        values = _tuple([_literal(v) for v in expr.values])
        return f"{use(m, 'OneOf')}({_path(expr.path)}, {values}{index})"
    if isinstance(expr, Compare):
        index = f", {expr.value_index}" if expr.value_index is not None else ""
        op = use(m, expr.op.name)
        return f"{use(m, 'Compare')}({op}, {_path(expr.path)}, {_number(expr.value)}{index})"
    if isinstance(expr, LengthCompare):
        paths = _tuple([_path(p) for p in expr.paths])
        return f"{use(m, 'LengthCompare')}({use(m, expr.op.name)}, {paths}, {expr.length})"
    if isinstance(expr, IsUrnOrUrl):
        return f"{use(m, 'IsUrnOrUrl')}({_tuple([_path(p) for p in expr.paths])})"
    if isinstance(expr, CountCompare):
        op = use(m, expr.op.name)
        return f"{use(m, 'CountCompare')}({op}, {_path(expr.path)}, {expr.count})"
    if isinstance(expr, ContainsCode):
        code = use(m, "Code")
        codes = _tuple([f"{code}({py_str(c.value)}, {py_str(c.scheme)})" for c in expr.codes])
        return f"{use(m, 'ContainsCode')}({_path(expr.path)}, {codes})"
    if isinstance(expr, AmbiguousCode):
        paths = _tuple([_path(p) for p in expr.values])
        return f"{use(m, 'AmbiguousCode')}({_path(expr.designator)}, {paths})"
    if isinstance(expr, Undecidable):
        return f"{use(m, 'Undecidable')}({py_str(expr.text)}, {py_str(expr.reason.name)})"
    raise EmitError(f"no runtime form for condition node {expr!r}")


def condition_code(parsed: ParsedCondition, imports: _Imports) -> str:
    """The constructor call of the runtime's form of ``parsed``."""
    m = RUNTIME_CONDITIONS
    if isinstance(parsed, Unparsed):
        return f"{imports.use(m, 'Unparsed')}({py_str(parsed.text)}, {py_str(parsed.reason)})"
    args = [py_str(parsed.text)]
    args.append(_expr(parsed.required_if, imports) if parsed.required_if is not None else "None")
    if parsed.not_present_if is not None:
        args.append(f"not_present_if={_expr(parsed.not_present_if, imports)}")
    if parsed.may_be_present_if is not None:
        args.append(f"may_be_present_if={_expr(parsed.may_be_present_if, imports)}")
    if parsed.otherwise_may_be_present:
        args.append("otherwise_may_be_present=True")
    return f"{imports.use(m, 'Condition')}({', '.join(args)})"


@attrs.frozen
class _ConditionConst:
    name: str  # "C_1a2b3c"
    file: int  # index of conditions_<file>
    code: str  # the right-hand side
    imports: _Imports = attrs.field(eq=False)

    @property
    def module(self) -> str:
        return f"conditions_{self.file}"

    @property
    def alias(self) -> str:
        return f"c{self.file}"


class _Conditions:
    """Every condition used, by its code; named after a hash of that code."""

    def __init__(self) -> None:
        self.by_code: dict[str, _ConditionConst] = {}
        self.names: set[str] = set()

    def add(self, parsed: ParsedCondition) -> _ConditionConst:
        imports = _Imports()
        code = condition_code(parsed, imports)
        found = self.by_code.get(code)
        if found is not None:
            return found
        digest = _hash(code)
        size = 6
        while f"C_{digest[:size]}" in self.names:
            size += 1
        name = f"C_{digest[:size]}"
        self.names.add(name)
        const = _ConditionConst(name, int(digest[0], 16) * CONDITION_FILES // 16, code, imports)
        self.by_code[code] = const
        return const

    def ref(self, parsed: ParsedCondition, imports: _Imports) -> str:
        const = self.add(parsed)
        return f"{imports.sibling(const.module, const.alias)}.{const.name}"


# --- rules ----------------------------------------------------------------------------------


@attrs.frozen
class _Values:
    kind: str  # "ENUMERATED" / "DEFINED"
    terms: tuple[str, ...]
    index: int | None


@attrs.frozen
class _Rule:
    """A rule as it will be written; hashable, so that equal Item contents are shared."""

    tag: int
    mask: int
    keyword: str
    type: str
    vr: str
    vm: str
    condition: str | None  # condition code (the constant is looked up when writing)
    values: tuple[_Values, ...]
    items: str | None  # name of the Items constant
    min_items: int
    max_items: int | None
    include: str | None


@attrs.frozen
class _Items:
    rules: tuple[_Rule, ...]
    open: bool


@attrs.frozen
class _ItemsConst:
    name: str
    height: int
    spec: _Items


class _Dictionary:
    """VR, VM and keyword of a tag pattern from the data dictionary (PS3.6)."""

    def __init__(self, elements: Iterable[DataElementDef]) -> None:
        self.exact: dict[str, DataElementDef] = {}
        self.patterns: list[DataElementDef] = []
        for element in elements:
            self.exact.setdefault(element.tag.text, element)
            if element.tag.is_repeating:
                self.patterns.append(element)

    def entry(self, text: str, base: int) -> DataElementDef | None:
        found = self.exact.get(text)
        if found is not None:
            return found
        for pattern in self.patterns:
            if pattern.tag.matches(base):
                return found or pattern
        return None


def _item_bounds(description: str) -> tuple[int, int | None]:
    """(minimum, maximum) number of Items a Sequence's description states unconditionally."""
    if _TWO_OR_MORE.search(description):
        return 2, None
    if _ONE_OR_TWO.search(description):
        return 0, 2
    if _ONE_ITEM.search(description):
        return 0, 1
    return 0, None


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


class _Builder:
    """Turns the model's rules into :class:`_Rule` values, sharing equal Item contents."""

    def __init__(self, iods: IODModel, elements: Iterable[DataElementDef]) -> None:
        self.model: Part03Model = iods.model
        self.iods = iods
        self.dictionary = _Dictionary(elements)
        self.sections: dict[str, SectionNote] = {s.section_id: s for s in iods.model.sections}
        self.value_tables = {t.key: t.values for t in iods.model.value_tables}
        self.conditions = _Conditions()
        self.items: dict[_Items, _ItemsConst] = {}
        self.item_names: set[str] = set()
        self.condition_codes: dict[str, ParsedCondition] = {}

    def condition(self, parsed: ParsedCondition | None) -> str | None:
        if parsed is None:
            return None
        const = self.conditions.add(parsed)
        self.condition_codes[const.code] = parsed
        return const.code

    def value_lists(self, rule: AttributeRule, vr: str) -> tuple[_Values, ...]:
        binary = vr in _NUMERIC_VRS
        if binary and _BIT_FIELD.search(rule.description):
            return ()  # the values listed are those of single bits
        lists: list[ValueList] = list(rule.value_lists)
        name = _fold(rule.name)
        for ref in rule.references:
            section = self.sections.get(ref)
            if section is None or _fold(section.title) != name or not name:
                continue
            if binary and any(_BIT_FIELD.search(p) for p in section.paragraphs):
                return ()  # Region Flags (C.8.5.5.1.3): values of single bits
            lists.extend(self.section_lists(section))
            if any(_IN_ADDITION.search(p) for p in section.paragraphs):
                # "… shall be those specified in Section C.7.3.1.1.2, plus the following"
                bases = [
                    self.sections.get(f"sect_{label}")
                    for p in section.paragraphs
                    for label in _SECTION_REF.findall(p)
                ]
                if not bases or any(b is None for b in bases):
                    return ()  # the list it extends is not in the model: check none
                lists.extend(v for b in bases if b is not None for v in self.section_lists(b))
        out: list[_Values] = []
        for found in lists:
            terms = tuple(dict.fromkeys(self.term(t, vr) for t in found.values if t.strip()))
            if not terms:
                continue
            kind = "ENUMERATED" if found.kind is ValueListKind.ENUMERATED else "DEFINED"
            values = _Values(kind, terms, found.value_index)
            if values not in out:
                out.append(values)
        return tuple(out)

    def section_lists(self, section: SectionNote) -> list[ValueList]:
        tables = [self.value_tables[t] for t in section.tables if t in self.value_tables]
        return [*section.value_lists, *tables]

    @staticmethod
    def term(term: str, vr: str) -> str:
        term = term.strip()
        if vr in _NUMERIC_VRS:
            match = _HEX_TERM.fullmatch(term)
            if match:
                return str(int(match[1], 16))
        return term

    def rules(self, entries: Sequence[AttributeRule]) -> tuple[tuple[_Rule, ...], bool]:
        """The rules of one level (a table's top level or an Item) and whether it is open."""
        groups: dict[str, list[AttributeRule]] = {}
        open_level = False
        for rule in entries:
            if rule.tag is None:
                open_level = True
                continue
            groups.setdefault(rule.tag.text, []).append(rule)
        out = [self.rule(group) for group in groups.values()]
        return tuple(out), open_level

    def rule(self, group: list[AttributeRule]) -> _Rule:
        first = group[0]
        assert first.tag is not None
        tag = first.tag
        entry = self.dictionary.entry(tag.text, tag.base)
        vr, vm = (entry.vr, entry.vm) if entry is not None else ("", "")
        keyword = entry.keyword if entry is not None else ""
        children = [c for r in group for c in r.children if isinstance(c, AttributeRule)]
        items: str | None = None
        if children:
            rules, open_items = self.rules(children)
            items = self.intern(_Items(rules, open_items or len(group) > 1), keyword)
        agree = all((r.type, r.condition) == (first.type, first.condition) for r in group[1:])
        if agree:
            type_ = _TYPES.get(first.type, "T3") if first.type is not None else "T3"
            condition = self.condition(_parsed(first)) if first.type in _CONDITIONAL else None
        else:
            type_, condition = "T3", None
        values = self.value_lists(first, vr)
        if any(self.value_lists(r, vr) != values for r in group[1:]):
            values = ()
        low, high = _item_bounds(first.description) if vr == "SQ" or children else (0, None)
        include = None
        if agree and all(r.include_conditions for r in group):
            if len(group) == 1:
                include = self.condition(self.include(first.include_conditions))
            else:
                include = self.condition(self.any_include([r.include_conditions for r in group]))
        return _Rule(
            tag=tag.base,
            mask=tag.mask,
            keyword=keyword,
            type=type_,
            vr=vr,
            vm=vm,
            condition=condition,
            values=values,
            items=items,
            min_items=low,
            max_items=high,
            include=include,
        )

    def include(self, texts: tuple[str, ...]) -> ParsedCondition:
        """The conditions of nested includes as one: all must hold (PS3.3 §5.4)."""
        parts = [self.iods.condition(text) for text in texts]
        if len(parts) == 1 and parts[0] is not None:
            return parts[0]
        joined = " ".join(texts)
        required = [
            p.required_if for p in parts if isinstance(p, Condition) and p.required_if is not None
        ]
        if len(required) != len(parts):
            return Unparsed(joined, "an include condition was not parsed")
        return Condition(text=joined, required_if=And(tuple(required)))

    def any_include(self, alternatives: list[tuple[str, ...]]) -> ParsedCondition:
        """One rule reached through several includes applies where any of them holds."""
        parts = [self.include(texts) for texts in dict.fromkeys(alternatives)]
        if len(parts) == 1:
            return parts[0]
        required = [
            p.required_if for p in parts if isinstance(p, Condition) and p.required_if is not None
        ]
        joined = " Or: ".join(p.text for p in parts)
        if len(required) != len(parts):
            return Unparsed(joined, "an include condition was not parsed")
        return Condition(text=joined, required_if=Or(tuple(required)))

    def intern(self, spec: _Items, keyword: str) -> str:
        found = self.items.get(spec)
        if found is not None:
            return found.name
        digest = _hash(repr(spec))
        stem = keyword or "Item"
        size = 6
        while f"{stem}_{digest[:size]}" in self.item_names:
            size += 1
        name = f"{stem}_{digest[:size]}"
        self.item_names.add(name)
        heights = [self.height_of(r.items) for r in spec.rules if r.items is not None]
        height = 1 + max(heights) if heights else 0
        self.items[spec] = _ItemsConst(name, height, spec)
        return name

    def height_of(self, name: str) -> int:
        for const in self.items.values():
            if const.name == name:
                return const.height
        raise EmitError(f"unknown Items {name}")


_CONDITIONAL = (AttributeType.T1C, AttributeType.T2C)


def _parsed(rule: AttributeRule) -> ParsedCondition:
    """The parse of a 1C/2C rule; a rule without condition text counts as unparsed."""
    parsed = rule.parsed_condition
    if isinstance(parsed, Condition | Unparsed):
        return parsed
    return Unparsed(
        rule.condition, f"Type {rule.type.value if rule.type else ''} without a condition"
    )


# --- writing --------------------------------------------------------------------------------


@attrs.frozen
class _Writer:
    """Writes rule rows, resolving condition codes and Items names to references."""

    builder: _Builder
    item_modules: Mapping[str, tuple[str, str]]  # Items name -> (module, alias)

    def rule_line(self, rule: _Rule, imports: _Imports, indent: str, home: str = "") -> str:
        t = RUNTIME_TABLES
        args = [_hex_tag(rule.tag), imports.use(t, rule.type)]
        keywords: list[str] = []
        if rule.vr or rule.vm:
            args += [py_str(rule.vr), py_str(rule.vm)]
        if rule.condition is not None:
            parsed = self.builder.condition_codes[rule.condition]
            keywords.append(f"condition={self.builder.conditions.ref(parsed, imports)}")
        if rule.values:
            values = [
                f"{imports.use(t, 'Values')}({imports.use(t, v.kind)}, "
                f"{_tuple([py_str(x) for x in v.terms])}"
                + (f", {v.index})" if v.index is not None else ")")
                for v in rule.values
            ]
            keywords.append(f"values={_tuple(values)}")
        if rule.items is not None:
            module, alias = self.item_modules[rule.items]
            ref = rule.items if module == home else f"{imports.sibling(module, alias)}.{rule.items}"
            keywords.append(f"items={ref}")
        if rule.min_items:
            keywords.append(f"min_items={rule.min_items}")
        if rule.max_items is not None:
            keywords.append(f"max_items={rule.max_items}")
        if rule.include is not None:
            parsed = self.builder.condition_codes[rule.include]
            keywords.append(f"include={self.builder.conditions.ref(parsed, imports)}")
        if rule.mask != 0xFFFFFFFF:
            keywords.append(f"mask={_hex_tag(rule.mask)}")
        comment = f"  # {rule.keyword}" if rule.keyword else ""
        return f"{indent}{imports.use(t, 'Rule')}({', '.join(args + keywords)}),{comment}"


def _module_text(
    head: str, docstring: str, imports: _Imports, body: list[str], final: bool = True
) -> str:
    lines = [head, f'"""{docstring}"""', "", "from __future__ import annotations", ""]
    if final:
        lines += ["from typing import Final", ""]
    import_lines = imports.lines()
    if import_lines:
        lines += [*import_lines, ""]
    lines += ["# fmt: off", *body, "# fmt: on", ""]
    return "\n".join(lines)


def _cite(provenance: Provenance) -> str:
    return f"{provenance.part} {provenance.edition} {provenance.table_id}"


def _table_number(key: str) -> tuple[list[str], int]:
    """``table_C.8.2.2-1`` → (["c", "8", "2", "2"], 1); a table number that is not a number
    (``table_10-20a``) counts by its digits."""
    number, _, ordinal = key.removeprefix("table_").removeprefix("PS3.3_").partition("-")
    digits = "".join(c for c in ordinal if c.isdigit())
    return [c.lower() for c in number.split(".")], int(digits) if digits else 0


def _table_groups(
    tables: Sequence[AttributeTable], sizes: Mapping[str, int]
) -> list[tuple[str, list[AttributeTable]]]:
    """Tables by file: by PS3.3 section (``tables_c_7``, ``tables_10``), one level deeper for
    a section with more than :data:`TABLE_RULES_PER_FILE` top-level rules (``tables_c_8_25``),
    and the tables of such a section's own level by table number (``tables_c_8_t100``)."""

    def total(group: Sequence[AttributeTable]) -> int:
        return sum(sizes[t.key] for t in group)

    def name(parts: Sequence[str]) -> str:
        return "tables_" + "_".join(parts)

    first: dict[str, list[AttributeTable]] = {}
    for table in tables:
        parts, _ = _table_number(table.key)
        depth = 2 if parts[0].isalpha() else 1
        first.setdefault(name(parts[:depth]), []).append(table)
    out: list[tuple[str, list[AttributeTable]]] = []
    for module, group in sorted(first.items()):
        if total(group) <= TABLE_RULES_PER_FILE:
            out.append((module, group))
            continue
        deeper: dict[str, list[AttributeTable]] = {}
        for table in group:
            parts, ordinal = _table_number(table.key)
            depth = 2 if parts[0].isalpha() else 1
            if len(parts) > depth:
                deeper.setdefault(name(parts[: depth + 1]), []).append(table)
            else:
                bucket = ordinal // TABLE_NUMBER_BUCKET * TABLE_NUMBER_BUCKET
                deeper.setdefault(f"{module}_t{bucket:03d}", []).append(table)
        out += sorted(deeper.items())
    return out


def _table_const(key: str) -> str:
    return "T_" + _identifier(key.removeprefix("table_"))


def _iod_const(key: str) -> str:
    return "IOD_" + _identifier(key.removeprefix("table_").removeprefix("PS3.3_"))


def _iod_file(key: str) -> str:
    number = key.removeprefix("table_").removeprefix("PS3.3_").split("-")[0]
    parts = number.split(".")
    annex = parts[0].lower()
    try:
        section = int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        section = 0
    return f"iods_{annex}_{section // IOD_GROUP * IOD_GROUP:02d}"


def emit_requirements(iods: IODModel, model: StandardModel) -> list[GeneratedFile]:
    """Render ``generated/requirements/`` from the PS3.3 build and the data dictionary.

    References
    ----------
    PS3.3 Annex A, Annex C, Chapter 10; PS3.5 §7.4; PS3.6 §6.
    """
    builder = _Builder(iods, model.data_elements)
    part03 = iods.model
    tables: tuple[AttributeTable, ...] = tuple(
        sorted((*part03.modules, *part03.macros), key=lambda t: t.key)
    )
    top = {t.key: builder.rules(t.expanded if t.expanded is not None else ()) for t in tables}
    iod_list = sorted(part03.iods, key=lambda i: i.key)
    for iod in iod_list:
        for use in iod.modules:
            builder.condition(use.parsed_condition)
        for fg in iod.functional_groups:
            builder.condition(fg.parsed_condition)
    item_files = _group_items(builder)
    writer = _Writer(
        builder,
        {c.name: (module, alias) for module, (alias, consts) in item_files.items() for c in consts},
    )
    files = _item_files(writer, item_files, iods.sources)
    table_files, table_index = _table_files(writer, tables, top, iods.sources)
    iod_files, iod_index = _iod_files(builder, iod_list, iods.sources)
    files += table_files + iod_files + _condition_files(builder, iods.sources)
    files.append(_index_file(iods, table_index, iod_index, sorted(item_files)))
    files.sort(key=lambda f: f.path)
    return files


def _group_items(builder: _Builder) -> dict[str, tuple[str, list[_ItemsConst]]]:
    """Items by module (``items_h<height>[_<k>]``), with the alias the other files use."""
    by_height: dict[int, list[_ItemsConst]] = {}
    for const in builder.items.values():
        by_height.setdefault(const.height, []).append(const)
    out: dict[str, tuple[str, list[_ItemsConst]]] = {}
    for height, consts in sorted(by_height.items()):
        lines = sum(len(c.spec.rules) + 2 for c in consts)
        parts = max(1, -(-lines // ITEM_LINES_PER_FILE))
        for const in sorted(consts, key=lambda c: c.name):
            k = int(_hash(const.name)[0], 16) * parts // 16
            suffix = f"_{k}" if parts > 1 else ""
            module, alias = f"items_h{height}{suffix}", f"i{height}{suffix}"
            out.setdefault(module, (alias, []))[1].append(const)
    return out


def _shared_header(sources: Sequence[SourceDigest]) -> str:
    """The header of a file shared by every table (conditions, Items): files, not tables."""
    lines = ["# Generated by dicompile.generator from the PS3.3 tables of:"]
    lines += [
        f"#   {d.part} {d.edition} ({d.source_file} sha256 {d.sha256})"
        for d in sources
        if d.part == "PS3.3"
    ]
    lines.append(f"# {REGENERATE}")
    return "\n".join(lines)


def _item_files(
    writer: _Writer,
    item_files: Mapping[str, tuple[str, list[_ItemsConst]]],
    sources: Sequence[SourceDigest],
) -> list[GeneratedFile]:
    files = []
    for module, (_, consts) in sorted(item_files.items()):
        imports = _Imports()
        body: list[str] = []
        for const in consts:
            body.append(f"{const.name}: Final = {imports.use(RUNTIME_TABLES, 'Items')}((")
            body += [writer.rule_line(r, imports, "    ", module) for r in const.spec.rules]
            body.append("), open=True)" if const.spec.open else "))")
        docstring = "Rules of Sequence Items, shared by the module and macro tables (PS3.3 §5)."
        text = _module_text(_shared_header(sources), docstring, imports, body)
        files.append(GeneratedFile(f"{FOLDER}{module}.py", text))
    return files


def _table_files(
    writer: _Writer,
    tables: Sequence[AttributeTable],
    top: Mapping[str, tuple[tuple[_Rule, ...], bool]],
    sources: Sequence[SourceDigest],
) -> tuple[list[GeneratedFile], dict[str, tuple[str, str]]]:
    by_module: dict[str, list[AttributeTable]] = {}
    for module, group in _table_groups(tables, {k: len(v[0]) for k, v in top.items()}):
        by_module.setdefault(module, []).extend(group)
    index: dict[str, tuple[str, str]] = {}
    files = []
    for module, group in sorted(by_module.items()):
        imports = _Imports()
        body: list[str] = []
        provenances: list[Provenance] = []
        for table in group:
            rules, open_table = top[table.key]
            const = _table_const(table.key)
            index[table.key] = (module, const)
            provenances.append(table.provenance)
            provenances += [r.provenance for r in (table.expanded or ())]
            body.append(
                f"{const}: Final = {imports.use(RUNTIME_TABLES, 'AttributeTable')}("
                f"{py_str(table.key)}, {py_str(table.name)}, {py_str(table.section)}, "
                f"{isinstance(table, MacroDef)}, {py_str(_cite(table.provenance))}, ("
            )
            body += [writer.rule_line(r, imports, "    ", module) for r in rules]
            body.append("), open=True)" if open_table else "))")
        docstring = (
            f"Module and macro attribute tables of PS3.3 {_section_label(module)}"
            " (PS3.3 §5, Annex C, Chapter 10)."
        )
        text = _module_text(header(sources_used(sources, provenances)), docstring, imports, body)
        files.append(GeneratedFile(f"{FOLDER}{module}.py", text))
    return files, index


def _iod_files(
    builder: _Builder, iod_list: Sequence[IODDef], sources: Sequence[SourceDigest]
) -> tuple[list[GeneratedFile], dict[str, tuple[str, str]]]:
    by_module: dict[str, list[IODDef]] = {}
    for iod in iod_list:
        by_module.setdefault(_iod_file(iod.key), []).append(iod)
    index: dict[str, tuple[str, str]] = {}
    files = []
    for module, group in sorted(by_module.items()):
        imports = _Imports()
        body: list[str] = []
        provenances: list[Provenance] = []
        for iod in group:
            const = _iod_const(iod.key)
            index[iod.key] = (module, const)
            provenances.append(iod.provenance)
            provenances += [u.provenance for u in iod.modules]
            provenances += [u.provenance for u in iod.functional_groups]
            body += _iod_lines(iod, const, imports, builder)
        docstring = "Composite IODs of PS3.3 Annex A: modules with usage, functional groups."
        text = _module_text(header(sources_used(sources, provenances)), docstring, imports, body)
        files.append(GeneratedFile(f"{FOLDER}{module}.py", text))
    return files, index


def _condition_files(builder: _Builder, sources: Sequence[SourceDigest]) -> list[GeneratedFile]:
    by_file: dict[int, list[_ConditionConst]] = {}
    for condition in builder.conditions.by_code.values():
        by_file.setdefault(condition.file, []).append(condition)
    files = []
    for number in range(CONDITION_FILES):
        imports = _Imports()
        body: list[str] = []
        for condition in sorted(by_file.get(number, []), key=lambda c: c.name):
            for module, names in condition.imports.names.items():
                for name in names:
                    imports.use(module, name)
            body.append(f"{condition.name}: Final = {condition.code}")
        docstring = (
            "Parsed conditions of Type 1C/2C attributes and of usage C modules and functional"
            " groups (PS3.3 §5.4, PS3.5 §7.4)."
        )
        text = _module_text(_shared_header(sources), docstring, imports, body)
        files.append(GeneratedFile(f"{FOLDER}conditions_{number}.py", text))
    return files


def _section_label(module: str) -> str:
    parts = module.removeprefix("tables_").split("_")
    return ".".join(p.upper() if p.isalpha() else p for p in parts)


def _iod_lines(iod: IODDef, const: str, imports: _Imports, builder: _Builder) -> list[str]:
    t = RUNTIME_TABLES
    lines = [
        f"{const}: Final = {imports.use(t, 'IOD')}({py_str(iod.key)}, {py_str(iod.name)}, "
        f"{py_str(iod.section)}, {py_str(_cite(iod.provenance))}, ("
    ]
    for use in iod.modules:
        args = [py_str(use.ie), py_str(use.module), f"{imports.use(t, 'Usage')}.{use.usage.value}"]
        if use.usage is Usage.CONDITIONAL and use.parsed_condition is not None:
            args.append(builder.conditions.ref(use.parsed_condition, imports))
        lines.append(f"    {imports.use(t, 'ModuleUse')}({', '.join(args)}),")
    if not iod.functional_groups:
        lines.append("))")
        return lines
    lines.append("), (")
    for fg in iod.functional_groups:
        args = [py_str(fg.macro), f"{imports.use(t, 'Usage')}.{fg.usage.value}"]
        if fg.usage is Usage.CONDITIONAL and fg.parsed_condition is not None:
            args.append(builder.conditions.ref(fg.parsed_condition, imports))
        if _NOT_SHARED.search(fg.condition):
            args.append("shared=False")
        lines.append(f"    {imports.use(t, 'FunctionalGroupUse')}({', '.join(args)}),")
    table = iod.functional_groups_table or iod.key
    lines.append(f"), {py_str(f'{iod.provenance.part} {iod.provenance.edition} {table}')})")
    return lines


def _index_file(
    iods: IODModel,
    table_index: Mapping[str, tuple[str, str]],
    iod_index: Mapping[str, tuple[str, str]],
    item_modules: Sequence[str],
) -> GeneratedFile:
    modules = sorted(
        {m for m, _ in table_index.values()}
        | {m for m, _ in iod_index.values()}
        | set(item_modules)
        | {f"conditions_{n}" for n in range(CONDITION_FILES)}
    )
    return render(
        "requirements_init.py.j2",
        f"{FOLDER}__init__.py",
        header=header(iods.sources),
        edition=iods.model.edition,
        tables=sorted(table_index.items()),
        iods=sorted(iod_index.items()),
        sop_classes=[(s.uid, s.iod, s.name) for s in iods.sop_classes],
        modules=modules,
    )
