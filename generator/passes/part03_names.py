"""Pass: name every PS3.3 attribute rule after the data dictionary, and check its tags.

The JSON rendition's attribute rows carry no names (PS3.6 has them), and a DocBook table may
spell a name differently from the registry.  This pass gives each rule without a name the
registry's name, and reports as ``UNKNOWN_TAG`` every tag a PS3.3 table uses that the data
dictionary does not define (exactly or through a repeating-group pattern such as 60xx3000).

References
----------
PS3.6 §6 (registry of data elements); PS3.3 §5 (attribute tables name PS3.6 attributes).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from dicompile.generator.iod_model import (
    AttributeRule,
    Entry,
    IssueKind,
    MacroDef,
    ModuleDef,
    Part03Issue,
    Part03Model,
)
from dicompile.generator.model import DataElementDef, TagPattern


@attrs.define
class _Names:
    exact: dict[str, str]
    patterns: list[tuple[TagPattern, str]]
    issues: list[Part03Issue] = attrs.Factory(list)
    unknown: set[tuple[str, str]] = attrs.Factory(set)

    def name_of(self, tag: TagPattern) -> str | None:
        found = self.exact.get(tag.text)
        if found is not None:
            return found
        if tag.is_repeating:
            return None
        for pattern, name in self.patterns:
            if pattern.matches(tag.base):
                return name
        return None

    def rule(self, rule: AttributeRule, table: str) -> AttributeRule:
        children = tuple(self.entry(c, table) for c in rule.children)
        if rule.tag is None:
            return attrs.evolve(rule, children=children)
        name = self.name_of(rule.tag)
        if name is None:
            if (table, rule.tag.text) not in self.unknown:
                self.unknown.add((table, rule.tag.text))
                self.issues.append(
                    Part03Issue(
                        IssueKind.UNKNOWN_TAG,
                        f"{table} uses {rule.tag.display}, which the data dictionary lacks",
                        rule.provenance,
                    )
                )
            return attrs.evolve(rule, children=children)
        return attrs.evolve(rule, name=rule.name or name, children=children)

    def entry(self, entry: Entry, table: str) -> Entry:
        if isinstance(entry, AttributeRule):
            return self.rule(entry, table)
        return attrs.evolve(entry, children=tuple(self.entry(c, table) for c in entry.children))

    def table(self, table: ModuleDef | MacroDef) -> ModuleDef | MacroDef:
        entries = tuple(self.entry(e, table.key) for e in table.entries)
        expanded: tuple[AttributeRule, ...] | None
        if table.expanded is table.entries:
            # A flat source (the JSON rendition) shares one tuple: name it once.
            expanded = tuple(e for e in entries if isinstance(e, AttributeRule))
        elif table.expanded is not None:
            expanded = tuple(self.rule(r, table.key) for r in table.expanded)
        else:
            expanded = None
        return attrs.evolve(table, entries=entries, expanded=expanded)


def name_part03_rules(model: Part03Model, elements: Iterable[DataElementDef]) -> Part03Model:
    """Fill in the names the source left empty and report tags the dictionary lacks.

    Parameters
    ----------
    model
        A PS3.3 model (linked or not).
    elements
        The data dictionary (PS3.6 Tables 6-1, 7-1, 8-1), e.g. ``StandardModel.data_elements``.

    References
    ----------
    PS3.6 §6; PS3.3 §5.
    """
    exact: dict[str, str] = {}
    patterns: list[tuple[TagPattern, str]] = []
    for element in elements:
        exact.setdefault(element.tag.text, element.name)
        if element.tag.is_repeating:
            patterns.append((element.tag, element.name))
    names = _Names(exact, patterns)
    fixed = model.map_tables(names.table)  # names.table() collects the issues as it goes
    return attrs.evolve(fixed, issues=(*fixed.issues, *names.issues))
