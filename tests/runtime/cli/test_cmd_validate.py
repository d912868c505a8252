"""``dicompile validate`` and ``dicompile coverage`` end to end (PS3.3 requirement tables)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicompile.runtime import write_file
from dicompile.runtime.cli.main import main
from tests.runtime.validate.builders import ct_image

pydicom_data = pytest.importorskip("pydicom.data")


def _file(tmp_path: Path, name: str, spoil: str | None = None) -> Path:
    ds = ct_image()
    if spoil:
        del ds[spoil]
    path = tmp_path / name
    write_file(path, ds)
    return path


def test_json_lines_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _file(tmp_path, "good.dcm")
    bad = _file(tmp_path, "bad.dcm", spoil="Modality")
    assert main(["validate", "--json", str(good)]) == 0
    assert main(["validate", "--json", str(good), str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    first, second, third = (json.loads(line) for line in lines)
    assert first == second | {"file": str(good)}
    assert (first["iod"], first["sop_class_uid"], first["findings"]) == (
        "CT Image",
        "1.2.840.10008.5.1.4.1.1.2",
        [],
    )
    assert third["findings"] == [
        {
            "severity": "error",
            "tag": "00080060",
            "path": "(0008,0060)",
            "module": "General Series",
            "kind": "missing",
            "rule": "Type 1",
            "message": "(0008,0060) Modality is required (Type 1) and absent",
            "source": "PS3.3 2020 table_C.7-5a",
        }
    ]


def test_unknown_sop_class_and_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = ct_image()
    ds["SOPClassUID"] = "1.2.3.4.5"
    odd = tmp_path / "odd.dcm"
    write_file(odd, ds)
    missing = tmp_path / "nowhere.dcm"
    assert main(["validate", str(odd), str(missing)]) == 1
    out = capsys.readouterr().out
    assert "error unknown-sop-class" in out
    assert "SOP Class UID 1.2.3.4.5 is not a Storage SOP Class" in out
    assert f"{missing}: error: cannot read" in out


def test_text_output_of_a_real_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = pydicom_data.get_testdata_file("CT_small.dcm")
    assert main(["validate", path]) == 0  # one warning, no error
    out = capsys.readouterr().out
    assert "CT Image IOD (SOP Class 1.2.840.10008.5.1.4.1.1.2): 0 error(s), 1 warning(s)" in out
    assert "warning not-in-iod (0018,0088)" in out
    assert "note assumed [Contrast/Bolus]" in out


def test_coverage_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # The committed tables: the 2020 rendition's 143 composite IODs, 375 modules and 260
    # macros (shared/README.md), and two macros only the 2016c excerpt has (C.12-7, C.18.10-1).
    assert (result["iods"], result["modules"], result["macros"]) == (143, 375, 262)
    assert result["edition"] == "2020"
    conditions = result["conditions"]
    assert conditions["total"] == (
        conditions["checkable"] + conditions["undecidable"] + conditions["unparsed"]
    )
    assert conditions["checkable"] > conditions["undecidable"] > conditions["unparsed"] > 0
    assert result["attribute_rules_expanded"] > result["attribute_rules"] > 5000
    assert set(result["per_edition"]) == {"2016c", "2020"}
    assert result["per_edition"]["2020"]["iods"] == 143
    assert all(count > 0 for _, count in result["unparsed_shapes"])


def test_coverage_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "IODs 143, modules 375, macros 262" in out
    assert "most common unparsed shapes:" in out
