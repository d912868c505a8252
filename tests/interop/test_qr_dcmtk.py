"""Query/Retrieve interop with dcmtk: ``findscu``, ``movescu`` and ``getscu`` against
``dicompile serve`` (its archive filled by dcmtk's ``storescu``), and dicompile's
``find``/``move``/``get`` commands with a dcmtk ``storescp`` as the C-MOVE destination.
Answers are checked against the files sent (read by pydicom, the test-only oracle)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from net_support import same_elements
from qr_support import Made, make_instance, make_studies

from dicompile.runtime.cli.main import main

from .peers import PEER_ENV, TOOL_TIMEOUT, free_port, need_dcmtk, stop, wait_listening

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]


def serve(storage: Path, *peers: str, aet: str = "QRSCP") -> tuple[subprocess.Popen[bytes], int]:
    """``dicompile serve`` as a subprocess on a free port, with C-MOVE destinations."""
    port = free_port()
    argv = [
        sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--aet", aet, "--storage", str(storage), "--no-fsync",
        "--grace", "2", "--timeout", "10", "--dimse-timeout", "20",
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


def start_storescp(folder: Path, aet: str = "STORESCP") -> tuple[subprocess.Popen[bytes], int]:
    storescp = need_dcmtk("storescp")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [storescp, "-aet", aet, "-od", str(folder), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=PEER_ENV,
    )
    try:
        wait_listening(port, process)
    except BaseException:
        stop(process)
        raise
    return process, port


def tool(name: str, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [need_dcmtk(name), *argv],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TOOL_TIMEOUT,
        env=PEER_ENV,
        cwd=cwd,
        check=False,
    )


def uids_in(folder: Path) -> dict[str, Path]:
    """SOP Instance UID -> file, for every DICOM file in ``folder``."""
    import pydicom

    found = {}
    for path in folder.iterdir():
        if path.is_file() and not path.name.endswith(".sqlite") and "sqlite" not in path.name:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            found[str(ds.SOPInstanceUID)] = path
    return found


@pytest.fixture
def studies(tmp_path: Path) -> list[Made]:
    return make_studies(tmp_path / "sources")


@pytest.fixture
def archive(tmp_path: Path, studies: list[Made]) -> Iterator[tuple[int, Path, Path]]:
    """dicompile serve with a dcmtk storescp as C-MOVE destination STORESCP, the studies
    sent to it with dcmtk's storescu: (serve port, storage folder, storescp folder)."""
    moved = tmp_path / "moved"
    scp, scp_port = start_storescp(moved)
    storage = tmp_path / "archive"
    server, port = serve(storage, f"STORESCP@127.0.0.1:{scp_port}")
    try:
        sent = tool(
            "storescu", "-aec", "QRSCP", "127.0.0.1", str(port), *(str(m.path) for m in studies)
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        yield port, storage, moved
    finally:
        out = stop(server)
        stop(scp)
        print(out)


def test_findscu_finds_what_the_archive_holds(
    tmp_path: Path, studies: list[Made], archive: tuple[int, Path, Path]
) -> None:
    import pydicom

    port, _, _ = archive
    out = tmp_path / "responses"
    out.mkdir()
    done = tool(
        "findscu", "-S", "-aec", "QRSCP", "-X", "-od", str(out),
        "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "-k", "PatientID",
        "-k", "PatientName", "-k", "StudyDate", "-k", "NumberOfStudyRelatedInstances",
        "127.0.0.1", str(port),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    responses = [pydicom.dcmread(p) for p in sorted(out.glob("rsp*.dcm"))]
    by_uid = {str(r.StudyInstanceUID): r for r in responses}
    assert set(by_uid) == {m.study_uid for m in studies}
    for uid, response in by_uid.items():
        members = [m for m in studies if m.study_uid == uid]
        assert response.PatientID == members[0].patient_id
        assert str(response.PatientName) == members[0].patient_name
        assert response.StudyDate == members[0].study_date
        assert int(response.NumberOfStudyRelatedInstances) == len(members)

    # A series query with a wildcard and the study's unique key (hierarchical).
    target = studies[0]
    out2 = tmp_path / "series"
    out2.mkdir()
    done = tool(
        "findscu", "-S", "-aec", "QRSCP", "-X", "-od", str(out2),
        "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={target.study_uid}",
        "-k", "SeriesInstanceUID", "-k", "Modality=?R",
        "127.0.0.1", str(port),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    series = {str(pydicom.dcmread(p).SeriesInstanceUID) for p in out2.glob("rsp*.dcm")}
    assert series == {
        m.series_uid for m in studies if m.study_uid == target.study_uid and m.modality == "MR"
    }


def test_findscu_cancel_is_answered_fe00(tmp_path: Path) -> None:
    storage = tmp_path / "archive"
    storage.mkdir()
    count = 300
    for i in range(count):
        make_instance(
            storage / f"{i}.dcm",
            patient_id="PX",
            patient_name="Many^Images",
            study_uid="1.2.826.0.1.3680043.10.1561.1",
            series_uid="1.2.826.0.1.3680043.10.1561.1.1",
            sop_instance_uid=f"1.2.826.0.1.3680043.10.1561.1.1.{i + 1}",
            study_date="20200101",
        )
    server, port = serve(storage)  # indexes the files already in the folder
    try:
        done = tool(
            "findscu", "-v", "-S", "-aec", "QRSCP", "--cancel", "1",
            "-k", "QueryRetrieveLevel=IMAGE", "-k", "SOPInstanceUID",
            "127.0.0.1", str(port),
        )  # fmt: skip
    finally:
        stop(server)
    text = done.stdout + done.stderr
    assert "Final Find Response (Cancel" in text, text[-2000:]
    assert text.count("(Pending)") < count


def test_movescu_to_storescp(studies: list[Made], archive: tuple[int, Path, Path]) -> None:
    port, _, moved = archive
    target = studies[0].study_uid
    done = tool(
        "movescu", "-S", "-aec", "QRSCP", "--move", "STORESCP",
        "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={target}",
        "127.0.0.1", str(port),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wanted = {m.sop_instance_uid: m for m in studies if m.study_uid == target}
    got = uids_in(moved)
    assert set(got) == set(wanted)
    for uid, made in wanted.items():
        same_elements(made.path, got[uid])


def test_movescu_to_an_unknown_destination_is_refused(archive: tuple[int, Path, Path]) -> None:
    port, _, moved = archive
    done = tool(
        "movescu", "-v", "-P", "-aec", "QRSCP", "--move", "NOWHERE",
        "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=P1",
        "127.0.0.1", str(port),
    )  # fmt: skip
    text = done.stdout + done.stderr
    assert "a801" in text.lower() or "MoveDestinationUnknown" in text, text[-2000:]
    assert not any(moved.iterdir())


def test_getscu_gets_a_series(
    tmp_path: Path, studies: list[Made], archive: tuple[int, Path, Path]
) -> None:
    port, _, _ = archive
    target = studies[0]
    out = tmp_path / "got"
    out.mkdir()
    done = tool(
        "getscu", "-S", "-aec", "QRSCP", "-od", str(out),
        "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={target.study_uid}",
        "-k", f"SeriesInstanceUID={target.series_uid}",
        "127.0.0.1", str(port),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wanted = {m.sop_instance_uid: m for m in studies if m.series_uid == target.series_uid}
    got = uids_in(out)
    assert set(got) == set(wanted)
    for uid, made in wanted.items():
        same_elements(made.path, got[uid])


def test_dicompile_commands_against_serve_with_storescp_destination(
    tmp_path: Path,
    studies: list[Made],
    archive: tuple[int, Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, _, moved = archive
    common = ["127.0.0.1", str(port), "--called-aet", "QRSCP"]
    assert main(["find", *common, "-k", "PatientID=P2", "-k", "StudyDate=", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    p2 = [m for m in studies if m.patient_id == "P2"]
    assert [item["0020000D"]["Value"] for item in found] == [[p2[0].study_uid]]

    code = main(["move", *common, "--dest", "STORESCP", "--level", "PATIENT", "--model",
                 "patient", "-k", "PatientID=P2"])  # fmt: skip
    assert code == 0
    assert set(uids_in(moved)) == {m.sop_instance_uid for m in p2}

    out = tmp_path / "got"
    series = f"SeriesInstanceUID={studies[0].series_uid}"
    code = main(["get", *common, "--level", "SERIES", "-k", series, "--out", str(out),
                 "--no-fsync"])  # fmt: skip
    assert code == 0
    assert set(uids_in(out)) == {
        m.sop_instance_uid for m in studies if m.series_uid == studies[0].series_uid
    }
    # A failure status is exit status 1 (unknown destination).
    assert (
        main(["move", *common, "--dest", "NOWHERE", "-k", f"StudyInstanceUID={p2[0].study_uid}"])
        == 1
    )
