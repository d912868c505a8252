"""``dicompile dictionary`` and ``dicompile uids`` over the committed generated registries."""

from __future__ import annotations

import json

import pytest

from dicompile.runtime.cli.cmd_dictionary import parse_tag
from dicompile.runtime.cli.main import main


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("(0010,0010)", "00100010"),
        ("0010,0010", "00100010"),
        ("00100010", "00100010"),
        ("(60XX,3000)", "60xx3000"),
        ("(0074,100a)", "0074100A"),
        ("PatientName", None),
        ("0010", None),
    ],
)
def test_parse_tag(text: str, tag: str | None) -> None:
    assert parse_tag(text) == tag


def test_lookup_by_tag_keyword_and_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "dictionary",
                "--json",
                "(0010,0010)",
                "0010,0020",
                "00100030",
                "OverlayData",
                "(6002,3000)",
            ]
        )
        == 0
    )
    entries = json.loads(capsys.readouterr().out)
    assert [e["keyword"] for e in entries] == [
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "OverlayData",
        "OverlayData",
    ]
    assert entries[3] == {
        "tag": "60xx3000",
        "keyword": "OverlayData",
        "name": "Overlay Data",
        "vr": "OB or OW",
        "vm": "1",
        "retired": False,
        "source": "PS3.6 2020 attributes.json",
    }


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dictionary", "LengthToEnd"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("(0008,0001)\tUL\t1\tLengthToEnd\tLength to End RET")


def test_unknown_names_fail(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dictionary", "PatientName", "NoSuchThing", "(0011,0010)"]) == 1
    captured = capsys.readouterr()
    assert "PatientName" in captured.out
    assert "no data element 'NoSuchThing'" in captured.err
    assert "no data element '(0011,0010)'" in captured.err


def test_whole_dictionary_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dictionary", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == 4793
    assert set(entries[0]) == {"tag", "keyword", "name", "vr", "vm", "retired", "source"}
    assert any(e["tag"] == "1000xxx0" for e in entries)


def test_uids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["uids", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == 348
    assert {"uid", "name", "keyword", "type", "source"} <= set(entries[0])
    assert main(["uids", "CTImageStorage", "1.2.840.10008.1.2.1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1.2.840.10008.5.1.4.1.1.2\tCTImageStorage\tSOP Class")
    assert out[1].startswith("1.2.840.10008.1.2.1\tExplicitVRLittleEndian\tTransfer Syntax")
    assert main(["uids", "1.2.3"]) == 1
