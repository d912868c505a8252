"""The pipeline's PS3.3 build (``Build.iods``): the merged model with every condition parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.conditions import Condition, Equals, Present, Unparsed
from dicompile.generator.iod_build import IODModel, build_iods, condition_texts
from dicompile.generator.iod_model import AttributeRule, AttributeTable, ModuleDef, walk
from dicompile.generator.pipeline import Build, MissingSource, build_model, from_iods


@pytest.fixture(scope="module")
def iods(shared_dir: Path) -> IODModel:
    folders = [
        shared_dir / "standard-xml" / "2013",
        shared_dir / "standard-xml" / "2016c-part03-excerpt",
        shared_dir / "standard-json" / "innolitics-2020",
    ]
    model = build_model(folders)
    built = build_iods(folders, model.data_elements, model.uids)
    assert built is not None
    return built


def test_no_part03_gives_none(xml_2013: Path) -> None:
    model = build_model([xml_2013])
    assert build_iods([xml_2013], model.data_elements) is None
    job = from_iods(lambda iods, model: [])
    with pytest.raises(MissingSource, match=r"no PS3\.3"):
        job(Build(model, (xml_2013,)))


def test_every_rule_has_its_parse(iods: IODModel) -> None:
    tables: tuple[AttributeTable, ...] = (*iods.model.modules, *iods.model.macros)
    rules = [
        e
        for t in tables
        for e in walk((*t.entries, *(t.expanded or ())))
        if isinstance(e, AttributeRule)
    ]
    conditional = [r for r in rules if r.condition]
    assert len(conditional) > 10_000  # every 1C/2C row of the 2020 rendition, expanded
    assert all(r.parsed_condition is iods.conditions[r.condition] for r in conditional)
    assert all(r.parsed_condition is None for r in rules if not r.condition)
    assert set(iods.conditions) == set(condition_texts(iods.model))


def test_known_conditions(iods: IODModel) -> None:
    # PS3.3 A.3 (CT Image IOD): Contrast/Bolus is "C - Required if contrast media was used".
    ct = iods.model.iod("table_A.3-1")
    usage = next(u for u in ct.modules if u.module == "table_C.7-12")
    parsed = iods.condition(usage.condition)
    assert isinstance(parsed, Condition)
    assert usage.parsed_condition is parsed
    assert parsed.decidability.value == "not decidable from a Data Set"
    # PS3.3 C.7.6.3 Image Pixel: Planar Configuration (0028,0006) is Type 1C, required if
    # Samples per Pixel (0028,0002) has a value greater than 1.
    pixel = iods.model.attribute_table("table_C.7-11a")
    assert isinstance(pixel, ModuleDef) and pixel.expanded is not None
    planar = next(r for r in pixel.expanded if r.path == "00280006")
    assert isinstance(planar.parsed_condition, Condition)
    assert "0028,0002" in planar.condition
    assert iods.condition("") is None
    # Parsed trees use the dictionary's tags.
    assert any(
        isinstance(c, Condition) and c.required_if == Present((0x00180012,))
        for c in iods.conditions.values()
    )
    assert any(
        isinstance(c, Condition) and c.required_if == Equals((0x00080008,), "DERIVED", 1)
        for c in iods.conditions.values()
    )
    assert sum(isinstance(c, Unparsed) for c in iods.conditions.values()) < 50


def test_sources_have_digests(iods: IODModel) -> None:
    files = {d.source_file: d for d in iods.sources}
    assert "2016c-part03-excerpt/part03.xml" in files
    assert "innolitics-2020/module_to_attributes.json" in files
    assert all(len(d.sha256) == 64 for d in files.values())
    assert files["innolitics-2020/sops.json"].part == "PS3.4"  # Table B.5-1: SOP Class → IOD
    assert files["2016c-part03-excerpt/part03.xml"].part == "PS3.3"
    assert "table_C.8-3" in files["innolitics-2020/module_to_attributes.json"].table_ids


def test_storage_sop_classes(iods: IODModel) -> None:
    by_uid = {s.uid: s.iod for s in iods.sop_classes}
    # PS3.4 Table B.5-1: CT Image Storage is the CT Image IOD (PS3.3 A.3), RT Dose Storage
    # the RT Dose IOD (A.18), Enhanced CT Image Storage the Enhanced CT Image IOD (A.38).
    assert by_uid["1.2.840.10008.5.1.4.1.1.2"] == "table_A.3-1"
    assert (
        by_uid["1.2.840.10008.5.1.4.1.1.481.2"]
        == iods.model.iod(by_uid["1.2.840.10008.5.1.4.1.1.481.2"]).key
    )
    assert iods.model.iod(by_uid["1.2.840.10008.5.1.4.1.1.481.2"]).name == "RT Dose"
    assert by_uid["1.2.840.10008.5.1.4.1.1.2.1"] == "table_A.38-1"
    assert len(by_uid) > 120
    assert any(d.source_file.endswith("sops.json") for d in iods.sources)
