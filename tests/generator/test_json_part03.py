"""Tests of the reader of the JSON rendition of PS3.3 (issue #4).

Small hand-made renditions check the reader's rules; golden tests check the real 2020 rendition
against counts taken from its files and against rules read off the standard's text.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    AttributeType,
    IssueKind,
    Part03Model,
    Usage,
    ValueListKind,
    tag_paths,
    walk,
)
from dicompile.generator.model import TagPattern
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.sources.json_part03 import (
    anchor_of,
    parse_description,
    read_json_part03,
)
from dicompile.runtime.errors import StandardSourceError

BASE = "http://dicom.nema.org/medical/dicom/current/output/chtml/part03/"


def rules_by_path(rules: tuple[AttributeRule, ...] | None) -> dict[str, AttributeRule]:
    assert rules is not None
    return {r.path: r for r in walk(rules) if isinstance(r, AttributeRule)}


def write_rendition(folder: Path, **overrides: object) -> Path:
    """A minimal rendition: one IOD, one module with a nested sequence, one macro."""
    files: dict[str, object] = {
        "ciods.json": [
            {"name": "Tiny", "id": "tiny", "linkToStandard": BASE + "sect_A.1.html#table_A.1-1"}
        ],
        "modules.json": [
            {
                "name": "Tiny Image",
                "id": "tiny-image",
                "linkToStandard": BASE + "sect_C.1.html#table_C.1-1",
            },
            {
                "name": "Patient Relationship",
                "id": "patient-relationship",
                "linkToStandard": BASE + "sect_C.2.html#table_C.2-1",
            },
        ],
        "macros.json": [
            {
                "name": "Tiny Macro",
                "id": "tiny-macro",
                "linkToStandard": BASE + "sect_10.1.html#table_10-1",
            }
        ],
        "ciod_to_modules.json": [
            {
                "ciodId": "tiny",
                "moduleId": "tiny-image",
                "usage": "M",
                "conditionalStatement": None,
                "informationEntity": "Image",
            },
            {
                "ciodId": "tiny",
                "moduleId": "nowhere",
                "usage": "C",
                "conditionalStatement": "Required if  needed.",
                "informationEntity": "Image",
            },
        ],
        "ciod_to_fg_macros.json": [
            {"ciodId": "tiny", "macroId": "tiny-macro", "usage": "U", "conditionalStatement": None}
        ],
        "module_to_attributes.json": [
            {
                "moduleId": "tiny-image",
                "path": "tiny-image:00082112",
                "tag": "(0008,2112)",
                "type": "2C",
                "linkToStandard": "",
                "externalReferences": [
                    {"sourceUrl": BASE + "sect_C.1.html#sect_C.1.1.1", "title": "Section C.1.1.1"}
                ],
                "description": '<td><p>Source. See <span href="">Section C.1.1.1</span>.</p>'
                "<p>Required if derived. May be present otherwise.</p>"
                "<div><h3>Note</h3><p>Required if never: a note.</p></div></td>",
            },
            {
                "moduleId": "tiny-image",
                "path": "tiny-image:00082112:0028135a",
                "tag": "(0028,135A)",
                "type": "3",
                "linkToStandard": "",
                "externalReferences": [],
                "description": "<td><p>Preserved.</p><div><p><strong>Enumerated Values:</strong>"
                "</p><dl><dt><span>YES</span></dt><dd><p>kept</p></dd>"
                "<dt><span>NO</span></dt><dd><p/></dd></dl></div></td>",
            },
            {
                "moduleId": "tiny-image",
                "path": "tiny-image:60xx3000",
                "tag": "(60xx,3000)",
                "type": "3",
                "linkToStandard": "",
                "externalReferences": [],
                "description": "<td><p>Overlay.</p></td>",
            },
            {
                "moduleId": "patient-relationship",
                "path": "patient-relationship:00081110",
                "tag": "(0008,1110)",
                "type": "None",
                "linkToStandard": "",
                "externalReferences": [],
                "description": "<td><p>Studies.</p></td>",
            },
        ],
        "macro_to_attributes.json": [
            {
                "macroId": "tiny-macro",
                "path": "tiny-macro:00081150",
                "tag": "(0008,1150)",
                "type": "1",
                "linkToStandard": "",
                "externalReferences": [],
                "description": "<td><p>Class.</p></td>",
            }
        ],
        "references.json": {
            BASE + "sect_C.1.html#sect_C.1.1.1": "<div><h5>C.1.1.1 Source</h5><div><p><strong>"
            "Defined Terms for Value 3:</strong></p><dl><dt><span>AXIAL</span></dt><dd><p/></dd>"
            "</dl></div></div>"
        },
    }
    files.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content), encoding="utf-8")
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> Part03Model:
    return read_json_part03(write_rendition(tmp_path / "tiny-2099a"))


def test_edition_keys_and_uses(tiny: Part03Model) -> None:
    assert tiny.edition == "2099a"
    [iod] = tiny.iods
    assert (iod.key, iod.name) == ("table_A.1-1", "Tiny")
    assert [(u.module, u.usage, u.condition) for u in iod.modules] == [
        ("table_C.1-1", Usage.MANDATORY, ""),
        ("nowhere", Usage.CONDITIONAL, "Required if needed."),
    ]
    assert [(f.macro, f.usage) for f in iod.functional_groups] == [
        ("table_10-1", Usage.USER_OPTION)
    ]
    [dangling] = [i for i in tiny.issues if i.kind is IssueKind.DANGLING_REFERENCE]
    assert "nowhere" in dangling.message


def test_rules_from_paths(tiny: Part03Model) -> None:
    module = tiny.attribute_table("table_C.1-1")
    assert module.expanded == module.entries  # the rendition is already flat
    rules = rules_by_path(module.expanded)
    assert list(rules) == ["00082112", "00082112/0028135A", "60xx3000"]
    source = rules["00082112"]
    assert source.type is AttributeType.T2C
    assert source.condition == "Required if derived. May be present otherwise."
    assert source.references == ("sect_C.1.1.1",)
    assert source.description.startswith("Source. See Section C.1.1.1.")
    [values] = rules["00082112/0028135A"].value_lists
    assert values.kind is ValueListKind.ENUMERATED and values.values == ("YES", "NO")
    assert values.terms[0].meaning == "kept"
    assert rules["60xx3000"].tag == TagPattern("60xx3000")
    assert source.provenance.source_file == "tiny-2099a/module_to_attributes.json"
    assert source.provenance.table_id == "table_C.1-1"


def test_untyped_module(tiny: Part03Model) -> None:
    module = tiny.attribute_table("table_C.2-1")
    assert module.typed is False
    assert rules_by_path(module.expanded)["00081110"].type is None


def test_sections_from_references(tiny: Part03Model) -> None:
    [note] = tiny.sections
    assert (note.section_id, note.label, note.title) == ("sect_C.1.1.1", "C.1.1.1", "Source")
    assert note.value_lists[0].value_index == 3 and note.value_lists[0].values == ("AXIAL",)


def test_orphan_row_and_bad_usage_are_reported(tmp_path: Path) -> None:
    rows = [
        {
            "moduleId": "tiny-image",
            "path": "tiny-image:00082112:0028135a",
            "tag": "(0028,135A)",
            "type": "3",
            "linkToStandard": "",
            "externalReferences": [],
            "description": "<td><p>x</p></td>",
        }
    ]
    model = read_json_part03(
        write_rendition(tmp_path / "r-2099a", **{"module_to_attributes.json": rows})
    )
    assert any(
        i.kind is IssueKind.UNREADABLE_ROW and "no parent" in i.message for i in model.issues
    )
    bad = [
        {
            "ciodId": "tiny",
            "moduleId": "tiny-image",
            "usage": "X",
            "conditionalStatement": None,
            "informationEntity": "Image",
        }
    ]
    folder = write_rendition(tmp_path / "bad-2099a", **{"ciod_to_modules.json": bad})
    with pytest.raises(StandardSourceError, match="usage 'X'"):
        read_json_part03(folder)


def test_missing_file_and_edition(tmp_path: Path) -> None:
    with pytest.raises(StandardSourceError, match="edition"):
        read_json_part03(tmp_path)
    (tmp_path / "x-2020").mkdir()
    with pytest.raises(StandardSourceError, match=r"ciods\.json"):
        read_json_part03(tmp_path / "x-2020")


def test_description_parsing() -> None:
    parsed = parse_description(
        "<td><p>Text.</p><div><h3>Note</h3><p>Aside.</p></div><div><ol><li><p>one</p></li>"
        "</ol></div></td>"
    )
    # List items are marked, so that a condition can take the items of its list.
    assert parsed.paragraphs == ("Text.", "\u2022 one") and parsed.notes == ("Aside.",)
    assert anchor_of(BASE + "sect_C.8.2.html#table_C.8-3") == "table_C.8-3"


# -- the 2020 rendition -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendition(json_2020: Path) -> Part03Model:
    return read_json_part03(json_2020)


def test_golden_counts(rendition: Part03Model, json_2020: Path) -> None:
    assert (len(rendition.iods), len(rendition.modules), len(rendition.macros)) == (143, 375, 260)
    rows = len(json.loads((json_2020 / "module_to_attributes.json").read_text("utf-8")))
    rows += len(json.loads((json_2020 / "macro_to_attributes.json").read_text("utf-8")))
    tables: tuple[AttributeTable, ...] = (*rendition.modules, *rendition.macros)
    read = sum(1 for t in tables for _ in walk(t.entries))
    assert read == rows  # every attribute row became a rule
    uses = len(json.loads((json_2020 / "ciod_to_modules.json").read_text("utf-8")))
    assert sum(len(i.modules) for i in rendition.iods) == uses
    assert not [i for i in rendition.issues if i.kind is IssueKind.DANGLING_REFERENCE]


def test_reading_speed(json_2020: Path) -> None:
    # The whole of PS3.3 must generate in under 60 s; reading the rendition is one part of it.
    start = time.perf_counter()
    read_json_part03(json_2020)
    assert time.perf_counter() - start < 15


def test_ct_image_iod_2020(rendition: Part03Model) -> None:
    iod = rendition.iod("table_A.3-1")
    assert iod.name == "CT Image"
    uses = {u.module: u for u in iod.modules}
    # 2020 PS3.3 Table A.3-1 added the Multi-energy CT Image Module (C.8.2.2), usage C.
    multi = uses["table_C.8.2.2-1"]
    assert multi.usage is Usage.CONDITIONAL
    assert multi.condition == "Required if Multi-energy CT Acquisition (0018,9361) is YES."
    assert uses["table_C.8-3"].usage is Usage.MANDATORY and uses["table_C.8-3"].ie == "Image"


def test_known_rules_2020(rendition: Part03Model) -> None:
    ct = rules_by_path(rendition.attribute_table("table_C.8-3").expanded)
    assert ct["00080008"].type is AttributeType.T1
    assert ct["00189361"].value_lists[0].values == ("YES", "NO")
    assert "Multi-energy CT Acquisition (0018,9361) is YES" in ct["00281054"].condition
    # The Code Sequence Macro is expanded inside CTDI Phantom Type Code Sequence.
    assert ct["00189346/00080104"].type is AttributeType.T1
    patient = rules_by_path(rendition.attribute_table("table_C.7-1").expanded)
    assert patient["00100040"].value_lists[0].values == ("M", "F", "O")
    relationship = rendition.attribute_table("table_C.2-1")
    assert relationship.typed is False
    # Table C.18.4-1 extends the Referenced SOP Sequence of the included Table C.18.3-1.
    reference = rendition.attribute_table("table_C.18.4-1")
    assert "00081199/00081160" in tag_paths(reference.expanded or ())
    enhanced = {f.name: f for f in rendition.iod("table_A.38-1").functional_groups}
    assert enhanced["frame-content"].usage is Usage.MANDATORY


def test_refining_sections_2020(rendition: Part03Model) -> None:
    # PS3.3 C.8.4.9.1.1 (NM Image Module, Image Type): a type and the values of Value 3.
    nm = {s.section_id: s for s in rendition.sections}["sect_C.8.4.9.1.1"]
    assert nm.title == "Image Type"
    assert nm.paragraphs[0] == (
        "For NM images, Image Type (0008,0008) Value 3 is specified to be Type 1."
    )
    value_3 = nm.value_lists[0]
    assert value_3.value_index == 3 and {"STATIC", "WHOLE BODY", "GATED TOMO"} <= set(
        value_3.values
    )
    # The rule points to the section that refines it.
    module = rendition.attribute_table("table_C.8-3")
    image_type = rules_by_path(module.expanded)["00080008"]
    assert [s.label for s in rendition.refinements(image_type)] == ["C.8.2.1.1.1"]


def test_linker_leaves_the_rendition_alone(rendition: Part03Model) -> None:
    linked = link_part03(rendition)
    assert linked.modules == rendition.modules and linked.macros == rendition.macros
