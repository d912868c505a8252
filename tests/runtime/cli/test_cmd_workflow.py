"""``dicompile worklist``, ``mpps`` and ``commit`` against in-process SCPs on loopback."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from pathlib import Path

import pytest
from net_support import make_ct, run, running_server, scp_ae

from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
from dicompile.runtime.cli import cmd_net, cmd_workflow
from dicompile.runtime.cli.cmd_workflow import WorkflowServices, serve_contexts
from dicompile.runtime.net.dimse import CStoreRQ
from dicompile.runtime.net.services.storage import (
    FileStore,
    probe,
    storage_handler,
    storage_scp_contexts,
)
from dicompile.runtime.net.services.storage_commitment import storage_commitment_service

ITEM = {
    "00080050": {"vr": "SH", "Value": ["ACC1"]},
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]},
    "00100020": {"vr": "LO", "Value": ["PID1"]},
    "0020000D": {"vr": "UI", "Value": ["1.2.826.0.1.3680043.9.77"]},
    "00401001": {"vr": "SH", "Value": ["RP1"]},
    "00400100": {
        "vr": "SQ",
        "Value": [
            {
                "00080060": {"vr": "CS", "Value": ["CT"]},
                "00400001": {"vr": "AE", "Value": ["CT1"]},
                "00400002": {"vr": "DA", "Value": ["20260301"]},
                "00400009": {"vr": "SH", "Value": ["SPS1"]},
            }
        ],
    },
}


def main(argv: list[str]) -> int:
    """``dicompile`` with the network and workflow commands (as main.py runs them)."""
    parser = argparse.ArgumentParser(prog="dicompile")
    subparsers = parser.add_subparsers(dest="command")
    cmd_net.register(subparsers)
    cmd_workflow.register(subparsers)
    args = parser.parse_args(argv)
    return int(args.handler(args))


async def cli(*argv: str) -> int:
    return await asyncio.wait_for(asyncio.to_thread(main, list(argv)), 60)


def serve_workflow(folder: Path, **peers: tuple[str, int]) -> tuple[object, object]:
    ae = scp_ae("ARCHIVE", (*serve_contexts(), *storage_scp_contexts()))
    services = WorkflowServices(folder, ae, peers)
    handlers = {**services.handlers, CStoreRQ: storage_handler(FileStore(folder, fsync=False))}
    return ae, (services, handlers)


def test_worklist_add_then_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps([ITEM]))
    assert main(["worklist", "add", "--storage", str(archive), str(item_file)]) == 0
    assert "1 item(s) kept" in capsys.readouterr().out
    ae, (services, handlers) = serve_workflow(archive)

    async def go() -> tuple[int, int, int]:
        async with running_server(ae, handlers=handlers) as (_, port):  # type: ignore[arg-type]
            base = ("worklist", "127.0.0.1", str(port), "--called-aet", "ARCHIVE")
            text = await cli(*base, "-k", "ScheduledProcedureStepSequence.Modality=CT")
            as_json = await cli(*base, "--json", "-k", "PatientID", "-k", "PatientName=DOE*")
            none = await cli(*base, "-k", "ScheduledProcedureStepSequence.Modality=MR")
        await services.close()  # type: ignore[attr-defined]
        return text, as_json, none

    codes = run(go())
    out = capsys.readouterr().out
    assert codes == (0, 0, 0)
    assert "DOE^JANE | PID1 | ACC1 | CT | CT1 | 20260301" in out
    (match,) = json.loads(out[out.index("[") :].splitlines()[0])
    assert match["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]}
    assert match["00100020"] == {"vr": "LO", "Value": ["PID1"]}
    assert match["00400100"]["Value"][0]["00400009"] == {"vr": "SH", "Value": ["SPS1"]}


def test_worklist_usage_errors(tmp_path: Path) -> None:
    assert main(["worklist", "add", str(tmp_path / "x.json")]) == 2  # no --storage
    assert main(["worklist", "127.0.0.1"]) == 2
    assert main(["worklist", "127.0.0.1", "104", "-k", "NotAKeyword=1"]) == 2


def test_mpps_create_from_worklist_then_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps(ITEM))
    image = make_ct(tmp_path / "img.dcm", seed=5)
    ae, (services, handlers) = serve_workflow(archive)

    async def go() -> tuple[int, str, int, int]:
        async with running_server(ae, handlers=handlers) as (_, port):  # type: ignore[arg-type]
            base = ("mpps", "127.0.0.1", str(port))
            created = await cli(
                *base, "create", "--worklist", str(item_file), "--modality", "CT",
                "--called-aet", "ARCHIVE",
            )  # fmt: skip
            uid = capsys.readouterr().out.strip().splitlines()[-1]
            completed = await cli(
                *base, "set", uid, "--status", "COMPLETED", "--images", str(image)
            )
            again = await cli(*base, "set", uid, "--status", "DISCONTINUED")
        await services.close()  # type: ignore[attr-defined]
        return created, uid, completed, again

    created, uid, completed, again = run(go())
    err = capsys.readouterr().err
    assert (created, completed, again) == (0, 0, 1)
    assert "0110H" in err and "may no longer be updated" in err and "A710H" in err
    stored = ProcedureStepStore(archive).step(uid)
    assert stored is not None and stored.status == "COMPLETED"
    assert str(stored.attributes.get_value("PatientID")) == "PID1"
    step = stored.attributes.get_value("ScheduledStepAttributesSequence")[0]  # type: ignore[index]
    assert step.get_value("StudyInstanceUID") == "1.2.826.0.1.3680043.9.77"
    series = stored.attributes.get_value("PerformedSeriesSequence")[0]  # type: ignore[index]
    (reference,) = series.get_value("ReferencedImageSequence")
    assert reference.get_value("ReferencedSOPInstanceUID") == probe(image).sop_instance_uid


def test_commit_on_the_same_association(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    sent = [make_ct(tmp_path / f"s{i}.dcm", seed=20 + i) for i in range(2)]
    other = make_ct(tmp_path / "other.dcm", seed=99)
    ae, (services, handlers) = serve_workflow(archive)

    async def go() -> tuple[int, int, int]:
        async with running_server(ae, handlers=handlers) as (_, port):  # type: ignore[arg-type]
            stored = await cli(
                "store", "127.0.0.1", str(port), "--called-aet", "ARCHIVE", "-q", *map(str, sent)
            )
            good = await cli("commit", "127.0.0.1", str(port), "--wait", "10", *map(str, sent))
            bad = await cli(
                "commit", "127.0.0.1", str(port), "--wait", "10", "--json", str(sent[0]), str(other)
            )
        await services.close()  # type: ignore[attr-defined]
        return stored, good, bad

    stored, good, bad = run(go())
    out = capsys.readouterr().out
    assert (stored, good, bad) == (0, 0, 1)
    for path in sent:
        assert f"committed {probe(path).sop_instance_uid}" in out
    summary = json.loads(out[out.index("{") :])
    assert summary["event_type_id"] == 2
    assert summary["committed"] == [probe(sent[0]).sop_instance_uid]
    assert summary["failed"] == [
        {"sop_instance_uid": probe(other).sop_instance_uid, "failure_reason": 0x0112}
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_commit_listen_receives_the_report_on_a_new_association(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SCP decides slowly (1 s), after ``commit`` released: the report comes on a new
    association to ``--listen`` (the SCP knows us by --peer)."""
    archive = tmp_path / "archive"
    image = make_ct(tmp_path / "i.dcm", seed=3)
    uid = probe(image).sop_instance_uid
    listen = free_port()

    def slow(sop_instance_uid: str) -> str | None:
        time.sleep(1.0)
        return probe(image).sop_class_uid if sop_instance_uid == uid else None

    ae = scp_ae("ARCHIVE", serve_contexts())  # type: ignore[arg-type]
    _, handlers, provider = storage_commitment_service(
        archive, lookup=slow, ae=ae, peers={"DICOMPILE": ("127.0.0.1", listen)}
    )

    async def go() -> int:
        async with running_server(ae, handlers=handlers) as (_, port):
            code = await cli(
                "commit", "127.0.0.1", str(port), "--listen", str(listen),
                "--listen-host", "127.0.0.1", "--wait", "15", str(image),
            )  # fmt: skip
            await provider.wait_idle(5)
            return code

    assert run(go()) == 0
    assert f"committed {uid}" in capsys.readouterr().out
    assert ProcedureStepStore(archive).unreported() == []


def test_serve_answers_worklist_mpps_and_commitment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dicompile serve`` (a subprocess) with the workflow services: worklist items added
    with ``worklist add``, an MPPS created, instances stored then committed; the report
    to a released requestor goes to its --peer address."""
    import signal

    from tests.runtime.cli.test_cmd_net import finish, start_serve

    archive = tmp_path / "archive"
    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps(ITEM))
    assert main(["worklist", "add", "--storage", str(archive), str(item_file)]) == 0
    sent = make_ct(tmp_path / "s.dcm", seed=41)
    listen = free_port()
    process, port = start_serve(archive, "--peer", f"LATE@127.0.0.1:{listen}")
    try:

        async def go() -> list[int]:
            base = ("127.0.0.1", str(port), "--called-aet", "CLI-SCP")
            return [
                await cli("worklist", *base, "-k", "PatientID=PID1"),
                await cli("mpps", *base, "create", "--uid", "1.2.826.0.1.900", "--modality", "CT"),
                await cli("store", *base, "-q", str(sent)),
                await cli("commit", *base, "--wait", "10", str(sent)),
                await cli(
                    "commit", *base, "--calling-aet", "LATE", "--listen", str(listen),
                    "--listen-host", "127.0.0.1", "--wait", "10", str(sent),
                ),
            ]  # fmt: skip

        codes = run(go())
    finally:
        code, err = finish(process, signal.SIGTERM)
    out = capsys.readouterr().out
    assert codes == [0, 0, 0, 0, 0], err
    assert code == 0
    assert "DOE^JANE | PID1 | ACC1 | CT" in out
    assert "1.2.826.0.1.900" in out
    assert out.count(f"committed {probe(sent).sop_instance_uid}") == 2
    stored = ProcedureStepStore(archive).step("1.2.826.0.1.900")
    assert stored is not None and stored.status == "IN PROGRESS"
