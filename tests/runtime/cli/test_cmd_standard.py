"""Tests of ``dicompile standard list|fetch`` (runtime/cli/cmd_standard.py) over loopback HTTP."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_http import LoopbackServer, Stall, publish, serve

from dicompile.generator.edition_lock import read_lock
from dicompile.runtime.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[3]
PS33 = b"<book><subtitle>DICOM PS3.3 2099a</subtitle></book>\n"
PS36 = b"<book><subtitle>DICOM PS3.6 2099a</subtitle></book>\n"
# Port 9 (discard) on loopback refuses connections: a test that forgot --base-url fails fast
# instead of reaching any real host.
TOML = """
base_url = "http://127.0.0.1:9/"

[editions."2099a"]
note = "a test edition"
parts = ["03", "06"]
"""


@pytest.fixture
def www(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    publish(root, "2099a", "03", PS33)
    publish(root, "2099a", "06", PS36)
    return root


@pytest.fixture
def server(www: Path) -> Iterator[LoopbackServer]:
    with serve(www) as running:
        yield running


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A standard-xml/ folder with its own editions.toml."""
    path = tmp_path / "standard-xml"
    path.mkdir()
    (path / "editions.toml").write_text(TOML, encoding="utf-8")
    return path


def fetch(folder: Path, server: LoopbackServer, *extra: str) -> int:
    editions = str(folder / "editions.toml")
    args = ["standard", "fetch", "2099a", "--editions", editions, "--base-url", server.base_url]
    return main([*args, "--timeout", "2", *extra])


def test_fetch_defaults_to_lock_and_cache_beside_editions(
    folder: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(folder, server) == 0
    out, err = capsys.readouterr()
    cached = [folder / "cache" / "2099a" / "part03.xml", folder / "cache" / "2099a" / "part06.xml"]
    assert out.splitlines() == [str(p) for p in cached]
    assert cached[0].read_bytes() == PS33
    assert f"{server.base_url}2099a/source/docbook/part06/part06.xml" in err
    assert "2 part(s) verified (2 downloaded, 0 already cached)" in err
    lock = read_lock(folder / "editions.lock")
    assert [(e.part, e.sha256) for e in lock.entries] == [
        ("03", hashlib.sha256(PS33).hexdigest()),
        ("06", hashlib.sha256(PS36).hexdigest()),
    ]


def test_parts_cache_and_lock_options(
    tmp_path: Path, folder: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, lock = tmp_path / "elsewhere", tmp_path / "my.lock"
    assert fetch(folder, server, "--parts", "6", "--cache", str(cache), "--lock", str(lock)) == 0
    assert server.requests == ["/2099a/source/docbook/part06/part06.xml"]
    assert [p.name for p in (cache / "2099a").iterdir()] == ["part06.xml"]
    assert [e.part for e in read_lock(lock).entries] == ["06"]
    assert not (folder / "editions.lock").exists() and not (folder / "cache").exists()
    capsys.readouterr()
    assert fetch(folder, server, "--parts", ",") == 1
    assert "--parts ',' names no part" in capsys.readouterr().err
    assert fetch(folder, server, "--parts", "04") == 1
    assert "has no part 04; its parts are 03, 06" in capsys.readouterr().err


def test_changed_content_fails_with_a_clear_error(
    www: Path, folder: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(folder, server, "--parts", "03") == 0
    publish(www, "2099a", "03", PS33 + b"changed")
    capsys.readouterr()
    assert fetch(folder, server, "--parts", "03", "--refresh") == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("dicompile standard: error: http://127.0.0.1:")
    assert (
        "edition 2099a part 03: sha256 mismatch: expected " + hashlib.sha256(PS33).hexdigest()
        in err
    )
    assert "got " + hashlib.sha256(PS33 + b"changed").hexdigest() in err
    assert (folder / "cache" / "2099a" / "part03.xml").read_bytes() == PS33
    # --update-lock accepts it, for this part only.
    assert fetch(folder, server, "--parts", "03", "--refresh", "--update-lock") == 0
    assert (folder / "cache" / "2099a" / "part03.xml").read_bytes() == PS33 + b"changed"


def test_failures_exit_1_naming_what_failed(
    www: Path, folder: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    editions = str(folder / "editions.toml")
    assert main(["standard", "fetch", "2024c", "--editions", editions]) == 1
    assert "unknown edition '2024c'; known editions: 2099a" in capsys.readouterr().err
    (www / "2099a" / "source" / "docbook" / "part03" / "part03.xml").unlink()
    assert fetch(folder, server, "--parts", "03") == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and f"{server.base_url}2099a/source/docbook/part03/part03.xml" in err
    server.stall["/2099a/source/docbook/part06/part06.xml"] = Stall.BEFORE_HEADERS
    assert fetch(folder, server, "--parts", "06", "--timeout", "0.3") == 1
    assert "timed out" in capsys.readouterr().err
    assert (
        main(["standard", "fetch", "2099a", "--editions", editions, "--base-url", "file:///"]) == 1
    )
    assert "not an absolute http:// or https:// URL" in capsys.readouterr().err
    assert [p for p in (folder / "cache").rglob("*") if p.is_file()] == []


def test_list(folder: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    editions = str(folder / "editions.toml")
    assert main(["standard", "list", "--editions", editions]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].split() == [
        "2099a",
        "2",
        "0",
        "0",
        "0",
        "0",
        "a",
        "test",
        "edition",
    ]
    assert fetch(folder, server, "--parts", "03") == 0
    (folder / "cache" / "2099a" / "part06.xml").write_bytes(PS36)  # by hand: unverified
    capsys.readouterr()
    assert main(["standard", "list", "--editions", editions]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:6] == [
        "2099a",
        "2",
        "0",
        "1",
        "2",
        "1",
    ]
    assert main(["standard", "list", "2099a", "--editions", editions]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[-2:]]
    assert rows == [
        ["03", "locked", "verified", "http://127.0.0.1:9/2099a/source/docbook/part03/part03.xml"],
        [
            "06",
            "unknown",
            "unverified",
            "http://127.0.0.1:9/2099a/source/docbook/part06/part06.xml",
        ],
    ]


def test_default_folder_is_found_from_the_current_directory(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(folder.parent)
    assert main(["standard", "list"]) == 0
    out = capsys.readouterr().out
    assert f"editions {folder / 'editions.toml'}" in out
    assert f"lock     {folder / 'editions.lock'}" in out
    assert f"cache    {folder / 'cache'}" in out


def test_the_installed_command_lists_the_project_editions(tmp_path: Path) -> None:
    # Run from a folder without standard-xml/: the source checkout's folder is used.
    done = subprocess.run(
        [sys.executable, "-m", "dicompile.runtime.cli", "standard", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"editions {REPO_ROOT / 'standard-xml' / 'editions.toml'}" in done.stdout
    rows = {line.split()[0]: line.split()[1:3] for line in done.stdout.splitlines()[4:]}
    assert rows["2013"] == ["18", "16"]
    assert {"2016c", "2020b", "2024c", "current"} <= set(rows)


def test_standard_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["standard"])
    assert caught.value.code == 2
    assert "ACTION" in capsys.readouterr().err
