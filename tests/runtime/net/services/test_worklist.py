"""Modality Worklist C-FIND (PS3.4 Annex K) over loopback: matching on the K.6 keys,
response Identifiers, statuses; dcmtk findscu -W and pynetdicom against our SCP."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from interop.peers import PEER_ENV, need_dcmtk
from net_support import run, running_server, scp_ae, scu_ae

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import CCancelRQ, CFindRQ
from dicompile.runtime.net.services.payload import encode_payload
from dicompile.runtime.net.services.worklist import (
    WORKLIST_CONTEXT,
    WORKLIST_FIND,
    WorklistResult,
    find_worklist,
    identifier_from_keys,
    open_worklist,
    worklist_service,
)


def item_json(
    *,
    patient: str,
    patient_id: str,
    accession: str,
    modality: str,
    station: str,
    date: str,
    time: str,
    step_id: str,
) -> dict[str, object]:
    """A worklist item in the DICOM JSON Model (PS3.18 F.2), the form ``worklist add``
    reads (PS3.4 Table K.6-1 attributes)."""

    def text(vr: str, value: str) -> dict[str, object]:
        return {"vr": vr, "Value": [value]}

    digits = [c if c.isdigit() else str(ord(c)) for c in accession]  # a valid UID component

    return {
        "00080005": text("CS", "ISO_IR 100"),
        "00080050": text("SH", accession),
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": patient}]},
        "00100020": text("LO", patient_id),
        "00100030": text("DA", "19700101"),
        "00100040": text("CS", "O"),
        "0020000D": text("UI", "1.2.826.0.1.3680043.9." + "".join(digits)),
        "00401001": text("SH", f"RP{accession}"),
        "00321060": text("LO", "CT CHEST"),
        "00400100": {
            "vr": "SQ",
            "Value": [
                {
                    "00080060": text("CS", modality),
                    "00400001": text("AE", station),
                    "00400002": text("DA", date),
                    "00400003": text("TM", time),
                    "00400009": text("SH", step_id),
                    "00400007": text("LO", f"{modality} step"),
                }
            ],
        },
    }


ITEMS = [
    item_json(
        patient="DOE^JANE",
        patient_id="P1",
        accession="A1",
        modality="CT",
        station="CT1",
        date="20260301",
        time="080000",
        step_id="S1",
    ),
    item_json(
        patient="DOE^JOHN",
        patient_id="P2",
        accession="A2",
        modality="MR",
        station="MR1",
        date="20260301",
        time="093000",
        step_id="S2",
    ),
    item_json(
        patient="ROE^RICHARD",
        patient_id="P3",
        accession="A3",
        modality="CT",
        station="CT2",
        date="20260302",
        time="110000",
        step_id="S3",
    ),
]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    worklist = open_worklist(folder)
    worklist.add_json(json.dumps(ITEMS))
    worklist.close()
    return folder


async def query(folder: Path, identifier: Dataset) -> WorklistResult:
    contexts, handlers = worklist_service(folder)
    async with (
        running_server(scp_ae("MWL-SCP", contexts), handlers=handlers) as (_, port),
        await associate(
            scu_ae("MODALITY"),
            "127.0.0.1",
            port,
            called_ae_title="MWL-SCP",
            contexts=[WORKLIST_CONTEXT],
        ) as association,
    ):
        return await find_worklist(association, identifier)


def accessions(result: WorklistResult) -> list[str]:
    return sorted(str(m.get_value("AccessionNumber")) for m in result.matches)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        # K.6.1.2: Scheduled Procedure Step Sequence matching on Modality (single value)
        (["ScheduledProcedureStepSequence.Modality=CT"], ["A1", "A3"]),
        # ... on Scheduled Station AE Title
        (["ScheduledProcedureStepSequence.ScheduledStationAETitle=MR1"], ["A2"]),
        # ... on the start date, single value and range (C.2.2.2.5)
        (["ScheduledProcedureStepSequence.ScheduledProcedureStepStartDate=20260302"], ["A3"]),
        (
            ["ScheduledProcedureStepSequence.ScheduledProcedureStepStartDate=20260301-20260302"],
            ["A1", "A2", "A3"],
        ),
        # Patient's Name with wild cards (C.2.2.2.4)
        (["PatientName=DOE^*"], ["A1", "A2"]),
        # Patient ID single value
        (["PatientID=P3"], ["A3"]),
        # two keys together (C.2.2.2: every key must match)
        (["PatientName=DOE*", "ScheduledProcedureStepSequence.Modality=CT"], ["A1"]),
        # universal matching only: everything
        (["PatientName", "ScheduledProcedureStepSequence.Modality"], ["A1", "A2", "A3"]),
        # no match: Success with no Pending response
        (["ScheduledProcedureStepSequence.Modality=US"], []),
    ],
)
def test_matching(archive: Path, keys: list[str], expected: list[str]) -> None:
    result = run(query(archive, identifier_from_keys([*keys, "AccessionNumber"])))
    assert result.status == 0
    assert accessions(result) == expected


def test_response_holds_the_requested_keys_only(archive: Path) -> None:
    """PS3.4 C.4.1.1.3.2 / K.4.1.2: one element per key of the request (values filled), and
    Specific Character Set when the item has one; nothing else."""
    identifier = identifier_from_keys(
        [
            "PatientID=P2",
            "PatientName",
            "ScheduledProcedureStepSequence.Modality",
            "ScheduledProcedureStepSequence.ScheduledProcedureStepID",
        ]
    )
    result = run(query(archive, identifier))
    (match,) = result.matches
    assert set(match.tags()) == {0x00080005, 0x00100010, 0x00100020, 0x00400100}
    assert str(match.get_value("PatientName")) == "DOE^JOHN"
    (step,) = match.get_value("ScheduledProcedureStepSequence")  # type: ignore[misc]
    assert set(step.tags()) == {0x00080060, 0x00400009}
    assert step.get_value("Modality") == "MR"
    assert step.get_value("ScheduledProcedureStepID") == "S2"


def test_wrong_sop_class_on_the_context_is_refused(archive: Path) -> None:
    contexts, handlers = worklist_service(archive)

    async def go() -> int:
        async with (
            running_server(scp_ae("MWL-SCP", contexts), handlers=handlers) as (_, port),
            await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="MWL-SCP",
                contexts=[WORKLIST_CONTEXT],
            ) as association,
        ):
            context = association.negotiated.find(WORKLIST_FIND)
            assert context is not None
            response = await association.request(
                CFindRQ(
                    message_id=association.next_message_id(),
                    affected_sop_class_uid="1.2.840.10008.5.1.4.1.2.2.1",
                    data_set=encode_payload(
                        identifier_from_keys(["PatientID"]), context.transfer_syntax
                    ),
                ),
                context.context_id,
            )
            return response.status

    assert run(go()) == 0x0122


def test_identifier_from_keys_rejects_bad_paths() -> None:
    with pytest.raises(ValueError, match="NoSuchKeyword"):
        identifier_from_keys(["NoSuchKeyword=1"])
    with pytest.raises(ValueError, match="expected"):
        identifier_from_keys(["A.B.C=1"])


def test_adding_the_same_item_replaces_it(tmp_path: Path) -> None:
    worklist = open_worklist(tmp_path)
    worklist.add_json(json.dumps(ITEMS[0]))
    changed = dict(ITEMS[0])
    changed["00100020"] = {"vr": "LO", "Value": ["P-NEW"]}
    worklist.add_json(json.dumps(changed))
    assert worklist.count() == 1
    worklist.close()
    result = run(query(tmp_path, identifier_from_keys(["PatientID"])))
    assert [m.get_value("PatientID") for m in result.matches] == ["P-NEW"]


# --------------------------------------------------------------------------------------
# dcmtk findscu -W and pynetdicom against our SCP
# --------------------------------------------------------------------------------------


@pytest.mark.interop
def test_dcmtk_findscu_worklist(archive: Path, tmp_path: Path) -> None:
    findscu = need_dcmtk("findscu")  # pynetdicom installs a findscu too: take dcmtk's
    contexts, handlers = worklist_service(archive)
    out = tmp_path / "out"
    out.mkdir()

    async def go() -> subprocess.CompletedProcess[str]:
        async with running_server(scp_ae("MWL-SCP", contexts), handlers=handlers) as (_, port):
            command = [
                findscu,
                "-W",
                "-aec",
                "MWL-SCP",
                "-aet",
                "FINDSCU",
                "-to",
                "10",
                "-ta",
                "10",
                "-td",
                "10",
                "-X",
                "-od",
                str(out),
                "-k",
                "(0040,0100)[0].Modality=CT",
                "-k",
                "(0040,0100)[0].ScheduledStationAETitle",
                "-k",
                "PatientName",
                "-k",
                "AccessionNumber",
                "127.0.0.1",
                str(port),
            ]
            return await asyncio.wait_for(
                asyncio.to_thread(
                    subprocess.run,
                    command,
                    capture_output=True,
                    text=True,
                    env=PEER_ENV,
                    timeout=30,
                ),
                40,
            )

    done = run(go())
    assert done.returncode == 0, done.stderr
    import pydicom

    files = sorted(out.iterdir())
    found = sorted(str(pydicom.dcmread(f).AccessionNumber) for f in files)
    assert found == ["A1", "A3"]
    stations = sorted(
        str(pydicom.dcmread(f).ScheduledProcedureStepSequence[0].ScheduledStationAETitle)
        for f in files
    )
    assert stations == ["CT1", "CT2"]


@pytest.mark.interop
def test_pynetdicom_worklist_scu(archive: Path) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import Dataset as PyDataset
    from pydicom.sequence import Sequence as PySequence

    contexts, handlers = worklist_service(archive)
    found: list[tuple[int, str | None]] = []

    def client(port: int) -> None:
        ae = pynetdicom.AE(ae_title="PYNET")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(WORKLIST_FIND)
        assoc = ae.associate("127.0.0.1", port, ae_title="MWL-SCP")
        try:
            identifier = PyDataset()
            identifier.PatientName = "*JOHN*"
            identifier.AccessionNumber = ""
            step = PyDataset()
            step.Modality = ""
            identifier.ScheduledProcedureStepSequence = PySequence([step])
            for status, response in assoc.send_c_find(identifier, WORKLIST_FIND):
                found.append(
                    (int(status.Status), str(response.AccessionNumber) if response else None)
                )
        finally:
            assoc.release()

    async def go() -> None:
        async with running_server(scp_ae("MWL-SCP", contexts), handlers=handlers) as (_, port):
            await asyncio.wait_for(asyncio.to_thread(client, port), 30)

    run(go())
    assert found == [(0xFF00, "A2"), (0x0000, None)]


def test_cancel_ends_with_fe00(tmp_path: Path) -> None:
    """PS3.7 §9.1.2.1.5 / §9.3.2.3: a C-CANCEL-RQ while matches are being sent ends the
    C-FIND with FE00H Cancel before all matches went out."""
    worklist = open_worklist(tmp_path)
    many = []
    for index in range(400):
        item = item_json(
            patient=f"P^{index}",
            patient_id=f"ID{index}",
            accession=f"N{index}",
            modality="CT",
            station="CT1",
            date="20260301",
            time="080000",
            step_id=f"S{index}",
        )
        many.append(item)
    worklist.add_json(json.dumps(many))
    worklist.close()
    contexts, handlers = worklist_service(tmp_path)

    async def go() -> tuple[int, int]:
        async with (
            running_server(scp_ae("MWL-SCP", contexts), handlers=handlers) as (_, port),
            await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="MWL-SCP",
                contexts=[WORKLIST_CONTEXT],
            ) as association,
        ):
            context = association.negotiated.find(WORKLIST_FIND)
            assert context is not None
            request = CFindRQ(
                message_id=association.next_message_id(),
                affected_sop_class_uid=WORKLIST_FIND,
                data_set=encode_payload(
                    identifier_from_keys(["PatientID", "AccessionNumber"]),
                    context.transfer_syntax,
                ),
            )
            pending = 0
            status = -1
            async for response in association.request_responses(request, context.context_id):
                if response.status == 0xFF00:
                    pending += 1
                    if pending == 1:
                        await association.send_message(
                            CCancelRQ(message_id_being_responded_to=request.message_id),
                            context.context_id,
                        )
                else:
                    status = response.status
            return status, pending

    status, pending = run(go())
    assert status == 0xFE00
    assert 1 <= pending < 400


@pytest.mark.interop
def test_our_scu_against_dcmtk_wlmscpfs(tmp_path: Path) -> None:
    """Our worklist SCU against dcmtk's worklist SCP (wlmscpfs over .wl files)."""
    wlmscpfs = need_dcmtk("wlmscpfs")
    import socket
    import time

    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    folder = tmp_path / "wl" / "WLM-SCP"
    folder.mkdir(parents=True)
    (folder / "lockfile").touch()
    for index, item in enumerate(ITEMS):
        ds = pydicom.Dataset.from_json(item)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.276.0.7230010.3.1.0.1"
        meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.9.999.{index}"
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.save_as(folder / f"item{index}.wl", enforce_file_format=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [wlmscpfs, "-dfp", str(tmp_path / "wl"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=PEER_ENV,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("wlmscpfs did not start")
                time.sleep(0.05)

        async def go() -> WorklistResult:
            async with await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="WLM-SCP",
                contexts=[WORKLIST_CONTEXT],
            ) as association:
                return await find_worklist(
                    association,
                    identifier_from_keys(
                        [
                            "ScheduledProcedureStepSequence.Modality=CT",
                            "ScheduledProcedureStepSequence.ScheduledStationAETitle",
                            "AccessionNumber",
                            "PatientName",
                        ]
                    ),
                )

        result = run(go())
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    assert result.status == 0
    assert accessions(result) == ["A1", "A3"]
    names = sorted(str(m.get_value("PatientName")) for m in result.matches)
    assert names == ["DOE^JANE", "ROE^RICHARD"]


@pytest.mark.interop
def test_our_scu_against_pynetdicom_scp() -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import Dataset as PyDataset
    from pynetdicom import evt

    seen: list[object] = []

    def on_find(event: object) -> object:
        identifier = event.identifier  # type: ignore[attr-defined]
        seen.append(identifier)
        for item in ITEMS[:2]:
            ds = PyDataset.from_json(item)
            reply = PyDataset()
            reply.PatientName = ds.PatientName
            reply.AccessionNumber = ds.AccessionNumber
            yield 0xFF00, reply

    ae = pynetdicom.AE(ae_title="PYNET-MWL")
    ae.add_supported_context(WORKLIST_FIND)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)]
    )
    port = server.server_address[1]
    try:

        async def go() -> WorklistResult:
            async with await associate(
                scu_ae("MODALITY"),
                "127.0.0.1",
                port,
                called_ae_title="PYNET-MWL",
                contexts=[WORKLIST_CONTEXT],
            ) as association:
                return await find_worklist(
                    association,
                    identifier_from_keys(
                        [
                            "PatientName=DOE*",
                            "AccessionNumber",
                            "ScheduledProcedureStepSequence.Modality=CT",
                        ]
                    ),
                )

        result = run(go())
    finally:
        server.shutdown()
    assert result.status == 0
    assert accessions(result) == ["A1", "A2"]
    (identifier,) = seen
    assert identifier.PatientName == "DOE*"  # type: ignore[attr-defined]
    assert identifier.ScheduledProcedureStepSequence[0].Modality == "CT"  # type: ignore[attr-defined]
