"""The archive's storage hook: received instances are indexed from the bytes received."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dicompile.runtime.archive import QueryLevel
from dicompile.runtime.archive.qr_backend import index_received, open_archive
from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.net.services.storage import ReceivedInstance, deflate
from tests.runtime.archive.helpers import CT_IMAGE_STORAGE, ds, instance

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"


def received(dataset: Dataset, syntax: str = EXPLICIT_LE) -> ReceivedInstance:
    implicit = syntax == IMPLICIT_LE
    data = bytes(encode_dataset(dataset, CodecContext(implicit_vr=implicit)))
    if syntax == DEFLATED:
        data = deflate(data)
    sop = dataset["SOPInstanceUID"].value
    assert isinstance(sop, str)
    return ReceivedInstance(CT_IMAGE_STORAGE, sop, syntax, data, "SCU", "SCP", 1)


def test_stored_instances_are_indexed_before_the_store_returns(tmp_path: Path) -> None:
    index, store = open_archive(tmp_path, fsync=False)
    with index:
        for number, syntax in enumerate((EXPLICIT_LE, IMPLICIT_LE, DEFLATED)):
            outcome = asyncio.run(
                store(
                    received(
                        instance(
                            sop=f"1.2.3.1.1.{number}",
                            PatientName="Dé^Jo",
                            SpecificCharacterSet="ISO_IR 192",
                        ),
                        syntax,
                    )
                )
            )
            assert outcome.path is not None
            paths = list(index.instances(QueryLevel.IMAGE, [f"1.2.3.1.1.{number}"]))
            assert paths == [str(outcome.path)]
        found = list(index.find(QueryLevel.STUDY, ds(StudyInstanceUID="", PatientName="")))
        assert len(found) == 1
        assert str(found[0]["PatientName"].value) == "Dé^Jo"


def test_the_file_is_not_read_again(tmp_path: Path) -> None:
    """The hook decodes the bytes received: a path that does not exist is recorded as is."""
    index, _ = open_archive(tmp_path, fsync=False)
    with index:
        missing = tmp_path / "never-written.dcm"
        assert index_received(index, received(instance(sop="9.9")), missing)
        assert list(index.instances(QueryLevel.IMAGE, ["9.9"])) == [str(missing)]


def test_an_undecodable_instance_is_stored_but_not_indexed(tmp_path: Path) -> None:
    index, store = open_archive(tmp_path, fsync=False)
    with index:
        bad = ReceivedInstance(CT_IMAGE_STORAGE, "7.7", EXPLICIT_LE, b"\x08\x00", "A", "B", 1)
        outcome = asyncio.run(store(bad))
        assert outcome.path is not None and outcome.path.exists()
        assert index.count() == 0
        no_uids = instance(sop="7.8")
        del no_uids["StudyInstanceUID"]
        assert not index_received(index, received(no_uids), tmp_path / "x.dcm")
        assert index.count() == 0


def test_a_large_data_set_is_read_from_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the copy limit the hook maps the written file instead of copying the bytes."""
    from dicompile.runtime.archive import qr_backend

    index, store = open_archive(tmp_path, fsync=False)
    with index:
        small = received(instance(sop="5.5"))
        monkeypatch.setattr(qr_backend, "_COPY_LIMIT", len(small.data_set) - 1)
        # Not written: the file is what is read, so nothing is indexed.
        assert not index_received(index, small, tmp_path / "absent.dcm")
        outcome = asyncio.run(store(small))
        assert list(index.instances(QueryLevel.IMAGE, ["5.5"])) == [str(outcome.path)]
