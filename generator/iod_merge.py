"""Merge PS3.3 models of several sources into one standard set: the newest edition wins.

Theory of operation
-------------------
* Items are matched by key (the PS3.3 table id).  An item whose key only one side has is paired
  with an item of the other side that has the same kind and :func:`~iod_model.slug` and no
  partner of its own (a table renumbered between editions); that pairing is reported as
  ``KEY_CHANGED``.
* For each matched item the newer source's record is kept whole, and every difference is
  reported as an :class:`IODConflict`:

  - IODs: modules added or removed, usage, information entity and condition changes, and the
    same for functional group macros;
  - modules and macros: attributes added or removed (compared by tag path in the *linked*,
    flattened trees), type and condition changes of the attributes both have.

* Items only the older source has are kept (the 2016c DocBook may define what the 2020
  rendition lacks) and reported as ``ITEM_ONLY_IN_OLDER``; items only the newer has are
  reported as ``ITEM_ADDED``.
* Conditions are compared after normalising whitespace, case and a final full stop, so a
  re-flowed sentence is not a conflict but a changed one is.

Merging needs linked models (``passes/link_iods.py``): the JSON rendition is flat, so a DocBook
model can only be compared with it after its includes are expanded.

References
----------
PS3.3 (all editions): Annex A (IOD module tables), Annex C (module tables), Chapter 10 (macros).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    ChangeKind,
    IODConflict,
    IODDef,
    MacroDef,
    ModuleDef,
    Part03Model,
    walk,
)
from dicompile.generator.model import edition_sort_key


def merge_part03(models: Sequence[Part03Model]) -> Part03Model:
    """Merge PS3.3 models, newest edition winning per item, every difference reported.

    Parameters
    ----------
    models
        Linked models (any order); they are applied oldest first.

    Returns
    -------
    Part03Model
        The standard set: the union of the items, the newest record of each, all issues and
        the conflicts of every merge step.

    References
    ----------
    PS3.3 Annex A and C; DESIGN.md ("A standard set merges several sources").
    """
    if not models:
        raise ValueError("nothing to merge")
    ordered = sorted(models, key=lambda m: edition_sort_key(m.edition))
    merged = ordered[0]
    for newer in ordered[1:]:
        merged = _merge_two(merged, newer)
    return merged


def diff_iods(old: IODDef, new: IODDef) -> list[IODConflict]:
    """Differences of the module and functional group tables of one IOD in two sources."""
    conflicts: list[IODConflict] = []
    old_uses = {u.module: u for u in old.modules}
    new_uses = {u.module: u for u in new.modules}
    for key in new_uses.keys() - old_uses.keys():
        use = new_uses[key]
        conflicts.append(
            IODConflict(
                ChangeKind.MODULE_ADDED,
                new.key,
                key,
                use.usage.value,
                "",
                use.provenance,
                old.provenance,
            )
        )
    for key in old_uses.keys() - new_uses.keys():
        use = old_uses[key]
        conflicts.append(
            IODConflict(
                ChangeKind.MODULE_REMOVED,
                new.key,
                key,
                "",
                use.usage.value,
                new.provenance,
                use.provenance,
            )
        )
    for key in old_uses.keys() & new_uses.keys():
        was, now = old_uses[key], new_uses[key]
        pairs = (
            (ChangeKind.USAGE_CHANGED, now.usage.value, was.usage.value),
            (ChangeKind.IE_CHANGED, now.ie, was.ie),
        )
        for kind, kept, other in pairs:
            if kept != other:
                conflicts.append(
                    IODConflict(kind, new.key, key, kept, other, now.provenance, was.provenance)
                )
        if normalise_condition(now.condition) != normalise_condition(was.condition):
            conflicts.append(
                IODConflict(
                    ChangeKind.CONDITION_CHANGED,
                    new.key,
                    key,
                    now.condition,
                    was.condition,
                    now.provenance,
                    was.provenance,
                )
            )
    old_groups = {g.macro: g for g in old.functional_groups}
    new_groups = {g.macro: g for g in new.functional_groups}
    for key in new_groups.keys() - old_groups.keys():
        group = new_groups[key]
        conflicts.append(
            IODConflict(
                ChangeKind.FUNCTIONAL_GROUP_ADDED,
                new.key,
                key,
                group.usage.value,
                "",
                group.provenance,
                old.provenance,
            )
        )
    for key in old_groups.keys() - new_groups.keys():
        group = old_groups[key]
        conflicts.append(
            IODConflict(
                ChangeKind.FUNCTIONAL_GROUP_REMOVED,
                new.key,
                key,
                "",
                group.usage.value,
                new.provenance,
                group.provenance,
            )
        )
    for key in old_groups.keys() & new_groups.keys():
        was_group, now_group = old_groups[key], new_groups[key]
        if was_group.usage is not now_group.usage:
            conflicts.append(
                IODConflict(
                    ChangeKind.USAGE_CHANGED,
                    new.key,
                    key,
                    now_group.usage.value,
                    was_group.usage.value,
                    now_group.provenance,
                    was_group.provenance,
                )
            )
        if normalise_condition(now_group.condition) != normalise_condition(was_group.condition):
            conflicts.append(
                IODConflict(
                    ChangeKind.CONDITION_CHANGED,
                    new.key,
                    key,
                    now_group.condition,
                    was_group.condition,
                    now_group.provenance,
                    was_group.provenance,
                )
            )
    return sorted(conflicts, key=_conflict_order)


def diff_tables(old: AttributeTable, new: AttributeTable) -> list[IODConflict]:
    """Differences of the linked attribute trees of one module or macro in two sources.

    Attributes are matched by tag path; where a path occurs more than once at one level (the
    SR content macros include macros conditionally), the first occurrence is compared.
    """
    was = _first_by_path(old.expanded if old.expanded is not None else ())
    now = _first_by_path(new.expanded if new.expanded is not None else ())
    conflicts: list[IODConflict] = []
    for path in sorted(now.keys() - was.keys()):
        rule = now[path]
        conflicts.append(
            IODConflict(
                ChangeKind.ATTRIBUTE_ADDED,
                new.key,
                path,
                _type(rule),
                "",
                rule.provenance,
                old.provenance,
            )
        )
    for path in sorted(was.keys() - now.keys()):
        rule = was[path]
        conflicts.append(
            IODConflict(
                ChangeKind.ATTRIBUTE_REMOVED,
                new.key,
                path,
                "",
                _type(rule),
                new.provenance,
                rule.provenance,
            )
        )
    for path in sorted(was.keys() & now.keys()):
        before, after = was[path], now[path]
        if _type(before) != _type(after):
            conflicts.append(
                IODConflict(
                    ChangeKind.TYPE_CHANGED,
                    new.key,
                    path,
                    _type(after),
                    _type(before),
                    after.provenance,
                    before.provenance,
                )
            )
        if normalise_condition(before.condition) != normalise_condition(after.condition):
            conflicts.append(
                IODConflict(
                    ChangeKind.CONDITION_CHANGED,
                    new.key,
                    path,
                    after.condition,
                    before.condition,
                    after.provenance,
                    before.provenance,
                )
            )
    return conflicts


_SPACES = re.compile(r"\s+")


def normalise_condition(text: str) -> str:
    """Whitespace collapsed, case folded, final full stop dropped: what a comparison sees."""
    return _SPACES.sub(" ", text).strip().rstrip(".").strip().casefold()


def _type(rule: AttributeRule) -> str:
    return rule.type.value if rule.type is not None else ""


def _first_by_path(rules: Iterable[AttributeRule]) -> dict[str, AttributeRule]:
    found: dict[str, AttributeRule] = {}
    for entry in walk(tuple(rules)):
        if isinstance(entry, AttributeRule) and entry.tag is not None:
            found.setdefault(entry.path, entry)
    return found


def _conflict_order(conflict: IODConflict) -> tuple[str, str, str]:
    return (conflict.kind.value, conflict.item, conflict.detail)


@attrs.frozen
class _Keyed:
    """One kind of item of both sides, paired by key (or by slug where the key changed)."""

    old: dict[str, IODDef | ModuleDef | MacroDef]
    new: dict[str, IODDef | ModuleDef | MacroDef]
    renamed: dict[str, str]  # old key -> new key


def _pair(
    old_items: Sequence[IODDef | ModuleDef | MacroDef],
    new_items: Sequence[IODDef | ModuleDef | MacroDef],
) -> _Keyed:
    old = {item.key: item for item in old_items}
    new = {item.key: item for item in new_items}
    new_only_by_slug: dict[str, list[str]] = {}
    for key in new.keys() - old.keys():
        new_only_by_slug.setdefault(new[key].slug, []).append(key)
    renamed: dict[str, str] = {}
    for key in sorted(old.keys() - new.keys()):
        candidates = new_only_by_slug.get(old[key].slug, [])
        if len(candidates) == 1:
            renamed[key] = candidates.pop()
    return _Keyed(old, new, renamed)


def _merge_items(
    old_items: Sequence[IODDef | ModuleDef | MacroDef],
    new_items: Sequence[IODDef | ModuleDef | MacroDef],
    conflicts: list[IODConflict],
) -> list[IODDef | ModuleDef | MacroDef]:
    keyed = _pair(old_items, new_items)
    partners = {new_key: old_key for old_key, new_key in keyed.renamed.items()}
    result: list[IODDef | ModuleDef | MacroDef] = []
    for key, item in keyed.new.items():
        old_key = key if key in keyed.old else partners.get(key)
        if old_key is None:
            conflicts.append(
                IODConflict(
                    ChangeKind.ITEM_ADDED, key, "", item.name, "", item.provenance, item.provenance
                )
            )
        else:
            before = keyed.old[old_key]
            if old_key != key:
                conflicts.append(
                    IODConflict(
                        ChangeKind.KEY_CHANGED,
                        key,
                        "",
                        key,
                        old_key,
                        item.provenance,
                        before.provenance,
                    )
                )
            if isinstance(before, IODDef) and isinstance(item, IODDef):
                conflicts.extend(diff_iods(before, item))
            elif isinstance(before, ModuleDef | MacroDef) and isinstance(
                item, ModuleDef | MacroDef
            ):
                conflicts.extend(diff_tables(before, item))
        result.append(item)
    for key, item in keyed.old.items():
        if key in keyed.new or key in keyed.renamed:
            continue
        conflicts.append(
            IODConflict(
                ChangeKind.ITEM_ONLY_IN_OLDER,
                key,
                "",
                "",
                item.name,
                item.provenance,
                item.provenance,
            )
        )
        result.append(item)
    return result


def _renamed_uses(iod: IODDef, renamed: dict[str, str]) -> IODDef:
    """``iod`` with its module and macro keys translated to the newer source's keys."""
    if not renamed:
        return iod
    return attrs.evolve(
        iod,
        modules=tuple(attrs.evolve(u, module=renamed.get(u.module, u.module)) for u in iod.modules),
        functional_groups=tuple(
            attrs.evolve(g, macro=renamed.get(g.macro, g.macro)) for g in iod.functional_groups
        ),
    )


def _merge_two(old: Part03Model, new: Part03Model) -> Part03Model:
    conflicts: list[IODConflict] = []
    modules = _merge_items(old.modules, new.modules, conflicts)
    macros = _merge_items(old.macros, new.macros, conflicts)
    # A module or macro renumbered between the editions: the older IODs name its new key.
    renamed = _pair(old.modules, new.modules).renamed | _pair(old.macros, new.macros).renamed
    old_iods = tuple(_renamed_uses(iod, renamed) for iod in old.iods)
    iods = _merge_items(old_iods, new.iods, conflicts)
    value_tables = {v.key: v for v in old.value_tables} | {v.key: v for v in new.value_tables}
    sections = {s.section_id: s for s in old.sections} | {s.section_id: s for s in new.sections}
    return Part03Model(
        edition=new.edition,
        source_files=tuple(dict.fromkeys((*old.source_files, *new.source_files))),
        iods=tuple(i for i in iods if isinstance(i, IODDef)),
        modules=tuple(m for m in modules if isinstance(m, ModuleDef)),
        macros=tuple(m for m in macros if isinstance(m, MacroDef)),
        value_tables=tuple(value_tables.values()),
        sections=tuple(sections.values()),
        tables=old.tables + new.tables,
        issues=old.issues + new.issues,
        conflicts=old.conflicts + tuple(conflicts),
    )
