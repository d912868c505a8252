"""``dicompile find``, ``move`` and ``get``: identifiers from ``-k``, ``--peer`` parsing,
usage and connection exit codes (the exchanges themselves are in tests/interop)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dicompile.runtime.cli.cmd_net import ExitCode
from dicompile.runtime.cli.cmd_qr import build_identifier, parse_peer
from dicompile.runtime.cli.main import main


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_keys_become_an_identifier_with_the_level_and_its_unique_key() -> None:
    ds = build_identifier(
        ["PatientName=Doe*", "0010,0020=", "(0008,0060)=CT\\MR", "StudyDate=20200101-"],
        "SERIES",
    )
    assert ds.get_value("QueryRetrieveLevel") == "SERIES"
    assert str(ds.get_value("PatientName")) == "Doe*"
    assert ds.get_value("PatientID") is None and "PatientID" in ds
    assert ds.get_value("Modality") == ("CT", "MR")
    assert "SeriesInstanceUID" in ds  # the level's unique key is always asked for
    assert "SpecificCharacterSet" not in ds


def test_non_ascii_values_declare_utf8() -> None:
    ds = build_identifier(["PatientName=Müller*"], "STUDY")
    assert ds.get_value("SpecificCharacterSet") == "ISO_IR 192"


@pytest.mark.parametrize("key", ["PatientName", "NoSuchKeyword=1", "(0010,00ZZ)=1"])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        build_identifier([key], "STUDY")


def test_peer_addresses() -> None:
    assert parse_peer("DEST@127.0.0.1:104") == ("DEST", "127.0.0.1", 104)
    assert parse_peer("X@[::1]:11112") == ("X", "::1", 11112)
    for bad in ("DEST", "DEST@host", "@h:1", "DEST@h:0", "DEST@h:x", "A" * 17 + "@h:1"):
        with pytest.raises(Exception):  # noqa: B017 - ValueError or the AE title's error
            parse_peer(bad)


def test_usage_and_connection_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    port = str(closed_port())
    assert main(["find", "127.0.0.1", port, "-k", "NoSuchKeyword="]) == ExitCode.USAGE
    assert "unknown keyword" in capsys.readouterr().err
    assert main(["find", "127.0.0.1", port, "--timeout", "2"]) == ExitCode.NO_ASSOCIATION
    assert main(["move", "127.0.0.1", port, "--dest", "X", "--timeout", "2"]) == (
        ExitCode.NO_ASSOCIATION
    )


def test_serve_refuses_a_malformed_peer(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0", "--storage", "/nonexistent", "--peer", "DEST-host-1"])
    assert exited.value.code == 2
    assert "AET@HOST:PORT" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "expected"),
    [([], 1 << 20), (["--stream-threshold", "0"], 0), (["--stream-threshold", "never"], None)],
)
def test_serve_stream_threshold_reaches_the_archive_store(
    tmp_path: Path, given: list[str], expected: int | None
) -> None:
    from net_support import scp_ae

    from dicompile.runtime.cli.cmd_qr import ArchiveServices, serve_contexts
    from dicompile.runtime.cli.main import build_parser

    args = build_parser().parse_args(
        ["serve", "--port", "0", "--storage", str(tmp_path), "--no-fsync", *given]
    )
    assert args.stream_threshold == expected
    archive = ArchiveServices(args, scp_ae("ARCHIVE", serve_contexts()))
    try:
        assert archive.store.stream_threshold == expected
    finally:
        archive.index.close()


def test_serve_refuses_a_negative_stream_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0", "--storage", "/nonexistent", "--stream-threshold", "-1"])
    assert exited.value.code == 2
    assert "negative" in capsys.readouterr().err
