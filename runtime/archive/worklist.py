"""Modality Worklist items kept in the archive and matched with the K.6 keys (PS3.4 K).

Items are added as DICOM JSON Model objects (PS3.18 Annex F): one object or a JSON array of
them, each a complete worklist item (patient, visit, imaging service request, requested
procedure and a Scheduled Procedure Step Sequence (0040,0100)), read by
:func:`dicompile.runtime.codec.json_model.from_json`.  The JSON model was chosen over a
keyword table because it carries VRs and nested sequences exactly and is what other tools
(and PS3.18 UPS-RS workitems) already produce.

An item is identified by (Accession Number, Requested Procedure ID, Scheduled Procedure
Step ID of its first step): adding an item with the same identity replaces it.

Matching follows PS3.4 K.6.1.2 with the rules of :mod:`.matching` (C.2.2.2): sequence
matching on the Scheduled Procedure Step Sequence (Modality, Scheduled Station AE Title,
start date and time ranges, combined datetime when negotiated), every other key matched as
a required key.  Worklists are small (a day's schedule), so every item is evaluated in
Python; the JSON lives in one SQLite table of the archive file.  Threading as for
:class:`~dicompile.runtime.archive.index.SQLiteIndex`: one connection behind a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from dicompile.runtime.archive.levels import SPECIFIC_CHARACTER_SET
from dicompile.runtime.archive.matching import compile_identifier, normalize_text
from dicompile.runtime.codec.json_model import from_json, from_json_array, to_json
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import QueryError, ValidationError

SCHEDULED_PROCEDURE_STEP_SEQUENCE: Final = 0x00400100
SCHEDULED_PROCEDURE_STEP_ID: Final = 0x00400009
ACCESSION_NUMBER: Final = 0x00080050
REQUESTED_PROCEDURE_ID: Final = 0x00401001

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS worklist (
    pk INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    attrs TEXT NOT NULL
);
"""


def _text(dataset: Dataset, tag: int) -> str:
    element = dataset.get(tag)
    value = element.value if element is not None else None
    return normalize_text(VR.SH, value) if isinstance(value, str) else ""


def item_identity(item: Dataset) -> str:
    """The identity of a worklist item: Accession Number, Requested Procedure ID and the
    first Scheduled Procedure Step ID, joined by ``\\``.

    Raises ValidationError when the item has no Scheduled Procedure Step Sequence item
    (Type 1 in PS3.4 Table K.6-1).
    """
    steps = item.get_value(SCHEDULED_PROCEDURE_STEP_SEQUENCE)
    if not isinstance(steps, Sequence) or not steps:
        raise ValidationError(
            "a worklist item needs a Scheduled Procedure Step Sequence (0040,0100) item"
            " (PS3.4 Table K.6-1)"
        )
    return "\\".join(
        (
            _text(item, ACCESSION_NUMBER),
            _text(item, REQUESTED_PROCEDURE_ID),
            _text(steps[0], SCHEDULED_PROCEDURE_STEP_ID),
        )
    )


class SQLiteWorklist:
    """Modality Worklist items in an SQLite file (may be the archive's index file).

    References
    ----------
    PS3.4 K.6 (Modality Worklist Information Model), Table K.6-1.
    """

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, item: Dataset) -> str:
        """Keep ``item`` (replacing one with the same identity); returns its identity."""
        identity = item_identity(item)
        text = to_json(item)
        with self._lock:
            self._db.execute(
                "INSERT INTO worklist (identity, attrs) VALUES (?, ?)"
                " ON CONFLICT(identity) DO UPDATE SET attrs = excluded.attrs",
                (identity, text),
            )
        return identity

    def add_json(self, text: str | bytes) -> list[str]:
        """Keep the items of a DICOM JSON object or array (PS3.18 F.2); their identities.

        All items are checked before any is kept; DecodeError or ValidationError otherwise.
        """
        stripped = text.lstrip()
        is_array = stripped[:1] in ("[", b"[")
        items = from_json_array(text) if is_array else [from_json(text)]
        identities = [item_identity(item) for item in items]
        rows = [(identity, to_json(item)) for identity, item in zip(identities, items, strict=True)]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO worklist (identity, attrs) VALUES (?, ?)"
                    " ON CONFLICT(identity) DO UPDATE SET attrs = excluded.attrs",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return identities

    def remove(self, identity: str) -> bool:
        """Forget an item; False when there was none with that identity."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM worklist WHERE identity = ?", (identity,))
        return cursor.rowcount > 0

    def count(self) -> int:
        with self._lock:
            (number,) = self._db.execute("SELECT count(*) FROM worklist").fetchone()
        return int(number)

    def find(self, identifier: Dataset, *, combined_datetime: bool = False) -> Iterator[Dataset]:
        """The response Identifiers of a Modality Worklist C-FIND.

        Raises QueryError for a malformed Identifier (PS3.4 C.2.2.2, K.6.1.2).

        References
        ----------
        PS3.4 K.4.1.2 (SCP behaviour), K.6.1.2 (keys), C.2.2.2 (matching).
        """
        if not len(identifier):
            raise QueryError("empty Identifier: it holds the keys (PS3.4 K.4.1.1.3.1)")
        query = compile_identifier(identifier, combined_datetime=combined_datetime)
        with self._lock:
            texts = [row[0] for row in self._db.execute("SELECT attrs FROM worklist ORDER BY pk")]
        for text in texts:
            item = from_json(text)
            if not query.matches(item):
                continue
            response = query.response(item)
            charset = item.get(SPECIFIC_CHARACTER_SET)
            if charset is not None and charset.value is not None:
                response.add(charset)
            yield response
