"""A standard set: several sources of the standard merged into one model, newer edition first.

Theory of operation
-------------------
* Each reader yields a :class:`StandardModel` for one source (the 2013 DocBook PS3.6, the 2020
  JSON rendition, ...).  :func:`merge` orders them by edition (``2013`` < ``2016c`` < ``2020``;
  equal editions keep the order given) and folds them: where two define the same item (a tag, a
  UID) the *newer* edition's record replaces the older, whole.
* Every disagreement is kept as a typed :class:`Conflict`:
  ``CHANGED`` for each field that differs (VR, VM, retirement, keyword, name, UID type);
  ``DROPPED`` for an item a newer source of the same registry no longer lists (the older record
  is kept: a scrape that lost a row must not silently lose an element); ``DUPLICATE`` for a key
  defined twice by one source (the first row is kept).
* The result is sorted (tags by value, UIDs numerically) so that emitters are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from dicompile.generator.model import (
    Conflict,
    ConflictKind,
    ContextGroupDef,
    DataElementDef,
    Provenance,
    SourceDigest,
    StandardModel,
    UIDDef,
    edition_sort_key,
    uid_sort_key,
)


class _Sourced(Protocol):
    @property
    def provenance(self) -> Provenance: ...


T = TypeVar("T", bound=_Sourced)

ELEMENT_FIELDS = ("vr", "vm", "retired", "keyword", "name")
UID_FIELDS = ("name", "keyword", "uid_type", "retired")
CONTEXT_GROUP_FIELDS = ("cid", "name", "keyword")


def _text(value: object) -> str:
    return str(value) if not isinstance(value, bool) else ("retired" if value else "current")


def _merge_items(
    layers: Sequence[Sequence[T]],
    key: Callable[[T], str],
    fields: Sequence[str],
    conflicts: list[Conflict],
) -> dict[str, T]:
    """Fold the items of each source (oldest first) by key, recording every conflict."""
    merged: dict[str, T] = {}
    for layer in layers:
        if not layer:
            continue  # a source that does not cover this registry drops nothing
        seen: dict[str, T] = {}
        for item in layer:
            k = key(item)
            if k in seen:
                first = seen[k].provenance
                conflicts.append(
                    Conflict(ConflictKind.DUPLICATE, k, "", "", "", first, item.provenance)
                )
                continue
            seen[k] = item
        for k, older in merged.items():
            if k not in seen:
                newer_source = attrs.evolve(layer[0].provenance, row=None)
                conflicts.append(
                    Conflict(ConflictKind.DROPPED, k, "", "", "", older.provenance, newer_source)
                )
        for k, newer in seen.items():
            old = merged.get(k)
            if old is not None:
                for field in fields:
                    was, now = getattr(old, field), getattr(newer, field)
                    if was == now:
                        continue
                    conflicts.append(
                        Conflict(
                            ConflictKind.CHANGED,
                            k,
                            field,
                            _text(now),
                            _text(was),
                            newer.provenance,
                            old.provenance,
                        )
                    )
            merged[k] = newer
    return merged


def merge(models: Iterable[StandardModel]) -> StandardModel:
    """Merge the models of several sources into one; the newer edition wins every conflict.

    Parameters
    ----------
    models
        One model per source, in any order; sources of equal edition keep the order given.

    Returns
    -------
    StandardModel
        The union of every registry, sorted, with ``sources`` listing every contributing file
        and ``conflicts`` every disagreement (see the module's theory of operation).

    References
    ----------
    DESIGN.md, "Generator: three stages, one intermediate model" (standard sets).
    """
    ordered = sorted(models, key=lambda m: _model_edition(m))
    conflicts: list[Conflict] = [c for m in ordered for c in m.conflicts]
    elements = _merge_items(
        [m.data_elements for m in ordered], lambda e: e.tag.text, ELEMENT_FIELDS, conflicts
    )
    uids = _merge_items([m.uids for m in ordered], lambda u: u.uid, UID_FIELDS, conflicts)
    groups = _merge_items(
        [m.context_groups for m in ordered], lambda g: g.uid, CONTEXT_GROUP_FIELDS, conflicts
    )
    transfer_syntaxes = {ts.uid: ts for m in ordered for ts in m.transfer_syntaxes}
    sources: dict[tuple[str, str, str], SourceDigest] = {}
    for model in ordered:
        for digest in model.sources:
            sources.setdefault((digest.part, digest.edition, digest.source_file), digest)
    merged = StandardModel(
        sources=tuple(
            sorted(
                sources.values(),
                key=lambda d: (_part_number(d.part), edition_sort_key(d.edition), d.source_file),
            )
        ),
        data_elements=tuple(sorted(elements.values(), key=_element_key)),
        uids=tuple(sorted(uids.values(), key=_uid_key)),
        context_groups=tuple(sorted(groups.values(), key=_group_key)),
        transfer_syntaxes=tuple(
            sorted(transfer_syntaxes.values(), key=lambda t: uid_sort_key(t.uid))
        ),
        conflicts=tuple(conflicts),
    )
    return _carry_other_registries(merged, ordered)


# The registries merge() knows how to fold; a field added to StandardModel later (by a new
# reader) is carried over as the concatenation of every source's items, oldest first, until
# merge() learns its key: never silently dropped.
_MERGED_FIELDS = frozenset(
    {"sources", "data_elements", "uids", "context_groups", "transfer_syntaxes", "conflicts"}
)


def _carry_other_registries(
    merged: StandardModel, ordered: Sequence[StandardModel]
) -> StandardModel:
    # Any: the fields are only known at run time (attrs.fields), each a tuple of records.
    extra: dict[str, Any] = {
        field.name: tuple(item for m in ordered for item in getattr(m, field.name))
        for field in attrs.fields(StandardModel)
        if field.name not in _MERGED_FIELDS
    }
    return attrs.evolve(merged, **extra) if extra else merged


def _model_edition(model: StandardModel) -> tuple[int, str]:
    editions = [edition_sort_key(d.edition) for d in model.sources]
    return max(editions) if editions else (0, "")


def _part_number(part: str) -> int:
    digits = part.rpartition(".")[2]
    return int(digits) if digits.isdigit() else 0


def _element_key(element: DataElementDef) -> tuple[int, int, str]:
    return element.tag.sort_key


def _uid_key(uid: UIDDef) -> tuple[int, ...]:
    return uid_sort_key(uid.uid)


def _group_key(group: ContextGroupDef) -> tuple[int, ...]:
    return uid_sort_key(group.uid)
