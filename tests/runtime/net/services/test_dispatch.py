"""Typed SCP dispatch (services/dispatch.py): an application's generated-protocol handlers served
over loopback and queried with dicompile's SCU and with pynetdicom (a test-only peer): matches
and their Pending statuses, ServiceFailure's status and comment, an exception as C000H, C-CANCEL
as FE00H, routing by SOP class; the built-in archive adapters answer as the hand-written SCP
does; mypy --strict accepts the adapters as the generated protocols and rejects a wrong one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from net_support import run, running_server, scp_ae, scu_ae
from qr_support import Made, MemoryArchive, make_studies

from dicompile.generated.dimse_commands import StatusCode
from dicompile.generated.services.base import Match, Outcome, ServiceContext, ServiceFailure
from dicompile.generated.services.basic_worklist_management import ModalityWorklistSCP
from dicompile.generated.services.procedure_step import ModalityPerformedProcedureStepNSetStatus
from dicompile.generated.services.query_retrieve import FindStatus, StudyRootQueryRetrieveSCP
from dicompile.generated.services.storage import StorageSCP, StoreStatus
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.association import RequestHandler, associate
from dicompile.runtime.net.dimse import CEchoRQ, CFindRQ, NSetRQ, Request
from dicompile.runtime.net.services.archive_scp import (
    ArchiveQueryRetrieve,
    Verification,
    archive_handlers,
)
from dicompile.runtime.net.services.dispatch import (
    SOP_CLASS_NOT_SUPPORTED,
    scp_handlers,
    served_sop_classes,
)
from dicompile.runtime.net.services.query_retrieve import (
    STUDY_ROOT_FIND,
    FindResponse,
    Operation,
    QueryModel,
    QueryRetrieveSCP,
    find,
    qr_scp_contexts,
    query_context,
)
from dicompile.runtime.net.services.verification import (
    VERIFICATION,
    VERIFICATION_CONTEXT,
    VERIFICATION_SCP,
    echo,
)
from dicompile.runtime.net.services.worklist import (
    WORKLIST_CONTEXT,
    WORKLIST_FIND,
    WORKLIST_SCP_CONTEXT,
    find_worklist,
)

PATIENTS = [("P1", "Doe^Jane"), ("P2", "Roe^Richard"), ("P3", "Poe^Edgar")]


def study(patient_id: str, name: str) -> Dataset:
    ds = Dataset()
    ds.set("QueryRetrieveLevel", "STUDY")
    ds.set("PatientID", patient_id)
    ds.set("PatientName", name)
    ds.set("StudyInstanceUID", f"1.2.3.{patient_id[1:]}")
    return ds


class Studies(StudyRootQueryRetrieveSCP):
    """An application's Study Root SCP; the PatientID key chooses the behaviour."""

    def __init__(self) -> None:
        self.contexts: list[tuple[str, str, str, int]] = []

    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[FindStatus]]:
        self.contexts.append(
            (
                context.sop_class_uid,
                context.calling_ae_title,
                context.called_ae_title,
                context.message_id,
            )
        )
        wanted = str(identifier.get_value("PatientID") or "")
        if wanted == "FAIL":
            raise ServiceFailure(FindStatus.REFUSED_OUT_OF_RESOURCES, "too many queries")
        if wanted == "BOOM":
            raise RuntimeError("the database went away")
        if wanted == "MANY":
            for number in range(200):
                await asyncio.sleep(0.005)
                yield Match(study(f"P{number}", "Many^Patients"))
            return
        for patient_id, name in PATIENTS:
            if wanted in ("", patient_id):
                status = FindStatus.MATCHES_ARE_CONTINUING_FF01 if patient_id == "P3" else 0xFF00
                yield Match(study(patient_id, name), status)

    async def handle_move(
        self, identifier: Dataset, destination: str, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        raise ServiceFailure(0xA801, "no destinations")
        yield identifier  # pragma: no cover - makes this an async generator

    async def handle_get(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        raise ServiceFailure(0xA702, "nothing to send")
        yield identifier  # pragma: no cover


class Worklist(ModalityWorklistSCP):
    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[Any]]:
        item = Dataset()
        item.set("PatientID", "WL1")
        item.set("AccessionNumber", "A-7")
        yield Match(item)


def query(patient_id: str) -> Dataset:
    ds = Dataset()
    ds.set("QueryRetrieveLevel", "STUDY")
    ds.set("PatientID", patient_id)
    ds.set("PatientName", "")
    ds.set("StudyInstanceUID", "")
    return ds


def server_ae() -> Any:
    return scp_ae("APP-SCP", (VERIFICATION_SCP, WORKLIST_SCP_CONTEXT, *qr_scp_contexts()))


async def run_find(
    handlers: dict[type[Request], RequestHandler],
    identifier: Dataset,
    *,
    model: QueryModel = QueryModel.STUDY,
    cancel_after: int | None = None,
) -> list[FindResponse]:
    async with running_server(server_ae(), handlers=handlers) as (_, port):
        association = await associate(
            scu_ae("APP-SCU"),
            "127.0.0.1",
            port,
            called_ae_title="APP-SCP",
            contexts=[query_context(model, Operation.FIND)],
        )
        async with association:
            return [
                r
                async for r in find(association, identifier, model=model, cancel_after=cancel_after)
            ]


def test_matches_come_back_with_their_pending_status_and_context() -> None:
    app = Studies()
    responses = run(run_find(scp_handlers(app), query("")))
    assert [r.status for r in responses] == [0xFF00, 0xFF00, 0xFF01, 0x0000]
    ids = [r.identifier.get_value("PatientID") for r in responses[:-1] if r.identifier]
    assert ids == ["P1", "P2", "P3"]
    assert responses[0].identifier is not None
    assert str(responses[0].identifier.get_value("PatientName")) == "Doe^Jane"
    assert responses[-1].identifier is None
    [(sop_class, calling, called, message_id)] = app.contexts
    assert (sop_class, calling, called) == (STUDY_ROOT_FIND, "APP-SCU", "APP-SCP")
    assert message_id >= 1


def test_matching_is_the_handlers() -> None:
    responses = run(run_find(scp_handlers(Studies()), query("P2")))
    assert [r.status for r in responses] == [0xFF00, 0x0000]


def test_service_failure_gives_its_status_and_comment() -> None:
    responses = run(run_find(scp_handlers(Studies()), query("FAIL")))
    assert [(r.status, r.error_comment) for r in responses] == [(0xA700, "too many queries")]


def test_an_exception_is_unable_to_process_never_success() -> None:
    [final] = run(run_find(scp_handlers(Studies()), query("BOOM")))
    assert final.status == 0xC000
    assert final.error_comment is not None and "RuntimeError" in final.error_comment


def test_cancel_ends_with_fe00_before_all_matches() -> None:
    responses = run(run_find(scp_handlers(Studies()), query("MANY"), cancel_after=2))
    assert responses[-1].status == 0xFE00
    assert 2 <= len(responses) - 1 < 200


def test_a_sop_class_not_served_is_refused_0122() -> None:
    # Studies derives from the Study Root protocol only: Patient Root is not its.
    assert set(served_sop_classes(Studies())) == {
        STUDY_ROOT_FIND,
        "1.2.840.10008.5.1.4.1.2.2.2",
        "1.2.840.10008.5.1.4.1.2.2.3",
    }
    ds = query("")
    ds.set("QueryRetrieveLevel", "PATIENT")
    [final] = run(run_find(scp_handlers(Studies()), ds, model=QueryModel.PATIENT))
    assert final.status == SOP_CLASS_NOT_SUPPORTED


def test_named_sop_classes_must_fit_the_protocol() -> None:
    with pytest.raises(LocalProtocolError, match="VerificationSCP"):
        scp_handlers(Studies(), [VERIFICATION])
    with pytest.raises(LocalProtocolError, match="serves no SOP class"):
        scp_handlers(object())


def test_qr_and_worklist_find_and_echo_on_one_server_routed_by_sop_class() -> None:
    handlers = scp_handlers(
        Studies(),
        [STUDY_ROOT_FIND],
        fallback=scp_handlers(Worklist(), [WORKLIST_FIND], fallback=scp_handlers(Verification())),
    )
    assert set(handlers) == {CFindRQ, CEchoRQ}

    async def go() -> tuple[int, list[str], list[int]]:
        async with running_server(server_ae(), handlers=handlers) as (_, port):
            association = await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=[
                    VERIFICATION_CONTEXT,
                    WORKLIST_CONTEXT,
                    query_context(QueryModel.STUDY, Operation.FIND),
                ],
            )
            async with association:
                status = await echo(association)
                key = Dataset()
                key.set("PatientID", "")
                worklist = await find_worklist(association, key)
                studies = [r.status async for r in find(association, query(""))]
                return status, [str(m.get_value("PatientID")) for m in worklist.matches], studies

    status, worklist_ids, study_statuses = run(go())
    assert status == 0x0000
    assert worklist_ids == ["WL1"]
    assert study_statuses == [0xFF00, 0xFF00, 0xFF01, 0x0000]


# -- the built-in archive adapter answers as the hand-written SCP --------------------------------


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> list[Made]:
    return make_studies(tmp_path_factory.mktemp("archive"))


def _summary(responses: Sequence[FindResponse]) -> list[tuple[int, str | None, str | None]]:
    out: list[tuple[int, str | None, str | None]] = []
    for r in responses:
        ident = r.identifier
        text = None if ident is None else repr([(t, str(ident.get_value(t))) for t in ident.tags()])
        out.append((r.status, text, r.error_comment))
    return out


@pytest.mark.parametrize(
    "keys",
    [
        {"QueryRetrieveLevel": "STUDY", "PatientID": "P1", "StudyInstanceUID": "", "StudyDate": ""},
        {"QueryRetrieveLevel": "SERIES", "Modality": "CT", "SeriesInstanceUID": ""},
        {"QueryRetrieveLevel": "STUDY", "PatientName": "Doe*", "StudyDescription": ""},
        {"QueryRetrieveLevel": "PATIENT"},  # wrong level for Study Root: A900H
        {"PatientID": "P1"},  # no level: A900H
    ],
)
def test_archive_adapter_answers_as_the_hand_written_scp(
    studies: list[Made], keys: dict[str, str]
) -> None:
    archive = MemoryArchive([m.path for m in studies], unsupported={0x00081030})
    ident = Dataset()
    for keyword, value in keys.items():
        ident.set(keyword, value)
    scp = QueryRetrieveSCP(archive, server_ae())
    by_hand = run(run_find(scp.handlers(), ident))
    dispatched = run(run_find(archive_handlers(scp, None, {}), ident))
    assert _summary(dispatched) == _summary(by_hand)
    assert [r.status for r in dispatched][-1] in (0x0000, 0xA900)


# -- pynetdicom as the SCU (test-only peer) -------------------------------------------------------


def pynetdicom_find(port: int, patient_id: str) -> list[tuple[int, str | None, str | None]]:
    pynetdicom = pytest.importorskip(
        "pynetdicom", reason="pynetdicom (a test-only peer) is missing"
    )
    from pydicom.dataset import Dataset as PydicomDataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    ae = pynetdicom.AE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    association = ae.associate("127.0.0.1", port, ae_title="APP-SCP")
    assert association.is_established
    q = PydicomDataset()
    q.QueryRetrieveLevel = "STUDY"
    q.PatientID = patient_id
    q.StudyInstanceUID = ""
    try:
        return [
            (
                int(status.Status),
                None if found is None else str(found.PatientID),
                status.get("ErrorComment"),
            )
            for status, found in association.send_c_find(
                q, StudyRootQueryRetrieveInformationModelFind
            )
        ]
    finally:
        association.release()


@pytest.mark.interop
def test_pynetdicom_finds_through_the_dispatch() -> None:
    pytest.importorskip("pynetdicom", reason="pynetdicom (a test-only peer) is missing")

    async def go() -> tuple[list[Any], list[Any]]:
        async with running_server(server_ae(), handlers=scp_handlers(Studies())) as (_, port):
            found = await asyncio.to_thread(pynetdicom_find, port, "")
            failed = await asyncio.to_thread(pynetdicom_find, port, "FAIL")
            return found, failed

    found, failed = run(go())
    assert [(s, p) for s, p, _ in found] == [
        (0xFF00, "P1"),
        (0xFF00, "P2"),
        (0xFF01, "P3"),
        (0x0000, None),
    ]
    assert [(s, c) for s, _, c in failed] == [(0xA700, "too many queries")]


# -- static typing: the adapters are the generated protocols -------------------------------------

mypy_api = pytest.importorskip("mypy.api")
REPO = Path(__file__).resolve().parents[4]

GOOD = """\
from dicompile.generated.services.basic_worklist_management import ModalityWorklistSCP
from dicompile.generated.services.query_retrieve import (
    PatientRootQueryRetrieveSCP,
    StudyRootQueryRetrieveSCP,
)
from dicompile.generated.services.verification import VerificationSCP
from dicompile.runtime.archive.worklist import SQLiteWorklist
from dicompile.runtime.net.services.archive_scp import (
    ArchiveQueryRetrieve,
    ArchiveQueryRetrieve,
    ArchiveWorklist,
    Verification,
)
from dicompile.runtime.net.services.query_retrieve import QueryRetrieveSCP


def check(scp: QueryRetrieveSCP, worklist: SQLiteWorklist) -> None:
    study: StudyRootQueryRetrieveSCP = ArchiveQueryRetrieve(scp)
    patient: PatientRootQueryRetrieveSCP = ArchiveQueryRetrieve(scp)
    mwl: ModalityWorklistSCP = ArchiveWorklist(worklist)
    verification: VerificationSCP = Verification()
"""

WRONG = """\
from collections.abc import AsyncIterator

from dicompile.generated.services.base import ServiceContext
from dicompile.generated.services.basic_worklist_management import ModalityWorklistSCP
from dicompile.runtime.core.dataset import Dataset


class Wrong:
    async def handle_find(self, identifier: str, context: ServiceContext) -> AsyncIterator[Dataset]:
        yield Dataset()


mwl: ModalityWorklistSCP = Wrong()
"""


def run_mypy(source: str, tmp_path: Path) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(source)
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            str(path),
        ]
    )
    assert not stderr, stderr
    return stdout, status


def test_mypy_accepts_the_archive_adapters_as_the_protocols(tmp_path: Path) -> None:
    stdout, status = run_mypy(GOOD, tmp_path)
    assert status == 0, stdout


def test_mypy_rejects_a_handler_with_a_wrong_signature(tmp_path: Path) -> None:
    stdout, status = run_mypy(WRONG, tmp_path)
    assert status == 1
    lines = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(lines) == 1, stdout
    assert "snippet.py:13" in lines[0] and "ModalityWorklistSCP" in lines[0], stdout


def test_archive_adapter_refusal_carries_the_offending_element(studies: list[Made]) -> None:
    from dicompile.runtime.net.dimse import CFindRQ as Find
    from dicompile.runtime.net.services.query_retrieve import encode_identifier

    archive = MemoryArchive([m.path for m in studies])
    scp = QueryRetrieveSCP(archive, server_ae())

    async def raw(handlers: dict[type[Request], RequestHandler]) -> object:
        async with running_server(server_ae(), handlers=handlers) as (_, port):
            association = await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=[query_context(QueryModel.STUDY, Operation.FIND)],
            )
            async with association:
                context = association.negotiated.find(STUDY_ROOT_FIND)
                assert context is not None
                ident = Dataset()
                ident.set("PatientID", "P1")  # no Query/Retrieve Level
                request = Find(
                    message_id=1,
                    affected_sop_class_uid=STUDY_ROOT_FIND,
                    data_set=encode_identifier(ident, context.transfer_syntax),
                )
                return await association.request(request, context.context_id)

    by_hand = run(raw(scp.handlers()))
    dispatched = run(raw(archive_handlers(scp, None, {})))
    assert dispatched == by_hand
    assert getattr(dispatched, "offending_element", None) == (0x00080052,)


# -- dcmtk's findscu as the SCU (when installed) ---------------------------------------------------


@pytest.mark.interop
def test_dcmtk_findscu_through_the_dispatch(tmp_path: Path) -> None:
    import subprocess

    from interop.peers import PEER_ENV, TOOL_TIMEOUT, dcmtk_tool

    findscu = dcmtk_tool("findscu")
    if findscu is None:
        pytest.skip("dcmtk's findscu is not installed (Debian package 'dcmtk')")

    def findscu_run(port: int, patient_id: str, out: Path) -> subprocess.CompletedProcess[str]:
        out.mkdir()
        return subprocess.run(
            [
                findscu, "-d", "-S", "-aec", "APP-SCP", "-X", "-od", str(out),
                "-k", "QueryRetrieveLevel=STUDY", "-k", f"PatientID={patient_id}",
                "-k", "StudyInstanceUID", "127.0.0.1", str(port),
            ],
            capture_output=True, text=True, errors="replace", timeout=TOOL_TIMEOUT,
            env=PEER_ENV, check=False,
        )  # fmt: skip

    async def go() -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
        async with running_server(server_ae(), handlers=scp_handlers(Studies())) as (_, port):
            found = await asyncio.to_thread(findscu_run, port, "", tmp_path / "all")
            failed = await asyncio.to_thread(findscu_run, port, "FAIL", tmp_path / "fail")
            return found, failed

    import pydicom

    found, failed = run(go(), timeout=2 * TOOL_TIMEOUT)
    assert found.returncode == 0, found.stderr
    responses = [pydicom.dcmread(p) for p in sorted((tmp_path / "all").glob("rsp*.dcm"))]
    assert sorted(str(r.PatientID) for r in responses) == ["P1", "P2", "P3"]
    assert sorted(str(r.StudyInstanceUID) for r in responses) == ["1.2.3.1", "1.2.3.2", "1.2.3.3"]
    assert not list((tmp_path / "fail").glob("rsp*.dcm"))
    text = failed.stdout + failed.stderr
    # findscu -d dumps the final response's command set: status and Error Comment.
    assert "DIMSE Status                  : 0xa700" in text, text
    assert "(0000,0902) LO [too many queries]" in text, text


# -- DIMSE-N: an application's MPPS SCP ----------------------------------------------------------


class Steps:
    """An application's Modality Performed Procedure Step SCP (PS3.4 F.7), in memory."""

    def __init__(self) -> None:
        self.steps: dict[str, Dataset] = {}

    async def handle_n_create(
        self, sop_instance_uid: str | None, attributes: Dataset | None, context: ServiceContext
    ) -> Outcome[StatusCode]:
        if attributes is not None and attributes.get_value("PatientID") == "BOOM":
            raise RuntimeError("disk full")
        uid = sop_instance_uid or "1.2.3.99"
        if uid in self.steps:
            raise ServiceFailure(0x0111, "duplicate step")
        self.steps[uid] = attributes or Dataset()
        return Outcome(StatusCode.SUCCESS, sop_instance_uid=None if sop_instance_uid else uid)

    async def handle_n_set(
        self, sop_instance_uid: str, modifications: Dataset, context: ServiceContext
    ) -> Outcome[ModalityPerformedProcedureStepNSetStatus]:
        step = self.steps.get(sop_instance_uid)
        if step is None:
            raise ServiceFailure(0x0112, f"no step {sop_instance_uid}")
        for tag in modifications.tags():
            step.set(tag, modifications.get_value(tag))
        return Outcome(0x0000, data_set=step)


def test_mpps_n_create_and_n_set_through_the_dispatch() -> None:
    from dicompile.runtime.net.dimse import NCreateRQ, NCreateRSP
    from dicompile.runtime.net.services.mpps import (
        MPPS_CONTEXT,
        MPPS_SCP_CONTEXT,
        MPPS_SOP_CLASS,
        create_step,
        set_step,
    )
    from dicompile.runtime.net.services.payload import encode_payload

    app = Steps()
    handlers = scp_handlers(app, [MPPS_SOP_CLASS])
    assert set(handlers) == {NCreateRQ, NSetRQ}

    def attributes(patient_id: str) -> Dataset:
        ds = Dataset()
        ds.set("PatientID", patient_id)
        ds.set("PerformedProcedureStepStatus", "IN PROGRESS")
        return ds

    async def go() -> list[Any]:
        async with running_server(scp_ae("MPPS-SCP", (MPPS_SCP_CONTEXT,)), handlers=handlers) as (
            _,
            port,
        ):
            association = await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="MPPS-SCP",
                contexts=[MPPS_CONTEXT],
            )
            async with association:
                created = await create_step(association, attributes("P1"), "1.2.3.1")
                duplicate = await create_step(association, attributes("P1"), "1.2.3.1")
                broken = await create_step(association, attributes("BOOM"), "1.2.3.2")
                done = Dataset()
                done.set("PerformedProcedureStepStatus", "COMPLETED")
                updated = await set_step(association, "1.2.3.1", done)
                missing = await set_step(association, "1.2.3.404", done)
                context = association.negotiated.find(MPPS_SOP_CLASS)
                assert context is not None
                # No SOP Instance UID from the SCU: the SCP's is in the response.
                unnamed = await association.request(
                    NCreateRQ(
                        message_id=association.next_message_id(),
                        affected_sop_class_uid=MPPS_SOP_CLASS,
                        data_set=encode_payload(attributes("P2"), context.transfer_syntax),
                    ),
                    context.context_id,
                )
                assert isinstance(unnamed, NCreateRSP)
                return [created, duplicate, broken, updated, missing, unnamed]

    created, duplicate, broken, updated, missing, unnamed = run(go())
    assert (created.status, created.sop_instance_uid) == (0x0000, "1.2.3.1")
    assert (duplicate.status, duplicate.error_comment) == (0x0111, "duplicate step")
    assert broken.status == 0x0110 and "RuntimeError" in (broken.error_comment or "")
    assert updated.status == 0x0000
    assert app.steps["1.2.3.1"].get_value("PerformedProcedureStepStatus") == "COMPLETED"
    assert (missing.status, missing.error_comment) == (0x0112, "no step 1.2.3.404")
    assert (unnamed.status, unnamed.affected_sop_instance_uid) == (0x0000, "1.2.3.99")
    assert "1.2.3.2" not in app.steps


# -- C-GET and C-MOVE: the archive adapter's data sets sent by the dispatch -----------------------


def retrieve_handlers(
    studies: list[Made], destinations: dict[str, tuple[str, int]] | None = None
) -> dict[type[Request], RequestHandler]:
    from dicompile.runtime.net.services.query_retrieve import STUDY_ROOT_GET, STUDY_ROOT_MOVE

    scp = QueryRetrieveSCP(MemoryArchive([m.path for m in studies]), server_ae())
    return scp_handlers(
        ArchiveQueryRetrieve(scp), [STUDY_ROOT_GET, STUDY_ROOT_MOVE], destinations=destinations
    )


def retrieve_ae() -> Any:
    from dicompile.runtime.net.services.query_retrieve import storage_contexts_for_retrieve

    return scp_ae("APP-SCP", (*qr_scp_contexts(), *storage_contexts_for_retrieve()))


def test_get_sends_the_yielded_data_sets_on_the_association(
    tmp_path: Path, studies: list[Made]
) -> None:
    from net_support import same_elements

    from dicompile.runtime.net.services.query_retrieve import get, get_contexts
    from dicompile.runtime.net.services.storage import FileStore

    series = studies[0].series_uid
    wanted = [m for m in studies if m.series_uid == series]
    received = tmp_path / "got"

    async def go() -> list[Any]:
        async with (
            running_server(retrieve_ae(), handlers=retrieve_handlers(studies)) as (_, port),
            await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=get_contexts(QueryModel.STUDY),
            ) as association,
        ):
            ident = Dataset()
            ident.set("QueryRetrieveLevel", "SERIES")
            ident.set("StudyInstanceUID", studies[0].study_uid)
            ident.set("SeriesInstanceUID", series)
            return [r async for r in get(association, ident, FileStore(received, fsync=False))]

    responses = run(go())
    assert len(wanted) >= 2
    assert [r.status for r in responses] == [0xFF00] * (len(wanted) - 1) + [0x0000]
    assert [r.counts.remaining for r in responses[:-1]] == list(range(len(wanted) - 1, 0, -1))
    assert responses[-1].counts.completed == len(wanted)
    assert responses[-1].counts.remaining == 0  # absent from the final response
    for made in wanted:
        same_elements(made.path, received / f"{made.sop_instance_uid}.dcm")


def test_move_sends_to_the_destination_and_refuses_unknown_ones(
    tmp_path: Path, studies: list[Made]
) -> None:
    from net_support import same_elements

    from dicompile.runtime.net.services.query_retrieve import move

    target = studies[0].study_uid
    wanted = [m for m in studies if m.study_uid == target]
    moved = tmp_path / "moved"

    async def go() -> tuple[list[Any], list[Any]]:
        async with running_server(scp_ae("DEST"), moved) as (_, dest_port):
            handlers = retrieve_handlers(studies, {"DEST": ("127.0.0.1", dest_port)})
            async with (
                running_server(retrieve_ae(), handlers=handlers) as (_, port),
                await associate(
                    scu_ae("APP-SCU"),
                    "127.0.0.1",
                    port,
                    called_ae_title="APP-SCP",
                    contexts=[query_context(QueryModel.STUDY, Operation.MOVE)],
                ) as association,
            ):
                ident = Dataset()
                ident.set("QueryRetrieveLevel", "STUDY")
                ident.set("StudyInstanceUID", target)
                done = [r async for r in move(association, ident, "DEST")]
                unknown = [r async for r in move(association, ident, "NOWHERE")]
                return done, unknown

    done, unknown = run(go())
    assert done[-1].status == 0x0000
    assert done[-1].counts.completed == len(wanted)
    assert len(done) == len(wanted)  # a Pending after each but the last
    for made in wanted:
        same_elements(made.path, moved / f"{made.sop_instance_uid}.dcm")
    assert [(r.status, r.error_comment) for r in unknown] == [
        (0xA801, "unknown Move Destination 'NOWHERE'")
    ]


def test_get_handler_failure_gives_its_status() -> None:
    from dicompile.runtime.net.services.query_retrieve import get, get_contexts
    from dicompile.runtime.net.services.storage import FileStore

    async def go() -> list[Any]:
        async with (
            running_server(retrieve_ae(), handlers=scp_handlers(Studies())) as (_, port),
            await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=get_contexts(QueryModel.STUDY),
            ) as association,
        ):
            return [r async for r in get(association, query(""), FileStore(Path("/nonexistent")))]

    [final] = run(go())
    assert (final.status, final.error_comment) == (0xA702, "nothing to send")


def test_get_cancel_answers_fe00_with_the_counts(tmp_path: Path, studies: list[Made]) -> None:
    from dicompile.runtime.net.services.query_retrieve import (
        PATIENT_ROOT_GET,
        get,
        get_contexts,
    )
    from dicompile.runtime.net.services.storage import FileStore

    patient = [m for m in studies if m.patient_id == "P1"]
    scp = QueryRetrieveSCP(MemoryArchive([m.path for m in studies]), server_ae())
    handlers = scp_handlers(ArchiveQueryRetrieve(scp), [PATIENT_ROOT_GET])

    async def go() -> list[Any]:
        async with (
            running_server(retrieve_ae(), handlers=handlers) as (_, port),
            await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=get_contexts(QueryModel.PATIENT),
            ) as association,
        ):
            ident = Dataset()
            ident.set("QueryRetrieveLevel", "PATIENT")
            ident.set("PatientID", "P1")
            store = FileStore(tmp_path / "got", fsync=False)
            responses = get(association, ident, store, model=QueryModel.PATIENT, cancel_after=1)
            return [r async for r in responses]

    responses = run(go())
    final = responses[-1]
    assert len(patient) >= 5
    assert final.status == 0xFE00
    assert 1 <= final.counts.completed < len(patient)
    assert final.counts.remaining == len(patient) - final.counts.completed


# -- C-STORE: an application's Storage SCP ---------------------------------------------------------


class Received(StorageSCP):
    def __init__(self) -> None:
        self.data_sets: list[Dataset] = []

    async def handle_store(
        self, data_set: Dataset, context: ServiceContext
    ) -> Outcome[StoreStatus]:
        if data_set.get_value("PatientID") == "P2":
            raise ServiceFailure(0xA700, "no room for P2")
        self.data_sets.append(data_set)
        return Outcome(0x0000)


def test_store_hands_the_decoded_data_set_to_the_handler(studies: list[Made]) -> None:
    from dicompile.runtime import read_file
    from dicompile.runtime.net.services.storage import (
        plan_contexts,
        probe,
        storage_scp_contexts,
        store_instance,
    )

    app = Received()
    instances = [probe(m.path) for m in studies]

    async def go() -> list[Any]:
        ae = scp_ae("APP-SCP", storage_scp_contexts())
        async with (
            running_server(ae, handlers=scp_handlers(app)) as (_, port),
            await associate(
                scu_ae("APP-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="APP-SCP",
                contexts=plan_contexts(instances),
            ) as association,
        ):
            return [await store_instance(association, i) for i in instances]

    results = run(go())
    for made, result in zip(studies, results, strict=True):
        assert result.status == (0xA700 if made.patient_id == "P2" else 0x0000)
    stored = {str(d.get_value("SOPInstanceUID")): d for d in app.data_sets}
    assert set(stored) == {m.sop_instance_uid for m in studies if m.patient_id != "P2"}
    made = next(m for m in studies if m.patient_id == "P1")
    original = read_file(made.path).dataset
    assert stored[made.sop_instance_uid].tags() == original.tags()
    assert stored[made.sop_instance_uid].get_value("PixelData") == original.get_value("PixelData")


# -- the built-in worklist adapter answers as the hand-written worklist SCP -----------------------


def _worklist_item(patient_id: str, accession: str, modality: str) -> dict[str, object]:
    def text(vr: str, value: str) -> dict[str, object]:
        return {"vr": vr, "Value": [value]}

    return {
        "00080050": text("SH", accession),
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": f"DOE^{patient_id}"}]},
        "00100020": text("LO", patient_id),
        "0020000D": text("UI", f"1.2.826.0.1.3680043.9.{patient_id[1:]}"),
        "00400100": {
            "vr": "SQ",
            "Value": [{"00080060": text("CS", modality), "00400009": text("SH", accession)}],
        },
    }


@pytest.mark.parametrize(
    ("keys", "status", "count"),
    [
        (["PatientID", "AccessionNumber"], 0x0000, 2),
        (["PatientID=P1", "AccessionNumber", "PatientName"], 0x0000, 1),
        (["ScheduledProcedureStepSequence.Modality=CT", "AccessionNumber"], 0x0000, 1),
        # Values their VR does not allow: A900H Identifier does not match SOP Class.
        (["PatientID=P*", "StudyInstanceUID=1.2.3;4"], 0xA900, 0),
        (["PatientBirthDate=notadate", "PatientID"], 0xA900, 0),
    ],
)
def test_worklist_adapter_answers_as_the_hand_written_scp(
    tmp_path: Path, keys: list[str], status: int, count: int
) -> None:
    import json

    from dicompile.runtime.net.services.worklist import (
        identifier_from_keys,
        open_worklist,
        worklist_service,
    )

    worklist = open_worklist(tmp_path)
    worklist.add_json(
        json.dumps([_worklist_item("P1", "A1", "CT"), _worklist_item("P2", "A2", "MR")])
    )
    ident = identifier_from_keys(keys)

    async def ask(handlers: dict[type[Request], RequestHandler]) -> Any:
        ae = scp_ae("MWL-SCP", (WORKLIST_SCP_CONTEXT,))
        async with (
            running_server(ae, handlers=handlers) as (_, port),
            await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="MWL-SCP",
                contexts=[WORKLIST_CONTEXT],
            ) as association,
        ):
            return await find_worklist(association, ident)

    try:
        by_hand = run(ask(worklist_service(worklist)[1]))
        dispatched = run(ask(archive_handlers(None, worklist, {})))
    finally:
        worklist.close()

    def summary(result: Any) -> tuple[object, ...]:
        matches = [repr([(t, str(m.get_value(t))) for t in m.tags()]) for m in result.matches]
        return result.status, result.error_comment, matches

    assert summary(dispatched) == summary(by_hand)
    assert (dispatched.status, len(dispatched.matches)) == (status, count)


# -- the module's example -------------------------------------------------------------------


def _example() -> str:
    import textwrap

    from dicompile.runtime.net.services import dispatch

    doc = dispatch.__doc__ or ""
    start = doc.index("::\n\n", doc.index("Example\n")) + 4
    end = doc.index("\nTheory of operation")
    return textwrap.dedent(doc[start:end])


def test_the_module_example_type_checks(tmp_path: Path) -> None:
    stdout, status = run_mypy(_example(), tmp_path)
    assert status == 0, stdout


def test_the_module_example_serves_its_worklist() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_example(), "dispatch-example", "exec"), namespace)
    server = namespace["server"]

    async def go() -> tuple[int, Any, Any]:
        _, port = await server.start("127.0.0.1", 0)
        try:
            association = await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="WORKLIST",
                contexts=[VERIFICATION_CONTEXT, WORKLIST_CONTEXT],
            )
            async with association:
                status = await echo(association)
                key = Dataset()
                key.set("PatientID", "P7")
                found = await find_worklist(association, key)
                key.set("PatientID", "")
                refused = await find_worklist(association, key)
                return status, found, refused
        finally:
            await server.close(grace=2.0)

    status, found, refused = run(go())
    assert status == 0x0000
    assert found.status == 0x0000
    assert [str(m.get_value("PatientID")) for m in found.matches] == ["P7"]
    assert (refused.status, refused.error_comment) == (0xC000, "PatientID is required")
