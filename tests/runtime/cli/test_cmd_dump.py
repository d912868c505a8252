"""``dicompile dump``: dcmdump-like text of Part 10 files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.runtime import write_file
from dicompile.runtime.cli.main import main
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    item = Dataset([DataElement(0x00081150, VR.UI, "1.2.840.10008.5.1.4.1.1.2")])
    ds = Dataset(
        [
            DataElement(0x00080016, VR.UI, "1.2.840.10008.5.1.4.1.1.7"),
            DataElement(0x00080018, VR.UI, "1.2.3"),
            DataElement(0x00081115, VR.SQ, [item]),
            DataElement(0x00100010, VR.PN, "Doe^John"),
            DataElement(0x00280010, VR.US, 512),
            DataElement(0x00280030, VR.DS, (0.5, 0.25)),
            DataElement(0x7FE00010, VR.OW, bytes(range(200))),
        ]
    )
    path = tmp_path / "sample.dcm"
    write_file(path, ds)
    return path


def test_dump_lines(sample_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", str(sample_file)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "# Dicom-Meta-Information-Header" in lines
    assert any(line.startswith("(0002,0010) UI [1.2.840.10008.1.2.1]") for line in lines)
    name = next(line for line in lines if line.startswith("(0010,0010)"))
    assert name.startswith("(0010,0010) PN [Doe^John]")
    assert name.endswith("#   8, 1 PatientName")
    assert any(line.startswith("(0028,0010) US 512") for line in lines)
    assert any(line.startswith("(0028,0030) DS 0.5\\0.25") for line in lines)
    seq = next(line for line in lines if line.startswith("(0008,1115) SQ"))
    assert "#=1" in seq
    item_line = lines.index(seq) + 1
    assert lines[item_line].startswith("  (FFFE,E000) na (Item with")
    assert lines[item_line + 1].startswith("    (0008,1150) UI [1.2.840.10008.5.1.4.1.1.2]")
    pixels = next(line for line in lines if line.startswith("(7FE0,0010)"))
    assert "..." in pixels and "# 200, 1" in pixels


def test_dump_tokens_and_errors(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dump", "--tokens", str(sample_file)]) == 0
    out = capsys.readouterr().out
    assert "(0010,0010) PN len=8" in out and "item 0 len=" in out
    missing = tmp_path / "missing.dcm"
    assert main(["dump", str(missing), str(sample_file)]) == 1
    captured = capsys.readouterr()
    assert "missing.dcm" in captured.err
    assert "# file: " in captured.out and "PatientName" in captured.out
