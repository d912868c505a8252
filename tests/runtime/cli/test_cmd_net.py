"""``dicompile echo``, ``store`` and ``serve``: exit codes, and a serve process that stops
cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from net_support import CT_IMAGE, EXPLICIT_LE, make_corpus, running_server, scp_ae

from dicompile.runtime.cli.cmd_net import ExitCode
from dicompile.runtime.cli.main import main
from dicompile.runtime.net.services.storage import storage_scp_contexts

REPO = Path(__file__).resolve().parents[3]


def start_serve(storage: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
         "--port", "0", "--aet", "CLI-SCP", "--storage", str(storage), "--no-fsync", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    assert process.stdout is not None
    # The first line says where it listens: the readiness signal, no sleeping.
    line = ""
    timer = threading.Timer(30, process.kill)
    timer.start()
    try:
        line = process.stdout.readline()
    finally:
        timer.cancel()
    assert "listening on 127.0.0.1:" in line, (
        line,
        process.stderr.read() if process.stderr else "",
    )
    return process, int(line.rsplit(":", 1)[1])


def finish(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise
    return process.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_echo_store_and_stop(tmp_path: Path, signum: int) -> None:
    sent = make_corpus(tmp_path / "in", 4)
    process, port = start_serve(tmp_path / "store", "--require-called-aet")
    try:
        assert (
            main(["echo", "127.0.0.1", str(port), "--called-aet", "CLI-SCP", "--count", "3"]) == 0
        )
        code = main(
            ["store", "127.0.0.1", str(port), str(tmp_path / "in"), "--recursive",
             "--called-aet", "CLI-SCP", "-q"]
        )  # fmt: skip
        assert code == ExitCode.OK
        # The wrong Called AE Title: rejected, exit 3.
        assert main(["echo", "127.0.0.1", str(port), "--called-aet", "NOBODY"]) == ExitCode.REJECTED
    finally:
        status, err = finish(process, signum)
    assert status == 0, err
    assert "stopped after 2 associations" in err
    assert len(list((tmp_path / "store").glob("*.dcm"))) == len(sent)


def test_exit_codes_without_a_peer(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["echo", "127.0.0.1", str(port), "--timeout", "5"]) == ExitCode.NO_ASSOCIATION
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "not-dicom.txt").write_text("hello")
    code = main(["store", "127.0.0.1", str(port), str(tmp_path / "empty"), "-r", "-q"])
    assert code == ExitCode.USAGE
    with pytest.raises(SystemExit) as caught:
        main(["store", "127.0.0.1"])
    assert caught.value.code == 2


def test_store_exit_1_when_the_peer_refuses_some(tmp_path: Path) -> None:
    import asyncio

    sent = make_corpus(tmp_path / "in", 2)
    # An SCP that accepts CT only in a syntax we cannot convert to: nothing can be sent.
    ae = scp_ae(contexts=storage_scp_contexts([CT_IMAGE], ["1.2.840.10008.1.2.4.50"]))

    async def go() -> int:
        async with running_server(ae, tmp_path / "store") as (_, port):
            argv = ["store", "127.0.0.1", str(port), *map(str, sent), "-q", "--timeout", "5"]
            return await asyncio.to_thread(main, argv)

    assert asyncio.run(asyncio.wait_for(go(), 30)) == ExitCode.FAILED
    assert EXPLICIT_LE  # the files were Explicit VR Little Endian
    assert not list((tmp_path / "store").glob("*.dcm"))


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        process = subprocess.run(
            [sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--storage", str(tmp_path / "s")],
            capture_output=True, text=True, cwd=REPO, timeout=30,
            env={**os.environ},
        )  # fmt: skip
    assert process.returncode == ExitCode.NO_ASSOCIATION, process.stderr
    assert "cannot listen" in process.stderr
