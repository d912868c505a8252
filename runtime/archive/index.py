"""The instance index of the embedded archive: where each stored instance is, and C-FIND.

Theory of operation
-------------------
:class:`InstanceIndex` is the interface the Query/Retrieve and Storage SCPs use;
:class:`SQLiteIndex` implements it over one SQLite file with four tables, one per level of
the Patient Root model (PS3.4 C.6.1): ``patient``, ``study``, ``series``, ``instance``.
Each row keeps

* the normalised columns of the keys of PS3.4 Tables C.6-1..C.6-4 that are worth an SQL
  index (names, IDs, dates, UIDs, modality; see :data:`COLUMNS`), NULL when the value is
  empty or cannot be normalised (several values, unreadable date);
* ``attrs``: the DICOM JSON (PS3.18 F) of the level's top-level attributes of the latest
  instance stored (bulk data, private and file meta elements left out), which answers every
  other key and builds the responses.

:meth:`SQLiteIndex.find` runs the SQL translation of the keys (a superset,
:func:`~dicompile.runtime.archive.matching.sql_condition`), then the Python matcher on each
row it returns; the result is therefore exactly what the Python matcher says.

Rule 1 -- one SOP Instance UID is one row: storing it again replaces its path and
attributes (and moves it when its series, study or patient changed; emptied parents are
deleted).  Parents take the attributes of the latest instance stored in them.

Rule 2 -- a patient is identified by Patient ID and Issuer of Patient ID (empty when
absent); a study whose instances name another patient moves to that patient.

Threading model
---------------
One ``sqlite3`` connection per :class:`SQLiteIndex`, in WAL mode, shared by all callers and
guarded by a lock: every public method is one transaction, run to completion under the
lock, so asyncio tasks (which call it from the event loop thread, one at a time) and worker
threads (``asyncio.to_thread``) never interleave inside a transaction.  :meth:`find` selects
its candidate rows under the lock, then reads and matches them 500 at a time, taking the
lock for each chunk and never holding it while the caller consumes responses (a row deleted
in between is skipped).  Calls block: an SCP
that must not stall its event loop calls them through ``asyncio.to_thread``.  Other
processes may open the same file: WAL lets readers run beside one writer, and a busy
writer is waited for (``busy_timeout``).

Durability follows the files': with ``durable`` (the archive fsyncs its files),
``synchronous=FULL`` makes every commit reach the disk before the call returns, so an
instance answered Success is indexed after a power loss too; without it,
``synchronous=NORMAL``: a commit survives a crash of the process, on power loss the last
commits may be lost (as the files may), never the file's integrity (``OFF`` could corrupt
it, and is never used).

Cost of a store -- parent rows are rewritten only when their attributes change: each
patient, study and series row keeps a ``digest`` of its ``attrs`` (:func:`level_digest`,
computed from the raw bytes of the elements as read, without encoding JSON); an instance
whose parents' digests equal the stored ones writes its instance row only.  The digest is
in the row, not in memory, so other writers of the same file cannot make it stale.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final, Protocol

import attrs

from dicompile.runtime.archive.levels import (
    ISSUER_OF_PATIENT_ID,
    MODALITY,
    PATIENT_ID,
    QUERY_RETRIEVE_LEVEL,
    SERIES_INSTANCE_UID,
    SOP_INSTANCE_UID,
    SPECIFIC_CHARACTER_SET,
    STUDY_INSTANCE_UID,
    UNIQUE_KEY,
    QueryLevel,
    QueryModel,
    level_of,
    model_level_of,
)
from dicompile.runtime.archive.matching import (
    ColumnKind,
    MatchType,
    Query,
    column_value,
    compile_identifier,
    normalize_text,
    sql_condition,
)
from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.json_model import from_json, to_json
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import QueryError, ValidationError


class InstanceIndex(Protocol):
    """What the Storage and Query/Retrieve SCPs need from an index (PS3.4 B, C).

    References
    ----------
    PS3.4 C.4.1 (C-FIND), C.4.2 (C-MOVE), C.4.3 (C-GET).
    """

    def add(self, dataset: Dataset, path: str | Path) -> None:
        """Record a stored instance (replacing an earlier one with its SOP Instance UID)."""

    def find(
        self,
        level: QueryLevel,
        identifier: Dataset,
        *,
        model: QueryModel = QueryModel.STUDY_ROOT,
        relational: bool = False,
        combined_datetime: bool = False,
    ) -> Iterator[Dataset]:
        """The response Identifiers of a C-FIND; QueryError when the request is malformed."""
        ...

    def instances(self, level: QueryLevel, uids: Iterable[str]) -> Iterator[str]:
        """The file paths of the instances under the entities with these unique keys."""
        ...

    def count(self) -> int:
        """How many instances are indexed."""
        ...


@attrs.frozen
class Column:
    """A normalised column of a level table that SQL can match on."""

    level: QueryLevel
    name: str
    kind: ColumnKind


#: The attributes with their own column (PS3.4 Tables C.6-1..C.6-4 unique and required keys,
#: and the usual optional ones).
COLUMNS: Final[Mapping[int, Column]] = {
    0x00100010: Column(QueryLevel.PATIENT, "patient_name", ColumnKind.PN),
    PATIENT_ID: Column(QueryLevel.PATIENT, "patient_id", ColumnKind.TEXT),
    0x00100030: Column(QueryLevel.PATIENT, "birth_date", ColumnKind.DATE),
    0x00100040: Column(QueryLevel.PATIENT, "sex", ColumnKind.TEXT),
    STUDY_INSTANCE_UID: Column(QueryLevel.STUDY, "study_uid", ColumnKind.UID),
    0x00080020: Column(QueryLevel.STUDY, "study_date", ColumnKind.DATE),
    0x00080030: Column(QueryLevel.STUDY, "study_time", ColumnKind.DATE),
    0x00080050: Column(QueryLevel.STUDY, "accession", ColumnKind.TEXT),
    0x00200010: Column(QueryLevel.STUDY, "study_id", ColumnKind.TEXT),
    0x00081030: Column(QueryLevel.STUDY, "description", ColumnKind.TEXT),
    0x00080090: Column(QueryLevel.STUDY, "referring", ColumnKind.PN),
    0x00080061: Column(QueryLevel.STUDY, "modalities", ColumnKind.MULTI),
    SERIES_INSTANCE_UID: Column(QueryLevel.SERIES, "series_uid", ColumnKind.UID),
    MODALITY: Column(QueryLevel.SERIES, "modality", ColumnKind.TEXT),
    0x0008103E: Column(QueryLevel.SERIES, "description", ColumnKind.TEXT),
    SOP_INSTANCE_UID: Column(QueryLevel.IMAGE, "sop_uid", ColumnKind.UID),
    0x00080016: Column(QueryLevel.IMAGE, "sop_class", ColumnKind.UID),
}

#: The columns of each level, in COLUMNS order (Modalities in Study is computed).
_LEVEL_COLUMNS: Final = {
    level: tuple(
        (tag, column)
        for tag, column in COLUMNS.items()
        if column.level is level and tag != 0x00080061
    )
    for level in QueryLevel
}

_TABLE: Final = {
    QueryLevel.PATIENT: "patient",
    QueryLevel.STUDY: "study",
    QueryLevel.SERIES: "series",
    QueryLevel.IMAGE: "instance",
}
_ALIAS: Final = {QueryLevel.PATIENT: "p", QueryLevel.STUDY: "s", QueryLevel.SERIES: "e"}
_ALIAS[QueryLevel.IMAGE] = "i"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS patient (
    pk INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    patient_id TEXT, patient_name TEXT, birth_date TEXT, sex TEXT,
    attrs TEXT NOT NULL, digest BLOB
);
CREATE TABLE IF NOT EXISTS study (
    pk INTEGER PRIMARY KEY,
    patient_fk INTEGER NOT NULL REFERENCES patient(pk),
    study_uid TEXT NOT NULL UNIQUE,
    study_date TEXT, study_time TEXT, accession TEXT, study_id TEXT, description TEXT,
    referring TEXT, modalities TEXT,
    attrs TEXT NOT NULL, digest BLOB
);
CREATE TABLE IF NOT EXISTS series (
    pk INTEGER PRIMARY KEY,
    study_fk INTEGER NOT NULL REFERENCES study(pk),
    series_uid TEXT NOT NULL UNIQUE,
    modality TEXT, description TEXT,
    attrs TEXT NOT NULL, digest BLOB
);
CREATE TABLE IF NOT EXISTS instance (
    pk INTEGER PRIMARY KEY,
    series_fk INTEGER NOT NULL REFERENCES series(pk),
    sop_uid TEXT NOT NULL UNIQUE,
    sop_class TEXT,
    path TEXT NOT NULL,
    attrs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patient_id_ix ON patient(patient_id);
CREATE INDEX IF NOT EXISTS patient_name_ix ON patient(patient_name);
CREATE INDEX IF NOT EXISTS patient_birth_ix ON patient(birth_date);
CREATE INDEX IF NOT EXISTS study_patient_ix ON study(patient_fk);
CREATE INDEX IF NOT EXISTS study_date_ix ON study(study_date);
CREATE INDEX IF NOT EXISTS study_accession_ix ON study(accession);
CREATE INDEX IF NOT EXISTS study_id_ix ON study(study_id);
CREATE INDEX IF NOT EXISTS series_study_ix ON series(study_fk);
CREATE INDEX IF NOT EXISTS series_modality_ix ON series(modality);
CREATE INDEX IF NOT EXISTS instance_series_ix ON instance(series_fk);
CREATE INDEX IF NOT EXISTS instance_class_ix ON instance(sop_class);
"""

#: Values never kept in ``attrs``: pixel and other bulk data, and Icon Image Sequence.
_BULK_VRS: Final = frozenset({VR.OB, VR.OD, VR.OF, VR.OL, VR.OV, VR.OW, VR.UN})
_ICON_IMAGE_SEQUENCE: Final = 0x00880200
_BULK_LIMIT: Final = 1024
#: Candidate rows read and matched per lock hold in find() (bounded by SQLite's 32766
#: host parameters per statement).
_CHUNK: Final = 500

# Attributes computed from the index (PS3.4 C.3.4), by the level whose rows they describe.
_MODALITIES_IN_STUDY: Final = 0x00080061
_SOP_CLASSES_IN_STUDY: Final = 0x00080062
_COUNTS: Final = {
    0x00201200: (QueryLevel.PATIENT, QueryLevel.STUDY),
    0x00201202: (QueryLevel.PATIENT, QueryLevel.SERIES),
    0x00201204: (QueryLevel.PATIENT, QueryLevel.IMAGE),
    0x00201206: (QueryLevel.STUDY, QueryLevel.SERIES),
    0x00201208: (QueryLevel.STUDY, QueryLevel.IMAGE),
    0x00201209: (QueryLevel.SERIES, QueryLevel.IMAGE),
}


def _required_uid(dataset: Dataset, tag: int) -> str:
    element = dataset.get(tag)
    value = element.value if element is not None else None
    text = normalize_text(VR.UI, value) if isinstance(value, str) else ""
    if not text:
        raise ValidationError(
            f"an archived instance needs a single {format_tag(tag)} value (PS3.4 C.2.2.1.1)"
        )
    return text


def _text_of(dataset: Dataset, tag: int) -> str:
    element = dataset.get(tag)
    value = element.value if element is not None else None
    return normalize_text(VR.LO, value) if isinstance(value, str) else ""


def split_levels(dataset: Dataset) -> dict[QueryLevel, Dataset]:
    """The top-level attributes of an instance kept at each level (bulk data, private
    elements, group lengths and file meta left out).

    References
    ----------
    PS3.4 C.6.1.1 (levels), C.3.4.
    """
    parts = {level: Dataset() for level in QueryLevel}
    charset = dataset.get(SPECIFIC_CHARACTER_SET)
    for element in dataset:
        tag = element.tag
        group = tag >> 16
        if group < 0x0008 or group & 1 or tag & 0xFFFF == 0 or tag == _ICON_IMAGE_SEQUENCE:
            continue
        if element.vr in _BULK_VRS:
            if element.is_deferred:
                continue
            value = element.value
            if not isinstance(value, bytes) or len(value) > _BULK_LIMIT:
                continue
        parts[level_of(tag)].add(element)
    if charset is not None:
        for part in parts.values():
            part.add(charset)
    return parts


def level_digest(part: Dataset, encode: Callable[[], str]) -> bytes:
    """A digest identifying the ``attrs`` JSON of ``part`` without encoding it, when every
    element (items of sequences included) holds the raw bytes it was read from: the JSON
    is a function of each element's tag, VR, byte order and bytes (the Specific Character
    Set is one of the elements), so equal digests mean equal JSON.  Otherwise (elements
    made from values) the digest of the JSON ``encode`` returns.  The two kinds never
    compare equal; a mismatch only costs a rewrite of the row.
    """
    hasher = hashlib.blake2b(digest_size=20)
    if _feed_raw(hasher, part):
        return b"r" + hasher.digest()
    return b"j" + hashlib.blake2b(encode().encode("utf-8"), digest_size=20).digest()


def _feed_raw(hasher: hashlib.blake2b, dataset: Dataset) -> bool:
    """Feed ``hasher`` the raw form of ``dataset``; False when some element has none."""
    update = hasher.update
    for element in dataset:
        raw = element.raw
        if type(raw) is bytes:
            ctx = element.decoder
            if not isinstance(ctx, CodecContext):
                return False
            update(
                element.tag.to_bytes(4, "little")
                + element.vr.value.encode("ascii")
                + (b"<" if ctx.little_endian else b">")
                + len(raw).to_bytes(4, "little")
            )
            update(raw)
        elif raw is None and element.vr is VR.SQ:
            items = element.value
            if items is None:
                items = Sequence()
            if not isinstance(items, Sequence):
                return False
            update(element.tag.to_bytes(4, "little") + b"SQ" + len(items).to_bytes(4, "little"))
            for item in items:
                if not _feed_raw(hasher, item):
                    return False
                update(b"\xff")  # end of item: (a, b)(c) differs from (a)(b, c)
        else:
            return False
    return True


class SQLiteIndex:
    """An :class:`InstanceIndex` in one SQLite file (``":memory:"`` for a private one).

    ``durable``: every commit is on disk when a call returns (``synchronous=FULL``; see the
    module text), for archives whose files are fsynced.

    References
    ----------
    PS3.4 C.3 (information model), C.4.1 (C-FIND SCP behaviour), C.6.1, C.6.2.
    """

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        self._db.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            self._db.executescript(_SCHEMA)
            for table in ("patient", "study", "series"):  # files made before digests
                names = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if "digest" not in names:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN digest BLOB")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- storing ------------------------------------------------------------------------

    def add(self, dataset: Dataset, path: str | Path) -> None:
        """Record ``dataset`` stored at ``path`` (one transaction; see Rule 1).

        Raises ValidationError when the instance lacks a SOP Instance, Series Instance or
        Study Instance UID (every entity has a unique key, PS3.4 C.2.2.1.1).
        """
        self.add_many([(dataset, path)])

    def add_many(self, items: Iterable[tuple[Dataset, str | Path]]) -> int:
        """Record several instances in one transaction (all or none); returns how many.

        The result is that of adding them one by one in order; a patient, study or series
        takes its attributes from the last of its instances in the batch, so their rows are
        encoded once per batch rather than once per instance.
        """
        prepared = [_Prepared.of(dataset, path) for dataset, path in items]
        source: dict[tuple[QueryLevel, str], _Prepared] = {}
        for row in prepared:
            source[(QueryLevel.PATIENT, row.identity)] = row
            source[(QueryLevel.STUDY, row.uids[0])] = row
            source[(QueryLevel.SERIES, row.uids[1])] = row
        for (level, _), row in source.items():  # outside the lock
            row.digest(level)
        for row in prepared:
            row.columns(QueryLevel.IMAGE)
            row.json(QueryLevel.IMAGE)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for row in prepared:
                    self._store(
                        row,
                        source[(QueryLevel.PATIENT, row.identity)],
                        source[(QueryLevel.STUDY, row.uids[0])],
                        source[(QueryLevel.SERIES, row.uids[1])],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(prepared)

    def _store(
        self, row: _Prepared, patient: _Prepared, study: _Prepared, series: _Prepared
    ) -> None:
        """Upsert one instance and its parents.  A parent row whose stored digest equals
        that of the attributes it would get (and whose parent is unchanged) is left as it
        is: re-encoding and rewriting it would write the same bytes."""
        db = self._db
        study_uid, series_uid, sop_uid = row.uids
        digest = patient.digest(QueryLevel.PATIENT)
        old_patient = db.execute(
            "SELECT pk, digest FROM patient WHERE identity = ?", (row.identity,)
        ).fetchone()
        if old_patient is not None and old_patient[1] == digest:
            patient_pk = old_patient[0]
        else:
            pc = patient.columns(QueryLevel.PATIENT)
            (patient_pk,) = db.execute(
                "INSERT INTO patient (identity, patient_id, patient_name, birth_date, sex,"
                " attrs, digest) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(identity) DO UPDATE"
                " SET patient_id=excluded.patient_id, patient_name=excluded.patient_name,"
                " birth_date=excluded.birth_date, sex=excluded.sex, attrs=excluded.attrs,"
                " digest=excluded.digest RETURNING pk",
                (
                    row.identity,
                    pc["patient_id"],
                    pc["patient_name"],
                    pc["birth_date"],
                    pc["sex"],
                    patient.json(QueryLevel.PATIENT),
                    digest,
                ),
            ).fetchone()
        digest = study.digest(QueryLevel.STUDY)
        old_study = db.execute(
            "SELECT pk, patient_fk, digest FROM study WHERE study_uid = ?", (study_uid,)
        ).fetchone()
        if old_study is not None and old_study[1] == patient_pk and old_study[2] == digest:
            study_pk = old_study[0]
        else:
            sc = study.columns(QueryLevel.STUDY)
            (study_pk,) = db.execute(
                "INSERT INTO study (patient_fk, study_uid, study_date, study_time, accession,"
                " study_id, description, referring, attrs, digest)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(study_uid) DO UPDATE SET patient_fk=excluded.patient_fk,"
                " study_date=excluded.study_date, study_time=excluded.study_time,"
                " accession=excluded.accession, study_id=excluded.study_id,"
                " description=excluded.description, referring=excluded.referring,"
                " attrs=excluded.attrs, digest=excluded.digest RETURNING pk",
                (
                    patient_pk,
                    study_uid,
                    sc["study_date"],
                    sc["study_time"],
                    sc["accession"],
                    sc["study_id"],
                    sc["description"],
                    sc["referring"],
                    study.json(QueryLevel.STUDY),
                    digest,
                ),
            ).fetchone()
        digest = series.digest(QueryLevel.SERIES)
        old_series = db.execute(
            "SELECT pk, study_fk, modality, digest FROM series WHERE series_uid = ?",
            (series_uid,),
        ).fetchone()
        if old_series is not None and old_series[1] == study_pk and old_series[3] == digest:
            series_pk = old_series[0]
            modality_changed = False
        else:
            ec = series.columns(QueryLevel.SERIES)
            modality_changed = old_series is None or old_series[2] != ec["modality"]
            (series_pk,) = db.execute(
                "INSERT INTO series (study_fk, series_uid, modality, description, attrs, digest)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(series_uid) DO UPDATE SET"
                " study_fk=excluded.study_fk, modality=excluded.modality,"
                " description=excluded.description, attrs=excluded.attrs,"
                " digest=excluded.digest RETURNING pk",
                (
                    study_pk,
                    series_uid,
                    ec["modality"],
                    ec["description"],
                    series.json(QueryLevel.SERIES),
                    digest,
                ),
            ).fetchone()
        old_instance = db.execute(
            "SELECT series_fk FROM instance WHERE sop_uid = ?", (sop_uid,)
        ).fetchone()
        db.execute(
            "INSERT INTO instance (series_fk, sop_uid, sop_class, path, attrs)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(sop_uid) DO UPDATE SET"
            " series_fk=excluded.series_fk, sop_class=excluded.sop_class, path=excluded.path,"
            " attrs=excluded.attrs",
            (
                series_pk,
                sop_uid,
                row.columns(QueryLevel.IMAGE)["sop_class"],
                row.path,
                row.json(QueryLevel.IMAGE),
            ),
        )
        moved = (
            (old_instance is not None and old_instance[0] != series_pk)
            or (old_series is not None and old_series[1] != study_pk)
            or (old_study is not None and old_study[1] != patient_pk)
        )
        if moved:
            self._delete_orphans()
        if modality_changed or moved:
            self._update_modalities(study_pk)
            if old_series is not None and old_series[1] != study_pk:
                self._update_modalities(old_series[1])

    def _delete_orphans(self) -> None:
        db = self._db
        db.execute("DELETE FROM series WHERE pk NOT IN (SELECT series_fk FROM instance)")
        db.execute("DELETE FROM study WHERE pk NOT IN (SELECT study_fk FROM series)")
        db.execute("DELETE FROM patient WHERE pk NOT IN (SELECT patient_fk FROM study)")

    def _update_modalities(self, study_pk: int) -> None:
        rows = self._db.execute(
            "SELECT DISTINCT modality FROM series WHERE study_fk = ? AND modality IS NOT NULL",
            (study_pk,),
        ).fetchall()
        value = column_value(VR.CS, [row[0] for row in rows], ColumnKind.MULTI)
        self._db.execute("UPDATE study SET modalities = ? WHERE pk = ?", (value, study_pk))

    # -- reading ------------------------------------------------------------------------

    def count(self) -> int:
        """How many instances are indexed."""
        with self._lock:
            (number,) = self._db.execute("SELECT count(*) FROM instance").fetchone()
        return int(number)

    def instances(self, level: QueryLevel, uids: Iterable[str]) -> Iterator[str]:
        """The paths of the instances under the entities of ``level`` whose unique key (Patient
        ID, Study, Series or SOP Instance UID) is one of ``uids``, for C-MOVE and C-GET.

        References
        ----------
        PS3.4 C.4.2.1.4, C.4.3.1.3 (the unique keys of a retrieve Identifier).
        """
        wanted = [normalize_text(VR.UI, uid) for uid in uids]
        if not wanted:
            return iter(())
        where = {
            QueryLevel.PATIENT: "p.patient_id",
            QueryLevel.STUDY: "s.study_uid",
            QueryLevel.SERIES: "e.series_uid",
            QueryLevel.IMAGE: "i.sop_uid",
        }[level]
        marks = ", ".join("?" for _ in wanted)
        sql = (
            "SELECT i.path FROM instance i JOIN series e ON i.series_fk = e.pk"
            " JOIN study s ON e.study_fk = s.pk JOIN patient p ON s.patient_fk = p.pk"
            f" WHERE {where} IN ({marks}) ORDER BY i.pk"
        )
        with self._lock:
            rows = self._db.execute(sql, wanted).fetchall()
        return iter([str(row[0]) for row in rows])

    def find(
        self,
        level: QueryLevel,
        identifier: Dataset,
        *,
        model: QueryModel = QueryModel.STUDY_ROOT,
        relational: bool = False,
        combined_datetime: bool = False,
    ) -> Iterator[Dataset]:
        """The response Identifiers of a C-FIND at ``level`` (one per matching entity).

        ``relational`` and ``combined_datetime`` say whether relational queries and
        combined datetime matching were negotiated.  Keys of levels below ``level`` are
        treated as unsupported optional keys (not matched, not returned, C.2.2.1.3); so are
        non-unique keys of higher levels in a hierarchical query (C.4.1.2.1 forbids them).

        Raises
        ------
        QueryError
            The level is not one of ``model``, the Identifier's Query/Retrieve Level
            disagrees, a hierarchical query lacks a single unique key value of a higher
            level (C.4.1.2.1), or a key is malformed (C.2.2.2).

        References
        ----------
        PS3.4 C.4.1.2, C.4.1.3 (hierarchical and relational search), C.2.2.2.
        """
        query = self._plan(level, identifier, model, relational, combined_datetime)
        with self._lock:
            rows = self._candidates(level, query)
        return self._responses(level, model, query, rows)

    def _plan(
        self,
        level: QueryLevel,
        identifier: Dataset,
        model: QueryModel,
        relational: bool,
        combined_datetime: bool,
    ) -> Query:
        if level not in model.levels:
            raise QueryError(
                f"level {level.value} is not one of the {model.value} model (PS3.4 C.6)",
                tag_path=format_tag(QUERY_RETRIEVE_LEVEL),
            )
        if not len(identifier):
            raise QueryError(
                "empty Identifier: it holds the Query/Retrieve Level and the keys"
                " (PS3.4 C.4.1.1.3.1)"
            )
        given = identifier.get(QUERY_RETRIEVE_LEVEL)
        if given is not None:
            text = normalize_text(VR.CS, str(given.value or ""))
            if text != level.value:
                raise QueryError(
                    f"Query/Retrieve Level {text!r} but the query is at {level.value}",
                    tag_path=format_tag(QUERY_RETRIEVE_LEVEL),
                )
        query = compile_identifier(identifier, combined_datetime=combined_datetime)
        upper = [lvl for lvl in model.levels if lvl.depth < level.depth]
        if not relational:
            for above in upper:
                key = query.key(UNIQUE_KEY[above])
                if key is None or key.type is not MatchType.SINGLE:
                    raise QueryError(
                        f"a hierarchical {level.value} query needs one value of the"
                        f" {above.value} unique key (PS3.4 C.4.1.2.1)",
                        tag_path=format_tag(UNIQUE_KEY[above]),
                    )
        unique_above = {UNIQUE_KEY[lvl] for lvl in upper}
        kept = []
        for key in query.keys:
            key_level = model_level_of(key.tag, model)
            if key_level.depth > level.depth:
                continue
            if not relational and key_level.depth < level.depth and key.tag not in unique_above:
                continue
            kept.append(key)
        combined = tuple(
            pair
            for pair in query.combined
            if model_level_of(pair.date_tag, model).depth <= level.depth
        )
        return Query(tuple(kept), combined, query.identifier)

    def _candidates(self, level: QueryLevel, query: Query) -> list[tuple[int, ...]]:
        levels = [lvl for lvl in QueryLevel if lvl.depth <= level.depth]
        select = ", ".join(f"{_ALIAS[lvl]}.pk" for lvl in levels)
        joins = "patient p"
        if level.depth >= 1:
            joins += " JOIN study s ON s.patient_fk = p.pk"
        if level.depth >= 2:
            joins += " JOIN series e ON e.study_fk = s.pk"
        if level.depth >= 3:
            joins += " JOIN instance i ON i.series_fk = e.pk"
        where: list[str] = []
        params: list[str] = []
        for key in query.keys:
            column = COLUMNS.get(key.tag)
            if column is None or column.level.depth > level.depth:
                continue
            found = sql_condition(key, f"{_ALIAS[column.level]}.{column.name}", column.kind)
            if found is not None:
                where.append(found[0])
                params.extend(found[1])
        sql = f"SELECT {select} FROM {joins}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {_ALIAS[level]}.pk"
        return [tuple(row) for row in self._db.execute(sql, params).fetchall()]

    def _entities(
        self, level: QueryLevel, rows: list[tuple[int, ...]], query: Query
    ) -> list[Dataset | None]:
        """Each candidate row as one data set: its level's attributes and its parents'
        (None for a row deleted since the candidates were selected)."""
        decoded: dict[tuple[QueryLevel, int], Dataset] = {}
        levels = [lvl for lvl in QueryLevel if lvl.depth <= level.depth]
        for position, lvl in enumerate(levels):
            pks = sorted({row[position] for row in rows})
            marks = ", ".join("?" for _ in pks)
            for pk, text in self._db.execute(
                f"SELECT pk, attrs FROM {_TABLE[lvl]} WHERE pk IN ({marks})", pks
            ):
                decoded[(lvl, pk)] = from_json(text)
        wanted = {key.tag for key in query.keys}
        entities: list[Dataset | None] = []
        for row in rows:
            parts = [decoded.get((lvl, pk)) for lvl, pk in zip(levels, row, strict=True)]
            if any(part is None for part in parts):
                entities.append(None)
                continue
            entity = Dataset()
            for part in parts:
                assert part is not None
                for element in part:
                    entity.add(element)
            self._computed(level, row, wanted, entity)
            entities.append(entity)
        return entities

    def _computed(
        self, level: QueryLevel, row: tuple[int, ...], wanted: set[int], entity: Dataset
    ) -> None:
        """Add the C.3.4 attributes the query asks for, computed from the index."""
        db = self._db
        if level.depth >= 1 and _MODALITIES_IN_STUDY in wanted:
            found = db.execute(
                "SELECT DISTINCT modality FROM series WHERE study_fk = ? AND modality IS NOT NULL"
                " ORDER BY modality",
                (row[1],),
            ).fetchall()
            entity.add(DataElement(_MODALITIES_IN_STUDY, VR.CS, [r[0] for r in found] or None))
        if level.depth >= 1 and _SOP_CLASSES_IN_STUDY in wanted:
            found = db.execute(
                "SELECT DISTINCT i.sop_class FROM instance i JOIN series e ON i.series_fk = e.pk"
                " WHERE e.study_fk = ? AND i.sop_class IS NOT NULL ORDER BY i.sop_class",
                (row[1],),
            ).fetchall()
            entity.add(DataElement(_SOP_CLASSES_IN_STUDY, VR.UI, [r[0] for r in found] or None))
        for tag, (of, what) in _COUNTS.items():
            if tag not in wanted or of.depth > level.depth:
                continue
            entity.add(DataElement(tag, VR.IS, self._count_below(of, row[of.depth], what)))

    def _count_below(self, of: QueryLevel, pk: int, what: QueryLevel) -> int:
        joins = {
            QueryLevel.STUDY: "study s",
            QueryLevel.SERIES: "series e JOIN study s ON e.study_fk = s.pk",
            QueryLevel.IMAGE: "instance i JOIN series e ON i.series_fk = e.pk"
            " JOIN study s ON e.study_fk = s.pk",
        }[what]
        column = {QueryLevel.PATIENT: "s.patient_fk", QueryLevel.STUDY: "s.pk"}.get(of, "e.pk")
        (number,) = self._db.execute(
            f"SELECT count(*) FROM {joins} WHERE {column} = ?", (pk,)
        ).fetchone()
        return int(number)

    def _responses(
        self, level: QueryLevel, model: QueryModel, query: Query, rows: list[tuple[int, ...]]
    ) -> Iterator[Dataset]:
        """Match and answer ``rows`` a chunk at a time: the lock is held while a chunk is
        read, never while the caller consumes responses."""
        unique = [UNIQUE_KEY[lvl] for lvl in model.levels if lvl.depth <= level.depth]
        for start in range(0, len(rows), _CHUNK):
            with self._lock:
                entities = self._entities(level, rows[start : start + _CHUNK], query)
            for entity in entities:
                if entity is None or not query.matches(entity):
                    continue
                response = query.response(entity)
                response.add(DataElement(QUERY_RETRIEVE_LEVEL, VR.CS, level.value))
                for tag in unique:
                    if tag not in response:
                        found = entity.get(tag)
                        vr = VR.LO if tag == PATIENT_ID else VR.UI
                        response.add(found if found is not None else DataElement(tag, vr, None))
                charset = entity.get(SPECIFIC_CHARACTER_SET)
                if charset is not None and charset.value is not None:
                    response.add(charset)
                yield response


def _conforms(index: SQLiteIndex) -> InstanceIndex:
    """Lets mypy check that SQLiteIndex implements the InstanceIndex protocol."""
    return index


class _Prepared:
    """An instance about to be stored: its identity and UIDs, and, computed on demand (and
    outside the lock), each level's columns and JSON."""

    __slots__ = ("_columns", "_digest", "_json", "dataset", "identity", "parts", "path", "uids")

    def __init__(self, dataset: Dataset, path: str, identity: str, uids: tuple[str, str, str]):
        self.dataset = dataset
        self.path = path
        self.identity = identity
        self.uids = uids
        self.parts = split_levels(dataset)
        self._columns: dict[QueryLevel, dict[str, str | None]] = {}
        self._json: dict[QueryLevel, str] = {}
        self._digest: dict[QueryLevel, bytes] = {}

    @classmethod
    def of(cls, dataset: Dataset, path: str | Path) -> _Prepared:
        uids = (
            _required_uid(dataset, STUDY_INSTANCE_UID),
            _required_uid(dataset, SERIES_INSTANCE_UID),
            _required_uid(dataset, SOP_INSTANCE_UID),
        )
        identity = _text_of(dataset, PATIENT_ID) + "\x00" + _text_of(dataset, ISSUER_OF_PATIENT_ID)
        return cls(dataset, str(path), identity, uids)

    def columns(self, level: QueryLevel) -> dict[str, str | None]:
        found = self._columns.get(level)
        if found is None:
            found = self._columns[level] = {}
            for tag, column in _LEVEL_COLUMNS[level]:
                element = self.dataset.get(tag)
                values = element.values if element is not None else ()
                vr = element.vr if element is not None else VR.LO
                found[column.name] = column_value(vr, values, column.kind)
        return found

    def json(self, level: QueryLevel) -> str:
        found = self._json.get(level)
        if found is None:
            found = self._json[level] = to_json(self.parts[level])
        return found

    def digest(self, level: QueryLevel) -> bytes:
        """What identifies the level's ``attrs`` (see :func:`level_digest`)."""
        found = self._digest.get(level)
        if found is None:
            found = self._digest[level] = level_digest(self.parts[level], lambda: self.json(level))
        return found


__all__ = ["COLUMNS", "Column", "InstanceIndex", "SQLiteIndex", "split_levels"]
