"""Records of the generated requirement tables (``generated/requirements``) the validator runs.

Theory of operation
-------------------
* An :class:`IOD` lists its :class:`ModuleUse` rows (usage M/C/U with the parsed condition of
  a "C") and, for an enhanced multi-frame IOD, its :class:`FunctionalGroupUse` rows.  Modules
  and macros are :class:`AttributeTable` values keyed by their PS3.3 table id, each a tuple of
  :class:`Rule` values: one per attribute, with the rules of a Sequence's Items as
  :class:`Items` (shared between tables that include the same macro).
* Everything is plain frozen data built by constructor calls, so the generated modules import
  fast and type-check fast; they import this module, never the reverse
  (:mod:`dicompile.runtime.validate.registry` finds them lazily).

References
----------
PS3.3 §5 (attribute tables, types, ``>`` nesting), §7 and Annex A (IOD module tables, usage),
§C.7.6.16 (functional groups); PS3.5 §7.4 (Data Element Types).
"""

from __future__ import annotations

import enum

import attrs

from dicompile.runtime.validate.conditions import ParsedCondition


class AttrType(enum.Enum):
    """Data Element Type of an attribute in a module or macro (PS3.5 §7.4)."""

    T1 = "1"
    T1C = "1C"
    T2 = "2"
    T2C = "2C"
    T3 = "3"


T1, T1C, T2, T2C, T3 = AttrType.T1, AttrType.T1C, AttrType.T2, AttrType.T2C, AttrType.T3


class Usage(enum.Enum):
    """Usage of a module or functional group in an IOD (PS3.3 §A.1.3)."""

    M = "M"
    C = "C"
    U = "U"


M, C, U = Usage.M, Usage.C, Usage.U


class ValuesKind(enum.Enum):
    """Enumerated Values (closed: another value is an error) or Defined Terms (open)."""

    ENUMERATED = "Enumerated Values"
    DEFINED = "Defined Terms"


ENUMERATED, DEFINED = ValuesKind.ENUMERATED, ValuesKind.DEFINED


@attrs.frozen(slots=True)
class Values:
    """Enumerated Values or Defined Terms, of every value or of value ``index`` (1-based)."""

    kind: ValuesKind
    terms: tuple[str, ...]
    index: int | None = None


@attrs.frozen(slots=True)
class Items:
    """The rules of the Items of a Sequence.

    ``open``: the Item may hold attributes the rules do not list (an "Any Attribute …" row, or
    an Item whose content the standard defines elsewhere).
    """

    rules: tuple[Rule, ...]
    open: bool = False


@attrs.frozen(slots=True)
class Rule:
    """One attribute of a module or macro.

    ``vr`` and ``vm`` are the data dictionary's (PS3.6), ``""`` where it gives none.
    ``condition`` is the parse of a 1C/2C condition; ``include`` the parse of the condition of
    the "Include …" row the rule came through (the rule applies only where it holds).
    ``min_items``/``max_items`` bound the number of Items of a Sequence where the description
    states it ("Only a single Item shall be included", "One or more Items").  ``mask`` is not
    0xFFFFFFFF for a repeating group ((60xx,3000) has base 0x60003000, mask 0xFF00FFFF).
    """

    tag: int
    type: AttrType
    vr: str = ""
    vm: str = ""
    condition: ParsedCondition | None = None
    values: tuple[Values, ...] = ()
    items: Items | None = None
    min_items: int = 0
    max_items: int | None = None
    include: ParsedCondition | None = None
    mask: int = 0xFFFFFFFF


@attrs.frozen(slots=True)
class AttributeTable:
    """A module (PS3.3 Annex C) or macro (Chapter 10, §C.7.6.16.2, …) table.

    ``source`` cites it: ``"PS3.3 2020 table_C.8-3"``.  ``open``: some row stands for
    attributes it does not name.
    """

    key: str
    name: str
    section: str
    macro: bool
    source: str
    rules: tuple[Rule, ...]
    open: bool = False


@attrs.frozen(slots=True)
class ModuleUse:
    """A row of an IOD module table: information entity, module key, usage, condition."""

    ie: str
    module: str
    usage: Usage
    condition: ParsedCondition | None = None


@attrs.frozen(slots=True)
class FunctionalGroupUse:
    """A row of an enhanced IOD's functional group macro table (PS3.3 A.x-2).

    ``shared`` is ``False`` for a macro that "may not be used as a Shared Functional Group".
    """

    macro: str
    usage: Usage
    condition: ParsedCondition | None = None
    shared: bool = True


@attrs.frozen(slots=True)
class IOD:
    """A composite IOD (PS3.3 Annex A)."""

    key: str
    name: str
    section: str
    source: str
    modules: tuple[ModuleUse, ...]
    functional_groups: tuple[FunctionalGroupUse, ...] = ()
    functional_groups_source: str = ""
