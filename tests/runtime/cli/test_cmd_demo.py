"""The main job (``dicompile demo``) runs end to end on loopback and leaves what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.runtime import read_file
from dicompile.runtime.cli.cmd_demo import build_ct_image
from dicompile.runtime.cli.main import main


def test_demo_passes_and_the_stored_instance_is_the_one_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "demo: every step passed" in out
    assert "0 error(s)" in out  # dicompile validate found the typed CT conformant
    written = read_file(tmp_path / "ct-demo.dcm").dataset
    (stored_path,) = (tmp_path / "received").rglob("*.dcm")
    stored = read_file(stored_path).dataset
    assert stored == written == build_ct_image()
    assert str(stored["PatientName"].value) == "Müller^Jürgen"
    assert stored["SOPClassUID"].value == "1.2.840.10008.5.1.4.1.1.2"
