"""The requirement tables emitter (``generated/requirements``) and the PS3.3 build's repairs.

Unit tests use hand-built model records and real sentences of PS3.3; the golden test renders
the tables from ../shared and compares them with the committed ``generated/requirements``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.conditions import (
    Absent,
    And,
    CodedValue,
    Compare,
    CompareOp,
    Condition,
    ContainsCode,
    Equals,
    Not,
    OneOf,
    Undecidable,
    UndecidableReason,
    Unparsed,
)
from dicompile.generator.emit.requirements import (
    FOLDER,
    _Imports,
    _item_bounds,
    condition_code,
    emit_requirements,
)
from dicompile.generator.iod_build import (
    build_iods,
    include_condition_text,
    rescue_functional_group_remarks,
    rescue_include_conditions,
)
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeType,
    FunctionalGroupUse,
    IODDef,
    ModuleDef,
    Part03Model,
    Usage,
)
from dicompile.generator.model import Provenance, TagPattern
from dicompile.generator.pipeline import build_model
from dicompile.runtime.validate import conditions as runtime

REPO = Path(__file__).resolve().parents[2]
P = Provenance("PS3.3", "2020", "table_C.17-4", "innolitics-2020/module_to_attributes.json")


@pytest.mark.parametrize(
    ("sentence", "bounds"),
    [
        ("Only a single Item shall be included in this Sequence.", (0, 1)),
        ("Only a single Item is permitted in this Sequence.", (0, 1)),
        ("Zero or one Item shall be included in this Sequence.", (0, 1)),
        ("One or more Items shall be included in this Sequence.", (0, None)),
        ("Two or more Items shall be included in this Sequence.", (2, None)),
        ("One or two Items shall be included in this Sequence.", (0, 2)),
        # Conditional counts (RT Patient Setup, C.8.8.12) are not a bound of every Item list.
        (
            "Only one Item shall be included in this Sequence if Patient Support Position"
            " Specification Method (300A,0650) equals GLOBAL.",
            (0, None),
        ),
        (
            "Sequence of Items that describe the detector. See Section C.8.2.2.1. Only a single"
            " Item shall be included in this Sequence.",
            (0, 1),
        ),
    ],
)
def test_item_bounds_from_descriptions(sentence: str, bounds: tuple[int, int | None]) -> None:
    assert _item_bounds(sentence) == bounds


def _runtime(code: str) -> object:
    """Evaluate generated code with the runtime's condition classes (as the tables do)."""
    names = {name: getattr(runtime, name) for name in dir(runtime) if not name.startswith("_")}
    return eval(code, names)


def test_conditions_become_runtime_constructor_calls() -> None:
    parsed = Condition(
        text="Required if Samples per Pixel (0028,0002) has a value greater than 1",
        required_if=Compare(CompareOp.GT, (0x00280002,), 1),
    )
    imports = _Imports()
    code = condition_code(parsed, imports)
    assert code == (
        'Condition("Required if Samples per Pixel (0028,0002) has a value greater than 1",'
        " Compare(GT, (0x00280002,), 1))"
    )
    assert imports.names == {RUNTIME_CONDITIONS: {"Condition", "Compare", "GT"}}
    assert _runtime(code) == runtime.Condition(
        parsed.text, runtime.Compare(runtime.Op.GT, (0x00280002,), 1)
    )


RUNTIME_CONDITIONS = "dicompile.runtime.validate.conditions"


def test_every_node_kind_round_trips() -> None:
    parsed = Condition(
        text="t",
        required_if=And(
            (
                OneOf((0x00080008,), ("ORIGINAL", "MIXED"), 1),
                Not(Equals((0x00189323,), "NONE")),
                ContainsCode((0x0040A043,), (CodedValue("113097", "DCM", "weighting"),)),
                Undecidable("contrast media was used", UndecidableReason.NO_ATTRIBUTE),
            )
        ),
        not_present_if=Absent((0x00280002,)),
        otherwise_may_be_present=True,
    )
    rebuilt = _runtime(condition_code(parsed, _Imports()))
    assert rebuilt == runtime.Condition(
        "t",
        runtime.And(
            (
                runtime.OneOf((0x00080008,), ("ORIGINAL", "MIXED"), 1),
                runtime.Not(runtime.Equals((0x00189323,), "NONE")),
                runtime.ContainsCode((0x0040A043,), (runtime.Code("113097", "DCM"),)),
                runtime.Undecidable("contrast media was used", "NO_ATTRIBUTE"),
            )
        ),
        not_present_if=runtime.Absent((0x00280002,)),
        otherwise_may_be_present=True,
    )
    assert _runtime(condition_code(Unparsed("x", "why"), _Imports())) == runtime.Unparsed(
        "x", "why"
    )


def test_include_conditions_read_as_requirements() -> None:
    # PS3.3 Table C.17-4: "Include Table C.18.1-1 … if and only if Value Type (0040,A040) is NUM."
    assert (
        include_condition_text("if and only if Value Type (0040,A040) is NUM.")
        == "Required if Value Type (0040,A040) is NUM."
    )
    assert include_condition_text("If Value Type is TEXT") == "Required if Value Type is TEXT"
    assert include_condition_text("Required if X") == "Required if X"


def _rule(path: str, include: tuple[str, ...] = ()) -> AttributeRule:
    tag = path.rsplit("/", 1)[-1]
    return AttributeRule(
        tag=TagPattern.parse(tag),
        name="",
        path=path,
        type=AttributeType.T1,
        description="",
        condition="",
        provenance=P,
        include_conditions=include,
    )


def _module(rules: tuple[AttributeRule, ...], source: Provenance = P) -> ModuleDef:
    return ModuleDef("table_C.17-4", "SR Document Content", "", rules, source, expanded=rules)


NUM = "if and only if Value Type (0040,A040) is NUM."
CODE = "if and only if Value Type (0040,A040) is CODE."
IMAGE = "if and only if Value Type (0040,A040) is IMAGE."
COMPOSITE = "if and only if Value Type (0040,A040) is COMPOSITE."


def test_include_conditions_given_back_from_the_docbook_table() -> None:
    older = Part03Model(
        "2016c",
        (),
        modules=(
            _module(
                (
                    _rule("0040A040"),
                    _rule("0040A300", (NUM,)),
                    _rule("0040A168", (CODE,)),
                    _rule("00081199", (IMAGE,)),
                    _rule("00081199", (COMPOSITE,)),
                )
            ),
        ),
    )
    flat = (
        _rule("0040A040"),
        _rule("0040A300"),
        _rule("0040A168"),
        _rule("00081199"),
        _rule("00081199"),
    )
    newer = Part03Model("2020", (), modules=(_module(flat),))
    fixed = rescue_include_conditions(newer, [older]).modules[0].expanded
    assert fixed is not None
    assert [r.include_conditions for r in fixed] == [(), (NUM,), (CODE,), (IMAGE,), (COMPOSITE,)]
    # A newer table that keeps include conditions of its own is left as it is.
    kept = (_rule("0040A040"), _rule("0040A300", ("if X",)))
    unchanged = rescue_include_conditions(
        Part03Model("2020", (), modules=(_module(kept),)), [older]
    )
    assert unchanged.modules[0].expanded == kept


def test_functional_group_remark_given_back() -> None:
    def iod(condition: str) -> IODDef:
        use = FunctionalGroupUse("table_C.7.6.16-3", "Frame Content", Usage.MANDATORY, condition, P)
        return IODDef("table_A.38-1", "Enhanced CT Image", "", (), P, functional_groups=(use,))

    remark = "May not be used as a Shared Functional Group."
    fixed = rescue_functional_group_remarks(
        Part03Model("2020", (), iods=(iod(""),)), [Part03Model("2016c", (), iods=(iod(remark),))]
    )
    assert fixed.iods[0].functional_groups[0].condition == remark


@pytest.fixture(scope="module")
def rendered(shared_dir: Path) -> dict[str, str]:
    folders = [
        shared_dir / "standard-xml" / "2013",
        shared_dir / "standard-xml" / "2016c-part03-excerpt",
        shared_dir / "standard-json" / "innolitics-2020",
    ]
    model = build_model(folders)
    iods = build_iods(folders, model.data_elements, model.uids)
    assert iods is not None
    return {f.path: f.text for f in emit_requirements(iods, model)}


def test_rendered_tables_are_the_committed_ones(rendered: dict[str, str]) -> None:
    committed = {
        f"{FOLDER}{p.name}": p.read_text(encoding="utf-8")
        for p in (REPO / "generated" / "requirements").glob("*.py")
    }
    assert sorted(rendered) == sorted(committed), "regenerate generated/requirements"
    stale = [path for path, text in rendered.items() if committed[path] != text]
    assert stale == [], "regenerate generated/requirements"


def test_rendered_tables_hold_known_rules(rendered: dict[str, str]) -> None:
    text = "".join(rendered.values())
    # PS3.3 C.7.6.3 Image Pixel: Planar Configuration (0028,0006) 1C, US, VM 1, Enumerated
    # Values 0 and 1; its condition (Samples per Pixel > 1) as a runtime Compare.
    assert 'Rule(0x00280006, T1C, "US", "1", condition=' in text
    assert "Compare(GT, (0x00280002,), 1)" in text
    # Overlay Plane (C.9.2): Overlay Data (60xx,3000), Type 1, a repeating group with a mask.
    assert 'Rule(0x60003000, T1, "OB or OW", "1", mask=0xFF00FFFF)' in text
    # PS3.4 B.5: CT Image Storage is the CT Image IOD.
    assert '"1.2.840.10008.5.1.4.1.1.2": "table_A.3-1",  # CT Image Storage' in text
    # Every file names its sources and carries no absolute path.
    for path, content in rendered.items():
        assert content.startswith("# Generated by dicompile.generator from"), path
        assert "/work/" not in content and str(REPO) not in content, path
