"""The PS3.6 DocBook reader: tricky rows of a hand-written fixture, errors, the real 2013 file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.model import DataElementDef, TagPattern
from dicompile.generator.sources.docbook.part06 import read_part06
from dicompile.runtime.errors import StandardSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "part06" / "part06.xml"


@pytest.fixture(scope="module")
def fixture_elements() -> dict[str, DataElementDef]:
    return {e.tag.text: e for e in read_part06(FIXTURE).data_elements}


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "part06.xml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# ---------------------------------------------------------------- tag notation (model.TagPattern)


@pytest.mark.parametrize(
    ("text", "pattern", "base", "mask"),
    [
        ("(0010,0010)", "00100010", 0x00100010, 0xFFFFFFFF),
        ("0010,0010", "00100010", 0x00100010, 0xFFFFFFFF),
        ("00100010", "00100010", 0x00100010, 0xFFFFFFFF),
        ("(60xx,3000)", "60xx3000", 0x60003000, 0xFF00FFFF),
        ("(50XX,0005)", "50xx0005", 0x50000005, 0xFF00FFFF),
        ("(0028,04x0)", "002804x0", 0x00280400, 0xFFFFFF0F),
        ("(1000,xxx0)", "1000xxx0", 0x10000000, 0xFFFF000F),
        ("(1010,xxxx)", "1010xxxx", 0x10100000, 0xFFFF0000),
        ("(0074,100a)", "0074100A", 0x0074100A, 0xFFFFFFFF),
    ],
)
def test_tag_pattern(text: str, pattern: str, base: int, mask: int) -> None:
    tag = TagPattern.parse(text)
    assert (tag.text, tag.base, tag.mask) == (pattern, base, mask)
    assert tag.matches(base)


@pytest.mark.parametrize("text", ["(0010,001G)", "(0010,00100)", "0010", "", "(0010;0010)"])
def test_tag_pattern_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a tag"):
        TagPattern.parse(text)


def test_repeating_pattern_matches_each_group() -> None:
    overlay = TagPattern.parse("(60xx,3000)")
    assert overlay.matches(0x60023000) and overlay.matches(0x601E3000)
    assert not overlay.matches(0x60023001)


# ---------------------------------------------------------------------------- fixture rows


def test_zero_width_spaces_are_removed_from_keywords(
    fixture_elements: dict[str, DataElementDef],
) -> None:
    assert fixture_elements["00100010"].keyword == "PatientName"
    assert fixture_elements["00080001"].keyword == "LengthToEnd"


def test_retired_rows_and_notes(fixture_elements: dict[str, DataElementDef]) -> None:
    assert fixture_elements["00080001"].retired
    assert not fixture_elements["00100010"].retired
    # "DICOS" in the last column is a note, not a retirement.
    assert fixture_elements["00080101"].note == "DICOS"
    assert not fixture_elements["00080101"].retired


def test_row_with_nothing_but_a_tag(fixture_elements: dict[str, DataElementDef]) -> None:
    empty = fixture_elements["00189445"]
    assert (empty.name, empty.keyword, empty.vr, empty.vm) == ("", "", "", "")
    assert empty.retired
    assert empty.note == "See Note"


def test_values_kept_as_the_standard_writes_them(
    fixture_elements: dict[str, DataElementDef],
) -> None:
    assert fixture_elements["00280106"].vr == "US or SS"
    assert fixture_elements["60xx3000"].vr == "OB or OW"
    assert fixture_elements["00700022"].vm == "2-n"
    assert fixture_elements["FFFEE000"].vr == "See Note"
    assert fixture_elements["00041141"].vm == "1-8"


def test_repeating_groups_and_lower_case_hex(fixture_elements: dict[str, DataElementDef]) -> None:
    assert {"60xx3000", "002804x0", "1000xxx0", "0074100A"} <= fixture_elements.keys()
    assert fixture_elements["002804x0"].retired


def test_tables_and_provenance() -> None:
    model = read_part06(FIXTURE)
    tables = {e.provenance.table_id for e in model.data_elements}
    assert tables == {"table_6-1", "table_7-1", "table_8-1"}
    patient = next(e for e in model.data_elements if e.keyword == "PatientName")
    assert patient.provenance.cite() == "PS3.6 2099 table_6-1 row 3"
    assert patient.provenance.source_file == "part06/part06.xml"
    (digest,) = model.sources
    assert (digest.part, digest.edition) == ("PS3.6", "2099")
    assert len(digest.sha256) == 64


def test_uid_rows() -> None:
    uids = {u.uid: u for u in read_part06(FIXTURE).uids}
    assert uids["1.2.840.10008.1.1"].name == "Verification SOP Class"
    assert uids["1.2.840.10008.1.1"].keyword == ""  # 2013-style table: derived by a pass
    assert uids["1.2.840.10008.1.2.2"].retired
    assert not uids["1.2.840.10008.1.2"].retired
    assert uids["1.2.840.10008.1.4.1.2"].reference == "SPM2 /templates/T1.mnc"
    # A frame only Table A-2 lists is kept, with A-2 as provenance.
    only_a2 = uids["1.2.840.10008.1.4.1.3"]
    assert only_a2.provenance.table_id == "table_A-2"
    assert only_a2.uid_type == "Well-known frame of reference"


def test_context_groups() -> None:
    groups = {g.uid: g for g in read_part06(FIXTURE).context_groups}
    assert groups["1.2.840.10008.6.1.2"].cid == 4
    assert groups["1.2.840.10008.6.1.2"].name == "Anatomic Region"
    assert groups["1.2.840.10008.6.1.888"].cid is None


def test_uid_keyword_column_of_later_editions(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        '<th><para><emphasis role="bold">UID Type</emphasis></para></th>',
        '<th><para><emphasis role="bold">UID Keyword</emphasis></para></th>'
        '<th><para><emphasis role="bold">UID Type</emphasis></para></th>',
    )
    text = path.read_text(encoding="utf-8").replace(
        "<td><para>Verification SOP Class</para></td>",
        "<td><para>Verification SOP Class</para></td><td><para>Verification</para></td>",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardSourceError, match="expected 5 cells"):
        read_part06(path)  # the other rows lack the keyword cell: reported, not shifted


# ------------------------------------------------------------------------------------ errors


def test_malformed_tag_names_file_table_and_row(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, "<td><para>(0010,0010)</para></td>", "<td><para>(0010,001G)</para></td>"
    )
    with pytest.raises(StandardSourceError) as caught:
        read_part06(path)
    error = caught.value
    assert error.table_id == "table_6-1"
    assert str(error.row).startswith("3 ")
    assert error.source_file is not None and error.source_file.endswith("part06.xml")
    assert "(0010,001G)" in str(error)


def test_malformed_uid(tmp_path: Path) -> None:
    path = _variant(tmp_path, "1.2.840.10008.1.&#8203;1<", "1.2.840.10008.1..1<")
    with pytest.raises(StandardSourceError, match="UID") as caught:
        read_part06(path)
    assert caught.value.table_id == "table_A-1"
    assert str(caught.value.row).startswith("1 ")


def test_bad_vr(tmp_path: Path) -> None:
    path = _variant(tmp_path, "<td><para>US or SS</para></td>", "<td><para>US / SS</para></td>")
    with pytest.raises(StandardSourceError, match="VR 'US / SS'"):
        read_part06(path)


def test_missing_table(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'xml:id="table_8-1"', 'xml:id="table_8-9"')
    with pytest.raises(StandardSourceError, match="table_8-1"):
        read_part06(path)


def test_changed_columns(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, '<emphasis role="bold">VR</emphasis>', '<emphasis role="bold">Value</emphasis>'
    )
    with pytest.raises(StandardSourceError, match="columns changed") as caught:
        read_part06(path)
    assert caught.value.table_id == "table_6-1"


def test_not_part_6(tmp_path: Path) -> None:
    path = _variant(tmp_path, "DICOM PS 3.6 2099", "DICOM PS 3.5 2099")
    with pytest.raises(StandardSourceError, match=r"expected PS3\.6"):
        read_part06(path)


# --------------------------------------------------------------------- golden: the real file


@pytest.fixture(scope="module")
def real_2013(shared_dir: Path) -> object:
    return read_part06(shared_dir / "standard-xml" / "2013" / "part06.xml")


@pytest.mark.shared
def test_real_2013_counts(real_2013: object) -> None:
    from dicompile.generator.model import StandardModel

    assert isinstance(real_2013, StandardModel)
    tables: dict[str, int] = {}
    for e in real_2013.data_elements:
        tables[e.provenance.table_id] = tables.get(e.provenance.table_id, 0) + 1
    # Body rows of Tables 6-1, 7-1, 8-1, A-1 and A-3 of the 2013 edition.
    assert tables == {"table_6-1": 3722, "table_7-1": 10, "table_8-1": 19}
    assert len(real_2013.uids) == 348
    assert len(real_2013.context_groups) == 866
    # `grep -c '<emphasis role="italic">RET' part06.xml` counts 438: 436 in 6-1, 2 in 8-1.
    assert sum(e.retired for e in real_2013.data_elements) == 438


@pytest.mark.shared
def test_real_2013_known_entries(real_2013: object) -> None:
    from dicompile.generator.model import StandardModel

    assert isinstance(real_2013, StandardModel)
    by_tag = {e.tag.text: e for e in real_2013.data_elements}
    # As printed in PS3.6 2013 Table 6-1.
    pixel = by_tag["7FE00010"]
    assert (pixel.keyword, pixel.vr, pixel.vm, pixel.retired) == (
        "PixelData",
        "OB or OW",
        "1",
        False,
    )
    overlay = by_tag["60xx3000"]
    assert (overlay.name, overlay.vr) == ("Overlay Data", "OB or OW")
    assert by_tag["00280106"].vr == "US or SS"
    assert by_tag["00281200"].vr == "US or SS or OW" and by_tag["00281200"].vm == "1-n or 1"
    assert by_tag["002031xx"].retired  # (0020,31xx) Source Image IDs
    assert by_tag["0074100A"].keyword == "ContactURI"  # written "(0074,100a)" in the table
    assert by_tag["00020010"].provenance.table_id == "table_7-1"
    assert by_tag["00041141"].vm == "1-8"
    uids = {u.uid: u for u in real_2013.uids}
    assert uids["1.2.840.10008.1.2"].name.startswith("Implicit VR Little Endian")
    assert uids["1.2.840.10008.1.2.2"].retired
    assert uids["1.2.840.10008.5.1.4.1.1.2"].name == "CT Image Storage"
