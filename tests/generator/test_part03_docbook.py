"""Tests of the DocBook PS3.3 reader and the include linker (issue #4).

Two layers: a hand-written miniature of PS3.3 (``fixtures/part03/part03.xml``) with one of each
construct, and golden tests over the real 2016c excerpt whose expected values are read off the
standard's text (PS3.3 2016c tables cited in each test), or counted independently with XPath.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    AttributeType,
    ContextKind,
    ContextRef,
    Entry,
    IncludeKind,
    IssueKind,
    MacroInclude,
    Part03Model,
    TableKind,
    Usage,
    ValueListKind,
    slug,
    tag_paths,
    walk,
)
from dicompile.generator.model import TagPattern
from dicompile.generator.passes.link_iods import functional_group_macros, link_part03
from dicompile.generator.sources.docbook.part03 import read_part03
from dicompile.runtime.errors import StandardSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "part03" / "part03.xml"
DB = "{http://docbook.org/ns/docbook}"


def rules_by_path(
    entries: tuple[Entry, ...] | tuple[AttributeRule, ...],
) -> dict[str, AttributeRule]:
    return {e.path: e for e in walk(tuple(entries)) if isinstance(e, AttributeRule)}


@pytest.fixture(scope="module")
def tiny() -> Part03Model:
    return read_part03(FIXTURE)


# -- the miniature ------------------------------------------------------------------------------


def test_every_table_is_recorded_with_its_kind(tiny: Part03Model) -> None:
    kinds = [(t.table_id, t.kind, t.duplicate) for t in tiny.tables]
    assert kinds == [
        ("table_10-1", TableKind.MACRO, False),
        ("table_10-2", TableKind.MACRO, False),
        ("table_A.1-1", TableKind.IOD_MODULES, False),
        ("table_A.1-2", TableKind.FUNCTIONAL_GROUPS, False),
        ("table_C.1-1", TableKind.MODULE, False),
        ("table_C.1-2", TableKind.VALUES, False),
        ("table_C.1-3", TableKind.MODULE, False),
        ("table_C.1-4", TableKind.OTHER, False),
        ("table_C.1-4", TableKind.OTHER, True),
    ]
    assert tiny.edition == "2099a"


def test_duplicates_are_reported_not_fatal(tiny: Part03Model) -> None:
    kinds = Counter(issue.kind for issue in tiny.issues)
    assert kinds[IssueKind.DUPLICATE_ID] == 2  # sect_C.1.3 and table_C.1-4
    [again] = [i for i in tiny.issues if i.kind is IssueKind.DUPLICATE_TABLE]
    assert again.provenance.table_id == "table_C.1-4" and "identical" in again.message


def test_iod_table_with_rowspan_sections_and_usage(tiny: Part03Model) -> None:
    [iod] = tiny.iods
    assert (iod.key, iod.name, iod.section) == ("table_A.1-1", "Tiny Image", "A.1")
    # The IE cell spans three rows; every use gets it.
    assert [u.ie for u in iod.modules] == ["Image"] * 3
    assert [u.module for u in iod.modules] == ["table_C.1-1", "sect_C.1.9", "table_C.1-3"]
    assert [u.usage for u in iod.modules] == [
        Usage.MANDATORY,
        Usage.CONDITIONAL,
        Usage.USER_OPTION,
    ]
    # The xref inside the usage cell is rendered, not dropped.
    assert iod.modules[1].condition == "Required if the Section C.1.1 says so."
    assert iod.modules[1].reference == "C.1.9"
    assert iod.modules[0].provenance.row == 1


def test_functional_group_table_belongs_to_its_iod(tiny: Part03Model) -> None:
    [iod] = tiny.iods
    assert iod.functional_groups_table == "table_A.1-2"
    [use] = iod.functional_groups
    assert (use.macro, use.usage) == ("table_10-1", Usage.MANDATORY)
    assert use.condition == "May not be used as a Shared Functional Group."


def test_nesting_by_depth_and_paths(tiny: Part03Model) -> None:
    module = tiny.attribute_table("table_C.1-1")
    rules = rules_by_path(module.entries)
    source = rules["00082112"]
    assert source.type is AttributeType.T2C and source.is_sequence
    assert [c.path for c in source.children if isinstance(c, AttributeRule)] == [
        "00082112/0028135A",
        "00082112/00089215",
    ]
    assert rules["60xx3000"].tag == TagPattern("60xx3000")
    assert module.name == "Tiny Image" and module.section == "C.1.1" and module.typed


def test_conditions_value_lists_and_notes(tiny: Part03Model) -> None:
    rules = rules_by_path(tiny.attribute_table("table_C.1-1").entries)
    rescale = rules["00281054"]
    assert rescale.type is AttributeType.T1C
    # The note's "Required if" is not part of the condition.
    assert rescale.condition == "Required if the Rescale Type is not HU. May be present otherwise."
    [values] = rescale.value_lists
    assert values.kind is ValueListKind.ENUMERATED and values.values == ("HU", "US")
    assert values.terms[0].meaning == "Hounsfield Units"
    [per_value] = rules["00082112/0028135A"].value_lists
    assert (per_value.kind, per_value.value_index) == (ValueListKind.DEFINED, 1)
    # A condition sentence after other prose in the same paragraph is cut at its start.
    assert rules["00082112"].condition == "Required if the image was derived."
    assert rules["00281054"].provenance.row == 2


def test_includes_with_condition_context_and_depth(tiny: Part03Model) -> None:
    entries = list(walk(tiny.attribute_table("table_C.1-1").entries))
    includes = [e for e in entries if isinstance(e, MacroInclude)]
    assert [(i.target, i.depth) for i in includes] == [
        ("table_10-2", 2),
        ("table_10-1", 0),
        ("table_10-99", 0),
    ]
    assert includes[0].context_ids == (ContextRef("CID", 7203, ContextKind.DEFINED),)
    assert includes[1].condition == "if and only if the image is derived."
    assert includes[2].condition == ""
    # The include of table_10-2 sits in the Item of Derivation Code Sequence.
    derivation = rules_by_path(tiny.attribute_table("table_C.1-1").entries)["00082112/00089215"]
    assert derivation.children == (includes[0],)


def test_rows_nested_under_an_include_extend_it(tiny: Part03Model) -> None:
    include = next(
        e
        for e in tiny.attribute_table("table_C.1-1").entries
        if isinstance(e, MacroInclude) and e.target == "table_10-1"
    )
    [frame] = include.children
    assert isinstance(frame, AttributeRule) and frame.tag == TagPattern("00081160")


def test_tagless_row_and_functional_group_placeholder(tiny: Part03Model) -> None:
    rules = rules_by_path(tiny.attribute_table("table_C.1-1").entries)
    anything = rules["*"]
    assert anything.tag is None and anything.type is AttributeType.T3
    fg = tiny.attribute_table("table_C.1-3").entries[0].children
    assert isinstance(fg[0], MacroInclude) and fg[0].kind is IncludeKind.FUNCTIONAL_GROUPS


def test_heading_rows_are_skipped_and_references_kept(tiny: Part03Model) -> None:
    code = tiny.attribute_table("table_10-2")
    assert [e.path for e in code.entries if isinstance(e, AttributeRule)] == [
        "00080100",
        "00080104",
    ]
    value = code.entries[0]
    assert isinstance(value, AttributeRule)
    assert value.references == ("sect_8.1",)
    assert value.description.startswith("The identifier. See Section 8.1.")
    assert value.condition == "Shall be present if the code value length is 16 characters or less."


def test_refining_section_and_value_table(tiny: Part03Model) -> None:
    image_type = rules_by_path(tiny.attribute_table("table_C.1-1").entries)["00080008"]
    assert image_type.references == ("sect_C.1.1.1.1",)
    [note] = [s for s in tiny.sections if s.section_id == "sect_C.1.1.1.1"]
    assert note.title == "Image Type"
    by_index = {v.value_index: v for v in note.value_lists}
    assert by_index[3].values == ("AXIAL", "LOCALIZER") and by_index[3].source == note.section_id
    assert by_index[1].values == ("ORIGINAL", "DERIVED") and by_index[1].source == "table_C.1-2"
    # The parent section does not absorb its sub-section's lists.
    assert all(s.section_id != "sect_C.1.1.1" for s in tiny.sections)
    assert tiny.refinements(image_type) == (note,)
    assert note.paragraphs == ("Value 1 is taken from Table C.1-2.",)


def test_linker_expands_includes_and_reports_dangling(tiny: Part03Model) -> None:
    linked = link_part03(tiny)
    module = linked.attribute_table("table_C.1-1")
    assert module.expanded is not None
    rules = rules_by_path(module.expanded)
    # ">>Include Table 10-2" inside Derivation Code Sequence.
    code_value = rules["00082112/00089215/00080100"]
    assert code_value.via == ("table_10-2",)
    assert rules["00082112/00089215"].context_ids == (ContextRef("CID", 7203, ContextKind.DEFINED),)
    # "Include Table 10-1 if and only if …": its rules carry the condition, and the nested
    # ">Referenced Frame Number" row extends its Referenced SOP Sequence.
    sop = rules["00081199"]
    assert sop.include_conditions == ("if and only if the image is derived.",)
    assert [c.path for c in sop.children if isinstance(c, AttributeRule)] == [
        "00081199/00081150",
        "00081199/00080100",
        "00081199/00080104",
        "00081199/00081160",
    ]
    assert rules["00081199/00080100"].via == ("table_10-1", "table_10-2")
    assert not any(isinstance(e, MacroInclude) for e in walk(module.expanded))
    dangling = {i.message for i in linked.issues if i.kind is IssueKind.DANGLING_REFERENCE}
    assert dangling == {
        "table_C.1-1 includes table_10-99, which is not in the model",
        "Tiny Image uses module 'Tiny Optional' (sect_C.1.9), not in the model",
    }
    assert [m.key for m in functional_group_macros(linked, linked.iods[0])] == ["table_10-1"]
    assert link_part03(linked) == linked  # idempotent


def test_wrong_part_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "2013" / "part06.xml"
    other.parent.mkdir()
    other.write_text(
        '<book xmlns="http://docbook.org/ns/docbook"><subtitle>DICOM PS3.6 2013 - Data'
        "</subtitle></book>",
        encoding="utf-8",
    )
    with pytest.raises(StandardSourceError, match=r"expected PS3\.3"):
        read_part03(other)


def test_slug_rule() -> None:
    assert slug("Plane Position (Patient)") == "plane-position-patient"
    assert slug("Contrast/Bolus") == "contrast-bolus"
    assert slug("Image - Equipment Coordinate Relationship") == (
        "image---equipment-coordinate-relationship"
    )


# -- the 2016c excerpt --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def excerpt(part03_2016c: Path) -> Part03Model:
    return link_part03(read_part03(part03_2016c))


def test_every_table_of_the_excerpt_is_read(excerpt: Part03Model, part03_2016c: Path) -> None:
    raw = etree.parse(str(part03_2016c), etree.XMLParser(collect_ids=False, huge_tree=True))
    tables = raw.getroot().findall(f".//{DB}table")
    assert len(tables) == 183 == len(excerpt.tables)
    assert [t.table_id for t in excerpt.tables] == [
        t.get("{http://www.w3.org/XML/1998/namespace}id") for t in tables
    ]
    kinds = Counter(t.kind for t in excerpt.tables if not t.duplicate)
    assert kinds[TableKind.IOD_MODULES] == 4 and kinds[TableKind.FUNCTIONAL_GROUPS] == 2
    assert kinds[TableKind.MODULE] + kinds[TableKind.MACRO] == len(excerpt.modules) + len(
        excerpt.macros
    )
    assert [t.table_id for t in excerpt.tables if t.duplicate] == ["table_C.8-40"]
    assert sum(1 for i in excerpt.issues if i.kind is IssueKind.DUPLICATE_ID) == 102


def test_attribute_rows_all_become_entries(excerpt: Part03Model, part03_2016c: Path) -> None:
    """Each body row is an attribute or an include, but for the heading rows of Table 8.8-1."""
    raw = etree.parse(str(part03_2016c), etree.XMLParser(collect_ids=False, huge_tree=True))
    by_id: dict[str | None, etree._Element] = {}
    for element in raw.getroot().iter(f"{DB}table"):
        by_id.setdefault(element.get("{http://www.w3.org/XML/1998/namespace}id"), element)
    tables: tuple[AttributeTable, ...] = (*excerpt.modules, *excerpt.macros)
    for table in tables:
        rows = by_id[table.key].findall(f"{DB}tbody/{DB}tr")
        headings = sum(
            1
            for tr in rows
            if len(tr.findall(f"{DB}td")) == 1
            and tr.findall(f"{DB}td")[0].get("colspan") == "4"
            and "Include" not in "".join(tr.itertext())
        )
        assert sum(1 for _ in walk(table.entries)) == len(rows) - headings, table.key


@pytest.mark.parametrize(
    ("key", "name", "modules", "groups"),
    [
        # PS3.3 2016c Tables A.3-1, A.18.3-1, A.38-1/A.38-2, A.47-1/A.47-2.
        ("table_A.3-1", "CT Image", 20, 0),
        ("table_A.18.3-1", "RT Dose", 24, 0),
        ("table_A.38-1", "Enhanced CT Image", 27, 24),
        ("table_A.47-1", "Enhanced X-Ray Angiographic Image", 22, 27),
    ],
)
def test_four_iods(excerpt: Part03Model, key: str, name: str, modules: int, groups: int) -> None:
    iod = excerpt.iod(key)
    assert (iod.name, len(iod.modules), len(iod.functional_groups)) == (name, modules, groups)
    assert all(use.module.startswith("table_") for use in iod.modules)


def test_ct_image_iod_rows(excerpt: Part03Model) -> None:
    # PS3.3 2016c Table A.3-1.
    uses = {u.name: u for u in excerpt.iod("table_A.3-1").modules}
    assert uses["Patient"].ie == "Patient" and uses["Patient"].module == "table_C.7-1"
    assert uses["CT Image"].module == "table_C.8-3" and uses["CT Image"].usage is Usage.MANDATORY
    contrast = uses["Contrast/Bolus"]
    assert contrast.usage is Usage.CONDITIONAL
    assert contrast.condition == "Required if contrast media was used in this image"
    assert uses["VOI LUT"].usage is Usage.USER_OPTION and uses["VOI LUT"].ie == "Image"


def test_enhanced_xa_usage_with_module_xref(excerpt: Part03Model) -> None:
    # PS3.3 2016c Table A.47-2 row 7: the usage names a module by cross-reference.
    use = excerpt.iod("table_A.47-1").functional_groups[6]
    assert use.usage is Usage.CONDITIONAL
    assert use.condition.startswith("Required if the Section ") and "is present" in use.condition


def test_known_attributes_of_the_excerpt(excerpt: Part03Model) -> None:
    ct = rules_by_path(excerpt.attribute_table("table_C.8-3").entries)
    # PS3.3 2016c Table C.8-3, CT Image Module.
    assert ct["00080008"].type is AttributeType.T1
    assert ct["00281054"].type is AttributeType.T1C
    assert ct["00281054"].condition.startswith("Required if the Rescale Type is not HU")
    assert ct["00180060"].type is AttributeType.T2  # KVP
    assert ct["00189346"].type is AttributeType.T3
    patient = rules_by_path(excerpt.attribute_table("table_C.7-1").entries)
    # PS3.3 2016c Table C.7-1: Patient's Sex, Type 2, Enumerated Values M F O.
    sex = patient["00100040"]
    assert sex.type is AttributeType.T2 and sex.value_lists[0].values == ("M", "F", "O")
    dose = rules_by_path(excerpt.attribute_table("table_C.8-39").entries)
    # PS3.3 2016c Table C.8-39, RT Dose Module.
    assert dose["30040002"].value_lists[0].values == ("GY", "RELATIVE")
    assert dose["30040004"].value_lists[0].values == ("PHYSICAL", "EFFECTIVE", "ERROR")
    assert dose["300C0002"].type is AttributeType.T1C


def test_context_ids_and_conditional_includes(excerpt: Part03Model) -> None:
    # Table C.8-3: CTDI Phantom Type Code Sequence, ">Include Table 8.8-1 … Defined CID 4052".
    ct = excerpt.attribute_table("table_C.8-3")
    phantom = rules_by_path(ct.entries)["00189346"]
    [include] = phantom.children
    assert isinstance(include, MacroInclude) and include.target == "table_8.8-1"
    assert include.context_ids == (ContextRef("CID", 4052, ContextKind.DEFINED),)
    assert ct.expanded is not None
    assert rules_by_path(ct.expanded)["00189346"].context_ids == include.context_ids
    # Table C.17-5: "Include Table C.18.1-1 if and only if Value Type (0040,A040) is NUM."
    content = excerpt.attribute_table("table_C.17-5")
    conditions = {
        e.target: e.condition for e in walk(content.entries) if isinstance(e, MacroInclude)
    }
    assert conditions["table_C.18.1-1"] == "if and only if Value Type (0040,A040) is NUM."


def test_linker_on_the_excerpt(excerpt: Part03Model) -> None:
    issues = {
        (i.kind, i.provenance.table_id)
        for i in excerpt.issues
        if i.kind in (IssueKind.DANGLING_REFERENCE, IssueKind.INCLUDE_CYCLE)
    }
    # Sections cut from the excerpt leave three includes dangling; Table C.17-6 (SR content)
    # nests by design; 2016c Table 10-18 includes itself (fixed by 2020).
    assert issues == {
        (IssueKind.DANGLING_REFERENCE, "table_C.7.6.20-1"),
        (IssueKind.DANGLING_REFERENCE, "table_C.8.19.2-1"),
        (IssueKind.DANGLING_REFERENCE, "table_C.8.19.5-1"),
        (IssueKind.INCLUDE_CYCLE, "table_C.17-6"),
        (IssueKind.INCLUDE_CYCLE, "table_10-18"),
    }
    ct = excerpt.attribute_table("table_C.8-3")
    assert ct.expanded is not None
    paths = tag_paths(ct.expanded)
    # Include Table 10-7 (General Anatomy Optional Macro) brings Anatomic Region Sequence.
    assert "00082218" in paths and "00082218/00080100" in paths
    # Table C.18.4-1 extends the included Referenced SOP Sequence (Table C.18.3-1).
    image_reference = excerpt.attribute_table("table_C.18.4-1")
    assert image_reference.expanded is not None
    assert "00081199/00081160" in tag_paths(image_reference.expanded)


def test_refining_sections_of_the_excerpt(excerpt: Part03Model) -> None:
    notes = {s.label: s for s in excerpt.sections}
    # PS3.3 2016c C.8.16.1.1: Image Type Value 1 enumerated ORIGINAL, DERIVED, MIXED.
    value_1 = notes["C.8.16.1.1"].value_lists[0]
    assert value_1.kind is ValueListKind.ENUMERATED and value_1.value_index == 1
    assert set(value_1.values) == {"ORIGINAL", "DERIVED", "MIXED"}
    # C.7.3.1.1.1 Modality: defined terms include CT and RTDOSE.
    modality = notes["C.7.3.1.1.1"].value_lists[0]
    assert {"CT", "RTDOSE", "XA"} <= set(modality.values)
