"""Persistent state of the workflow services: MPPS instances and storage commitments.

Theory of operation
-------------------
One SQLite file, ``procedure_steps.sqlite``, beside the archive's own index in the archive
folder (a sibling file, so that the two never contend for one database lock):

* ``mpps``: one row per Modality Performed Procedure Step SOP Instance (PS3.4 F.7): its
  UID, its Performed Procedure Step Status (0040,0252), the AE title that created it, and
  the whole attribute set encoded in Explicit VR Little Endian (PS3.5 A.2).  Each N-CREATE
  and N-SET is one transaction; a failed N-SET changes nothing.
* ``commitments``: one row per Storage Commitment request (PS3.4 J.3.2), keyed by its
  Transaction UID (0008,1195): the requesting AE title, the Action Information as received,
  and once reported the Event Type ID and the Event Information sent (J.3.3).  A result not
  yet delivered (no association could be opened to the requestor) stays pending and can be
  sent again.

Data sets are stored encoded rather than as columns: the services read and write whole
attribute sets, and the archive's worklist matching owns the query side.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset

#: The file name of the store inside an archive folder.
FILE_NAME: Final = "procedure_steps.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS mpps (
    sop_instance_uid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    creator_ae_title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    attributes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS commitments (
    transaction_uid TEXT PRIMARY KEY,
    requestor_ae_title TEXT NOT NULL,
    received REAL NOT NULL,
    action_information BLOB NOT NULL,
    event_type_id INTEGER,
    event_information BLOB,
    reported REAL
);
"""


def encode_attributes(dataset: Dataset) -> bytes:
    """A data set as stored: Explicit VR Little Endian (PS3.5 A.2)."""
    return encode_dataset(dataset, CodecContext())


def decode_attributes(data: bytes) -> Dataset:
    """A stored data set, decoded (see :func:`encode_attributes`)."""
    dataset, _, _ = read_dataset(data, CodecContext())
    return dataset


@attrs.frozen
class StoredStep:
    """One MPPS instance as stored."""

    sop_instance_uid: str
    status: str
    creator_ae_title: str
    created: float
    updated: float
    attributes: Dataset = attrs.field(eq=False)


@attrs.frozen
class StoredCommitment:
    """One storage commitment request as stored; ``event_type_id`` None until reported."""

    transaction_uid: str
    requestor_ae_title: str
    received: float
    action_information: Dataset = attrs.field(eq=False)
    event_type_id: int | None = None
    event_information: Dataset | None = attrs.field(default=None, eq=False)
    reported: float | None = None


class ProcedureStepStore:
    """The ``procedure_steps.sqlite`` store of an archive folder (see the module text).

    Safe to share between the tasks of one server: each call is one short transaction
    under a lock (calls come from the event loop thread or worker threads).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # Another process (a CLI, a second server) may hold the write lock for a moment.
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- MPPS --------------------------------------------------------------------------

    def create_step(
        self, sop_instance_uid: str, status: str, creator_ae_title: str, attributes: Dataset
    ) -> bool:
        """Store a new MPPS instance; False (nothing stored) if the UID is taken."""
        now = time.time()
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO mpps VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        sop_instance_uid,
                        status,
                        creator_ae_title,
                        now,
                        now,
                        encode_attributes(attributes),
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def step(self, sop_instance_uid: str) -> StoredStep | None:
        """The MPPS instance ``sop_instance_uid``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT sop_instance_uid, status, creator_ae_title, created, updated, attributes"
                " FROM mpps WHERE sop_instance_uid = ?",
                (sop_instance_uid,),
            ).fetchone()
        if row is None:
            return None
        return StoredStep(row[0], row[1], row[2], row[3], row[4], decode_attributes(row[5]))

    def update_step(
        self, sop_instance_uid: str, expected_status: str, status: str, attributes: Dataset
    ) -> bool:
        """Replace an instance's attributes if its status is still ``expected_status``.

        False when it changed meanwhile (another association's N-SET came first).
        """
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE mpps SET status = ?, updated = ?, attributes = ?"
                " WHERE sop_instance_uid = ? AND status = ?",
                (
                    status,
                    time.time(),
                    encode_attributes(attributes),
                    sop_instance_uid,
                    expected_status,
                ),
            )
            return cursor.rowcount == 1

    def steps(self) -> list[StoredStep]:
        """Every MPPS instance, oldest first."""
        with self._lock:
            uids = [
                row[0]
                for row in self._db.execute("SELECT sop_instance_uid FROM mpps ORDER BY created")
            ]
        return [step for uid in uids if (step := self.step(uid)) is not None]

    # -- storage commitment ------------------------------------------------------------

    def add_commitment(
        self, transaction_uid: str, requestor_ae_title: str, action_information: Dataset
    ) -> bool:
        """Record a commitment request; False if the Transaction UID was seen before."""
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO commitments VALUES (?, ?, ?, ?, NULL, NULL, NULL)",
                    (
                        transaction_uid,
                        requestor_ae_title,
                        time.time(),
                        encode_attributes(action_information),
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def record_result(
        self, transaction_uid: str, event_type_id: int, event_information: Dataset
    ) -> None:
        """Record the result computed for a request (its N-EVENT-REPORT's content)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE commitments SET event_type_id = ?, event_information = ?"
                " WHERE transaction_uid = ?",
                (event_type_id, encode_attributes(event_information), transaction_uid),
            )

    def mark_reported(self, transaction_uid: str) -> None:
        """Record that the result reached the requestor (N-EVENT-REPORT answered)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE commitments SET reported = ? WHERE transaction_uid = ?",
                (time.time(), transaction_uid),
            )

    def commitment(self, transaction_uid: str) -> StoredCommitment | None:
        """The commitment request ``transaction_uid``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT transaction_uid, requestor_ae_title, received, action_information,"
                " event_type_id, event_information, reported FROM commitments"
                " WHERE transaction_uid = ?",
                (transaction_uid,),
            ).fetchone()
        if row is None:
            return None
        return StoredCommitment(
            row[0],
            row[1],
            row[2],
            decode_attributes(row[3]),
            row[4],
            decode_attributes(row[5]) if row[5] is not None else None,
            row[6],
        )

    def unreported(self) -> list[StoredCommitment]:
        """Requests whose result was not delivered yet, oldest first."""
        with self._lock:
            uids = [
                row[0]
                for row in self._db.execute(
                    "SELECT transaction_uid FROM commitments WHERE reported IS NULL"
                    " ORDER BY received"
                )
            ]
        return [found for uid in uids if (found := self.commitment(uid)) is not None]


__all__ = [
    "FILE_NAME",
    "ProcedureStepStore",
    "StoredCommitment",
    "StoredStep",
    "decode_attributes",
    "encode_attributes",
]
