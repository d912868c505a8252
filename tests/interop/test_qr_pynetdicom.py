"""pynetdicom (a test-only peer) as Query/Retrieve SCU against dicompile's SCP over the SQLite
archive: C-FIND, C-GET with SCP/SCU role selection, C-MOVE to a dicompile Storage SCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from net_support import run, running_server, same_elements, scp_ae
from qr_support import Made, make_studies

from dicompile.runtime.archive.qr_backend import IndexArchive, open_archive
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ
from dicompile.runtime.net.services.query_retrieve import (
    QueryRetrieveSCP,
    qr_scp_contexts,
    storage_contexts_for_retrieve,
)
from dicompile.runtime.net.services.storage import storage_handler
from dicompile.runtime.net.services.verification import VERIFICATION_SCP, handle_echo

pytestmark = pytest.mark.interop
pynetdicom = pytest.importorskip("pynetdicom", reason="pynetdicom (a test-only peer) is missing")


@pytest.fixture
def studies(tmp_path: Path) -> list[Made]:
    return make_studies(tmp_path / "sources")


@asynccontextmanager
async def archive_server(
    folder: Path, studies: list[Made], destinations: dict[str, tuple[str, int]] | None = None
) -> AsyncIterator[int]:
    folder.mkdir(parents=True, exist_ok=True)
    for made in studies:
        (folder / made.path.name).write_bytes(made.path.read_bytes())
    ae = scp_ae("QRSCP", (VERIFICATION_SCP, *storage_contexts_for_retrieve(), *qr_scp_contexts()))
    index, store = open_archive(folder, fsync=False)
    qr = QueryRetrieveSCP(IndexArchive(index), ae, destinations=destinations)
    handlers = {CEchoRQ: handle_echo, CStoreRQ: storage_handler(store), **qr.handlers()}
    try:
        async with running_server(ae, handlers=handlers) as (_, port):
            yield port
    finally:
        index.close()


def pynetdicom_find(port: int) -> list[tuple[int, Any]]:
    from pydicom.dataset import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    ae = AE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    association = ae.associate("127.0.0.1", port, ae_title="QRSCP")
    assert association.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ""
    query.PatientID = ""
    query.NumberOfStudyRelatedSeries = ""
    try:
        return [
            (status.Status, identifier)
            for status, identifier in association.send_c_find(
                query, StudyRootQueryRetrieveInformationModelFind
            )
        ]
    finally:
        association.release()


def test_pynetdicom_find(tmp_path: Path, studies: list[Made]) -> None:
    async def go() -> list[tuple[int, Any]]:
        async with archive_server(tmp_path / "archive", studies) as port:
            return await asyncio.to_thread(pynetdicom_find, port)

    responses = run(go())
    assert [s for s, _ in responses] == [0xFF00] * 3 + [0x0000]
    found = {str(ds.StudyInstanceUID): ds for _, ds in responses[:-1]}
    assert set(found) == {m.study_uid for m in studies}
    for uid, ds in found.items():
        members = [m for m in studies if m.study_uid == uid]
        assert ds.PatientID == members[0].patient_id
        assert int(ds.NumberOfStudyRelatedSeries) == len({m.series_uid for m in members})


def pynetdicom_get(port: int, study_uid: str, out: Path) -> list[int]:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, build_role, evt
    from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

    out.mkdir(parents=True, exist_ok=True)

    def on_store(event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        return 0x0000

    ae = AE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_requested_context(CTImageStorage)
    association = ae.associate(
        "127.0.0.1",
        port,
        ae_title="QRSCP",
        ext_neg=[build_role(CTImageStorage, scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    assert association.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    try:
        return [
            status.Status
            for status, _ in association.send_c_get(
                query, StudyRootQueryRetrieveInformationModelGet
            )
        ]
    finally:
        association.release()


def test_pynetdicom_get_with_role_selection(tmp_path: Path, studies: list[Made]) -> None:
    target = studies[0].study_uid
    out = tmp_path / "got"

    async def go() -> list[int]:
        async with archive_server(tmp_path / "archive", studies) as port:
            return await asyncio.to_thread(pynetdicom_get, port, target, out)

    statuses = run(go())
    wanted = [m for m in studies if m.study_uid == target]
    assert statuses == [0xFF00] * (len(wanted) - 1) + [0x0000]
    for made in wanted:
        same_elements(made.path, out / f"{made.sop_instance_uid}.dcm")


def pynetdicom_move(port: int, patient_id: str) -> list[tuple[int, int | None]]:
    from pydicom.dataset import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelMove

    ae = AE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(PatientRootQueryRetrieveInformationModelMove)
    association = ae.associate("127.0.0.1", port, ae_title="QRSCP")
    assert association.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "PATIENT"
    query.PatientID = patient_id
    try:
        return [
            (status.Status, status.get("NumberOfCompletedSuboperations"))
            for status, _ in association.send_c_move(
                query, "DEST", PatientRootQueryRetrieveInformationModelMove
            )
        ]
    finally:
        association.release()


def test_pynetdicom_move_to_a_dicompile_storage_scp(tmp_path: Path, studies: list[Made]) -> None:
    moved = tmp_path / "moved"
    p1 = [m for m in studies if m.patient_id == "P1"]

    async def go() -> list[tuple[int, int | None]]:
        async with (
            running_server(scp_ae("DEST"), moved) as (_, dest_port),
            archive_server(
                tmp_path / "archive", studies, {"DEST": ("127.0.0.1", dest_port)}
            ) as port,
        ):
            return await asyncio.to_thread(pynetdicom_move, port, "P1")

    responses = run(go())
    assert [s for s, _ in responses] == [0xFF00] * (len(p1) - 1) + [0x0000]
    assert responses[-1][1] == len(p1)
    for made in p1:
        same_elements(made.path, moved / f"{made.sop_instance_uid}.dcm")
