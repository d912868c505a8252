"""``dicompile generate``: writing, --check and errors, on the hand-written PS3.6 fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.runtime.cli.main import main

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "generator" / "fixtures" / "part06"


def test_generate_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    assert main(["generate", "--standard", str(FIXTURE_DIR), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "15 data elements, 15 UIDs, 2 context groups" in captured.err
    assert (out / "uids.py").is_file()
    assert main(["generate", "--standard", str(FIXTURE_DIR), "--out", str(out), "--check"]) == 0
    capsys.readouterr()
    (out / "uids.py").write_text("# edited by hand\n")
    assert main(["generate", "--standard", str(FIXTURE_DIR), "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["uids.py: differs"]
    assert "1 generated files differ" in captured.err


def test_conflicts_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    assert main(["generate", "--standard", str(FIXTURE_DIR), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    # The fixture names two UIDs "Nuclear Medicine Image Storage": one keyword clash.
    assert "conflict: keyword clash: 1.2.840.10008.5.1.4.1.1.5" in err
    assert main(["generate", "--standard", str(FIXTURE_DIR), "--out", str(out), "--quiet"]) == 0
    assert "conflict:" not in capsys.readouterr().err


def test_not_a_standard_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--standard", str(tmp_path), "--out", str(tmp_path / "g")]) == 1
    assert "not a folder of the standard" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_standard_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["generate", "--out", "generated"])
    assert caught.value.code == 2
