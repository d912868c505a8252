"""The Storage SOP classes of the JSON rendition (``sops.json``), merged into the PS3.4 model.

Theory of operation
-------------------
* ``sops.json`` of the rendition (``../shared/standard-json/innolitics-<edition>/``) lists the
  Storage SOP classes of PS3.4 Table B.5-1 of its edition, one object per row::

      {"name": "CT Image Storage", "id": "1.2.840.10008.5.1.4.1.1.2", "ciod": "CT Image"}

  :func:`read_storage_sops` turns them into :class:`SOPClassDef` of the Storage Service Class
  (the service class name is taken from the DocBook model being merged into, so both agree).
* :func:`merge_storage_sops` folds them into a :class:`ServiceModel`, the newer edition
  winning, as the standard set does for PS3.6 (``standard_set.py``):

  - a UID both define: the newer record is kept; its empty fields (the rendition has no PS3.3
    section, DocBook no IOD name) are filled from the older one; every differing name or
    retirement is a ``CHANGED`` conflict;
  - a current (not retired) UID that only the older source lists: kept, and reported as
    ``DROPPED`` (a scrape that lost a row must not silently lose a SOP class); retired UIDs
    of Table B.6-1 are not compared, since the rendition does not cover that table;
  - a UID that only the newer source lists: added;
  - a UID the rendition lists twice: the first is kept, the second reported ``DUPLICATE``.

  Only the Storage Service Class is touched; Media Storage (Table I.4-1) keeps its own records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import attrs

from dicompile.generator.model import (
    Conflict,
    ConflictKind,
    Provenance,
    SourceDigest,
    edition_sort_key,
    uid_sort_key,
)
from dicompile.generator.service_model import ServiceModel, SOPClassDef
from dicompile.generator.sources.docbook.common import normalise_text
from dicompile.generator.sources.docbook.part04 import UID_TEXT
from dicompile.generator.sources.json_rendition import edition_of_folder
from dicompile.runtime.errors import StandardSourceError

SOPS_FILE = "sops.json"
PART = "PS3.4"
STORAGE_ANNEX = "B"
_FIELDS = ("name", "id", "ciod")
_COMPARED = ("name", "retired")


@attrs.frozen
class StorageSOPs:
    """The Storage SOP classes of one rendition file and its digest."""

    sop_classes: tuple[SOPClassDef, ...]
    source: SourceDigest
    conflicts: tuple[Conflict, ...] = ()


def read_storage_sops(path: Path, service_class: str, edition: str | None = None) -> StorageSOPs:
    """Read the rendition's ``sops.json``.

    Parameters
    ----------
    path
        The ``sops.json`` file.
    service_class
        The name to file the SOP classes under (the Storage Service Class as the DocBook
        annex title writes it).
    edition
        The rendition's edition; by default read from the folder's name.

    Returns
    -------
    StorageSOPs
        The SOP classes in file order (provenance row: the index in the array), the file's
        digest and ``DUPLICATE`` conflicts for UIDs listed twice.

    Raises
    ------
    StandardSourceError
        When the file is not a JSON array of objects with text ``name``, ``id`` and ``ciod``,
        or an ``id`` is not a UID (naming the file and index).

    References
    ----------
    PS3.4 B.5, Table B.5-1 (as rendered by the JSON source).
    """
    edition = edition or edition_of_folder(path.parent)
    source_file = f"{path.parent.name}/{path.name}"
    data = path.read_bytes()
    try:
        entries = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StandardSourceError(f"not JSON: {exc}", source_file=source_file) from exc
    if not isinstance(entries, list):
        raise StandardSourceError("expected a JSON array of SOP classes", source_file=source_file)

    def fail(index: int, message: str) -> StandardSourceError:
        return StandardSourceError(message, source_file=source_file, table_id=path.name, row=index)

    out: dict[str, SOPClassDef] = {}
    conflicts: list[Conflict] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise fail(index, f"expected an object, found {type(entry).__name__}")
        missing = [f for f in _FIELDS if not isinstance(entry.get(f), str)]
        if missing:
            raise fail(index, f"missing or non-text fields {missing}")
        name, uid, iod = (normalise_text(entry[f]) for f in _FIELDS)
        if UID_TEXT.fullmatch(uid) is None:
            raise fail(index, f"not a UID: {uid!r}")
        if not name:
            raise fail(index, f"no name for {uid}")
        sop = SOPClassDef(
            uid=uid,
            name=name,
            service_class=service_class,
            provenance=Provenance(PART, edition, path.name, source_file, index),
            iod=iod,
        )
        first = out.get(uid)
        if first is not None:
            conflicts.append(
                Conflict(
                    ConflictKind.DUPLICATE,
                    uid,
                    "",
                    first.name,
                    sop.name,
                    first.provenance,
                    sop.provenance,
                )
            )
            continue
        out[uid] = sop
    digest = SourceDigest(
        part=PART,
        edition=edition,
        source_file=source_file,
        sha256=hashlib.sha256(data).hexdigest(),
        table_ids=(path.name,),
    )
    return StorageSOPs(tuple(out.values()), digest, tuple(conflicts))


def merge_storage_sops(model: ServiceModel, rendition: StorageSOPs) -> ServiceModel:
    """Merge the rendition's Storage SOP classes into ``model``; the newer edition wins.

    Returns a new model whose Storage SOP classes are the merge (sorted by UID, after the
    other service classes' records, which keep their order), with the rendition's digest
    added to ``sources`` and every conflict (see the module's theory) to ``conflicts``.

    References
    ----------
    PS3.4 B.5 (Table B.5-1); DESIGN.md, "standard set" (newer wins, conflicts reported).
    """
    storage = model.service_class_by_annex(STORAGE_ANNEX).name
    docbook = [s for s in model.sop_classes if s.service_class == storage]
    others = [s for s in model.sop_classes if s.service_class != storage]
    docbook_edition = _edition_of(model.sources, docbook)
    rendition_newer = edition_sort_key(rendition.source.edition) >= edition_sort_key(
        docbook_edition
    )
    older, newer = (
        (docbook, rendition.sop_classes)
        if rendition_newer
        else (
            rendition.sop_classes,
            docbook,
        )
    )
    conflicts = [*model.conflicts, *rendition.conflicts]
    merged = _fold(older, newer, conflicts)
    return attrs.evolve(
        model,
        sources=(*model.sources, rendition.source),
        sop_classes=(*others, *sorted(merged, key=lambda s: uid_sort_key(s.uid))),
        conflicts=tuple(conflicts),
    )


def _edition_of(sources: Sequence[SourceDigest], sops: Sequence[SOPClassDef]) -> str:
    editions = {s.provenance.edition for s in sops} or {d.edition for d in sources}
    if not editions:
        raise StandardSourceError("the PS3.4 model names no edition to compare with")
    return max(editions, key=edition_sort_key)


def _fold(
    older: Sequence[SOPClassDef],
    newer: Sequence[SOPClassDef],
    conflicts: list[Conflict],
) -> list[SOPClassDef]:
    by_uid_new = {s.uid: s for s in newer}
    out: list[SOPClassDef] = []
    for old in older:
        new = by_uid_new.pop(old.uid, None)
        if new is None:
            # A newer source that lists nothing does not cover the table: it drops nothing.
            if not old.retired and newer:
                conflicts.append(
                    Conflict(
                        ConflictKind.DROPPED,
                        old.uid,
                        "",
                        old.name,
                        "",
                        old.provenance,
                        attrs.evolve(newer[0].provenance, row=None),
                    )
                )
            out.append(old)
            continue
        for field in _COMPARED:
            was, now = getattr(old, field), getattr(new, field)
            if was != now:
                conflicts.append(
                    Conflict(
                        ConflictKind.CHANGED,
                        old.uid,
                        field,
                        _text(now),
                        _text(was),
                        new.provenance,
                        old.provenance,
                    )
                )
        out.append(
            attrs.evolve(
                new,
                iod_section=new.iod_section or old.iod_section,
                iod=new.iod or old.iod,
            )
        )
    out.extend(by_uid_new.values())  # only the newer source lists them
    return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "retired" if value else "current"
    return str(value)
