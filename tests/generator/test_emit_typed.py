"""Emitter of the typed classes (generated/modules, generated/iods) on a tiny hand-built model."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dicompile.generator.emit.typed_classes import emit_typed, py_doc
from dicompile.generator.emit.typed_names import file_stem, natural_key, pascal, snake
from dicompile.generator.emit.typed_plan import PlanError, value_type
from dicompile.generator.iod_build import SOPClassIOD
from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeType,
    IODDef,
    MacroDef,
    ModuleDef,
    ModuleUse,
    Part03Model,
    Usage,
)
from dicompile.generator.model import DataElementDef, Provenance, TagPattern, UIDDef

P3 = Provenance("PS3.3", "2020", "table_X", "tiny/modules.json")
P6 = Provenance("PS3.6", "2020", "attributes.json", "tiny/attributes.json")

# tag, keyword, VR, VM
_ELEMENTS = [
    ("00080016", "SOPClassUID", "UI", "1"),
    ("00080018", "SOPInstanceUID", "UI", "1"),
    ("00080100", "CodeValue", "SH", "1"),
    ("00080102", "CodingSchemeDesignator", "SH", "1"),
    ("00080104", "CodeMeaning", "LO", "1"),
    ("00082218", "AnatomicRegionSequence", "SQ", "1"),
    ("00082220", "AnatomicRegionModifierSequence", "SQ", "1"),
    ("00100010", "PatientName", "PN", "1"),
    ("00100020", "PatientID", "LO", "1"),
    ("00101000", "OtherPatientIDs", "LO", "1-n"),
    ("00101002", "OtherPatientIDsSequence", "SQ", "1"),
    ("00080008", "ImageType", "CS", "2-n"),
    ("00280106", "SmallestImagePixelValue", "US or SS", "1"),
    ("00282000", "ICCProfile", "OB", "1"),
    ("7FE00010", "PixelData", "OB or OW", "1"),
    ("60xx3000", "OverlayData", "OB or OW", "1"),
    ("00100030", "PatientBirthDate", "DA", "1"),
]
ELEMENTS = [
    DataElementDef(TagPattern(tag), keyword, keyword, vr, vm, False, P6)
    for tag, keyword, vr, vm in _ELEMENTS
]


def rule(
    tag: str,
    kind: str,
    *children: AttributeRule,
    path: str = "",
    condition: str = "",
) -> AttributeRule:
    return AttributeRule(
        tag=TagPattern(tag),
        name=tag,
        path=path or tag,
        type=AttributeType.parse(kind),
        description="",
        condition=condition,
        provenance=P3,
        children=children,
    )


def code_rules() -> tuple[AttributeRule, ...]:
    return (rule("00080100", "1C", condition="Required if 'x'."), rule("00080102", "1C"))


def tiny_model() -> Part03Model:
    macro = MacroDef("table_8.8-1", "Code Sequence", "8.8", code_rules(), P3)
    macro = MacroDef(macro.key, macro.name, macro.section, macro.entries, P3, expanded=code_rules())
    ids_item = (rule("00100020", "1"), rule("00101000", "3"))
    module_rules = (
        rule("00100010", "2"),
        rule("00100020", "1"),
        rule("00101000", "3"),
        rule("00100030", "2C", condition='Required if "known".'),
        rule("00082218", "3", *code_rules()),  # the macro's structure: its class
        rule("00101002", "2", *ids_item),  # a new item: nested class
        rule("00082220", "1C", *ids_item),  # the same structure again: shared
        rule("00080008", "1"),
        rule("00280106", "3"),
        rule("7FE00010", "1C"),
        rule("60xx3000", "1C"),
        rule("00282000", "3", *code_rules()),  # children under a non-sequence: ignored
        rule("00409999", "3"),  # not in the dictionary: skipped and counted
    )
    module = ModuleDef("table_C.7-1", "Patient", "", module_rules, P3, expanded=module_rules)
    sop_rules = (rule("00080016", "1"), rule("00080018", "1"))
    sop = ModuleDef("table_C.12-1", "SOP Common", "", sop_rules, P3, expanded=sop_rules)
    iod = IODDef(
        "table_A.3-1",
        "CT Image",
        "",
        (
            ModuleUse("Patient", "table_C.7-1", "patient", Usage.MANDATORY, "", P3, "C.7.1.1"),
            ModuleUse("Image", "table_C.12-1", "sop", Usage.CONDITIONAL, "Required if y.", P3),
        ),
        P3,
    )
    return Part03Model(
        edition="2020",
        source_files=("tiny/modules.json",),
        iods=(iod,),
        modules=(module, sop),
        macros=(macro,),
    )


SOPS = [SOPClassIOD("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", "table_A.3-1", P3)]
UIDS = [
    UIDDef(
        "1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", "CTImageStorage", "SOP Class", False, P6
    )
]


@pytest.fixture(scope="module")
def emitted() -> dict[str, str]:
    files, _ = emit_typed(tiny_model(), ELEMENTS, sop_classes=SOPS, uids=UIDS)
    return {f.path: f.text for f in files}


def test_names() -> None:
    assert snake("SOPClassUID") == "sop_class_uid"
    assert snake("OtherPatientIDsSequence") == "other_patient_ids_sequence"
    assert snake("PatientName") == "patient_name"
    assert snake("FIELDS") == "fields"
    assert pascal("CT Image", "Module") == "CTImageModule"
    assert pascal("CT Image", "IOD") == "CTImage"
    assert pascal("12-Lead ECG", "IOD") == "IOD12LeadECG"
    assert pascal("Patient's Medical", "Module") == "PatientsMedicalModule"
    assert file_stem("12-Lead ECG", "IOD") == "iod_12_lead_ecg"
    assert file_stem("X-Ray 3D Angiographic Image") == "x_ray_3d_angiographic_image"
    assert sorted(["table_10-11", "table_10-2", "table_8.8-1"], key=natural_key) == [
        "table_8.8-1",
        "table_10-2",
        "table_10-11",
    ]


def test_value_types() -> None:
    tag = TagPattern("00280106")
    assert value_type("US or SS", "1", tag) == "int"
    assert value_type("DS", "3", tag) == "tuple[float, ...]"
    assert value_type("US or OW", "1-n or 1", tag) == "tuple[int, ...] | bytes"
    assert value_type("OB or OW", "1", TagPattern("7FE00010")) == "bytes | Encapsulated"
    with pytest.raises(PlanError):
        value_type("XX", "1", tag)


def test_files(emitted: dict[str, str]) -> None:
    assert sorted(emitted) == [
        "iods/__init__.py",
        "iods/ct_image.py",
        "modules/__init__.py",
        "modules/macros/__init__.py",
        "modules/macros/code_sequence.py",
        "modules/patient.py",
        "modules/sop_common.py",
    ]
    for path, text in emitted.items():
        compile(text, path, "exec")  # valid Python
        assert text.startswith("# Generated by dicompile.generator from:\n")


def test_fields_by_type(emitted: dict[str, str]) -> None:
    text = emitted["modules/patient.py"]
    lines = [line.strip() for line in text.splitlines()]
    assert "patient_name: PersonName | None" in lines  # Type 2: required, may be None
    assert "patient_id: str" in lines  # Type 1
    assert "other_patient_ids: tuple[str, ...] | None = None" in lines  # Type 3, VM 1-n
    assert "patient_birth_date: DA | Empty | None = None" in lines  # Type 2C
    assert "image_type: tuple[str, ...]" in lines
    assert "smallest_image_pixel_value: int | None = None" in lines
    assert "pixel_data: bytes | Encapsulated | None = None" in lines
    assert "overlay_data: bytes | None = None" in lines
    assert "icc_profile: bytes | None = None" in lines
    doc = '"""(0010,0010) PN, VM 1, Type 2 — 00100010; PS3.3 C.7.1.1."""'
    assert doc in lines
    assert 'Required if \\"known\\".' in text or 'Required if "known"' in text


def test_items_shared_and_macros_referenced(emitted: dict[str, str]) -> None:
    text = emitted["modules/patient.py"]
    lines = [line.strip() for line in text.splitlines()]
    # The item equal to the macro is the macro's class, imported.
    assert "anatomic_region_sequence: tuple[CodeSequenceMacro, ...] | None = None" in lines
    assert "from dicompile.generated.modules.macros.code_sequence import CodeSequenceMacro" in text
    # The first new item is nested; the same structure later refers to it.
    assert "other_patient_ids_sequence: tuple[OtherPatientIDsSequenceItem, ...]" in lines
    assert (
        "anatomic_region_modifier_sequence:"
        " tuple[PatientModule.OtherPatientIDsSequenceItem, ...] | None = None"
    ) in lines
    assert text.count("class OtherPatientIDsSequenceItem(TypedAttributes):") == 1
    assert (
        'field("other_patient_ids_sequence", 0x00101002, "SQ", False, "2",'
        " PatientModule.OtherPatientIDsSequenceItem),"
    ) in lines
    assert 'field("overlay_data", 0x60003000, "OB or OW", False, "1C"),' in lines
    assert "00409999" not in text


def test_report_counts() -> None:
    _, report = emit_typed(tiny_model(), ELEMENTS)
    assert report.plan.unknown_tags == ("00409999",)
    assert report.plan.children_of_non_sequence == 1
    assert report.plan.shared_references == 2  # macro-structured item, repeated item
    assert report.plan.item_classes == 1
    assert report.iods_without_sop_class == ("table_A.3-1",)


def test_iod(emitted: dict[str, str]) -> None:
    text = emitted["iods/ct_image.py"]
    lines = [line.strip() for line in text.splitlines()]
    assert "SOP_CLASS_UIDS: Final[tuple[str, ...]] = (uids.CTImageStorage,)" in lines
    assert "patient: PatientModule" in lines
    assert "sop_common: SOPCommonModule | None = None" in lines
    assert 'ModuleSlot("sop_common", SOPCommonModule, "Image", "C", "Required if y."),' in lines
    registry = emitted["iods/__init__.py"]
    assert '"1.2.840.10008.5.1.4.1.1.2": ("dicompile.generated.iods.ct_image", "CTImage"),' in (
        registry
    )


def test_deterministic() -> None:
    first, _ = emit_typed(tiny_model(), ELEMENTS, sop_classes=SOPS, uids=UIDS)
    second, _ = emit_typed(tiny_model(), ELEMENTS, sop_classes=SOPS, uids=UIDS)
    assert first == second


def test_py_doc_escapes() -> None:
    assert eval(py_doc('a "b"')) == 'a "b"'
    assert eval(py_doc("x\\y")) == "x\\y"
    assert eval(py_doc('say """no"""')) == 'say """no"""'


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
