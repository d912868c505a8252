"""``dicompile dump --json`` / ``--xml``: the JSON and XML models from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from dicompile.runtime.cli.main import main
from dicompile.runtime.codec.json_model import from_json
from dicompile.runtime.codec.xml_model import NAMESPACE, from_xml
from dicompile.runtime.media.part10 import read_file

pydicom = pytest.importorskip("pydicom")
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"
CT = str(TEST_FILES / "CT_small.dcm")
MR = str(TEST_FILES / "MR_small.dcm")


def test_dump_json_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "--json", CT]) == 0
    text = capsys.readouterr().out
    parsed = json.loads(text)
    assert parsed["00020010"]["Value"] == ["1.2.840.10008.1.2.1"]  # meta included
    dataset = read_file(CT).dataset
    back = from_json(text)
    assert back[0x00100010] == dataset[0x00100010]


def test_dump_json_several_files_is_an_array(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "--json", "--no-meta", CT, MR]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert isinstance(parsed, list) and len(parsed) == 2
    assert not any(key.startswith("0002") for key in parsed[0])


def test_dump_xml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "--xml", "--no-meta", CT]) == 0
    text = capsys.readouterr().out
    root = etree.fromstring(text.encode())
    assert root.tag == f"{{{NAMESPACE}}}NativeDicomModel"
    assert from_xml(text) == read_file(CT).dataset


def test_dump_model_options_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dump", "--json", "--xml", CT])
    assert "not allowed" in capsys.readouterr().err


def test_dump_json_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["dump", "--json", str(tmp_path / "none.dcm")]) == 1
    assert "none.dcm" in capsys.readouterr().err
