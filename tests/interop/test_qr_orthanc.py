"""Query/Retrieve interop with Orthanc (Debian package ``orthanc``), both ways:

* dicompile SCU -> Orthanc: C-STORE, C-FIND, C-MOVE (to a dicompile Storage SCP) and C-GET;
* Orthanc SCU -> ``dicompile serve``: Orthanc's REST API (loopback only, no authentication)
  makes it query our SCP with C-FIND and retrieve with C-MOVE to itself.

Orthanc runs on 127.0.0.1 with a temporary configuration and storage folder; every test
skips with the reason when the binary is missing.  Answers are checked against the files
sent (read by pydicom, the test-only oracle).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from net_support import run, same_elements, scp_ae, scu_ae
from qr_support import Made, make_studies

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ
from dicompile.runtime.net.server import Server
from dicompile.runtime.net.services.query_retrieve import (
    SUCCESS,
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
    storage_handler,
    store_instances,
)
from dicompile.runtime.net.services.verification import handle_echo

from .peers import PEER_ENV, free_port, stop, wait_listening

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 30.0


def orthanc_binary() -> str:
    found = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")
    if found is None:
        pytest.skip("Orthanc is not installed (Debian package 'orthanc')")
    return found


@attrs.frozen
class Orthanc:
    dicom_port: int
    http_port: int

    def rest(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            return json.loads(answer.read() or b"null")


def start_orthanc(
    folder: Path, modalities: dict[str, list[object]], dicom_port: int | None = None
) -> tuple[subprocess.Popen[bytes], Orthanc]:
    """Orthanc on loopback ports with its storage in ``folder`` and the given peers."""
    binary = orthanc_binary()
    folder.mkdir(parents=True, exist_ok=True)
    orthanc = Orthanc(dicom_port or free_port(), free_port())
    config = {
        "Name": "dicompile-interop",
        "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"),
        "Plugins": [],
        "HttpServerEnabled": True,
        "HttpPort": orthanc.http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": "ORTHANC",
        "DicomPort": orthanc.dicom_port,
        "DicomCheckCalledAet": False,
        "DicomModalities": modalities,
        "StorageCompression": False,
        "DicomScuTimeout": 20,
        "DicomScpTimeout": 20,
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [binary, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=PEER_ENV
    )
    try:
        wait_listening(orthanc.dicom_port, process, timeout=30)
        wait_listening(orthanc.http_port, process, timeout=30)
    except BaseException:
        print(stop(process))
        raise
    return process, orthanc


def identifier(level: str, **keys: object) -> Dataset:
    ds = Dataset()
    ds.set("QueryRetrieveLevel", level)
    for keyword, value in keys.items():
        ds.set(keyword, value if value != "" else None)
    return ds


@pytest.fixture
def studies(tmp_path: Path) -> list[Made]:
    return make_studies(tmp_path / "sources")


def test_dicompile_scu_against_orthanc(tmp_path: Path, studies: list[Made]) -> None:
    dest_port = free_port()
    moved = tmp_path / "moved"
    got = tmp_path / "got"
    process, orthanc = start_orthanc(
        tmp_path / "orthanc", {"dicompile": ["DICOMPILE", "127.0.0.1", dest_port]}
    )
    target = studies[0]
    p2 = [m for m in studies if m.patient_id == "P2"]

    async def body() -> tuple[list[object], list[object], list[object]]:
        instances = [probe(m.path) for m in studies]
        address = ("127.0.0.1", orthanc.dicom_port)
        async with await associate(
            scu_ae("DICOMPILE"), *address, called_ae_title="ORTHANC",
            contexts=plan_contexts(instances),
        ) as association:  # fmt: skip
            stored = await store_instances(association, instances)
        assert all(r.ok for r in stored), stored
        async with await associate(
            scu_ae("DICOMPILE"), *address, called_ae_title="ORTHANC",
            contexts=[query_context(QueryModel.STUDY, Operation.FIND),
                      query_context(QueryModel.STUDY, Operation.MOVE)],
        ) as association:  # fmt: skip
            query = identifier("STUDY", StudyInstanceUID="", PatientID="", StudyDate="")
            found = [r async for r in find(association, query)]
            # C-MOVE to our Storage SCP, which Orthanc knows as DICOMPILE.
            dest = Server(
                scp_ae("DICOMPILE"),
                {CEchoRQ: handle_echo, CStoreRQ: storage_handler(FileStore(moved, fsync=False))},
            )
            await dest.start("127.0.0.1", dest_port)
            try:
                query = identifier("STUDY", StudyInstanceUID=p2[0].study_uid)
                moves = [r async for r in move(association, query, "DICOMPILE")]
            finally:
                await dest.close(grace=2.0)
        async with await associate(
            scu_ae("DICOMPILE"), *address, called_ae_title="ORTHANC",
            contexts=get_contexts(QueryModel.STUDY),
        ) as association:  # fmt: skip
            query = identifier(
                "SERIES", StudyInstanceUID=target.study_uid, SeriesInstanceUID=target.series_uid
            )
            gets = [r async for r in get(association, query, FileStore(got, fsync=False))]
        return found, moves, gets

    try:
        found, moves, gets = run(body(), timeout=90)
    finally:
        out = stop(process)
    assert found[-1].status == SUCCESS, out[-2000:]  # type: ignore[attr-defined]
    answers = {
        str(r.identifier.get_value("StudyInstanceUID")): r.identifier  # type: ignore[attr-defined]
        for r in found[:-1]
    }
    assert set(answers) == {m.study_uid for m in studies}
    for uid, ds in answers.items():
        made = next(m for m in studies if m.study_uid == uid)
        assert ds.get_value("PatientID") == made.patient_id
    assert moves[-1].status == SUCCESS, out[-2000:]  # type: ignore[attr-defined]
    assert moves[-1].counts.completed == len(p2)  # type: ignore[attr-defined]
    for made in p2:
        same_elements(made.path, moved / f"{made.sop_instance_uid}.dcm")
    series = [m for m in studies if m.series_uid == target.series_uid]
    assert gets[-1].status == SUCCESS, out[-2000:]  # type: ignore[attr-defined]
    assert gets[-1].counts.completed == len(series)  # type: ignore[attr-defined]
    for made in series:
        same_elements(made.path, got / f"{made.sop_instance_uid}.dcm")


def serve(storage: Path, *peers: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    argv = [
        sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--aet", "QRSCP", "--storage", str(storage), "--no-fsync",
        "--grace", "2",
    ]  # fmt: skip
    for peer in peers:
        argv += ["--peer", peer]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env=PEER_ENV
    )
    try:
        wait_listening(port, process, timeout=30)
    except BaseException:
        print(stop(process))
        raise
    return process, port


@pytest.fixture
def serve_with_studies(tmp_path: Path, studies: list[Made]) -> Iterator[tuple[Path, list[Made]]]:
    storage = tmp_path / "archive"
    storage.mkdir()
    for made in studies:
        shutil.copy(made.path, storage / made.path.name)
    yield storage, studies


def test_orthanc_queries_and_retrieves_from_dicompile_serve(
    tmp_path: Path, serve_with_studies: tuple[Path, list[Made]]
) -> None:
    orthanc_binary()  # skip before starting anything when Orthanc is missing
    storage, studies = serve_with_studies
    orthanc_port = free_port()
    # Orthanc's own DICOM port must be known to serve before Orthanc starts: reserve it.
    server, port = serve(storage, f"ORTHANC@127.0.0.1:{orthanc_port}")
    process = None
    try:
        process, orthanc = start_orthanc(
            tmp_path / "orthanc", {"qrscp": ["QRSCP", "127.0.0.1", port]}, orthanc_port
        )
        query = orthanc.rest(
            "POST",
            "/modalities/qrscp/query",
            {"Level": "Study", "Query": {"PatientID": "P1", "StudyInstanceUID": ""}},
        )
        assert isinstance(query, dict)
        answers = orthanc.rest("GET", f"/queries/{query['ID']}/answers?expand")
        assert isinstance(answers, list)
        found = {a["0020,000d"]["Value"] for a in answers}
        p1 = [m for m in studies if m.patient_id == "P1"]
        assert found == {m.study_uid for m in p1}
        # Retrieve: Orthanc sends C-MOVE with itself as the destination.
        orthanc.rest(
            "POST",
            f"/queries/{query['ID']}/retrieve",
            {"TargetAet": "ORTHANC", "Synchronous": True},
        )
        instances = orthanc.rest("GET", "/instances?expand")
        assert isinstance(instances, list)
        held = {i["MainDicomTags"]["SOPInstanceUID"] for i in instances}
        assert held == {m.sop_instance_uid for m in p1}
    finally:
        if process is not None:
            print(stop(process)[-2000:])
        print(stop(server)[-2000:])
