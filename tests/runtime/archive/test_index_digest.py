"""SQLiteIndex: parent rows whose attributes are unchanged are not rewritten (digests)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from dicompile.runtime.archive import QueryLevel, QueryModel, SQLiteIndex
from dicompile.runtime.archive.index import level_digest, split_levels
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.media.part10 import file_bytes, read_bytes
from tests.runtime.archive.helpers import ds, instance


def decoded(dataset: Dataset, syntax: str = "1.2.840.10008.1.2.1") -> Dataset:
    """``dataset`` as a Storage SCP sees it: encoded, then read back (raw values kept)."""
    return read_bytes(file_bytes(dataset, transfer_syntax=syntax)).dataset


@pytest.fixture
def updates(tmp_path: Path) -> tuple[SQLiteIndex, sqlite3.Connection]:
    """An index and a second connection whose triggers log every row written."""
    path = tmp_path / "index.sqlite"
    idx = SQLiteIndex(path)
    spy = sqlite3.connect(path, isolation_level=None)
    spy.execute("CREATE TABLE written (level TEXT)")
    for table in ("patient", "study", "series", "instance"):
        for event in ("INSERT", "UPDATE"):
            spy.execute(
                f"CREATE TRIGGER log_{table}_{event} AFTER {event} ON {table}"
                f" BEGIN INSERT INTO written VALUES ('{table}'); END"
            )
    return idx, spy


def written(spy: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in spy.execute("SELECT level FROM written ORDER BY rowid")]
    spy.execute("DELETE FROM written")
    return rows


def test_unchanged_parents_are_not_rewritten(
    updates: tuple[SQLiteIndex, sqlite3.Connection],
) -> None:
    idx, spy = updates
    idx.add(decoded(instance(sop="1.1.1.1")), "a")
    assert set(written(spy)) == {"instance", "patient", "series", "study"}
    idx.add(decoded(instance(sop="1.1.1.2")), "b")
    assert written(spy) == ["instance"]
    # A re-store of the same instance rewrites only its own row (new path).
    idx.add(decoded(instance(sop="1.1.1.2")), "b2")
    assert written(spy) == ["instance"]
    assert list(idx.instances(QueryLevel.IMAGE, ["1.1.1.2"])) == ["b2"]


def test_a_changed_attribute_rewrites_its_level(
    updates: tuple[SQLiteIndex, sqlite3.Connection],
) -> None:
    idx, spy = updates
    idx.add(decoded(instance(sop="1.1.1.1", StudyDescription="HEAD")), "a")
    written(spy)
    idx.add(decoded(instance(sop="1.1.1.2", StudyDescription="NECK")), "b")
    assert sorted(written(spy)) == ["instance", "study"]
    found = list(idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="", StudyDescription="")))
    assert [r["StudyDescription"].value for r in found] == ["NECK"]
    # A series attribute (Body Part Examined) changes the series row only.
    idx.add(decoded(instance(sop="1.1.1.3", StudyDescription="NECK", BodyPartExamined="X")), "c")
    assert sorted(written(spy)) == ["instance", "series"]
    # The same bytes in another character set are other values: the patient is rewritten.
    latin = instance(sop="1.1.1.4", StudyDescription="NECK", BodyPartExamined="X")
    latin["SpecificCharacterSet"] = "ISO_IR 100"
    idx.add(decoded(latin), "d")
    assert set(written(spy)) == {"instance", "patient", "series", "study"}


def test_restore_moves_the_instance_and_drops_empty_parents(
    updates: tuple[SQLiteIndex, sqlite3.Connection],
) -> None:
    idx, _ = updates
    idx.add(decoded(instance(sop="1.1.1.1", series="1.1.1", modality="CT")), "a")
    idx.add(decoded(instance(sop="1.1.1.1", series="1.1.2", modality="MR")), "a2")
    series = list(idx.find(QueryLevel.SERIES, ds(StudyInstanceUID="1.2.3.1", SeriesInstanceUID="")))
    assert [r["SeriesInstanceUID"].value for r in series] == ["1.1.2"]
    studies = list(idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="", ModalitiesInStudy="")))
    assert studies[0]["ModalitiesInStudy"].value == "MR"
    # Back again: the series row "1.1.1" is new, so it is written even though a row
    # with the same attributes existed before.
    idx.add(decoded(instance(sop="1.1.1.1", series="1.1.1", modality="CT")), "a3")
    series = list(idx.find(QueryLevel.SERIES, ds(StudyInstanceUID="1.2.3.1", SeriesInstanceUID="")))
    assert [r["SeriesInstanceUID"].value for r in series] == ["1.1.1"]
    assert idx.count() == 1


def test_study_moving_to_another_patient_is_rewritten(
    updates: tuple[SQLiteIndex, sqlite3.Connection],
) -> None:
    """Rule 2: same study attributes, another patient: the study row's parent changes."""
    idx, spy = updates
    idx.add(decoded(instance(sop="1.1.1.1", patient_id="P1")), "a")
    written(spy)
    idx.add(decoded(instance(sop="1.1.1.2", patient_id="P2")), "b")
    assert set(written(spy)) == {"instance", "patient", "study"}
    root = QueryModel.PATIENT_ROOT
    patients = list(idx.find(QueryLevel.PATIENT, ds(PatientID=""), model=root))
    assert [r["PatientID"].value for r in patients] == ["P2"]
    studies = list(idx.find(QueryLevel.STUDY, ds(PatientID="P2", StudyInstanceUID=""), model=root))
    assert len(studies) == 1


def test_digest_kinds() -> None:
    """Raw digests: equal for equal bytes, different for another value, another byte order
    or another character set; datasets made from values fall back to the JSON digest."""
    base = instance(
        StudyDescription="HEAD", ReferencedStudySequence=[ds(ReferencedSOPInstanceUID="1.9")]
    )

    def study_digest(dataset: Dataset) -> bytes:
        part = split_levels(dataset)[QueryLevel.STUDY]
        return level_digest(part, lambda: "{}")

    raw = study_digest(decoded(base))
    assert raw.startswith(b"r")
    assert study_digest(decoded(base)) == raw
    other = instance(
        StudyDescription="HEAD", ReferencedStudySequence=[ds(ReferencedSOPInstanceUID="1.8")]
    )
    assert study_digest(decoded(other)) != raw
    big = instance(StudyDescription="HEAD", NumberOfStudyRelatedInstances=3)
    assert study_digest(decoded(big)) != study_digest(decoded(big, "1.2.840.10008.1.2.2"))
    assert study_digest(base).startswith(b"j")


def test_legacy_file_without_digest_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with SQLiteIndex(path) as idx:
        idx.add(decoded(instance(sop="1.1.1.1")), "a")
    db = sqlite3.connect(path)
    for table in ("patient", "study", "series"):
        db.execute(f"ALTER TABLE {table} DROP COLUMN digest")
    db.commit()
    db.close()
    with SQLiteIndex(path) as idx:
        idx.add(decoded(instance(sop="1.1.1.2", StudyDescription="NEW")), "b")
        found = list(idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="", StudyDescription="")))
        assert [r["StudyDescription"].value for r in found] == ["NEW"]
        assert idx.count() == 2


def test_concurrent_writers_of_one_study(tmp_path: Path) -> None:
    """Threads storing one study's instances, with a description changing half-way: every
    instance lands, and the study row holds one of the descriptions stored (the last)."""
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    datasets = [
        decoded(
            instance(
                sop=f"7.{n}",
                series=f"7.{n % 4}",
                study="7",
                StudyDescription="A" if n < 100 else "B",
            )
        )
        for n in range(200)
    ]
    errors: list[BaseException] = []

    def work(part: list[tuple[int, Dataset]]) -> None:
        try:
            for number, dataset in part:
                idx.add(dataset, f"f{number}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    numbered = list(enumerate(datasets))
    threads = [threading.Thread(target=work, args=(numbered[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert idx.count() == 200
    series = list(idx.find(QueryLevel.SERIES, ds(StudyInstanceUID="7", SeriesInstanceUID="")))
    assert len(series) == 4
    # The last add decides; a final store of a "B" instance makes the row "B" for sure.
    idx.add(datasets[-1], "again")
    found = list(idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="7", StudyDescription="")))
    assert [r["StudyDescription"].value for r in found] == ["B"]


def test_durability_follows_the_files(tmp_path: Path) -> None:
    """An archive that fsyncs its files commits its index with synchronous=FULL (2), one
    that does not with NORMAL (1): never OFF, which could corrupt the file."""
    from dicompile.runtime.archive.qr_backend import open_archive

    for fsync, expected in ((True, 2), (False, 1)):
        index, _ = open_archive(tmp_path / str(fsync), fsync=fsync)
        with index:
            (level,) = index._db.execute("PRAGMA synchronous").fetchone()  # the connection's
            assert level == expected


def test_columns_are_covered_by_their_level_digest() -> None:
    """A parent row is skipped on equal digests of its level's attributes: that is only
    right if every column of the level is computed from an attribute of that level."""
    from dicompile.runtime.archive.index import COLUMNS
    from dicompile.runtime.archive.levels import level_of

    for tag, column in COLUMNS.items():
        assert level_of(tag) is column.level, hex(tag)
