"""Query/Retrieve over the embedded archive (runtime/archive SQLiteIndex): instances stored
with C-STORE are indexed, then found, moved and got back; the answers are compared with
what the files hold (read by pydicom, the test-only oracle)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from net_support import run, running_server, same_elements, scp_ae, scu_ae
from qr_support import Made, make_studies

from dicompile.runtime.archive.qr_backend import INDEX_NAME, IndexArchive, open_archive
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ
from dicompile.runtime.net.services.query_retrieve import (
    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
    PENDING,
    PENDING_KEYS_UNSUPPORTED,
    SUCCESS,
    FindResponse,
    Operation,
    QueryModel,
    QueryRetrieveSCP,
    find,
    get,
    get_contexts,
    move,
    qr_scp_contexts,
    query_context,
    storage_contexts_for_retrieve,
)
from dicompile.runtime.net.services.storage import (
    FileStore,
    plan_contexts,
    probe,
    storage_handler,
    store_instances,
)
from dicompile.runtime.net.services.verification import VERIFICATION_SCP, handle_echo


def identifier(level: str, **keys: object) -> Dataset:
    ds = Dataset()
    ds.set("QueryRetrieveLevel", level)
    for keyword, value in keys.items():
        ds.set(keyword, value if value != "" else None)
    return ds


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> list[Made]:
    return make_studies(tmp_path_factory.mktemp("sources"))


@asynccontextmanager
async def archive_server(
    folder: Path, destinations: dict[str, tuple[str, int]] | None = None
) -> AsyncIterator[int]:
    """What ``dicompile serve`` runs: Storage that indexes, and Q/R over the same index."""
    ae = scp_ae("ARCHIVE", (VERIFICATION_SCP, *storage_contexts_for_retrieve(), *qr_scp_contexts()))
    index, store = open_archive(folder, fsync=False)
    qr = QueryRetrieveSCP(IndexArchive(index), ae, destinations=destinations)
    handlers = {CEchoRQ: handle_echo, CStoreRQ: storage_handler(store), **qr.handlers()}
    try:
        async with running_server(ae, handlers=handlers) as (_, port):
            yield port
    finally:
        index.close()


async def store_all(port: int, paths: list[Path]) -> None:
    instances = [probe(p) for p in paths]
    async with await associate(
        scu_ae(), "127.0.0.1", port, called_ae_title="ARCHIVE", contexts=plan_contexts(instances)
    ) as association:
        results = await store_instances(association, instances)
    assert all(r.ok for r in results)


async def find_all(
    port: int, query: Dataset, model: QueryModel = QueryModel.STUDY
) -> list[FindResponse]:
    async with await associate(
        scu_ae(),
        "127.0.0.1",
        port,
        called_ae_title="ARCHIVE",
        contexts=[query_context(model, Operation.FIND)],
    ) as association:
        return [r async for r in find(association, query, model=model)]


def test_stored_instances_are_found(tmp_path: Path, studies: list[Made]) -> None:
    async def body() -> tuple[list[FindResponse], list[FindResponse], list[FindResponse]]:
        async with archive_server(tmp_path / "archive") as port:
            await store_all(port, [m.path for m in studies])
            by_study = await find_all(
                port,
                identifier(
                    "STUDY",
                    StudyInstanceUID="",
                    PatientID="",
                    StudyDate="",
                    ModalitiesInStudy="",
                    NumberOfStudyRelatedInstances="",
                ),
            )
            by_date = await find_all(
                port, identifier("STUDY", StudyDate="20210101-", StudyInstanceUID="")
            )
            images = await find_all(
                port,
                identifier(
                    "IMAGE",
                    PatientID="P1",
                    StudyInstanceUID=studies[0].study_uid,
                    SeriesInstanceUID=studies[0].series_uid,
                    SOPInstanceUID="",
                ),
                QueryModel.PATIENT,
            )
            return by_study, by_date, images

    by_study, by_date, images = run(body())
    assert (tmp_path / "archive" / INDEX_NAME).exists()
    assert by_study[-1].status == SUCCESS
    got = {
        str(r.identifier.get_value("StudyInstanceUID")): r.identifier
        for r in by_study[:-1]
        if r.identifier is not None
    }
    assert set(got) == {m.study_uid for m in studies}
    for uid, ds in got.items():
        members = [m for m in studies if m.study_uid == uid]
        modalities = ds.get_value("ModalitiesInStudy")
        modalities = modalities if isinstance(modalities, tuple) else (modalities,)
        assert set(modalities) == {m.modality for m in members}
        assert int(str(ds.get_value("NumberOfStudyRelatedInstances"))) == len(members)
        assert ds.get_value("PatientID") == members[0].patient_id
    later = {m.study_uid for m in studies if m.study_date >= "20210101"}
    dated = {str(r.identifier.get_value("StudyInstanceUID")) for r in by_date if r.identifier}
    assert dated == later
    expected = {m.sop_instance_uid for m in studies if m.series_uid == studies[0].series_uid}
    assert {str(r.identifier.get_value("SOPInstanceUID")) for r in images if r.identifier} == (
        expected
    )


def test_a_lower_level_key_is_unsupported_ff01(tmp_path: Path, studies: list[Made]) -> None:
    async def body() -> list[FindResponse]:
        async with archive_server(tmp_path / "archive") as port:
            await store_all(port, [m.path for m in studies])
            # Modality is a series key: not matched at STUDY level (PS3.4 C.2.2.1.3).
            return await find_all(port, identifier("STUDY", StudyInstanceUID="", Modality="MR"))

    responses = run(body())
    assert [r.status for r in responses] == [PENDING_KEYS_UNSUPPORTED] * 3 + [SUCCESS]
    assert all(r.identifier is None or "Modality" not in r.identifier for r in responses)


def test_a_malformed_key_is_a_failure_not_a_crash(tmp_path: Path, studies: list[Made]) -> None:
    async def body() -> list[FindResponse]:
        async with archive_server(tmp_path / "archive") as port:
            await store_all(port, [m.path for m in studies[:1]])
            return await find_all(port, identifier("STUDY", StudyDate="2020-13-45", PatientID=""))

    responses = run(body())
    assert len(responses) == 1
    assert responses[0].status in (IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, 0xC000)


def test_move_and_get_from_the_archive(tmp_path: Path, studies: list[Made]) -> None:
    moved_to = tmp_path / "moved"
    got_to = tmp_path / "got"

    async def body() -> tuple[int, int]:
        async with (
            running_server(scp_ae("DEST"), moved_to) as (_, dest_port),
            archive_server(tmp_path / "archive", {"DEST": ("127.0.0.1", dest_port)}) as port,
        ):
            await store_all(port, [m.path for m in studies])
            async with await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="ARCHIVE",
                contexts=[
                    query_context(QueryModel.PATIENT, Operation.MOVE),
                    *get_contexts(QueryModel.STUDY)[:1],
                ],
            ) as association:
                query = identifier("PATIENT", PatientID="P2")
                finals = [
                    r async for r in move(association, query, "DEST", model=QueryModel.PATIENT)
                ]
            async with await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="ARCHIVE",
                contexts=get_contexts(QueryModel.STUDY),
            ) as association:
                # Relational retrieve: no Study Instance UID, the patient's studies instead.
                query = identifier("STUDY", PatientID="P1")
                got = [r async for r in get(association, query, FileStore(got_to, fsync=False))]
            assert finals[-1].status == SUCCESS and got[-1].status == SUCCESS
            assert all(r.status == PENDING for r in [*finals[:-1], *got[:-1]])
            return finals[-1].counts.completed, got[-1].counts.completed

    moved, got = run(body())
    p2 = [m for m in studies if m.patient_id == "P2"]
    p1 = [m for m in studies if m.patient_id == "P1"]
    assert (moved, got) == (len(p2), len(p1))
    for made in p2:
        same_elements(made.path, moved_to / f"{made.sop_instance_uid}.dcm")
    for made in p1:
        same_elements(made.path, got_to / f"{made.sop_instance_uid}.dcm")


def test_open_archive_indexes_files_already_there(tmp_path: Path, studies: list[Made]) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for made in studies:
        (folder / made.path.name).write_bytes(made.path.read_bytes())
    index, _ = open_archive(folder, fsync=False)
    try:
        assert index.count() == len(studies)
    finally:
        index.close()
