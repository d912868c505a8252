"""Modality Performed Procedure Step SCP and SCU (PS3.4 F.7) over loopback, rule by rule,
and against pynetdicom in both roles."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from net_support import run, running_server, scp_ae, scu_ae

from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.net.association import Association, associate
from dicompile.runtime.net.dimse import NCreateRQ
from dicompile.runtime.net.services.mpps import (
    COMPLETED,
    DISCONTINUED,
    IN_PROGRESS,
    INVALID_ATTRIBUTE_VALUE,
    MISSING_ATTRIBUTE,
    MISSING_ATTRIBUTE_VALUE,
    MPPS_CONTEXT,
    MPPS_SOP_CLASS,
    NO_LONGER_UPDATABLE_COMMENT,
    NO_LONGER_UPDATABLE_ERROR_ID,
    NO_SUCH_SOP_INSTANCE,
    PROCESSING_FAILURE,
    StepResult,
    create_step,
    mpps_service,
    n_create_attributes,
    set_step,
)
from dicompile.runtime.net.services.payload import encode_payload

DUPLICATE_SOP_INSTANCE = 0x0111
IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def create_attributes(**overrides: object) -> Dataset:
    dataset = n_create_attributes(
        performed_procedure_step_id="PPS1",
        station_ae_title="MODALITY",
        start_date="20260101",
        start_time="101500",
        modality="CT",
    )
    for keyword, value in overrides.items():
        if value is _ABSENT:
            del dataset[keyword]
        else:
            dataset.set(keyword, value)
    return dataset


_ABSENT = object()


def final_attributes(status: str = COMPLETED) -> Dataset:
    """An N-SET that meets the Final State column of Table F.7.2-1."""
    image = Dataset()
    image.set("ReferencedSOPClassUID", IMAGE)
    image.set("ReferencedSOPInstanceUID", "1.2.3.4.5.6")
    series = Dataset()
    for keyword in ("PerformingPhysicianName", "OperatorsName", "SeriesDescription"):
        series.set(keyword, None)
    series.set("RetrieveAETitle", None)
    series.set("ProtocolName", "CHEST")
    series.set("SeriesInstanceUID", "1.2.3.4.5")
    series.set("ReferencedImageSequence", Sequence([image]))
    series.set("ReferencedNonImageCompositeSOPInstanceSequence", Sequence())
    dataset = Dataset()
    dataset.set("PerformedProcedureStepStatus", status)
    dataset.set("PerformedProcedureStepEndDate", "20260101")
    dataset.set("PerformedProcedureStepEndTime", "103000")
    dataset.set("PerformedSeriesSequence", Sequence([series]))
    return dataset


@asynccontextmanager
async def mpps_peer(folder: Path) -> AsyncIterator[Association]:
    contexts, handlers = mpps_service(folder)
    async with running_server(scp_ae("MPPS-SCP", contexts), handlers=handlers) as (_, port):  # noqa: SIM117 (the port comes from the server)
        async with await associate(
            scu_ae("MODALITY"),
            "127.0.0.1",
            port,
            called_ae_title="MPPS-SCP",
            contexts=[MPPS_CONTEXT],
        ) as association:
            yield association


def test_create_then_complete_is_stored(tmp_path: Path) -> None:
    """F.7.2.1.3 and F.7.2.2.3: IN PROGRESS is created, then COMPLETED by N-SET."""

    async def go() -> tuple[StepResult, StepResult]:
        async with mpps_peer(tmp_path) as association:
            created = await create_step(association, create_attributes(), "1.2.826.0.1.99")
            done = await set_step(association, "1.2.826.0.1.99", final_attributes())
            return created, done

    created, done = run(go())
    assert (created.status, created.sop_instance_uid) == (0, "1.2.826.0.1.99")
    assert done.status == 0
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.99")
    assert stored is not None and stored.status == COMPLETED
    assert stored.creator_ae_title == "MODALITY"
    assert stored.attributes.get_value("PerformedProcedureStepID") == "PPS1"
    assert str(stored.attributes.get_value("PerformedProcedureStepEndTime")) == "103000"


@pytest.mark.parametrize("final", [COMPLETED, DISCONTINUED])
def test_no_change_after_a_final_state(tmp_path: Path, final: str) -> None:
    """F.7.2.2.3 / Table F.7.2-2: after COMPLETED or DISCONTINUED an N-SET gets 0110H with
    the Error Comment and Error ID A710H, and the instance is unchanged."""

    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            await create_step(association, create_attributes(), "1.2.826.0.1.7")
            assert (
                await set_step(association, "1.2.826.0.1.7", final_attributes(final))
            ).status == 0
            again = Dataset()
            again.set("PerformedProcedureStepStatus", IN_PROGRESS)
            return await set_step(association, "1.2.826.0.1.7", again)

    result = run(go())
    assert result.status == PROCESSING_FAILURE
    assert result.error_comment == NO_LONGER_UPDATABLE_COMMENT
    assert result.error_id == NO_LONGER_UPDATABLE_ERROR_ID
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.7")
    assert stored is not None and stored.status == final


@pytest.mark.parametrize(
    ("keyword", "value", "status", "tag"),
    [
        # Type 1 absent (F.7.2-1, N-CREATE SCU column) -> 0120H Missing Attribute (PS3.7 C.5.13)
        ("PerformedProcedureStepID", _ABSENT, MISSING_ATTRIBUTE, 0x00400253),
        ("Modality", _ABSENT, MISSING_ATTRIBUTE, 0x00080060),
        # Type 2 absent -> 0120H as well (Type 2 must be present, PS3.5 §7.4.3)
        ("PatientName", _ABSENT, MISSING_ATTRIBUTE, 0x00100010),
        # Type 1 present without a value -> 0121H Missing Attribute Value (PS3.7 C.5.14)
        ("PerformedStationAETitle", None, MISSING_ATTRIBUTE_VALUE, 0x00400241),
        ("PerformedProcedureStepStartDate", None, MISSING_ATTRIBUTE_VALUE, 0x00400244),
        # F.7.2.1.3: a status other than IN PROGRESS -> 0106H with the attribute listed
        ("PerformedProcedureStepStatus", COMPLETED, INVALID_ATTRIBUTE_VALUE, 0x00400252),
    ],
)
def test_create_requirements(
    tmp_path: Path, keyword: str, value: object, status: int, tag: int
) -> None:
    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            return await create_step(
                association, create_attributes(**{keyword: value}), "1.2.826.0.1.8"
            )

    result = run(go())
    assert result.status == status
    assert result.attribute_identifier_list is not None
    assert tag in result.attribute_identifier_list
    assert ProcedureStepStore(tmp_path).step("1.2.826.0.1.8") is None


def test_missing_type1_inside_a_sequence_item(tmp_path: Path) -> None:
    """Nested rows of F.7.2-1: Study Instance UID (Type 1) in the Scheduled Step item."""
    attributes = create_attributes()
    item = attributes.get_value("ScheduledStepAttributesSequence")[0]  # type: ignore[index]
    del item["StudyInstanceUID"]

    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            return await create_step(association, attributes, "1.2.826.0.1.9")

    result = run(go())
    assert result.status == MISSING_ATTRIBUTE
    assert result.error_comment is not None and "(0040,0270)[0]/(0020,000D)" in result.error_comment


def test_duplicate_instance_and_unknown_instance(tmp_path: Path) -> None:
    """PS3.7 §10.1.5.1.6 (0111H duplicate) and C.5.19 (0112H no such instance for N-SET)."""

    async def go() -> tuple[StepResult, StepResult, StepResult]:
        async with mpps_peer(tmp_path) as association:
            first = await create_step(association, create_attributes(), "1.2.826.0.1.10")
            second = await create_step(association, create_attributes(), "1.2.826.0.1.10")
            unknown = await set_step(association, "1.2.826.0.1.11", final_attributes())
            return first, second, unknown

    first, second, unknown = run(go())
    assert first.status == 0
    assert second.status == DUPLICATE_SOP_INSTANCE
    assert unknown.status == NO_SUCH_SOP_INSTANCE


def test_scp_assigns_a_uid_when_the_request_has_none(tmp_path: Path) -> None:
    """PS3.7 §10.1.5.1.3: without an Affected SOP Instance UID the SCP makes one and
    returns it in the response."""

    async def go() -> str | None:
        async with mpps_peer(tmp_path) as association:
            context = association.negotiated.find(MPPS_SOP_CLASS)
            assert context is not None
            response = await association.request(
                NCreateRQ(
                    message_id=association.next_message_id(),
                    affected_sop_class_uid=MPPS_SOP_CLASS,
                    data_set=encode_payload(create_attributes(), context.transfer_syntax),
                ),
                context.context_id,
            )
            assert response.status == 0
            return response.affected_sop_instance_uid  # type: ignore[union-attr]

    uid = run(go())
    assert uid and uid.startswith("2.25.")
    assert ProcedureStepStore(tmp_path).step(uid) is not None


@pytest.mark.parametrize("keyword", ["PatientName", "PerformedProcedureStepID", "Modality"])
def test_set_refuses_not_allowed_attributes(tmp_path: Path, keyword: str) -> None:
    """Table F.7.2-1, N-SET column "Not allowed": 0106H, tag listed, nothing changed."""

    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            await create_step(association, create_attributes(), "1.2.826.0.1.12")
            change = Dataset()
            change.set(keyword, "CHANGED")
            change.set("PerformedProcedureStepDescription", "ok to set")
            return await set_step(association, "1.2.826.0.1.12", change)

    result = run(go())
    assert result.status == INVALID_ATTRIBUTE_VALUE
    assert result.attribute_identifier_list is not None
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.12")
    assert stored is not None
    assert stored.attributes.get_value("PerformedProcedureStepDescription") is None


def test_set_unknown_status_term_is_refused(tmp_path: Path) -> None:
    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            await create_step(association, create_attributes(), "1.2.826.0.1.13")
            change = Dataset()
            change.set("PerformedProcedureStepStatus", "PAUSED")
            return await set_step(association, "1.2.826.0.1.13", change)

    result = run(go())
    assert result.status == INVALID_ATTRIBUTE_VALUE
    assert result.attribute_identifier_list == (0x00400252,)


def test_final_state_requirements_are_checked(tmp_path: Path) -> None:
    """F.7.2.2.2: before or when COMPLETED, the Final State column must be met; without
    the end time (Final State Type 1) the instance stays IN PROGRESS; then an N-SET in
    progress is accepted, and the completion goes through."""

    async def go() -> tuple[StepResult, StepResult, StepResult]:
        async with mpps_peer(tmp_path) as association:
            await create_step(association, create_attributes(), "1.2.826.0.1.14")
            incomplete = final_attributes()
            del incomplete["PerformedProcedureStepEndTime"]
            refused = await set_step(association, "1.2.826.0.1.14", incomplete)
            progress = Dataset()
            progress.set("PerformedProcedureStepEndTime", "104500")
            progress.set("PerformedProcedureStepDescription", "half way")
            middle = await set_step(association, "1.2.826.0.1.14", progress)
            finished = await set_step(association, "1.2.826.0.1.14", incomplete)
            return refused, middle, finished

    refused, middle, finished = run(go())
    assert refused.status == MISSING_ATTRIBUTE_VALUE  # created empty (Type 2), no value
    assert refused.attribute_identifier_list == (0x00400251,)
    assert middle.status == 0
    assert finished.status == 0
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.14")
    assert stored is not None and stored.status == COMPLETED
    assert stored.attributes.get_value("PerformedProcedureStepDescription") == "half way"


def test_set_replaces_sequences_whole(tmp_path: Path) -> None:
    """F.7.2.2.2: a sequence in an N-SET carries all its items; it replaces the stored one."""

    async def go() -> None:
        async with mpps_peer(tmp_path) as association:
            await create_step(association, create_attributes(), "1.2.826.0.1.15")
            for count in (2, 1):
                change = Dataset()
                change.set(
                    "PerformedSeriesSequence",
                    Sequence([final_attributes()["PerformedSeriesSequence"].value[0]] * count),  # type: ignore[index]
                )
                assert (await set_step(association, "1.2.826.0.1.15", change)).status == 0

    run(go())
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.15")
    assert stored is not None
    assert len(stored.attributes.get_value("PerformedSeriesSequence")) == 1  # type: ignore[arg-type]


def test_concurrent_final_sets_only_one_wins(tmp_path: Path) -> None:
    """Two associations completing the same step at once: exactly one Success (the store
    updates only while the status is still IN PROGRESS)."""
    contexts, handlers = mpps_service(tmp_path)

    async def go() -> list[int]:
        async with running_server(scp_ae("MPPS-SCP", contexts), handlers=handlers) as (_, port):

            async def one(status: str, create: bool) -> int:
                async with await associate(
                    scu_ae("MODALITY"),
                    "127.0.0.1",
                    port,
                    called_ae_title="MPPS-SCP",
                    contexts=[MPPS_CONTEXT],
                ) as association:
                    if create:
                        await create_step(association, create_attributes(), "1.2.826.0.1.16")
                        return 0
                    return (
                        await set_step(association, "1.2.826.0.1.16", final_attributes(status))
                    ).status

            await one(IN_PROGRESS, True)
            return list(await asyncio.gather(one(COMPLETED, False), one(DISCONTINUED, False)))

    statuses = run(go())
    assert sorted(statuses) == [0, PROCESSING_FAILURE]


# --------------------------------------------------------------------------------------
# pynetdicom, both ways (test-only oracle)
# --------------------------------------------------------------------------------------


def _pydicom_attributes() -> object:
    from pydicom import Dataset as PyDataset
    from pydicom.sequence import Sequence as PySequence

    step = PyDataset()
    step.StudyInstanceUID = "1.2.826.0.1.3680043.2"
    for keyword in (
        "ReferencedStudySequence",
        "ScheduledProtocolCodeSequence",
    ):
        setattr(step, keyword, PySequence([]))
    for keyword in (
        "AccessionNumber",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
        "ScheduledProcedureStepID",
        "ScheduledProcedureStepDescription",
    ):
        setattr(step, keyword, "")
    ds = PyDataset()
    ds.ScheduledStepAttributesSequence = PySequence([step])
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "PerformedStationName",
        "PerformedLocation",
        "PerformedProcedureStepDescription",
        "PerformedProcedureTypeDescription",
        "PerformedProcedureStepEndDate",
        "PerformedProcedureStepEndTime",
        "StudyID",
    ):
        setattr(ds, keyword, "")
    for keyword in (
        "ReferencedPatientSequence",
        "ProcedureCodeSequence",
        "PerformedProtocolCodeSequence",
        "PerformedSeriesSequence",
    ):
        setattr(ds, keyword, PySequence([]))
    ds.PerformedProcedureStepID = "PPS-PYNET"
    ds.PerformedStationAETitle = "PYNET"
    ds.PerformedProcedureStepStartDate = "20260101"
    ds.PerformedProcedureStepStartTime = "090000"
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.Modality = "MR"
    return ds


@pytest.mark.interop
def test_pynetdicom_scu_against_our_scp(tmp_path: Path) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import Dataset as PyDataset

    contexts, handlers = mpps_service(tmp_path)
    outcome: dict[str, object] = {}

    def client(port: int) -> None:
        ae = pynetdicom.AE(ae_title="PYNET")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(MPPS_SOP_CLASS)
        assoc = ae.associate("127.0.0.1", port, ae_title="MPPS-SCP")
        try:
            status, _ = assoc.send_n_create(_pydicom_attributes(), MPPS_SOP_CLASS, "1.2.826.0.1.77")
            outcome["create"] = status.Status
            bad, _ = assoc.send_n_create(_pydicom_attributes(), MPPS_SOP_CLASS, "1.2.826.0.1.77")
            outcome["duplicate"] = bad.Status
            change = PyDataset()
            change.PerformedProcedureStepStatus = "DISCONTINUED"
            change.PerformedProcedureStepEndDate = "20260101"
            change.PerformedProcedureStepEndTime = "091000"
            status, _ = assoc.send_n_set(change, MPPS_SOP_CLASS, "1.2.826.0.1.77")
            outcome["set"] = status.Status
            status, _ = assoc.send_n_set(change, MPPS_SOP_CLASS, "1.2.826.0.1.77")
            outcome["after"] = (status.Status, status.get("ErrorComment"), status.get("ErrorID"))
        finally:
            assoc.release()

    async def go() -> None:
        async with running_server(scp_ae("MPPS-SCP", contexts), handlers=handlers) as (_, port):
            await asyncio.wait_for(asyncio.to_thread(client, port), 30)

    run(go())
    assert outcome["create"] == 0
    assert outcome["duplicate"] == DUPLICATE_SOP_INSTANCE
    # PerformedSeriesSequence empty: Final State Type 1 not met for DISCONTINUED
    assert outcome["set"] == MISSING_ATTRIBUTE_VALUE
    assert outcome["after"][0] == MISSING_ATTRIBUTE_VALUE  # type: ignore[index]
    stored = ProcedureStepStore(tmp_path).step("1.2.826.0.1.77")
    assert stored is not None and stored.status == IN_PROGRESS


@pytest.mark.interop
def test_our_scu_against_pynetdicom_scp(tmp_path: Path) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pynetdicom import evt

    received: dict[str, object] = {}

    def on_create(event: object) -> tuple[int, object]:
        received["create"] = event.attribute_list  # type: ignore[attr-defined]
        received["uid"] = event.request.AffectedSOPInstanceUID  # type: ignore[attr-defined]
        return 0x0000, event.attribute_list  # type: ignore[attr-defined]

    def on_set(event: object) -> tuple[int, object]:
        received["set"] = event.attribute_list  # type: ignore[attr-defined]
        return 0x0000, event.attribute_list  # type: ignore[attr-defined]

    ae = pynetdicom.AE(ae_title="PYNET-SCP")
    ae.add_supported_context(MPPS_SOP_CLASS)
    server = ae.start_server(
        ("127.0.0.1", 0),
        block=False,
        evt_handlers=[(evt.EVT_N_CREATE, on_create), (evt.EVT_N_SET, on_set)],
    )
    port = server.server_address[1]
    try:

        async def go() -> tuple[StepResult, StepResult]:
            async with await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="PYNET-SCP",
                contexts=[MPPS_CONTEXT],
            ) as association:
                created = await create_step(association, create_attributes(), "1.2.826.0.1.78")
                done = await set_step(association, "1.2.826.0.1.78", final_attributes())
                return created, done

        created, done = run(go())
    finally:
        server.shutdown()
    assert (created.status, done.status) == (0, 0)
    assert received["uid"] == "1.2.826.0.1.78"
    create = received["create"]
    assert create.PerformedProcedureStepStatus == "IN PROGRESS"  # type: ignore[attr-defined]
    assert create.ScheduledStepAttributesSequence[0].StudyInstanceUID  # type: ignore[attr-defined]
    assert received["set"].PerformedSeriesSequence[0].ProtocolName == "CHEST"  # type: ignore[attr-defined]


def test_threading_is_not_needed_for_the_store(tmp_path: Path) -> None:
    """The store is shared by threads (asyncio.to_thread callers): concurrent creates of
    distinct UIDs all land."""
    store = ProcedureStepStore(tmp_path)
    attributes = create_attributes()

    def worker(index: int) -> None:
        assert store.create_step(f"1.2.3.{index}", IN_PROGRESS, "X", attributes)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(store.steps()) == 8


@pytest.mark.parametrize("uid", ["1.2.03.4", "1.2.", "1..2"])  # what the encoder lets through
def test_invalid_instance_uid_is_refused(tmp_path: Path, uid: str) -> None:
    """PS3.7 C.5.12: 0117H Invalid Object Instance for a UID that breaks PS3.5 §9.1."""

    async def go() -> StepResult:
        async with mpps_peer(tmp_path) as association:
            return await create_step(association, create_attributes(), uid)

    result = run(go())
    assert result.status == 0x0117
    assert ProcedureStepStore(tmp_path).steps() == []
