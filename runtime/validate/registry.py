"""Lazy access to the generated requirement tables, compiled once per IOD for fast checks.

The runtime stays importable while ``dicompile.generated`` is regenerated (DESIGN.md): nothing
here imports a generated module at import time.  :class:`Requirements` reads the index of
``dicompile.generated.requirements`` on first use and imports a table's module only when a
Data Set needs it.  What the validator runs per Data Set is a :class:`CompiledIOD`: its
modules' tables resolved, the tags of each level indexed, and the set of attributes the IOD
allows, computed once per IOD and kept.

References
----------
PS3.3 Annex A (IOD module tables), Annex C; PS3.4 B.5 (SOP Class → IOD).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Final

import attrs

from dicompile.runtime.errors import ValidationError
from dicompile.runtime.validate.tables import (
    IOD,
    AttributeTable,
    AttrType,
    FunctionalGroupUse,
    Items,
    ModuleUse,
    Rule,
)

PACKAGE: Final = "dicompile.generated.requirements"
FULL_MASK: Final = 0xFFFFFFFF


@attrs.frozen(slots=True)
class Level:
    """The rules of one level (a table's top level or a Sequence's Items), indexed by tag."""

    exact: Mapping[int, Rule]
    masked: tuple[Rule, ...]  # repeating groups, (60xx,3000) and the like
    open: bool
    masked_groups: frozenset[tuple[int, int]] = frozenset()  # (group mask, group base)

    def rule_for(self, tag: int) -> Rule | None:
        """The rule for ``tag`` at this level, if any (exact tags before repeating groups)."""
        found = self.exact.get(tag)
        if found is not None:
            return found
        for rule in self.masked:
            if tag & rule.mask == rule.tag:
                return rule
        return None

    def allows(self, tag: int) -> bool:
        return self.open or self.rule_for(tag) is not None


def compile_level(rules: tuple[Rule, ...], open_level: bool) -> Level:
    """A :class:`Level` of ``rules``."""
    masked = tuple(r for r in rules if r.mask != FULL_MASK)
    return Level(
        exact={r.tag: r for r in rules if r.mask == FULL_MASK},
        masked=masked,
        open=open_level,
        masked_groups=frozenset((r.mask >> 16, r.tag >> 16) for r in masked),
    )


@attrs.frozen(slots=True)
class CompiledModule:
    """A module use of an IOD with its table compiled.

    ``own`` are the tags by which the module is recognised as present: those no other module
    of the IOD lists (all of its tags when it has none of its own).  ``required_rules`` is true
    when the module has unconditional Type 1 or 2 attributes (a Mandatory module without any
    of its attributes is then missing).
    """

    use: ModuleUse
    table: AttributeTable
    level: Level
    own: Level
    required_rules: bool


@attrs.frozen(slots=True)
class CompiledGroup:
    """A functional group macro of an enhanced IOD, compiled."""

    use: FunctionalGroupUse
    table: AttributeTable
    level: Level


@attrs.frozen(slots=True)
class CompiledIOD:
    """An IOD ready to run: modules, functional groups, the attributes it allows."""

    iod: IOD
    modules: tuple[CompiledModule, ...]
    groups: tuple[CompiledGroup, ...]
    allowed: Level  # every top-level attribute of any module of the IOD
    group_allowed: Level  # every top-level attribute of any functional group macro


class Requirements:
    """The generated requirement tables, imported on first use, compiled per IOD.

    Parameters
    ----------
    package
        The generated package (tests may point to another).
    """

    def __init__(self, package: str = PACKAGE) -> None:
        self._package = package
        self._index: ModuleType | None = None
        self._compiled: dict[str, CompiledIOD] = {}
        # id(Items) -> (the Items, kept alive so that the id is never reused; its Level)
        self._levels: dict[int, tuple[Items, Level]] = {}

    def _load(self) -> ModuleType:
        if self._index is None:
            try:
                self._index = importlib.import_module(self._package)
            except ImportError as exc:
                raise ValidationError(
                    f"the generated requirement tables ({self._package}) cannot be imported:"
                    f" {exc}; run 'dicompile generate'"
                ) from exc
        return self._index

    def _mapping(self, name: str) -> Mapping[str, object]:
        found = getattr(self._load(), name, None)
        if not isinstance(found, Mapping):
            raise ValidationError(f"{self._package}.{name} is missing; regenerate")
        return found

    def _constant(self, where: object) -> object:
        if not (isinstance(where, tuple) and len(where) == 2):
            raise ValidationError(f"bad index entry {where!r} in {self._package}")
        module = importlib.import_module(f"{self._package}.{where[0]}")
        return getattr(module, str(where[1]))

    @property
    def edition(self) -> str:
        """The PS3.3 edition the tables were generated from."""
        return str(getattr(self._load(), "EDITION", ""))

    def sop_classes(self) -> Mapping[str, str]:
        """Storage SOP Class UID → IOD table id (PS3.4 Table B.5-1)."""
        return {str(k): str(v) for k, v in self._mapping("SOP_CLASSES").items()}

    def iod_keys(self) -> tuple[str, ...]:
        return tuple(sorted(str(k) for k in self._mapping("IODS")))

    def table_keys(self) -> tuple[str, ...]:
        return tuple(sorted(str(k) for k in self._mapping("TABLES")))

    def modules(self) -> tuple[str, ...]:
        """Every module of the generated package (for audits)."""
        found = getattr(self._load(), "MODULES", ())
        return tuple(str(m) for m in found)

    def iod_for_sop_class(self, uid: str) -> IOD | None:
        """The IOD a Storage SOP Class instantiates, or ``None`` when the tables know none."""
        key = self._mapping("SOP_CLASSES").get(uid)
        return None if key is None else self.iod(str(key))

    def iod(self, key: str) -> IOD:
        """The IOD of table id ``key`` (``"table_A.3-1"``); :class:`KeyError` when unknown."""
        found = self._constant(self._mapping("IODS")[key])
        if not isinstance(found, IOD):
            raise ValidationError(f"{key} is not an IOD in {self._package}")
        return found

    def table(self, key: str) -> AttributeTable:
        """The module or macro table ``key``; :class:`KeyError` when unknown."""
        found = self._constant(self._mapping("TABLES")[key])
        if not isinstance(found, AttributeTable):
            raise ValidationError(f"{key} is not an attribute table in {self._package}")
        return found

    def level(self, items: Items) -> Level:
        """The compiled level of a Sequence's Items (cached by identity: Items are shared)."""
        found = self._levels.get(id(items))
        if found is None:
            found = self._levels[id(items)] = (items, compile_level(items.rules, items.open))
        return found[1]

    def compiled(self, iod: IOD) -> CompiledIOD:
        """``iod`` ready to run (compiled on first use, then cached)."""
        found = self._compiled.get(iod.key)
        if found is None:
            found = self._compiled[iod.key] = self._compile(iod)
        return found

    def _compile(self, iod: IOD) -> CompiledIOD:
        tables = [(use, self.table(use.module)) for use in iod.modules]
        levels = [compile_level(t.rules, t.open) for _, t in tables]
        modules = []
        for i, ((use, table), level) in enumerate(zip(tables, levels, strict=True)):
            others = {tag for j, lv in enumerate(levels) if j != i for tag in lv.exact}
            own = tuple(r for r in table.rules if r.tag not in others) or table.rules
            required = any(
                r.type in (AttrType.T1, AttrType.T2) and r.include is None for r in table.rules
            )
            modules.append(CompiledModule(use, table, level, compile_level(own, False), required))
        everything = tuple(r for _, t in tables for r in t.rules)
        groups = tuple(
            CompiledGroup(use, table, compile_level(table.rules, table.open))
            for use in iod.functional_groups
            for table in (self.table(use.macro),)
        )
        group_rules = tuple(r for g in groups for r in g.table.rules)
        return CompiledIOD(
            iod=iod,
            modules=tuple(modules),
            groups=groups,
            allowed=compile_level(everything, any(t.open for _, t in tables)),
            group_allowed=compile_level(group_rules, False),
        )


DEFAULT_REQUIREMENTS: Final = Requirements()
