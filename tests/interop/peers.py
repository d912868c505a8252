"""Finding and running the real peers of the interop tests: dcmtk's tools, OpenSSL.

Debian's dcmtk is looked up by its ``--version`` output, not by name alone: pynetdicom
installs console scripts of the same names (``echoscu``, ``storescu``, ...) that may come
first on PATH.  Tests that need a missing peer skip and say which.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Final

import pytest

#: Debian's dcmtk delays each exchange by 40 ms without it (Nagle + delayed ACK).
PEER_ENV: Final = {**os.environ, "TCP_NODELAY": "1"}
TOOL_TIMEOUT: Final = 60.0


@functools.cache
def dcmtk_tool(name: str) -> str | None:
    """The path of dcmtk's ``name`` (e.g. ``storescu``), or None when dcmtk is absent."""
    seen: set[str] = set()
    for folder in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin", "/usr/local/bin"]:
        candidate = shutil.which(name, path=folder)
        if candidate is None or candidate in seen:
            continue
        seen.add(candidate)
        try:
            out = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "dcmtk" in (out.stdout + out.stderr).lower():
            return candidate
    return None


def need_dcmtk(name: str) -> str:
    found = dcmtk_tool(name)
    if found is None:
        pytest.skip(f"dcmtk's {name} is not installed (Debian package 'dcmtk')")
    return found


def need_openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        pytest.skip("the openssl command is not installed: no test certificates")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_tool(*argv: str, timeout: float = TOOL_TIMEOUT) -> tuple[int, str]:
    """Run a peer tool to its end; (exit status, stdout+stderr)."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=PEER_ENV
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace")


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Block until something accepts connections on ``port`` (an external server starting
    up gives no other signal), or fail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the peer exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> str:
    """Terminate a peer server we started, by its own handle; return its output."""
    if process.poll() is None:
        process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return (out or b"").decode(errors="replace")


def make_certificates(folder: Path) -> dict[str, Path]:
    """A test CA, a server certificate for localhost/127.0.0.1 and a client certificate,
    made now with the openssl command (private keys live only in ``folder``)."""
    openssl = need_openssl()
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True, timeout=60)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=dicompile test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    for name, usage in (
        ("server", "serverAuth"),
        ("client", "clientAuth"),
        ("other", "serverAuth"),
    ):
        subject = "/CN=localhost" if name != "other" else "/CN=elsewhere.invalid"
        names = "DNS:localhost,IP:127.0.0.1" if name != "other" else "DNS:elsewhere.invalid"
        (folder / f"{name}.ext").write_text(
            f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n"
            f"keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage={usage},clientAuth\n"
        )
        key, csr, pem, ext = (f"{name}.key", f"{name}.csr", f"{name}.pem", f"{name}.ext")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject)
        run(
            "x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", pem, "-days", "2", "-extfile", ext,
        )  # fmt: skip
    return {
        "ca": folder / "ca.pem",
        "server_cert": folder / "server.pem",
        "server_key": folder / "server.key",
        "client_cert": folder / "client.pem",
        "client_key": folder / "client.key",
        "other_cert": folder / "other.pem",
        "other_key": folder / "other.key",
    }
