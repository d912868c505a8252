"""The naming pass: PS3.3 rules get PS3.6 names, and tags PS3.6 lacks are reported."""

from __future__ import annotations

from pathlib import Path

from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeType,
    IssueKind,
    ModuleDef,
    Part03Model,
    walk,
)
from dicompile.generator.model import DataElementDef, Provenance, TagPattern
from dicompile.generator.passes.part03_names import name_part03_rules
from dicompile.generator.sources.docbook.part03 import read_part03
from dicompile.generator.sources.json_part03 import read_json_part03
from dicompile.generator.sources.json_rendition import read_attributes

P6 = Provenance("PS3.6", "2020", "attributes.json", "innolitics-2020/attributes.json")
P3 = Provenance("PS3.3", "2020", "table_C.1-1", "innolitics-2020/module_to_attributes.json")


def element(tag: str, name: str) -> DataElementDef:
    return DataElementDef(TagPattern(tag), name, name.replace(" ", ""), "CS", "1", False, P6)


def rule(tag: str, name: str = "", children: tuple[AttributeRule, ...] = ()) -> AttributeRule:
    return AttributeRule(
        TagPattern(tag), name, tag, AttributeType.T3, "", "", P3, children=children
    )


def test_names_filled_and_unknown_tags_reported() -> None:
    rules = (
        rule("00080008"),
        rule("60003000"),  # an overlay group, named through the 60xx pattern
        rule("00082112", "Source Image Sequence (as the table writes it)", (rule("7777AAAA"),)),
    )
    module = ModuleDef("table_C.1-1", "Tiny", "", rules, P3, expanded=rules)
    model = Part03Model("2020", (), modules=(module,))
    named = name_part03_rules(
        model,
        [
            element("00080008", "Image Type"),
            element("60xx3000", "Overlay Data"),
            element("00082112", "Source Image Sequence"),
        ],
    )
    [table] = named.modules
    names = [r.name for r in walk(table.entries) if isinstance(r, AttributeRule)]
    # A name the table gives is kept; only empty names are filled.
    assert names == [
        "Image Type",
        "Overlay Data",
        "Source Image Sequence (as the table writes it)",
        "",
    ]
    assert table.expanded == table.entries
    [unknown] = [i for i in named.issues if i.kind is IssueKind.UNKNOWN_TAG]
    assert "(7777,AAAA)" in unknown.message


def test_every_2020_tag_is_in_the_2020_dictionary(json_2020: Path, part03_2016c: Path) -> None:
    elements = read_attributes(json_2020 / "attributes.json").data_elements
    rendition = name_part03_rules(read_json_part03(json_2020), elements)
    assert not [i for i in rendition.issues if i.kind is IssueKind.UNKNOWN_TAG]
    ct = rendition.attribute_table("table_C.8-3")
    assert ct.expanded is not None and ct.expanded[0].name == "Image Type"
    # The 2016c Table Content Item Macro (C.18.10-1) uses tags the 2020 registry lacks: the
    # macro did not survive to 2020 (the rendition has no such macro either).
    excerpt = name_part03_rules(read_part03(part03_2016c), elements)
    unknown = {i.provenance.table_id for i in excerpt.issues if i.kind is IssueKind.UNKNOWN_TAG}
    assert unknown == {"table_C.18.10-1"}
