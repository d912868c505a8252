"""The PS3.7 reader and DIMSE emitter: a hand-written fixture, broken variants, the 2013 file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dicompile.generator.dimse_model import DataSetPresence, DimseModel, StatusCategory
from dicompile.generator.emit.dimse import DIMSE_FILE, render_dimse
from dicompile.generator.sources.docbook.part07 import pattern_matches, read_part07
from dicompile.runtime.errors import StandardSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "part07" / "part07.xml"
REPO = Path(__file__).resolve().parents[2]
ECHO_TABLES = {
    "message_tables": ("table_9.3-12", "table_9.3-13"),
    "parameter_tables": ("table_9.1-5",),
}


def _read_fixture(path: Path = FIXTURE) -> DimseModel:
    return read_part07(path, **ECHO_TABLES)


def _variant(tmp_path: Path, old: str, new: str, source: Path = FIXTURE) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "2013" / "part07.xml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ fixture


def test_fixture_dictionary_and_values() -> None:
    model = _read_fixture()
    by_tag = {e.tag: e for e in model.elements}
    assert (by_tag[0x0700].keyword, by_tag[0x0700].vr, by_tag[0x0700].vm) == ("Priority", "US", "1")
    # The zero-width spaces NEMA puts in keywords are gone.
    assert by_tag[0x0000].keyword == "CommandGroupLength"
    assert by_tag[0x0001].retired and not by_tag[0x0002].retired
    assert by_tag[0x0901].vm == "1-n"
    fields = {v.name: v.value for v in model.command_fields}
    # "0021HC-MOVE-RQ" (no space in the 2013 text) is read too.
    assert fields == {
        "C-ECHO-RQ": 0x0030,
        "C-ECHO-RSP": 0x8030,
        "C-MOVE-RQ": 0x0021,
        "C-CANCEL-RQ": 0x0FFF,
    }
    assert {p.name: p.value for p in model.priorities} == {"LOW": 2, "MEDIUM": 0, "HIGH": 1}
    assert model.no_data_set == 0x0101


def test_fixture_messages_and_usage() -> None:
    rq, rsp = _read_fixture().messages
    assert (rq.name, rq.service, rq.command_field) == ("C-ECHO-RQ", "C-ECHO", 0x0030)
    assert (rsp.name, rsp.command_field) == ("C-ECHO-RSP", 0x8030)
    assert rq.data_set is rsp.data_set is DataSetPresence.ABSENT
    usage = {f.keyword: f.usage for f in rsp.fields}
    # From Table 9.1-5 ("U(=)"), or "M" for fields only the protocol requires.
    assert usage["AffectedSOPClassUID"] == "U(=)"
    assert usage["CommandField"] == usage["CommandGroupLength"] == "M"
    assert usage["Status"] == "M"
    assert rq.provenance.table_id == "table_9.3-12"


def test_fixture_status_types_and_classes() -> None:
    model = _read_fixture()
    types = {t.section: t for t in model.status_types}
    assert types["C.1.1"].code == 0x0000 and types["C.1.1"].category is StatusCategory.SUCCESS
    assert types["C.5.3"].code is None  # "Service Class specific"
    assert types["C.5.3"].fields == (0x0902,)
    assert types["C.5.21"].code == 0x0110 and types["C.5.21"].fields == (0x0903,)
    classes = {c.label: c for c in model.status_classes}
    assert classes["Warning"].patterns == ("0001", "Bxxx")
    assert classes["Pending"].patterns == ("FF00", "FF01")
    assert classes["Annex C assigned Warning and Failure"].category is None


def test_pattern_matches() -> None:
    assert pattern_matches("Bxxx", 0xB123)
    assert not pattern_matches("Bxxx", 0xA123)
    assert pattern_matches("01xx", 0x0107) and not pattern_matches("01xx", 0x0207)
    assert pattern_matches("FE00", 0xFE00) and not pattern_matches("FE00", 0xFE01)


# ------------------------------------------------------------------------------ broken variants


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a table that is gone
        ('xml:id="table_9.3-13"', 'xml:id="table_9.3-99"', r"table table_9.3-13: no element"),
        # a changed column
        ("<th><para>Keyword</para></th>", "<th><para>Key</para></th>", r"table_E.1-1: columns"),
        # a message VR that contradicts the dictionary (PS3.7 §6.3.1); first in table_9.3-12
        (
            "<td><para>UI</para></td><td><para>1</para></td><td><para>SOP Class UID.",
            "<td><para>US</para></td><td><para>1</para></td><td><para>SOP Class UID.",
            r"table_9.3-12, row 2.*UI 1 in Table E.1-1",
        ),
        # a command field value that Table E.1-1 does not list
        ("0030H for the C-ECHO-RQ", "0031H for the C-ECHO-RQ", r"command field 0031H"),
        # a data set wording the reader does not know
        (
            "no Data Set is present in the Message and shall",
            "perhaps a data set, and shall",
            r"table_9.3-12.*whether a data set is sent",
        ),
        # a status code outside its class convention
        (
            "shall be set to 0110H",
            "shall be set to B110H",
            r"sect_C.5.21.*does not fit the Failure",
        ),
        # a status class without its class table row
        (
            "<tr><td><para>Cancel</para></td><td><para>FE00</para></td></tr>",
            "",
            r"no row for \['Cancel'\]",
        ),
        # a usage that is not M, U, C, U(=), C(=) or -
        (
            "<td><para>U(=)</para></td></tr>",
            "<td><para>Q</para></td></tr>",
            r"table_9.1-5.*usage 'Q'",
        ),
    ],
)
def test_broken_variants_name_table_and_row(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(StandardSourceError, match=message):
        _read_fixture(_variant(tmp_path, old, new))


def test_not_part07_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "DICOM PS3.7 2013", "DICOM PS3.8 2013")
    with pytest.raises(StandardSourceError, match=r"expected PS3\.7, found PS3\.8"):
        _read_fixture(path)


# ------------------------------------------------------------------------------ the 2013 file


@pytest.fixture(scope="module")
def part07_2013(xml_2013: Path) -> Path:
    return xml_2013 / "part07.xml"


@pytest.fixture(scope="module")
def model_2013(part07_2013: Path) -> DimseModel:
    return read_part07(part07_2013)


def test_2013_command_fields(model_2013: DimseModel) -> None:
    fields = {v.name: v.value for v in model_2013.command_fields}
    assert len(fields) == 23  # 11 services x RQ/RSP + C-CANCEL-RQ (Table E.1-1)
    assert fields["C-STORE-RQ"] == 0x0001
    assert fields["C-ECHO-RSP"] == 0x8030
    assert fields["C-MOVE-RQ"] == 0x0021
    assert fields["C-CANCEL-RQ"] == 0x0FFF
    assert fields["N-DELETE-RSP"] == 0x8150


def test_2013_dictionary(model_2013: DimseModel) -> None:
    by_tag = {e.tag: e for e in model_2013.elements}
    assert len([e for e in model_2013.elements if not e.retired]) == 24  # Table E.1-1
    assert len([e for e in model_2013.elements if e.retired]) == 22  # Table E.2-1
    assert (by_tag[0x0700].name, by_tag[0x0700].vr) == ("Priority", "US")
    assert (by_tag[0x0600].keyword, by_tag[0x0600].vr) == ("MoveDestination", "AE")
    assert (by_tag[0x1005].vr, by_tag[0x1005].vm) == ("AT", "1-n")
    assert by_tag[0x51B0].retired and by_tag[0x51B0].vm == "1-n"


def test_2013_messages(model_2013: DimseModel) -> None:
    messages = {m.name: m for m in model_2013.messages}
    assert len(messages) == 25  # 13 tables in §9.3, 12 in §10.3
    store = messages["C-STORE-RQ"]
    assert store.data_set is DataSetPresence.REQUIRED and store.data_set_name == "Data Set"
    usage = {f.keyword: f.usage for f in store.fields}
    assert usage["MoveOriginatorApplicationEntityTitle"] == "U"
    assert usage["Priority"] == "M"
    assert messages["C-FIND-RSP"].data_set is DataSetPresence.OPTIONAL
    assert messages["N-GET-RQ"].data_set is DataSetPresence.ABSENT
    # Table 9.3-10 says "Number of Complete Sub-operations"; the usage is still found.
    move = {f.tag: f for f in messages["C-MOVE-RSP"].fields}
    assert move[0x1021].name == "Number of Complete Sub-operations" and move[0x1021].usage == "C"
    assert {m.command_field for n, m in messages.items() if n.startswith("C-CANCEL")} == {0x0FFF}
    assert messages["C-CANCEL-GET-RQ"].service == "C-GET"


def test_2013_status_types(model_2013: DimseModel) -> None:
    codes = {t.code: t for t in model_2013.status_types if t.code is not None}
    assert codes[0x0107].category is StatusCategory.WARNING  # Attribute List Error, C.4.2
    assert codes[0x0122].name == "Refused: SOP Class Not Supported"
    assert codes[0xFE00].category is StatusCategory.CANCEL
    assert len(model_2013.status_types) == 31  # C.1.1, C.2.1, C.3.1, C.4.1-3, C.5.1-25


def test_every_message_table_is_read(part07_2013: Path, model_2013: DimseModel) -> None:
    # A newer edition that adds a message table must not be silently ignored.
    text = part07_2013.read_text(encoding="utf-8")
    ids = set(re.findall(r'xml:id="(table_(?:9|10)\.3-\d+)"', text))
    assert ids == {m.provenance.table_id for m in model_2013.messages}


def test_render_is_deterministic_and_committed(part07_2013: Path) -> None:
    first = render_dimse(part07_2013)
    assert render_dimse(part07_2013) == first
    text = first[DIMSE_FILE]
    assert text.startswith(
        "# Generated by dicompile.generator from:\n#   PS3.7 2013 (2013/part07.xml sha256 "
    )
    assert "table_E.1-1" in text.splitlines()[1] and "chapter_C" in text.splitlines()[1]
    assert "/work" not in text
    committed = REPO / "generated" / DIMSE_FILE
    assert committed.read_text(encoding="utf-8") == text, "regenerate generated/dimse_commands.py"


def test_rendered_file_is_ruff_formatted(part07_2013: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    text = render_dimse(part07_2013)[DIMSE_FILE]
    formatted = subprocess.run(
        [ruff, "format", "--stdin-filename", f"generated/{DIMSE_FILE}", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert formatted == text
