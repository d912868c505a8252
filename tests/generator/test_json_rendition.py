"""The reader of the JSON rendition's attributes (``attributes.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicompile.generator.sources.json_rendition import edition_of_folder, read_attributes
from dicompile.runtime.errors import StandardSourceError

ROWS = [
    {
        "tag": "(0010,0010)",
        "name": "Patient's Name",
        "keyword": "PatientName",
        "valueRepresentation": "PN",
        "valueMultiplicity": "1",
        "retired": "N",
        "id": "00100010",
    },
    {
        "tag": "(60XX,3000)",
        "name": "Overlay Data",
        "keyword": "Overlay\u200bData",
        "valueRepresentation": "OB or OW",
        "valueMultiplicity": "1",
        "retired": "N",
        "id": "60xx3000",
    },
    {
        "tag": "(0028,1200)",
        "name": "Gray Lookup Table Data",
        "keyword": "GrayLookupTableData",
        "valueRepresentation": "US or SS or OW",
        "valueMultiplicity": "1-n or 1",
        "retired": "Y",
        "id": "00281200",
    },
    {
        "tag": "(0028,0020)",
        "name": "",
        "keyword": "",
        "valueRepresentation": "",
        "valueMultiplicity": "",
        "retired": "Y",
        "id": "00280020",
    },
]


def _write(tmp_path: Path, rows: object, folder: str = "innolitics-2020") -> Path:
    path = tmp_path / folder / "attributes.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_reads_rows_with_provenance(tmp_path: Path) -> None:
    model = read_attributes(_write(tmp_path, ROWS))
    by_tag = {e.tag.text: e for e in model.data_elements}
    assert by_tag["00100010"].keyword == "PatientName"
    assert by_tag["60xx3000"].keyword == "OverlayData"  # zero-width space removed
    assert by_tag["00281200"].retired and by_tag["00281200"].vm == "1-n or 1"
    assert by_tag["00280020"].keyword == ""
    provenance = by_tag["00100010"].provenance
    assert (provenance.part, provenance.edition, provenance.table_id) == (
        "PS3.6",
        "2020",
        "attributes.json",
    )
    assert provenance.source_file == "innolitics-2020/attributes.json"
    assert provenance.row == 0
    (digest,) = model.sources
    assert digest.table_ids == ("attributes.json",)


def test_edition_from_folder() -> None:
    assert edition_of_folder(Path("innolitics-2020")) == "2020"
    assert edition_of_folder(Path("rendition-2024c")) == "2024c"
    with pytest.raises(StandardSourceError, match="edition"):
        edition_of_folder(Path("innolitics"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tag", "(0010,00X)", "not a tag"),
        ("id", "00100011", "does not match"),
        ("valueRepresentation", "P N", "valueRepresentation"),
        ("valueMultiplicity", "one", "valueMultiplicity"),
        ("keyword", "Patient Name", "keyword"),
        ("retired", "yes", "retired"),
    ],
)
def test_bad_rows_name_the_index(tmp_path: Path, field: str, value: str, message: str) -> None:
    rows = [dict(r) for r in ROWS]
    rows[2][field] = value
    with pytest.raises(StandardSourceError, match=message) as caught:
        read_attributes(_write(tmp_path, rows))
    assert caught.value.row == 2
    assert caught.value.table_id == "attributes.json"


def test_not_an_array(tmp_path: Path) -> None:
    with pytest.raises(StandardSourceError, match="array"):
        read_attributes(_write(tmp_path, {"tag": "(0010,0010)"}))


def test_missing_field(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    del rows[1]["keyword"]
    with pytest.raises(StandardSourceError, match="keyword") as caught:
        read_attributes(_write(tmp_path, rows))
    assert caught.value.row == 1


@pytest.mark.shared
def test_real_2020_rendition(json_2020: Path) -> None:
    model = read_attributes(json_2020 / "attributes.json")
    assert len(model.data_elements) == 4793  # README of ../shared: "PS3.6 attributes (4793)"
    by_tag = {e.tag.text: e for e in model.data_elements}
    assert by_tag["00081190"].vr == "UR"  # UT until the UR VR arrived (2014)
    assert by_tag["60xx3000"].keyword == "OverlayData"
    assert model.sources[0].edition == "2020"
