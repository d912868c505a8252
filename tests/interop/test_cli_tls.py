"""``dicompile serve`` and ``dicompile echo/store`` over TLS with the command-line options,
and against dcmtk's TLS tools (PS3.15 BCP 195 profiles)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from net_support import make_corpus

from dicompile.runtime.cli.cmd_net import ExitCode
from dicompile.runtime.cli.main import main

from .peers import PEER_ENV, need_dcmtk

pytestmark = pytest.mark.interop
REPO = Path(__file__).resolve().parents[2]


def serve_tls(storage: Path, certificates: dict[str, Path]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
         "--port", "0", "--storage", str(storage), "--no-fsync",
         "--tls-cert", str(certificates["server_cert"]), "--tls-key",
         str(certificates["server_key"]), "--tls-ca", str(certificates["ca"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=PEER_ENV,
    )  # fmt: skip
    assert process.stdout is not None
    timer = threading.Timer(30, process.kill)
    timer.start()
    try:
        line = process.stdout.readline()
    finally:
        timer.cancel()
    assert "listening on" in line, line
    return process, int(line.rsplit(":", 1)[1])


def test_cli_tls_both_ends(tmp_path: Path, certificates: dict[str, Path]) -> None:
    sent = make_corpus(tmp_path / "in", 3)
    process, port = serve_tls(tmp_path / "store", certificates)
    client = [
        "--tls", "--tls-ca", str(certificates["ca"]),
        "--tls-cert", str(certificates["client_cert"]),
        "--tls-key", str(certificates["client_key"]),
    ]  # fmt: skip
    try:
        assert main(["echo", "localhost", str(port), *client]) == ExitCode.OK
        assert main(["store", "localhost", str(port), *map(str, sent), "-q", *client]) == 0
        # No client certificate: the server refuses the handshake (mutual authentication).
        no_cert = ["--tls", "--tls-ca", str(certificates["ca"]), "--timeout", "5"]
        assert main(["echo", "localhost", str(port), *no_cert]) == ExitCode.NO_ASSOCIATION
        # dcmtk's storescu over TLS, to the same server.
        storescu = need_dcmtk("storescu")
        extra = make_corpus(tmp_path / "more", 2, start=50)
        done = subprocess.run(
            [storescu, "+tls", str(certificates["client_key"]), str(certificates["client_cert"]),
             "+cf", str(certificates["ca"]), "127.0.0.1", str(port), *map(str, extra)],
            capture_output=True, text=True, env=PEER_ENV, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert len(list((tmp_path / "store").glob("*.dcm"))) == 5


def test_cli_tls_usage_errors(tmp_path: Path, certificates: dict[str, Path]) -> None:
    missing = str(tmp_path / "nope.pem")
    code = main(["echo", "127.0.0.1", "1", "--tls", "--tls-ca", missing])
    assert code == ExitCode.USAGE
