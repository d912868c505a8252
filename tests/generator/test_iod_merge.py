"""Tests of the PS3.3 standard-set merge on small hand-built models (issue #4)."""

from __future__ import annotations

from dicompile.generator.iod_merge import merge_part03, normalise_condition
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeType,
    ChangeKind,
    IODDef,
    MacroDef,
    ModuleDef,
    ModuleUse,
    Part03Model,
    Usage,
)
from dicompile.generator.model import Provenance, TagPattern


def prov(edition: str, table: str) -> Provenance:
    return Provenance("PS3.3", edition, table, f"{edition}/part03.xml")


def rule(
    edition: str, table: str, path: str, kind: AttributeType, condition: str = ""
) -> AttributeRule:
    tag = TagPattern(path.rpartition("/")[2])
    return AttributeRule(tag, "", path, kind, "", condition, prov(edition, table))


def model(
    edition: str,
    *,
    module_key: str,
    module_name: str,
    rules: tuple[AttributeRule, ...],
    usage: Usage,
    condition: str = "",
    macros: tuple[MacroDef, ...] = (),
) -> Part03Model:
    module = ModuleDef(
        module_key, module_name, "C.1", rules, prov(edition, module_key), expanded=rules
    )
    use = ModuleUse(
        "Image", module_key, module_name, usage, condition, prov(edition, "table_A.1-1")
    )
    iod = IODDef("table_A.1-1", "Tiny", "A.1", (use,), prov(edition, "table_A.1-1"))
    return Part03Model(edition, (f"{edition}/part03.xml",), (iod,), (module,), macros)


OLD = model(
    "2016c",
    module_key="table_C.1-1",
    module_name="Tiny Image",
    rules=(
        rule("2016c", "table_C.1-1", "00080008", AttributeType.T1),
        rule("2016c", "table_C.1-1", "00281054", AttributeType.T1C, "Required if  not HU."),
        rule("2016c", "table_C.1-1", "00101000", AttributeType.T3),
    ),
    usage=Usage.USER_OPTION,
    macros=(
        MacroDef(
            "table_10-99", "Old Macro", "10.99", (), prov("2016c", "table_10-99"), expanded=()
        ),
    ),
)
NEW = model(
    "2020",
    module_key="table_C.1-1b",  # renumbered: paired by its name
    module_name="Tiny Image",
    rules=(
        rule("2020", "table_C.1-1b", "00080008", AttributeType.T2),
        rule("2020", "table_C.1-1b", "00281054", AttributeType.T1C, "required if not HU"),
        rule("2020", "table_C.1-1b", "00189361", AttributeType.T3),
    ),
    usage=Usage.CONDITIONAL,
    condition="Required if wanted.",
)


def test_newest_wins_and_every_change_is_reported() -> None:
    merged = merge_part03([NEW, OLD])
    assert merged.edition == "2020"
    assert [m.key for m in merged.modules] == ["table_C.1-1b"]
    assert merged.modules[0].provenance.edition == "2020"
    changes = {(c.kind, c.item, c.detail) for c in merged.conflicts}
    assert changes == {
        (ChangeKind.KEY_CHANGED, "table_C.1-1b", ""),
        (ChangeKind.TYPE_CHANGED, "table_C.1-1b", "00080008"),
        (ChangeKind.ATTRIBUTE_ADDED, "table_C.1-1b", "00189361"),
        (ChangeKind.ATTRIBUTE_REMOVED, "table_C.1-1b", "00101000"),
        # The 2016c IOD's use of the renumbered module is read as a use of the new key.
        (ChangeKind.USAGE_CHANGED, "table_A.1-1", "table_C.1-1b"),
        (ChangeKind.CONDITION_CHANGED, "table_A.1-1", "table_C.1-1b"),
        (ChangeKind.ITEM_ONLY_IN_OLDER, "table_10-99", ""),
    }
    # The condition of Rescale Type differs only in case, spacing and full stop: no conflict.
    [typed] = [c for c in merged.conflicts if c.kind is ChangeKind.TYPE_CHANGED]
    assert (typed.other_value, typed.kept_value) == ("1", "2")
    assert typed.kept.edition == "2020" and typed.other.edition == "2016c"
    # What only the older source has is kept.
    assert [m.key for m in merged.macros] == ["table_10-99"]
    assert merged.source_files == ("2016c/part03.xml", "2020/part03.xml")


def test_usage_and_condition_changes_of_a_module_use() -> None:
    newer = model(
        "2020",
        module_key="table_C.1-1",
        module_name="Tiny Image",
        rules=OLD.modules[0].expanded or (),
        usage=Usage.CONDITIONAL,
        condition="Required if wanted.",
    )
    merged = merge_part03([OLD, newer])
    kinds = {c.kind: c for c in merged.conflicts if c.item == "table_A.1-1"}
    assert set(kinds) == {ChangeKind.USAGE_CHANGED, ChangeKind.CONDITION_CHANGED}
    assert (
        kinds[ChangeKind.USAGE_CHANGED].other_value,
        kinds[ChangeKind.USAGE_CHANGED].kept_value,
    ) == ("U", "C")
    assert "Required if wanted" in kinds[ChangeKind.CONDITION_CHANGED].describe()


def test_merging_one_model_changes_nothing() -> None:
    assert merge_part03([OLD]) == OLD


def test_condition_normalisation() -> None:
    assert normalise_condition("Required if  X.\n") == normalise_condition("required if x")
    assert normalise_condition("Required if X") != normalise_condition("Required if Y")
