"""``dicompile serve`` answers every DIMSE service through the typed dispatch (one path):
the handler map holds only dispatch handlers, and real-socket round trips over loopback
exercise each service -- C-ECHO, C-STORE, C-FIND, C-GET (C-STORE sub-operations on the same
association), C-MOVE (to a second SCP), MPPS N-CREATE/N-SET, Storage Commitment N-ACTION
with its N-EVENT-REPORT on the same association."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from net_support import CT_IMAGE, make_ct, run, running_server, scp_ae, scu_ae

from dicompile.runtime.cli.cmd_net import serve_handlers
from dicompile.runtime.cli.cmd_qr import ArchiveServices, serve_contexts
from dicompile.runtime.cli.cmd_workflow import WorkflowServices
from dicompile.runtime.cli.cmd_workflow import serve_contexts as workflow_contexts
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    CFindRQ,
    CGetRQ,
    CMoveRQ,
    CStoreRQ,
    NActionRQ,
    NCreateRQ,
    NSetRQ,
)
from dicompile.runtime.net.services import mpps, storage_commitment
from dicompile.runtime.net.services.query_retrieve import (
    Operation,
    QueryModel,
    find,
    get,
    get_contexts,
    move,
    query_context,
)
from dicompile.runtime.net.services.storage import (
    FileStore,
    plan_contexts,
    probe,
    store_instances,
)
from dicompile.runtime.net.services.verification import (
    VERIFICATION_CONTEXT,
    VERIFICATION_SCP,
    echo,
)

SERVED = {CEchoRQ, CStoreRQ, CFindRQ, CMoveRQ, CGetRQ, NCreateRQ, NSetRQ, NActionRQ}


def _services(storage: Path, peers: dict[str, tuple[str, int]]) -> tuple[Any, Any, Any]:
    args = argparse.Namespace(
        storage=storage,
        no_fsync=True,
        peer=[(title, host, port) for title, (host, port) in peers.items()],
        hierarchical_only=False,
        stream_threshold=0,
    )
    ae = scp_ae("ARCHIVE", (VERIFICATION_SCP, *serve_contexts(), *workflow_contexts()))
    archive = ArchiveServices(args, ae)
    workflow = WorkflowServices(storage, ae, peers, archive.index)
    return ae, archive, workflow


def test_every_served_request_type_goes_through_the_dispatch(tmp_path: Path) -> None:
    _, archive, workflow = _services(tmp_path / "archive", {})
    try:
        handlers = serve_handlers(archive, workflow)
        assert set(handlers) == SERVED
        for kind, handler in handlers.items():
            # The dispatch's by-SOP-class router, not a hand-written service handler.
            assert handler.__module__ == "dicompile.runtime.net.services.routes.registry", kind
            assert type(handler).__qualname__ == "_BySopClass", kind
    finally:
        run(workflow.close(grace=0))
        archive.close()


def test_serve_round_trips_every_service(tmp_path: Path) -> None:
    files = [make_ct(tmp_path / f"in{i}.dcm", seed=i) for i in range(3)]
    instances = [probe(path) for path in files]
    study = str(__import__("pydicom").dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    destination = tmp_path / "moved"

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        dest_ae = scp_ae("DEST")
        async with running_server(dest_ae, destination) as (_, dest_port):
            ae, archive, workflow = _services(
                tmp_path / "archive", {"DEST": ("127.0.0.1", dest_port)}
            )
            try:
                async with running_server(ae, handlers=serve_handlers(archive, workflow)) as (
                    _,
                    port,
                ):
                    contexts = [
                        VERIFICATION_CONTEXT,
                        *plan_contexts(instances),
                        query_context(QueryModel.STUDY, Operation.FIND),
                        query_context(QueryModel.STUDY, Operation.MOVE),
                        mpps.MPPS_CONTEXT,
                        storage_commitment.COMMITMENT_CONTEXT,
                    ]
                    async with await associate(
                        scu_ae("MODALITY"),
                        "127.0.0.1",
                        port,
                        called_ae_title="ARCHIVE",
                        contexts=contexts,
                    ) as association:
                        out["echo"] = await echo(association)
                        stored = await store_instances(association, instances)
                        out["store"] = [r.status for r in stored]
                        query = Dataset()
                        query.set("QueryRetrieveLevel", "STUDY")
                        query.set("StudyInstanceUID", "")
                        out["find"] = [r.status async for r in find(association, query)]
                        retrieve = Dataset()
                        retrieve.set("QueryRetrieveLevel", "STUDY")
                        retrieve.set("StudyInstanceUID", study)
                        out["move"] = [
                            (r.status, r.counts) async for r in move(association, retrieve, "DEST")
                        ]
                        out["move_unknown"] = [
                            r.status async for r in move(association, retrieve, "NOWHERE")
                        ]
                        uid = "2.25.4242"
                        step = mpps.n_create_attributes(
                            performed_procedure_step_id="PPS1",
                            station_ae_title="MODALITY",
                            start_date="20260301",
                            start_time="0800",
                            modality="CT",
                        )
                        out["create"] = await mpps.create_step(association, step, uid)
                        out["create_again"] = await mpps.create_step(association, step, uid)
                        bare = Dataset()
                        bare.set("Modality", "CT")
                        out["create_empty"] = await mpps.create_step(association, bare)
                        change = Dataset()
                        change.set("PerformedProcedureStepDescription", "done")
                        out["set"] = await mpps.set_step(association, uid, change)
                        out["set_unknown"] = await mpps.set_step(association, "2.25.1", change)
                        references = [
                            storage_commitment.Reference(CT_IMAGE, i.sop_instance_uid)
                            for i in instances
                        ] + [storage_commitment.Reference(CT_IMAGE, "2.25.99")]
                        out["commit"] = await storage_commitment.commit(
                            association, references, timeout=20
                        )
                    get_association = await associate(
                        scu_ae("VIEWER"),
                        "127.0.0.1",
                        port,
                        called_ae_title="ARCHIVE",
                        contexts=get_contexts(QueryModel.STUDY, [CT_IMAGE]),
                    )
                    async with get_association:
                        got = FileStore(tmp_path / "got", fsync=False)
                        out["get"] = [
                            (r.status, r.counts) async for r in get(get_association, retrieve, got)
                        ]
            finally:
                await workflow.close(grace=5)
                archive.close()
        return out

    out = run(go())
    assert out["echo"] == 0
    assert out["store"] == [0, 0, 0]
    # Each made CT is its own study: three Pending matches, then Success.
    assert out["find"] == [0xFF00] * 3 + [0]
    # C-MOVE: one instance in the study, sent to DEST on a new association.
    assert out["move"][-1][0] == 0
    assert out["move"][-1][1].completed == 1
    assert len(list(destination.glob("*.dcm"))) == 1
    assert out["move_unknown"] == [0xA801]
    # C-GET: the instance came back as a C-STORE on the same association.
    assert out["get"][-1][0] == 0
    assert out["get"][-1][1].completed == 1
    assert len(list((tmp_path / "got").glob("*.dcm"))) == 1
    # MPPS: created, duplicate 0111H, missing attributes 0120H with their tags, N-SET.
    assert (out["create"].status, out["create"].sop_instance_uid) == (0, "2.25.4242")
    assert out["create_again"].status == 0x0111
    assert out["create_empty"].status == 0x0120
    assert out["create_empty"].attribute_identifier_list
    assert out["set"].status == 0
    assert out["set_unknown"].status == 0x0112
    # Storage Commitment: N-ACTION Success, the N-EVENT-REPORT on the same association.
    _, response, result = out["commit"]
    assert response.status == 0
    assert response.action_type_id == 1
    assert result is not None
    assert result.event_type_id == storage_commitment.EVENT_FAILURES_EXIST
    assert {r.sop_instance_uid for r in result.committed} == {i.sop_instance_uid for i in instances}
    assert [(r.sop_instance_uid, r.failure_reason) for r in result.failed] == [
        ("2.25.99", storage_commitment.NO_SUCH_OBJECT_INSTANCE)
    ]
    assert result.retrieve_ae_title == "ARCHIVE"
