"""How much of PS3.3 the committed requirement tables hold, and how much of it is checkable.

Everything is counted from ``dicompile.generated.requirements`` itself (no ../shared needed):
IODs, modules, macros, attribute rules (as written, and after expanding every shared Item at
each place it is used), Storage SOP Classes, and the conditions: each distinct condition once
(checkable, not decidable from a Data Set, unparsed) and each place a condition guards a rule
or a usage.  Unparsed sentences are grouped by shape (tags, values and numbers abstracted) so
the most common gaps of the parser stand out.  Counts are also given per source edition (the
edition of the table a rule or usage is in).

References
----------
PS3.3 §5.4 (usage "C"), PS3.5 §7.4 (Types 1C/2C); DESIGN.md ("Conditions": the coverage audit).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Final

import attrs

from dicompile.runtime.validate.conditions import (
    AmbiguousCode,
    Condition,
    Decidability,
    ParsedCondition,
    Unparsed,
    walk,
)
from dicompile.runtime.validate.registry import DEFAULT_REQUIREMENTS, Requirements
from dicompile.runtime.validate.tables import IOD, AttributeTable, Items, Rule

_SHAPES: Final = (
    (re.compile(r"\(\s*[0-9A-Fa-fxX]{4}\s*,\s*[0-9A-Fa-fxX]{4}\s*\)"), "<tag>"),
    (re.compile(r"\"[^\"]*\"|“[^”]*”"), "<value>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "<n>"),
    (re.compile(r"\b[A-Z][A-Z0-9_]+\b(?:\s*(?:,|or|and)\s*\b[A-Z][A-Z0-9_]+\b)*"), "<VALUE>"),
)


#: Checkable leaves that are decided by a rule the standard states in prose rather than by
#: the condition's own words; counted apart so an auditor sees how much rests on each.
_PROSE_RULES: Final = (
    (
        AmbiguousCode,
        "PS3.3 §8.2: a Coding Scheme Designator identifies its scheme as a whole, so it is"
        " insufficient only where the instance gives the same code two or more versions",
    ),
)


def prose_rules(condition: ParsedCondition) -> tuple[str, ...]:
    """The prose rules (see ``_PROSE_RULES``) a checkable condition is decided by."""
    if not isinstance(condition, Condition):
        return ()
    nodes = [node for e in condition.expressions() for node in walk(e)]
    return tuple(text for kind, text in _PROSE_RULES if any(isinstance(n, kind) for n in nodes))


def shape(text: str) -> str:
    """``text`` with tags, quoted values, numbers and upper-case values abstracted."""
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()) or "(a Type 1C/2C row without condition text)"


@attrs.frozen
class ConditionCounts:
    """Counts of conditions by class (issue #4's three classes)."""

    checkable: int = 0
    undecidable: int = 0
    unparsed: int = 0

    @property
    def total(self) -> int:
        return self.checkable + self.undecidable + self.unparsed

    def add(self, condition: ParsedCondition, count: int = 1) -> ConditionCounts:
        kind = condition.decidability
        return ConditionCounts(
            self.checkable + (count if kind is Decidability.CHECKABLE else 0),
            self.undecidable + (count if kind is Decidability.UNDECIDABLE else 0),
            self.unparsed + (count if kind is Decidability.UNPARSED else 0),
        )

    def as_json(self) -> dict[str, int]:
        return {
            "total": self.total,
            "checkable": self.checkable,
            "undecidable": self.undecidable,
            "unparsed": self.unparsed,
        }


@attrs.frozen
class EditionCounts:
    """What one source edition contributes."""

    iods: int
    modules: int
    macros: int
    rules: int  # every rule of its tables, shared Items counted where used
    conditions: ConditionCounts  # distinct conditions used by its tables and IODs

    def as_json(self) -> dict[str, object]:
        return {
            "iods": self.iods,
            "modules": self.modules,
            "macros": self.macros,
            "attribute_rules": self.rules,
            "conditions": self.conditions.as_json(),
        }


@attrs.frozen
class Coverage:
    """The coverage audit of the requirement tables."""

    edition: str
    iods: int
    modules: int
    macros: int
    sop_classes: int
    rules: int  # rule rows as generated (tables and shared Items, each once)
    rules_expanded: int  # every rule at every place it applies (Items counted per use)
    conditions: ConditionCounts  # distinct conditions
    guarded: ConditionCounts  # each conditional rule (expanded) and conditional usage
    unparsed_shapes: tuple[tuple[str, int], ...]  # most common first
    by_prose_rule: tuple[tuple[str, int], ...]  # checkable guards decided by a prose rule
    per_edition: tuple[tuple[str, EditionCounts], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "edition": self.edition,
            "iods": self.iods,
            "modules": self.modules,
            "macros": self.macros,
            "sop_classes": self.sop_classes,
            "attribute_rules": self.rules,
            "attribute_rules_expanded": self.rules_expanded,
            "conditions": self.conditions.as_json(),
            "conditional_rules_and_usages": self.guarded.as_json(),
            "unparsed_shapes": [[s, n] for s, n in self.unparsed_shapes],
            "checkable_by_prose_rule": dict(self.by_prose_rule),
            "per_edition": {e: c.as_json() for e, c in self.per_edition},
        }


def _edition(source: str) -> str:
    """``"PS3.3 2020 table_C.8-3"`` → ``"2020"``."""
    parts = source.split()
    return parts[1] if len(parts) > 2 else ""


class _Walker:
    def __init__(self, requirements: Requirements) -> None:
        self.requirements = requirements

    def rules(self, rules: tuple[Rule, ...]) -> Iterator[Rule]:
        """Every rule of ``rules`` and of their Items, Items expanded at each use."""
        for rule in rules:
            yield rule
            if rule.items is not None:
                yield from self.rules(rule.items.rules)

    def items(self, rules: tuple[Rule, ...]) -> Iterator[Items]:
        for rule in rules:
            if rule.items is not None:
                yield rule.items
                yield from self.items(rule.items.rules)


def audit(requirements: Requirements = DEFAULT_REQUIREMENTS, top: int = 15) -> Coverage:
    """Count the requirement tables (see the module docstring).

    References
    ----------
    PS3.3 §5.4; PS3.5 §7.4.
    """
    tables = [requirements.table(key) for key in requirements.table_keys()]
    iods = [requirements.iod(key) for key in requirements.iod_keys()]
    walker = _Walker(requirements)
    distinct: dict[int, ParsedCondition] = {}
    by_edition: dict[str, dict[int, ParsedCondition]] = {}
    guarded = ConditionCounts()
    rules_expanded = 0
    items: dict[int, Items] = {}
    shapes: Counter[str] = Counter()
    ruled: Counter[str] = Counter()
    for table in tables:
        edition = _edition(table.source)
        for found in walker.items(table.rules):
            items[id(found)] = found
        for rule in walker.rules(table.rules):
            rules_expanded += 1
            for condition in (rule.condition, rule.include):
                if condition is None:
                    continue
                distinct[id(condition)] = condition
                by_edition.setdefault(edition, {})[id(condition)] = condition
                guarded = guarded.add(condition)
                ruled.update(prose_rules(condition))
                if isinstance(condition, Unparsed):
                    shapes[shape(condition.text)] += 1
    for iod in iods:
        edition = _edition(iod.source)
        uses = [u.condition for u in iod.modules] + [g.condition for g in iod.functional_groups]
        for condition in uses:
            if condition is None:
                continue
            distinct[id(condition)] = condition
            by_edition.setdefault(edition, {})[id(condition)] = condition
            guarded = guarded.add(condition)
            ruled.update(prose_rules(condition))
            if isinstance(condition, Unparsed):
                shapes[shape(condition.text)] += 1
    conditions = ConditionCounts()
    for condition in distinct.values():
        conditions = conditions.add(condition)
    rules = sum(len(t.rules) for t in tables) + sum(len(i.rules) for i in items.values())
    return Coverage(
        edition=requirements.edition,
        iods=len(iods),
        modules=sum(1 for t in tables if not t.macro),
        macros=sum(1 for t in tables if t.macro),
        sop_classes=len(requirements.sop_classes()),
        rules=rules,
        rules_expanded=rules_expanded,
        conditions=conditions,
        guarded=guarded,
        unparsed_shapes=tuple(shapes.most_common(top)),
        by_prose_rule=tuple(sorted(ruled.items())),
        per_edition=tuple(
            (edition, _edition_counts(walker, edition, tables, iods, by_edition.get(edition, {})))
            for edition in sorted(
                {_edition(t.source) for t in tables} | {_edition(i.source) for i in iods}
            )
        ),
    )


def _edition_counts(
    walker: _Walker,
    edition: str,
    tables: list[AttributeTable],
    iods: list[IOD],
    conditions: dict[int, ParsedCondition],
) -> EditionCounts:
    mine = [t for t in tables if _edition(t.source) == edition]
    counts = ConditionCounts()
    for condition in conditions.values():
        counts = counts.add(condition)
    return EditionCounts(
        iods=sum(1 for i in iods if _edition(i.source) == edition),
        modules=sum(1 for t in mine if not t.macro),
        macros=sum(1 for t in mine if t.macro),
        rules=sum(1 for t in mine for _ in walker.rules(t.rules)),
        conditions=counts,
    )
