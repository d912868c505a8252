"""Typed functional group items of enhanced IODs (generator/emit/typed_functional_groups.py) on a
tiny hand-built model: the Multi-frame Functional Groups Module, two functional group macros and
an IOD whose functional group macro table lists them (after PS3.3 A.38-2, C.7.6.16)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from dicompile.generator.emit.typed_classes import emit_typed
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeType,
    FunctionalGroupUse,
    IODDef,
    MacroDef,
    ModuleDef,
    ModuleUse,
    Part03Model,
    Usage,
)
from dicompile.generator.model import DataElementDef, Provenance, TagPattern

P3 = Provenance("PS3.3", "2020", "table_X", "tiny/modules.json")
P6 = Provenance("PS3.6", "2020", "attributes.json", "tiny/attributes.json")

_ELEMENTS = [
    ("52009229", "SharedFunctionalGroupsSequence", "SQ", "1"),
    ("52009230", "PerFrameFunctionalGroupsSequence", "SQ", "1"),
    ("00280008", "NumberOfFrames", "IS", "1"),
    ("00080023", "ContentDate", "DA", "1"),
    ("00289110", "PixelMeasuresSequence", "SQ", "1"),
    ("00280030", "PixelSpacing", "DS", "2"),
    ("00209111", "FrameContentSequence", "SQ", "1"),
    ("00209157", "DimensionIndexValues", "UL", "1-n"),
    ("00080016", "SOPClassUID", "UI", "1"),
]
ELEMENTS = [
    DataElementDef(TagPattern(tag), keyword, keyword, vr, vm, False, P6)
    for tag, keyword, vr, vm in _ELEMENTS
]


def rule(tag: str, kind: str, *children: AttributeRule) -> AttributeRule:
    return AttributeRule(
        tag=TagPattern(tag),
        name=tag,
        path=tag,
        type=AttributeType.parse(kind),
        description="",
        condition="",
        provenance=P3,
        children=children,
    )


def macro(key: str, name: str, *rules: AttributeRule) -> MacroDef:
    return MacroDef(key, name, "", rules, P3, expanded=rules)


def module(key: str, name: str, *rules: AttributeRule) -> ModuleDef:
    return ModuleDef(key, name, "", rules, P3, expanded=rules)


def group(key: str, usage: Usage, condition: str = "") -> FunctionalGroupUse:
    return FunctionalGroupUse(key, key, usage, condition, P3)


def model(*, with_groups: bool = True) -> Part03Model:
    measures = macro(
        "table_C.7.6.16-2", "Pixel Measures", rule("00289110", "1", rule("00280030", "1C"))
    )
    content = macro(
        "table_C.7.6.16-3", "Frame Content", rule("00209111", "1", rule("00209157", "1C"))
    )
    groups_module = module(
        "table_C.7.6.16-1",
        "Multi-frame Functional Groups",
        rule("52009229", "1"),
        rule("52009230", "1C"),
        rule("00280008", "1"),
        rule("00080023", "1"),
    )
    sop = module("table_C.12-1", "SOP Common", rule("00080016", "1"))
    uses = (
        ModuleUse("Image", groups_module.key, "mf", Usage.MANDATORY, "", P3),
        ModuleUse("Image", sop.key, "sop", Usage.MANDATORY, "", P3),
    )
    groups = (
        group(measures.key, Usage.MANDATORY),
        group(content.key, Usage.MANDATORY, "May not be used as a Shared Functional Group."),
    )
    iod = IODDef(
        "table_A.38-1",
        "Enhanced CT Image",
        "A.38.1",
        uses,
        P3,
        functional_groups=groups if with_groups else (),
        functional_groups_table="table_A.38-2" if with_groups else "",
    )
    return Part03Model(
        edition="2020",
        source_files=("tiny/modules.json",),
        iods=(iod,),
        modules=(groups_module, sop),
        macros=(measures, content),
    )


@pytest.fixture(scope="module")
def emitted() -> dict[str, str]:
    files, _ = emit_typed(model(), ELEMENTS)
    return {f.path: f.text for f in files}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_item_class_has_a_field_per_macro_sequence(emitted: dict[str, str]) -> None:
    lines = _lines(emitted["iods/enhanced_ct_image.py"])
    assert "class EnhancedCTImageFunctionalGroupsItem(TypedAttributes):" in lines
    # Each macro's sequence, typed by the macro's own item class, optional in the item.
    assert (
        "pixel_measures_sequence: tuple[PixelMeasuresMacro.PixelMeasuresSequenceItem, ...]"
        " | None = None"
    ) in lines
    assert (
        "frame_content_sequence: tuple[FrameContentMacro.FrameContentSequenceItem, ...]"
        " | None = None"
    ) in lines
    assert "other_elements: Dataset | None = None" in lines
    assert 'EnhancedCTImageFunctionalGroupsItem.OTHERS = "other_elements"' in lines
    assert (
        'field("pixel_measures_sequence", 0x00289110, "SQ", False, "1C",'
        " PixelMeasuresMacro.PixelMeasuresSequenceItem),"
    ) in lines


def test_usage_and_condition_in_the_docstrings(emitted: dict[str, str]) -> None:
    text = emitted["iods/enhanced_ct_image.py"]
    assert (
        "Type 1 in the Frame Content Macro (PS3.3 Table C.7.6.16-3), which the IOD uses M:"
        " May not be used as a Shared Functional Group."
    ) in text
    assert "Pixel Measures Macro (PS3.3 Table C.7.6.16-2), which the IOD uses M." in text
    assert "the functional group macros of PS3.3 A.38.1, Table A.38-2." in text


def test_module_field_is_the_retyped_module(emitted: dict[str, str]) -> None:
    text = emitted["iods/enhanced_ct_image.py"]
    lines = _lines(text)
    assert "multi_frame_functional_groups: EnhancedCTImageMultiFrameFunctionalGroupsModule" in lines
    assert (
        "shared_functional_groups_sequence: tuple[EnhancedCTImageFunctionalGroupsItem, ...]"
        in lines
    )
    assert (
        "per_frame_functional_groups_sequence: tuple[EnhancedCTImageFunctionalGroupsItem, ...]"
        " | None = None"
    ) in lines
    assert "number_of_frames: int" in lines  # the module's other fields are kept
    assert (
        'ModuleSlot("multi_frame_functional_groups",'
        ' EnhancedCTImageMultiFrameFunctionalGroupsModule, "Image", "M"),'
    ) in lines
    assert (
        'field("per_frame_functional_groups_sequence", 0x52009230, "SQ", False, "1C",'
        " EnhancedCTImageFunctionalGroupsItem),"
    ) in lines
    assert "from dicompile.generated.modules.macros.pixel_measures import PixelMeasuresMacro" in (
        text
    )
    # The shared module class itself keeps Dataset items (other IODs, no macro table).
    shared = emitted["modules/multi_frame_functional_groups.py"]
    assert "shared_functional_groups_sequence: tuple[Dataset, ...]" in shared


def test_output_compiles_and_defines_before_tables(emitted: dict[str, str]) -> None:
    """Valid Python; a class's FIELDS table comes after the class (it is run at import)."""
    for path, text in emitted.items():
        compile(text, path, "exec")
    text = emitted["iods/enhanced_ct_image.py"]
    assert text.index("class EnhancedCTImageFunctionalGroupsItem") < text.index(
        "EnhancedCTImageFunctionalGroupsItem.FIELDS"
    )


def test_report() -> None:
    _, report = emit_typed(model(), ELEMENTS)
    assert report.functional_groups_typed == ("table_A.38-1",)
    assert report.functional_groups_untyped == ()
    _, report = emit_typed(model(with_groups=False), ELEMENTS)
    assert report.functional_groups_typed == ()
    assert report.functional_groups_untyped == ("table_A.38-1: no functional group macros listed",)


def test_without_macros_the_module_stays_untyped() -> None:
    files, _ = emit_typed(model(with_groups=False), ELEMENTS)
    text = {f.path: f.text for f in files}["iods/enhanced_ct_image.py"]
    assert "FunctionalGroupsItem" not in text
    assert "multi_frame_functional_groups: MultiFrameFunctionalGroupsModule" in _lines(text)


_DOCBOOK = {"d": "http://docbook.org/ns/docbook", "xml": "http://www.w3.org/XML/1998/namespace"}


def _functional_group_rows(part03: Path, table_id: str) -> list[tuple[str, str]]:
    """(macro name, usage letter) of each row of an IOD's functional group macro table, read
    straight from the DocBook (an oracle independent of the generator's reader)."""
    tree = etree.parse(str(part03), etree.XMLParser(collect_ids=False, huge_tree=True))
    (table,) = tree.xpath(f"//d:table[@xml:id='{table_id}']", namespaces=_DOCBOOK)
    rows = []
    for tr in table.xpath(".//d:tbody/d:tr", namespaces=_DOCBOOK):
        cells = [
            " ".join("".join(td.itertext()).split()) for td in tr.xpath("d:td", namespaces=_DOCBOOK)
        ]
        rows.append((cells[0], cells[-1][0]))
    return rows


def test_docbook_2016c_enhanced_ct_and_xa(xml_2013: Path, part03_2016c: Path) -> None:
    """From the 2016c DocBook excerpt alone: one field per row of Tables A.38-2 and A.47-2, each
    with its macro's usage."""
    from dicompile.generator.iod_build import build_iods
    from dicompile.generator.pipeline import build_model

    folders = [xml_2013, part03_2016c.parent]
    standard = build_model(folders)
    iods = build_iods(folders, standard.data_elements, standard.uids)
    assert iods is not None
    files, report = emit_typed(iods.model, standard.data_elements)
    assert report.functional_groups_typed == ("table_A.38-1", "table_A.47-1")
    texts = {f.path: f.text for f in files}
    for path, item, table_id in (
        ("iods/enhanced_ct_image.py", "EnhancedCTImageFunctionalGroupsItem", "table_A.38-2"),
        (
            "iods/enhanced_x_ray_angiographic_image.py",
            "EnhancedXRayAngiographicImageFunctionalGroupsItem",
            "table_A.47-2",
        ),
    ):
        text = texts[path]
        body = text[text.index(f"class {item}(") : text.index(f"{item}.FIELDS")]
        docs = [line.strip() for line in body.splitlines() if " Macro (PS3.3 " in line]
        rows = _functional_group_rows(part03_2016c, table_id)
        assert len(rows) >= 24
        assert len(docs) == len(rows)  # each of these macros is one sequence
        for (name, usage), doc in zip(rows, docs, strict=True):
            assert f"in the {name} " in doc, (name, doc)  # "CT X-Ray Details Sequence Macro"
            assert f"which the IOD uses {usage}" in doc, (name, doc)
        assert f"the functional group macros of PS3.3 A.{table_id[8:10]}" in text


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_output_passes_ruff(emitted: dict[str, str], tmp_path: Path) -> None:
    for path, text in emitted.items():
        target = tmp_path / "generated" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    config = ["--config", str(root / "pyproject.toml")]
    folder = str(tmp_path / "generated")
    check = subprocess.run(
        ["ruff", "check", *config, "--no-cache", "--ignore", "E501", folder],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        ["ruff", "format", *config, "--no-cache", "--check", folder], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout
