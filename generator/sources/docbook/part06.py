"""Reader of PS3.6 (Data Dictionary) in DocBook: data elements, UIDs, context group UIDs.

Theory of operation
-------------------
* Tables are found by ``xml:id`` and their header is checked before any row is read
  (:func:`~dicompile.generator.sources.docbook.common.check_columns`): a changed layout is a
  :class:`StandardSourceError`, never a silently shifted column.
* Cell texts arrive normalised by ``common`` (zero-width spaces removed, whitespace collapsed),
  so ``Length​To​End`` reads ``LengthToEnd``; italics (the typography of retired rows) are only
  a fallback when the "RET" column is missing.
* Values are kept as the standard writes them (``"US or SS"``, ``"2-2n"``, ``""``) but each is
  checked against the notation of PS3.6 §6 so that a broken row fails loudly, naming the file,
  table and row.
* This module only translates; keywords for UIDs (which the 2013 Table A-1 lacks) come from the
  ``uid_keywords`` pass.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from dicompile.generator.model import (
    ContextGroupDef,
    DataElementDef,
    Provenance,
    SourceDigest,
    StandardModel,
    TagPattern,
    UIDDef,
)
from dicompile.generator.sources.docbook.common import (
    DocBookPart,
    Row,
    body_rows,
    check_columns,
    load_part,
)
from dicompile.runtime.errors import StandardSourceError

#: Registry of data elements (Table 6-1), file meta elements (7-1), directory structuring (8-1).
ELEMENT_TABLES: tuple[str, ...] = ("table_6-1", "table_7-1", "table_8-1")
UID_TABLE = "table_A-1"  # UID Values
FRAME_OF_REFERENCE_TABLE = "table_A-2"  # Well-known Frames of Reference
CONTEXT_GROUP_TABLE = "table_A-3"  # Context Group UID Values
TABLES: tuple[str, ...] = (
    *ELEMENT_TABLES,
    UID_TABLE,
    FRAME_OF_REFERENCE_TABLE,
    CONTEXT_GROUP_TABLE,
)

_ELEMENT_COLUMNS = ("Tag", "Name", "Keyword", "VR", "VM")
_UID_COLUMNS = ("UID Value", "UID Name")
_FRAME_COLUMNS = ("UID Value", "UID Name", "Normative Reference")
_CONTEXT_COLUMNS = ("Context UID", "Context Identifier", "Context Group Name")

# PS3.6 §6 notation.  A VR is two capitals, alternatives joined by " or "; the item delimiters
# of group FFFE say "See Note" instead.  A VM is "n", "n-m", "n-n", "n-kn", alternatives by " or ".
VR_TEXT = re.compile(r"|[A-Z]{2}(?: or [A-Z]{2})*|See Note(?: \d+)?")
VM_TEXT = re.compile(r"|(?:\d+(?:-(?:\d*n|\d+))?)(?: or \d+(?:-(?:\d*n|\d+))?)*")
KEYWORD_TEXT = re.compile(r"|[A-Za-z][A-Za-z0-9_]*")
# PS3.5 §9.1: digits and dots, no empty component, no leading zero in a component.
UID_TEXT = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+")
_RETIRED_NAME = re.compile(r"\(Retired\)")


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a source file, for the headers of generated files."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_part06(path: Path) -> StandardModel:
    """Read the data element and UID registries of a PS3.6 DocBook file.

    Parameters
    ----------
    path
        ``part06.xml`` of one edition.

    Returns
    -------
    StandardModel
        ``data_elements`` from Tables 6-1, 7-1 and 8-1 (in table order), ``uids`` from
        Table A-1 completed with the normative references of Table A-2, and
        ``context_groups`` from Table A-3; every record with its provenance.

    Raises
    ------
    StandardSourceError
        When the file is not PS3.6, a table is missing or its columns changed, or a row does
        not follow the notation of PS3.6 §6 (naming file, table id and row).

    References
    ----------
    PS3.6 §6 (Table 6-1), §7 (Table 7-1), §8 (Table 8-1), Annex A (Tables A-1, A-2, A-3).
    """
    part = load_part(path)
    if part.part != "PS3.6":
        raise StandardSourceError(
            f"expected PS3.6, found {part.part}", source_file=part.source_file
        )
    elements = tuple(
        element for table_id in ELEMENT_TABLES for element in read_element_table(part, table_id)
    )
    frames = {frame.uid: frame for frame in read_frame_table(part)}
    registry = read_uid_table(part)
    listed = {uid.uid for uid in registry}
    # Table A-2 repeats the frames of Table A-1 with their normative reference; a frame that
    # only A-2 lists is kept too (with A-2 as its provenance).
    uids = tuple(
        [
            attrs.evolve(uid, reference=frames[uid.uid].reference) if uid.uid in frames else uid
            for uid in registry
        ]
        + [frame for uid, frame in frames.items() if uid not in listed]
    )
    digest = SourceDigest(
        part=part.part,
        edition=part.edition,
        source_file=part.source_file,
        sha256=sha256_of(path),
        table_ids=TABLES,
    )
    return StandardModel(
        sources=(digest,),
        data_elements=elements,
        uids=uids,
        context_groups=read_context_groups(part),
    )


def _provenance(part: DocBookPart, table_id: str, row: Row) -> Provenance:
    return Provenance(
        part=part.part,
        edition=part.edition,
        table_id=table_id,
        source_file=part.source_file,
        row=row.index,
    )


def _error(part: DocBookPart, table_id: str, row: Row, message: str) -> StandardSourceError:
    where = f"{row.index} (line {row.line})" if row.line is not None else row.index
    return StandardSourceError(message, source_file=part.source_file, table_id=table_id, row=where)


def _cells(part: DocBookPart, table_id: str, row: Row, count: int) -> list[str]:
    texts = row.texts()
    if len(texts) < count:
        raise _error(part, table_id, row, f"expected {count} cells, found {len(texts)}: {texts}")
    return texts


def _check(
    part: DocBookPart, table_id: str, row: Row, pattern: re.Pattern[str], what: str, value: str
) -> str:
    if pattern.fullmatch(value) is None:
        raise _error(part, table_id, row, f"{what} {value!r} does not follow PS3.6 §6")
    return value


def read_element_table(part: DocBookPart, table_id: str) -> list[DataElementDef]:
    """The rows of one data element table (Tag, Name, Keyword, VR, VM and a "RET" column).

    References
    ----------
    PS3.6 §6, Table 6-1 (also 7-1 and 8-1, which share its columns).
    """
    headers = check_columns(part, table_id, _ELEMENT_COLUMNS)
    has_note_column = len(headers) > len(_ELEMENT_COLUMNS)
    elements: list[DataElementDef] = []
    for row in body_rows(part.table(table_id)):
        texts = _cells(part, table_id, row, len(headers))
        tag_text, name, keyword, vr, vm = texts[:5]
        try:
            tag = TagPattern.parse(tag_text)
        except ValueError as exc:
            raise _error(part, table_id, row, str(exc)) from exc
        _check(part, table_id, row, KEYWORD_TEXT, "keyword", keyword)
        _check(part, table_id, row, VR_TEXT, "VR", vr)
        _check(part, table_id, row, VM_TEXT, "VM", vm)
        if keyword and not name:
            raise _error(part, table_id, row, f"keyword {keyword!r} without a name")
        note = texts[5] if has_note_column else ""
        # The last column says "RET" (or "RET - See Note ...") for retired elements; without
        # it, the italics of the tag cell are the only sign.
        retired = note.startswith("RET") if has_note_column else row.cells[0].italic
        if retired:
            note = note.removeprefix("RET").lstrip(" -")
        elements.append(
            DataElementDef(
                tag=tag,
                name=name,
                keyword=keyword,
                vr=vr,
                vm=vm,
                retired=retired,
                provenance=_provenance(part, table_id, row),
                note=note,
            )
        )
    return elements


def _column(headers: Sequence[str], name: str) -> int | None:
    folded = [h.casefold() for h in headers]
    return folded.index(name.casefold()) if name.casefold() in folded else None


def read_uid_table(part: DocBookPart) -> list[UIDDef]:
    """Table A-1: UID Value, UID Name, [UID Keyword,] UID Type, Part.

    Editions before 2016 have no keyword column; later ones insert it after the name.  A UID
    is retired when its name says "(Retired)" or its name is set in italics.

    References
    ----------
    PS3.6 Annex A, Table A-1.
    """
    table_id = UID_TABLE
    headers = check_columns(part, table_id, _UID_COLUMNS)
    type_column = _column(headers, "UID Type")
    if type_column is None:
        raise StandardSourceError(
            f"columns changed: no 'UID Type' in {headers}",
            source_file=part.source_file,
            table_id=table_id,
        )
    keyword_column = _column(headers, "UID Keyword")
    part_column = _column(headers, "Part")
    uids: list[UIDDef] = []
    for row in body_rows(part.table(table_id)):
        texts = _cells(part, table_id, row, len(headers))
        uid = _check(part, table_id, row, UID_TEXT, "UID", texts[0])
        name = texts[1]
        if not name:
            raise _error(part, table_id, row, f"UID {uid} has no name")
        keyword = texts[keyword_column] if keyword_column is not None else ""
        _check(part, table_id, row, KEYWORD_TEXT, "keyword", keyword)
        uids.append(
            UIDDef(
                uid=uid,
                name=name,
                keyword=keyword,
                uid_type=texts[type_column],
                retired=bool(_RETIRED_NAME.search(name)) or row.cells[1].italic,
                provenance=_provenance(part, table_id, row),
                part_note=texts[part_column] if part_column is not None else "",
            )
        )
    return uids


def read_frame_table(part: DocBookPart) -> list[UIDDef]:
    """Table A-2: well-known frames of reference with their normative reference.

    References
    ----------
    PS3.6 Annex A, Table A-2.
    """
    table_id = FRAME_OF_REFERENCE_TABLE
    check_columns(part, table_id, _FRAME_COLUMNS)
    frames: list[UIDDef] = []
    for row in body_rows(part.table(table_id)):
        texts = _cells(part, table_id, row, len(_FRAME_COLUMNS))
        frames.append(
            UIDDef(
                uid=_check(part, table_id, row, UID_TEXT, "UID", texts[0]),
                name=texts[1],
                keyword="",
                uid_type="Well-known frame of reference",
                retired=bool(_RETIRED_NAME.search(texts[1])),
                provenance=_provenance(part, table_id, row),
                reference=texts[2],
            )
        )
    return frames


def read_context_groups(part: DocBookPart) -> tuple[ContextGroupDef, ...]:
    """Table A-3: Context UID, Context Identifier (the CID number), Context Group Name.

    References
    ----------
    PS3.6 Annex A, Table A-3.
    """
    table_id = CONTEXT_GROUP_TABLE
    check_columns(part, table_id, _CONTEXT_COLUMNS)
    groups: list[ContextGroupDef] = []
    for row in body_rows(part.table(table_id)):
        texts = _cells(part, table_id, row, len(_CONTEXT_COLUMNS))
        uid = _check(part, table_id, row, UID_TEXT, "UID", texts[0])
        identifier, name = texts[1], texts[2]
        # A row with a UID and neither CID nor name (1.2.840.10008.6.1.888 in 2013) allocates
        # the UID to no group: kept as it is, with ``cid=None``.
        if identifier and not identifier.isdigit():
            raise _error(part, table_id, row, f"context identifier {identifier!r} is not a number")
        if bool(identifier) != bool(name):
            raise _error(part, table_id, row, "a context group needs both an identifier and a name")
        groups.append(
            ContextGroupDef(
                uid=uid,
                cid=int(identifier) if identifier else None,
                name=name,
                keyword="",
                provenance=_provenance(part, table_id, row),
            )
        )
    return tuple(groups)
