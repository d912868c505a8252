"""Storage Commitment Push Model (PS3.4 J.3) over loopback: results on the same association
and on a new one, N-ACTION statuses, Failure Reasons; pynetdicom as SCU and as SCP."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from net_support import CT_IMAGE, make_ct, run, scp_ae, scu_ae

from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.net.association import Association, associate
from dicompile.runtime.net.dimse import CStoreRQ, NActionRQ, NActionRSP
from dicompile.runtime.net.server import Server
from dicompile.runtime.net.services.payload import encode_payload
from dicompile.runtime.net.services.storage import (
    FileStore,
    plan_contexts,
    probe,
    storage_handler,
    storage_scp_contexts,
    store_instances,
)
from dicompile.runtime.net.services.storage_commitment import (
    CLASS_INSTANCE_CONFLICT,
    COMMITMENT_CONTEXT,
    DUPLICATE_TRANSACTION_UID,
    EVENT_FAILURES_EXIST,
    EVENT_SUCCESSFUL,
    NO_SUCH_OBJECT_INSTANCE,
    STORAGE_COMMITMENT,
    STORAGE_COMMITMENT_INSTANCE,
    CommitmentResult,
    CommitmentWaiter,
    Reference,
    action_information,
    commit,
    commitment_listener,
    parse_peer,
    request_commitment,
    storage_commitment_service,
)

MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"


def make_archive(folder: Path, count: int) -> list[Reference]:
    """``count`` CT files stored as a Storage SCP stores them; their references."""
    folder.mkdir(parents=True, exist_ok=True)
    store = FileStore(folder, fsync=False)
    references = []
    for index in range(count):
        source = make_ct(folder.parent / f"src{index}.dcm", seed=index + 1)
        instance = probe(source)
        from dicompile.runtime.net.services.storage import ReceivedInstance, data_set_bytes

        store.write(
            ReceivedInstance(
                instance.sop_class_uid,
                instance.sop_instance_uid,
                instance.transfer_syntax,
                data_set_bytes(instance, instance.transfer_syntax),
                "SCU",
                "SCP",
                1,
            )
        )
        references.append(Reference(instance.sop_class_uid, instance.sop_instance_uid))
    return references


def scp_server(folder: Path, **kwargs: object) -> tuple[Server, object]:
    kwargs.setdefault("ae", scp_ae("COMMIT-SCP"))
    contexts, handlers, provider = storage_commitment_service(folder, **kwargs)  # type: ignore[arg-type]
    ae = scp_ae("COMMIT-SCP", (*contexts, *storage_scp_contexts()))
    handlers = {**handlers, CStoreRQ: storage_handler(FileStore(folder, fsync=False))}
    return Server(ae, handlers), provider


async def open_scu(port: int, title: str = "COMMIT-SCU") -> Association:
    return await associate(
        scu_ae(title),
        "127.0.0.1",
        port,
        called_ae_title="COMMIT-SCP",
        contexts=[COMMITMENT_CONTEXT],
    )


def test_result_on_the_same_association(tmp_path: Path) -> None:
    """J.3.3.1.2: event 2 with the committed ones in Referenced SOP Sequence and each failed
    one with its Failure Reason (0112H not kept, 0119H kept under another class)."""
    archive = tmp_path / "archive"
    kept = make_archive(archive, 2)
    missing = Reference(CT_IMAGE, "1.2.826.0.1.404")
    conflict = Reference(MR_IMAGE, kept[1].sop_instance_uid)
    server, _ = scp_server(archive)

    async def go() -> tuple[str, CommitmentResult | None]:
        _, port = await server.start("127.0.0.1", 0)
        try:
            async with await open_scu(port) as association:
                uid, response, result = await commit(
                    association, [kept[0], missing, conflict], timeout=10
                )
                assert response.status == 0
                return uid, result
        finally:
            await server.close(grace=2)

    uid, result = run(go())
    assert result is not None
    assert result.transaction_uid == uid
    assert result.event_type_id == EVENT_FAILURES_EXIST
    assert result.committed == (kept[0],)
    assert result.retrieve_ae_title == "COMMIT-SCP"  # our AE keeps what it commits to
    reasons = {r.sop_instance_uid: (r.sop_class_uid, r.failure_reason) for r in result.failed}
    assert reasons == {
        missing.sop_instance_uid: (CT_IMAGE, NO_SUCH_OBJECT_INSTANCE),
        conflict.sop_instance_uid: (MR_IMAGE, CLASS_INSTANCE_CONFLICT),
    }
    stored = ProcedureStepStore(archive).commitment(uid)
    assert stored is not None and stored.event_type_id == EVENT_FAILURES_EXIST
    assert stored.reported is not None


def test_all_committed_is_event_1_after_a_real_c_store(tmp_path: Path) -> None:
    """Instances sent with C-STORE to the same server are then committed: event type 1."""
    archive = tmp_path / "archive"
    sources = [make_ct(tmp_path / f"s{i}.dcm", seed=10 + i) for i in range(3)]
    instances = [probe(p) for p in sources]
    server, _ = scp_server(archive)

    async def go() -> CommitmentResult | None:
        _, port = await server.start("127.0.0.1", 0)
        try:
            async with await associate(
                scu_ae("COMMIT-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="COMMIT-SCP",
                contexts=[*plan_contexts(instances), COMMITMENT_CONTEXT],
            ) as association:
                results = await store_instances(association, instances)
                assert all(r.ok for r in results)
                refs = [Reference(i.sop_class_uid, i.sop_instance_uid) for i in instances]
                _, _, result = await commit(association, refs, timeout=10)
                return result
        finally:
            await server.close(grace=2)

    result = run(go())
    assert result is not None and result.all_committed
    assert result.event_type_id == EVENT_SUCCESSFUL
    assert {r.sop_instance_uid for r in result.committed} == {i.sop_instance_uid for i in instances}


def test_result_on_a_new_association_after_release(tmp_path: Path) -> None:
    """J.3.3.1.2: the SCU released at once; the SCP opens an association to the requestor's
    address (--peer) with the same AE title, proposing the SCP role (PS3.7 D.3.3.4)."""
    archive = tmp_path / "archive"
    kept = make_archive(archive, 1)
    waiter = CommitmentWaiter()
    seen: list[tuple[str, str]] = []

    async def go() -> CommitmentResult | None:
        contexts, handlers = commitment_listener(waiter)
        listener = Server(
            scu_ae("COMMIT-SCU", contexts=contexts),
            handlers,
            on_association=lambda a: seen.append(
                (a.negotiated.peer_ae_title, a.negotiated.local_ae_title)
            ),
        )
        _, listen_port = await listener.start("127.0.0.1", 0)
        ae = scp_ae("COMMIT-SCP")
        contexts2, handlers2, provider = storage_commitment_service(
            archive, ae=ae, peers={"COMMIT-SCU": ("127.0.0.1", listen_port)}
        )
        server = Server(scp_ae("COMMIT-SCP", contexts2), handlers2)
        _, port = await server.start("127.0.0.1", 0)
        try:
            association = await open_scu(port)
            uid, response = await request_commitment(association, kept)
            await association.release()  # before any report can come on it
            assert response.status == 0
            result = await waiter.wait(uid, 10)
            await provider.wait_idle(5)
            return result
        finally:
            await server.close(grace=2)
            await listener.close(grace=2)

    result = run(go())
    assert result is not None and result.event_type_id == EVENT_SUCCESSFUL
    assert result.committed == (kept[0],)
    assert ("COMMIT-SCP", "COMMIT-SCU") in seen


def test_undeliverable_result_stays_unreported(tmp_path: Path) -> None:
    """No --peer for the requestor and the association gone: the result is recorded but
    not marked reported, so that it can be sent later."""
    archive = tmp_path / "archive"
    kept = make_archive(archive, 1)
    server, provider = scp_server(archive)

    async def go() -> str:
        _, port = await server.start("127.0.0.1", 0)
        try:
            association = await open_scu(port)
            uid, _ = await request_commitment(association, kept)
            await association.release()
            await provider.wait_idle(5)  # type: ignore[attr-defined]
            return uid
        finally:
            await server.close(grace=2)

    uid = run(go())
    store = ProcedureStepStore(archive)
    stored = store.commitment(uid)
    assert stored is not None and stored.event_type_id == EVENT_SUCCESSFUL
    assert [c.transaction_uid for c in store.unreported()] == [uid]


async def _raw_action(
    association: Association, data: Dataset | None, *, instance: str, action: int = 1
) -> NActionRSP:
    context = association.negotiated.find(STORAGE_COMMITMENT)
    assert context is not None
    response = await association.request(
        NActionRQ(
            message_id=association.next_message_id(),
            requested_sop_class_uid=STORAGE_COMMITMENT,
            requested_sop_instance_uid=instance,
            action_type_id=action,
            data_set=encode_payload(data, context.transfer_syntax) if data is not None else None,
        ),
        context.context_id,
    )
    assert isinstance(response, NActionRSP)
    return response


def _without(tag: int) -> Dataset:
    data = action_information("1.2.826.0.1.500", [Reference(CT_IMAGE, "1.2.826.0.1.501")])
    del data[tag]
    return data


def _empty_sequence() -> Dataset:
    data = action_information("1.2.826.0.1.502", [])
    return data


def _item_without_instance() -> Dataset:
    item = Dataset()
    item.add(DataElement(0x00081150, VR.UI, CT_IMAGE))
    data = action_information("1.2.826.0.1.503", [])
    data.add(DataElement(0x00081199, VR.SQ, Sequence([item])))
    return data


@pytest.mark.parametrize(
    ("data", "instance", "action", "status"),
    [
        # Table J.3-1: Transaction UID and Referenced SOP Sequence are Type 1 (PS3.7 C.5.13)
        (_without(0x00081195), STORAGE_COMMITMENT_INSTANCE, 1, 0x0120),
        (_without(0x00081199), STORAGE_COMMITMENT_INSTANCE, 1, 0x0120),
        (_item_without_instance(), STORAGE_COMMITMENT_INSTANCE, 1, 0x0120),
        # ... with a value (PS3.7 C.5.14): an empty sequence
        (_empty_sequence(), STORAGE_COMMITMENT_INSTANCE, 1, 0x0121),
        # J.3.5: only the well-known instance (PS3.7 C.5.19: 0112H)
        (None, "1.2.3.4", 1, 0x0112),
        # Table J.3-1: Action Type ID 1 only (PS3.7 C.5.24: 0123H)
        (None, STORAGE_COMMITMENT_INSTANCE, 2, 0x0123),
    ],
)
def test_n_action_statuses(
    tmp_path: Path, data: Dataset | None, instance: str, action: int, status: int
) -> None:
    server, provider = scp_server(tmp_path / "archive")

    async def go() -> NActionRSP:
        _, port = await server.start("127.0.0.1", 0)
        try:
            async with await open_scu(port) as association:
                return await _raw_action(association, data, instance=instance, action=action)
        finally:
            await server.close(grace=2)

    response = run(go())
    assert response.status == status
    assert not provider.tasks  # type: ignore[attr-defined]
    assert ProcedureStepStore(tmp_path / "archive").unreported() == []


def test_duplicate_transaction_uid_fails_every_reference(tmp_path: Path) -> None:
    """PS3.3 C.14.1.1: Failure Reason 0131H when the Transaction UID was used before."""
    archive = tmp_path / "archive"
    kept = make_archive(archive, 1)
    server, _ = scp_server(archive)

    async def go() -> tuple[CommitmentResult | None, CommitmentResult | None]:
        _, port = await server.start("127.0.0.1", 0)
        try:
            async with await open_scu(port) as association:
                _, _, first = await commit(
                    association, kept, timeout=10, transaction_uid="1.2.826.0.1.600"
                )
            async with await open_scu(port) as association:
                _, _, second = await commit(
                    association, kept, timeout=10, transaction_uid="1.2.826.0.1.600"
                )
            return first, second
        finally:
            await server.close(grace=2)

    first, second = run(go())
    assert first is not None and first.event_type_id == EVENT_SUCCESSFUL
    assert second is not None and second.event_type_id == EVENT_FAILURES_EXIST
    assert [r.failure_reason for r in second.failed] == [DUPLICATE_TRANSACTION_UID]
    assert second.committed == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SCU@127.0.0.1:104", ("SCU", "127.0.0.1", 104)),
        ("A@host.example:11112", ("A", "host.example", 11112)),
        ("B@[::1]:4242", ("B", "::1", 4242)),
    ],
)
def test_parse_peer(text: str, expected: tuple[str, str, int]) -> None:
    assert parse_peer(text) == expected


@pytest.mark.parametrize("text", ["SCU", "SCU@host", "@h:1", "SCU@:1", "SCU@h:x"])
def test_parse_peer_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="AET@HOST:PORT"):
        parse_peer(text)


# --------------------------------------------------------------------------------------
# pynetdicom, both ways (test-only oracle)
# --------------------------------------------------------------------------------------


@pytest.mark.interop
def test_pynetdicom_scu_gets_the_result_on_the_same_association(tmp_path: Path) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import Dataset as PyDataset
    from pydicom.sequence import Sequence as PySequence
    from pynetdicom import evt

    archive = tmp_path / "archive"
    kept = make_archive(archive, 2)
    server, _ = scp_server(archive)
    events: list[tuple[int, object]] = []
    got = threading.Event()

    def on_report(event: object) -> tuple[int, None]:
        events.append((event.event_type, event.event_information))  # type: ignore[attr-defined]
        got.set()
        return 0x0000, None

    def client(port: int) -> int:
        ae = pynetdicom.AE(ae_title="PYNET")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(STORAGE_COMMITMENT)
        assoc = ae.associate(
            "127.0.0.1",
            port,
            ae_title="COMMIT-SCP",
            evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
        )
        try:
            info = PyDataset()
            info.TransactionUID = "1.2.826.0.1.700"
            items = []
            for ref in [*kept, Reference(CT_IMAGE, "1.2.826.0.1.701")]:
                item = PyDataset()
                item.ReferencedSOPClassUID = ref.sop_class_uid
                item.ReferencedSOPInstanceUID = ref.sop_instance_uid
                items.append(item)
            info.ReferencedSOPSequence = PySequence(items)
            status, _ = assoc.send_n_action(
                info, 1, STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
            )
            deadline = time.monotonic() + 10
            while not got.is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
            return int(status.Status)
        finally:
            assoc.release()

    async def go() -> int:
        _, port = await server.start("127.0.0.1", 0)
        try:
            return await asyncio.wait_for(asyncio.to_thread(client, port), 30)
        finally:
            await server.close(grace=2)

    assert run(go()) == 0
    assert len(events) == 1
    event_type, information = events[0]
    assert event_type == EVENT_FAILURES_EXIST
    assert information.TransactionUID == "1.2.826.0.1.700"  # type: ignore[attr-defined]
    assert information.RetrieveAETitle == "COMMIT-SCP"  # type: ignore[attr-defined]
    committed = {i.ReferencedSOPInstanceUID for i in information.ReferencedSOPSequence}  # type: ignore[attr-defined]
    assert committed == {r.sop_instance_uid for r in kept}
    (failed,) = information.FailedSOPSequence  # type: ignore[attr-defined]
    assert failed.ReferencedSOPInstanceUID == "1.2.826.0.1.701"
    assert failed.FailureReason == NO_SUCH_OBJECT_INSTANCE


@pytest.mark.interop
def test_our_scu_against_pynetdicom_scp_reporting_on_a_new_association(tmp_path: Path) -> None:
    """pynetdicom as SCP: it answers the N-ACTION, then (from another thread) opens an
    association to our listener with the SCP role and sends the N-EVENT-REPORT."""
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import Dataset as PyDataset
    from pydicom.sequence import Sequence as PySequence
    from pynetdicom import build_role, evt

    listen_port: list[int] = []
    report_status: list[int] = []

    def report(transaction_uid: str, refs: list[tuple[str, str]]) -> None:
        time.sleep(0.2)
        ae = pynetdicom.AE(ae_title="PYNET-SCP")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(STORAGE_COMMITMENT)
        role = build_role(STORAGE_COMMITMENT, scp_role=True, scu_role=False)
        assoc = ae.associate("127.0.0.1", listen_port[0], ae_title="COMMIT-SCU", ext_neg=[role])
        try:
            info = PyDataset()
            info.TransactionUID = transaction_uid
            items = []
            for sop_class, sop_instance in refs:
                item = PyDataset()
                item.ReferencedSOPClassUID = sop_class
                item.ReferencedSOPInstanceUID = sop_instance
                items.append(item)
            info.ReferencedSOPSequence = PySequence(items)
            status, _ = assoc.send_n_event_report(
                info, 1, STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
            )
            report_status.append(int(status.Status))
        finally:
            assoc.release()

    def on_action(event: object) -> tuple[int, None]:
        info = event.action_information  # type: ignore[attr-defined]
        refs = [
            (i.ReferencedSOPClassUID, i.ReferencedSOPInstanceUID)
            for i in info.ReferencedSOPSequence
        ]
        threading.Thread(target=report, args=(info.TransactionUID, refs), daemon=True).start()
        return 0x0000, None

    ae = pynetdicom.AE(ae_title="PYNET-SCP")
    ae.add_supported_context(STORAGE_COMMITMENT)
    scp = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_N_ACTION, on_action)]
    )
    port = scp.server_address[1]
    refs = [Reference(CT_IMAGE, "1.2.826.0.1.800"), Reference(CT_IMAGE, "1.2.826.0.1.801")]
    waiter = CommitmentWaiter()
    try:

        async def go() -> CommitmentResult | None:
            contexts, handlers = commitment_listener(waiter)
            listener = Server(scu_ae("COMMIT-SCU", contexts=contexts), handlers)
            _, lp = await listener.start("127.0.0.1", 0)
            listen_port.append(lp)
            try:
                async with await associate(
                    scu_ae("COMMIT-SCU"),
                    "127.0.0.1",
                    port,
                    called_ae_title="PYNET-SCP",
                    contexts=[COMMITMENT_CONTEXT],
                ) as association:
                    uid, response = await request_commitment(association, refs)
                    assert response.status == 0
                return await waiter.wait(uid, 15)
            finally:
                await listener.close(grace=2)

        result = run(go())
    finally:
        scp.shutdown()
    assert report_status == [0]
    assert result is not None and result.event_type_id == EVENT_SUCCESSFUL
    assert result.committed == tuple(refs)


def test_undelivered_result_is_redelivered_once_the_address_is_known(tmp_path: Path) -> None:
    """A result recorded but never delivered (no --peer at the time) is sent when a
    provider that knows the requestor's address starts its redelivery."""
    archive = tmp_path / "archive"
    kept = make_archive(archive, 1)
    server, provider = scp_server(archive)
    waiter = CommitmentWaiter()

    async def first() -> str:
        _, port = await server.start("127.0.0.1", 0)
        try:
            association = await open_scu(port)
            uid, _ = await request_commitment(association, kept)
            await association.release()
            await provider.wait_idle(5)  # type: ignore[attr-defined]
            return uid
        finally:
            await server.close(grace=2)

    uid = run(first())
    assert [c.transaction_uid for c in ProcedureStepStore(archive).unreported()] == [uid]

    async def later() -> tuple[CommitmentResult | None, int]:
        contexts, handlers = commitment_listener(waiter)
        listener = Server(scu_ae("COMMIT-SCU", contexts=contexts), handlers)
        _, listen_port = await listener.start("127.0.0.1", 0)
        try:
            _, _, again = storage_commitment_service(
                archive, ae=scp_ae("COMMIT-SCP"), peers={"COMMIT-SCU": ("127.0.0.1", listen_port)}
            )
            delivered = await again.redeliver()
            return await waiter.wait(uid, 5), delivered
        finally:
            await listener.close(grace=2)

    result, delivered = run(later())
    assert delivered == 1
    assert result is not None and result.event_type_id == EVENT_SUCCESSFUL
    assert result.committed == (kept[0],)
    assert ProcedureStepStore(archive).unreported() == []
