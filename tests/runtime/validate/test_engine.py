"""The validator on hand-built Data Sets: each spoils one rule of PS3.3 2020, expects one finding.

The expected findings are written from the standard, not from the validator's output: the
module that holds the attribute (PS3.3 Annex C), its Type, the PS3.3 table, and the PS3.6 VR
and VM.  The starting point, :func:`builders.ct_image`, conforms (first test).
"""

from __future__ import annotations

import pytest

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.validate.engine import validate
from dicompile.runtime.validate.findings import Finding, Kind, NoteKind, Severity

from .builders import CT_IMAGE_STORAGE, code, ct_image, item, sequence

ERROR, WARNING = Severity.ERROR, Severity.WARNING
CT_IOD = "PS3.3 2020 table_A.3-1"


def findings(ds: Dataset) -> tuple[Finding, ...]:
    return validate(ds).findings


def test_conforming_ct_image_has_no_finding() -> None:
    report = validate(ct_image())
    assert report.findings == ()
    assert report.ok
    assert (report.iod, report.iod_key, report.sop_class_uid) == (
        "CT Image",
        "table_A.3-1",
        CT_IMAGE_STORAGE,
    )
    # Pixel Data Provider URL (0028,7FE0): its condition names a transfer syntax, which the
    # grammar does not read; it is reported as not checked, never guessed.
    assert [(n.kind, n.path) for n in report.notes] == [(NoteKind.NOT_CHECKED, "(0028,7FE0)")]


def test_missing_type_1() -> None:
    ds = ct_image()
    del ds["Modality"]  # General Series Module, PS3.3 C.7.3.1, Type 1
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.MISSING,
            0x00080060,
            "(0008,0060)",
            "General Series",
            "Type 1",
            "(0008,0060) Modality is required (Type 1) and absent",
            "PS3.3 2020 table_C.7-5a",
        ),
    )


def test_empty_type_1() -> None:
    ds = ct_image()
    ds["Modality"] = ""
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.EMPTY,
            0x00080060,
            "(0008,0060)",
            "General Series",
            "Type 1",
            "(0008,0060) Modality is Type 1 and has no value",
            "PS3.3 2020 table_C.7-5a",
        ),
    )


def test_missing_type_2_but_empty_is_fine() -> None:
    ds = ct_image()
    ds["PatientName"] = ""  # Type 2: present with zero length conforms (PS3.5 §7.4.3)
    assert findings(ds) == ()
    del ds["PatientName"]
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.MISSING,
            0x00100010,
            "(0010,0010)",
            "Patient",
            "Type 2",
            "(0010,0010) PatientName is required (Type 2) and absent",
            "PS3.3 2020 table_C.7-1",
        ),
    )


def test_type_1c_required_by_its_condition() -> None:
    # VOI LUT Module (C.11.2, usage U in the CT Image IOD): Window Width (0028,1051) is Type 1C,
    # "Required if Window Center (0028,1050) is present".
    ds = ct_image()
    ds["WindowCenter"] = 40
    (finding,) = findings(ds)
    assert (finding.severity, finding.kind, finding.tag, finding.path) == (
        ERROR,
        Kind.MISSING,
        0x00281051,
        "(0028,1051)",
    )
    assert (finding.module, finding.source) == ("VOI LUT", "PS3.3 2020 table_C.11-2")
    assert finding.rule.startswith("Type 1C: Required if Window Center (0028,1050) is present")
    ds["WindowWidth"] = 400
    assert findings(ds) == ()


def test_enumerated_value_is_an_error() -> None:
    # CT Image Module (C.8.2.1.1.3): Photometric Interpretation, Enumerated Values
    # MONOCHROME1, MONOCHROME2.  (The Image Pixel Module's Defined Terms allow RGB.)
    ds = ct_image()
    ds["PhotometricInterpretation"] = "RGB"
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.ENUMERATED_VALUE,
            0x00280004,
            "(0028,0004)",
            "CT Image",
            "Enumerated Values",
            "(0028,0004) PhotometricInterpretation value 1 'RGB' is not one of the Enumerated"
            " Values (MONOCHROME1, MONOCHROME2)",
            "PS3.3 2020 table_C.8-3",
        ),
    )


def test_defined_term_is_a_warning() -> None:
    # CT Image Module (C.8.2.1): Exposure Modulation Type (0018,9323), Defined Terms NONE.
    ds = ct_image()
    ds["ExposureModulationType"] = "WOBBLE"
    assert findings(ds) == (
        Finding(
            WARNING,
            Kind.DEFINED_TERM,
            0x00189323,
            "(0018,9323)",
            "CT Image",
            "Defined Terms",
            "(0018,9323) ExposureModulationType value 1 'WOBBLE' is not one of the Defined"
            " Terms (NONE)",
            "PS3.3 2020 table_C.8-3",
        ),
    )


def test_attribute_no_module_of_the_iod_allows() -> None:
    # Spacing Between Slices (0018,0088) belongs to MR and other modules, not to any module
    # of the CT Image IOD (PS3.3 A.3): a Standard Extended SOP Class (PS3.4 B.1.3), a warning.
    ds = ct_image()
    ds["SpacingBetweenSlices"] = 1.0
    ds.set(0x00091010, b"private", "OB")  # private attributes are never reported
    assert findings(ds) == (
        Finding(
            WARNING,
            Kind.NOT_IN_IOD,
            0x00180088,
            "(0018,0088)",
            "",
            "IOD",
            "(0018,0088) SpacingBetweenSlices is not an attribute of any module of the CT Image"
            " IOD",
            CT_IOD,
        ),
    )


def test_wrong_vm() -> None:
    # Pixel Spacing (0028,0030) has VM 2 (PS3.6); Image Plane Module (C.7.6.2).
    ds = ct_image()
    ds["PixelSpacing"] = (0.5, 0.5, 0.5)
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.VM,
            0x00280030,
            "(0028,0030)",
            "Image Plane",
            "VM",
            "(0028,0030) PixelSpacing has 3 value(s); its VM is 2",
            "PS3.6 (data dictionary)",
        ),
    )


def test_wrong_vr() -> None:
    # Rows (0028,0010) is US (PS3.6); an SS element is wrong wherever it is read from.
    ds = ct_image()
    ds.add(DataElement(0x00280010, VR.SS, 2))
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.VR,
            0x00280010,
            "(0028,0010)",
            "Image Pixel",
            "VR",
            "(0028,0010) Rows has VR SS; the data dictionary gives US",
            "PS3.6 (data dictionary)",
        ),
    )


def test_unknown_sop_class() -> None:
    ds = ct_image()
    ds["SOPClassUID"] = "1.2.3.999"
    report = validate(ds)
    assert report.iod == ""
    assert report.findings == (
        Finding(
            ERROR,
            Kind.UNKNOWN_SOP_CLASS,
            0x00080016,
            "(0008,0016)",
            "",
            "PS3.4 B.5",
            "SOP Class UID 1.2.3.999 is not a Storage SOP Class of an IOD in the requirement"
            " tables (PS3.3 2020): not validated",
            "PS3.4 Table B.5-1",
        ),
    )
    del ds["SOPClassUID"]
    (missing,) = validate(ds).findings
    assert missing.kind is Kind.NO_SOP_CLASS


def test_sop_class_from_the_file_meta() -> None:
    ds = ct_image()
    del ds["SOPClassUID"]
    meta = Dataset()
    meta.set(0x00020002, CT_IMAGE_STORAGE, "UI")
    report = validate(ds, meta=meta)
    assert report.iod == "CT Image"
    # (0008,0016) is still Type 1 in the SOP Common Module.
    assert [(f.kind, f.tag, f.module) for f in report.findings] == [
        (Kind.MISSING, 0x00080016, "SOP Common")
    ]


def test_mandatory_module_missing() -> None:
    # General Equipment (C.7.5.1, usage M) has one Type 2 attribute, Manufacturer.
    ds = ct_image()
    del ds["Manufacturer"]
    assert findings(ds) == (
        Finding(
            ERROR,
            Kind.MODULE_MISSING,
            None,
            "",
            "General Equipment",
            "usage M",
            "the General Equipment Module is required (CT Image IOD, usage M) and none of its"
            " attributes is present",
            CT_IOD,
        ),
    )


def test_conditional_module_required_by_its_condition() -> None:
    # CT Image IOD: the Multi-energy CT Image Module is "C - Required if Multi-energy CT
    # Acquisition (0018,9361) is YES".
    ds = ct_image()
    ds["MultienergyCTAcquisition"] = "YES"
    kinds = {(f.kind, f.module) for f in findings(ds)}
    assert (Kind.MODULE_MISSING, "Multi-energy CT Image") in kinds
    ds["MultienergyCTAcquisition"] = "NO"
    assert findings(ds) == ()


def test_undecidable_conditional_module_is_checked_when_present_and_noted() -> None:
    # Contrast/Bolus (C.7.6.4): "C - Required if contrast media was used in this image".
    ds = ct_image()
    assert not any(n.module == "Contrast/Bolus" for n in validate(ds).notes)
    ds["ContrastBolusRoute"] = "IV"
    report = validate(ds)
    assert any(n.kind is NoteKind.ASSUMED and n.module == "Contrast/Bolus" for n in report.notes)
    # Contrast/Bolus Agent (0018,0010) is Type 2 in the module.
    assert [(f.kind, f.tag) for f in report.findings] == [(Kind.MISSING, 0x00180010)]


def test_sequence_items_and_their_rules() -> None:
    # General Image Module: Anatomic Region Sequence (0008,2218), "Only a single Item is
    # permitted"; its Items follow the Code Sequence Macro (Table 8.8-1), where Code
    # Meaning (0008,0104) is Type 1.
    ds = ct_image()
    code = item(CodeValue="T-D3000", CodingSchemeDesignator="SRT", CodeMeaning="Chest")
    ds["AnatomicRegionSequence"] = sequence(code)
    assert findings(ds) == ()
    ds["AnatomicRegionSequence"] = sequence(code, code)
    counted = [f for f in findings(ds) if f.kind is Kind.ITEM_COUNT]
    assert [(f.path, f.message) for f in counted] == [
        ("(0008,2218)", "(0008,2218) AnatomicRegionSequence has 2 Items; at most 1 are allowed")
    ]
    ds["AnatomicRegionSequence"] = sequence(item(CodeValue="T-D3000", CodingSchemeDesignator="SRT"))
    missing = [f for f in findings(ds) if f.kind is Kind.MISSING]
    assert [(f.path, f.tag) for f in missing] == [("(0008,2218)[1]/(0008,0104)", 0x00080104)]


def test_item_attribute_not_in_the_item() -> None:
    ds = ct_image()
    code = item(CodeValue="T-D3000", CodingSchemeDesignator="SRT", CodeMeaning="Chest")
    code["PatientName"] = "Nobody"  # not an attribute of a Code Sequence Item
    ds["AnatomicRegionSequence"] = sequence(code)
    # Both the General Image and the CT Image Modules list the Sequence: one finding, both
    # modules named.
    (extra,) = findings(ds)
    assert (extra.severity, extra.kind, extra.path, extra.module) == (
        WARNING,
        Kind.NOT_IN_IOD,
        "(0008,2218)[1]/(0010,0010)",
        "General Image, CT Image",
    )


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("BitsAllocated", 8), ("SamplesPerPixel", 3)],
)
def test_numeric_enumerated_values(keyword: str, value: int) -> None:
    # CT Image Module: Bits Allocated Enumerated Value 16, Samples per Pixel 1 (C.8.2.1.1.2,
    # C.8.2.1.1.4); compared as numbers.
    ds = ct_image()
    ds[keyword] = value
    enumerated = [f for f in findings(ds) if f.kind is Kind.ENUMERATED_VALUE]
    assert [(f.module, f.tag) for f in enumerated] == [("CT Image", ds[keyword].tag)]


def test_coding_scheme_version_required_where_the_instance_makes_the_code_ambiguous() -> None:
    # Code Sequence Macro (PS3.3 Table 8.8-1a): Coding Scheme Version (0008,0103) is Type 1C,
    # "required if the Coding Scheme Designator is not sufficient to identify the Code Value
    # unambiguously".  By §8.2 a designator names its scheme as a whole, so the instance
    # itself must show the ambiguity: the same code under two versions.  Procedure Code
    # Sequence (0008,1032) is in the General Study Module (C.7.2.1).
    def coded(version: str | None) -> Dataset:
        entry = code("T-D1100", "SRT", "Head")
        if version is not None:
            entry["CodingSchemeVersion"] = version
        return entry

    ds = ct_image()
    ds["ProcedureCodeSequence"] = sequence(coded(None), coded("1.1"))
    assert findings(ds) == ()  # one version: "T-D1100" means one thing in this instance

    ds["ProcedureCodeSequence"] = sequence(coded(None), coded("1.1"), coded("2.0"))
    (finding,) = findings(ds)
    assert (finding.severity, finding.kind, finding.tag, finding.path) == (
        ERROR,
        Kind.MISSING,
        0x00080103,
        "(0008,1032)[1]/(0008,0103)",
    )
    assert finding.rule.startswith("Type 1C: Required if the value of Coding Scheme Designator")

    # The versions may come from anywhere in the instance, nested Items included
    # (Equivalent Code Sequence (0008,0121), Table 8.8-1a).
    nested = coded("1.1")
    nested["EquivalentCodeSequence"] = sequence(coded("2.0"))
    ds["ProcedureCodeSequence"] = sequence(coded(None), nested)
    (finding,) = findings(ds)
    assert finding.path == "(0008,1032)[1]/(0008,0103)"
    # Another code's versions, or the same code of another scheme, do not count.
    other = coded("2.0")
    other["CodingSchemeDesignator"] = "SCT"
    ds["ProcedureCodeSequence"] = sequence(coded(None), coded("1.1"), other)
    assert findings(ds) == ()
