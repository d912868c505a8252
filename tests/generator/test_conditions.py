"""Tests of the condition parser, its three-way classification and the evaluator (issue #4).

Sentences are copied from the standard: "2020 <module or macro id> <tag>" cites the JSON
rendition of PS3.3 2020 (``../shared/standard-json/innolitics-2020``, module_to_attributes.json
/ macro_to_attributes.json by moduleId/macroId and the conditioned attribute; "usage <IOD>
<module>" cites ciod_to_modules.json); "2016c" cites the PS3.3 2016c DocBook excerpt.  The
expected trees were written from the sentence and PS3.3/PS3.5, not from the parser's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.generator.conditions import (
    CODE_VALUE_PATHS,
    Absent,
    AmbiguousCode,
    And,
    CodedValue,
    Compare,
    CompareOp,
    Condition,
    ContainsCode,
    CountCompare,
    Decidability,
    Empty,
    Equals,
    HasValue,
    IsUrnOrUrl,
    LengthCompare,
    NameEntry,
    NameIndex,
    Not,
    OneOf,
    Or,
    Presence,
    Present,
    PrivateTagValue,
    Scalar,
    Undecidable,
    UndecidableReason,
    Unparsed,
    classify,
    condition_sentences,
    conditional_module,
    evaluate,
    evaluate_expr,
    html_cell_text,
    join_paragraphs,
    parse_condition,
    render,
    verdict,
)
from dicompile.generator.conditions_audit import (
    audit_docbook,
    audit_json_2020,
    name_index_from_json,
)

# Names, tags and VRs as PS3.6 (2020) lists them: a hand-picked slice of the dictionary.
ENTRIES = (
    NameEntry("Image Type", 0x00080008, "CS"),
    NameEntry("Frame Type", 0x00089007, "CS"),
    NameEntry("Code Value", 0x00080100, "SH"),
    NameEntry("Long Code Value", 0x00080119, "UC"),
    NameEntry("URN Code Value", 0x00080120, "UR"),
    NameEntry("Coding Scheme Designator", 0x00080102, "SH"),
    NameEntry("Coding Scheme Version", 0x00080103, "SH"),
    NameEntry("Context Group Extension Flag", 0x0008010B, "CS"),
    NameEntry("Selector Attribute VR", 0x00720050, "CS"),
    NameEntry("Respiratory Motion Compensation Technique", 0x00189170, "CS"),
    NameEntry("Respiratory Trigger Type", 0x00209250, "CS"),
    NameEntry("Dimension Organization Type", 0x00209311, "CS"),
    NameEntry("Modality", 0x00080060, "CS"),
    NameEntry("Number of Frames", 0x00280008, "IS"),
    NameEntry("Samples per Pixel", 0x00280002, "US"),
    NameEntry("Material ID", 0x300A00E1, "SH"),
    NameEntry("Frame Increment Pointer", 0x00280009, "AT"),
    NameEntry("Frame Time Vector", 0x00181065, "DS"),
    NameEntry("Frame Time", 0x00181063, "DS"),
    NameEntry("Phase Vector", 0x00540030, "US"),
    NameEntry("Selector Attribute", 0x00720026, "AT"),
    NameEntry("Acquisition Device Type Code Sequence", 0x00220015, "SQ"),
    NameEntry("Content Item Modifier Sequence", 0x00400441, "SQ"),
    NameEntry("Performed Protocol Code Sequence", 0x00400260, "SQ"),
    NameEntry("DICOM Retrieval Sequence", 0x0040E021, "SQ"),
    NameEntry("DICOM Media Retrieval Sequence", 0x0040E022, "SQ"),
    NameEntry("WADO Retrieval Sequence", 0x0040E023, "SQ"),
    NameEntry("WADO-RS Retrieval Sequence", 0x0040E025, "SQ"),
    NameEntry("XDS Retrieval Sequence", 0x0040E024, "SQ"),
    NameEntry("Exposure Time", 0x00181150, "IS"),
    NameEntry("X-Ray Tube Current", 0x00181151, "IS"),
    NameEntry("Photometric Interpretation", 0x00280004, "CS"),
    NameEntry("Pixel Presentation", 0x00089205, "CS"),
    NameEntry("SOP Class UID", 0x00080016, "UI"),
    NameEntry("Referenced SOP Class UID", 0x00081150, "UI"),
    NameEntry("Concept Name Code Sequence", 0x0040A043, "SQ"),
    NameEntry("Unformatted Text Value", 0x00700006, "ST"),
    NameEntry("Conceptual Volume Category Code Sequence", 0x30100067, "SQ"),
    NameEntry("Observer Type", 0x0040A084, "CS"),
    NameEntry("Numeric Value", 0x0040A30A, "DS"),
    NameEntry("Referenced Segment Number", 0x0062000B, "US"),
    NameEntry("Rescale Intercept", 0x00281052, "DS"),
    NameEntry("Modality LUT Sequence", 0x00283000, "SQ"),
    NameEntry("Pixel Component Organization", 0x00186044, "US"),
    NameEntry("Conversion Type", 0x00080064, "CS"),
    NameEntry("Pixel Data", 0x7FE00010, "OB or OW"),
    NameEntry("Compound Graphic Type", 0x00700294, "CS"),
    NameEntry("Global Crop", 0x0070120B, "CS"),
    NameEntry("Crop", 0x00701204, "CS"),
    NameEntry("Cornea Measurement Method Code Sequence", 0x00460116, "SQ"),
    NameEntry("Control Point Sequence", 0x300A0111, "SQ"),
    NameEntry("Gantry Angle", 0x300A011E, "DS"),
    NameEntry("Minimum Number of Interval Days", 0x30100050, "FD"),
    NameEntry("Maximum Number of Interval Days", 0x30100051, "FD"),
    NameEntry("Patient Identity Removed", 0x00120062, "CS"),
    NameEntry("De-identification Method", 0x00120063, "LO"),
    NameEntry("Image Box Layout Type", 0x00720304, "CS"),
    NameEntry("Image Box Tile Horizontal Dimension", 0x00720306, "US"),
    NameEntry("Image Box Tile Vertical Dimension", 0x00720308, "US"),
    NameEntry("Filter-by Category", 0x00720402, "CS"),
    NameEntry("Filter-by Operator", 0x00720406, "CS"),
    NameEntry("Frame of Reference UID", 0x00200052, "UI"),
    NameEntry("Fiducial Set Sequence", 0x0070031C, "SQ"),
    NameEntry("Graphic Layer", 0x00700002, "CS"),
    NameEntry("Palette Color Lookup Table UID", 0x00281199, "UI"),
    NameEntry("Series Type", 0x00541000, "CS"),
    NameEntry("Sequence Variant", 0x00180021, "CS"),
    NameEntry("Scanning Sequence", 0x00180020, "CS"),
    NameEntry("Bits Stored", 0x00280101, "US"),
    NameEntry("Patient's Birth Date in Alternative Calendar", 0x00100033, "LO"),
    NameEntry("Patient's Death Date in Alternative Calendar", 0x00100034, "LO"),
    NameEntry("Multi-energy CT Acquisition", 0x00189361, "CS"),
    NameEntry("Acquisition Type", 0x00189302, "CS"),
    NameEntry("Value Type", 0x0040A040, "CS"),
    NameEntry("Referenced Frame Number", 0x00081160, "IS"),
    NameEntry("Referenced Image Sequence", 0x00081140, "SQ"),
    NameEntry("Text Value", 0x0040A160, "UT"),
    NameEntry("Responsible Person", 0x00102297, "PN"),
    NameEntry("Table Motion", 0x00181134, "CS"),
    NameEntry("Item", 0xFFFEE000, None),  # PS3.5 §7.5: a word that must not become a REF
)
NAMES = NameIndex(ENTRIES)

IMAGE_TYPE = (0x00080008,)
FRAME_TYPE = (0x00089007,)
SOP_CLASS_UID = (0x00080016,)


def parse(text: str) -> Condition:
    result = parse_condition(text, names=NAMES)
    assert isinstance(result, Condition), result
    return result


def present_and_not(path: tuple[int, ...], *values: str, index: int | None = None) -> And:
    """ "X is not V" / "X is other than V, W": present, and no value among them."""
    inner = Equals(path, values[0], index) if len(values) == 1 else OneOf(path, values, index)
    return And((Present(path), Not(inner)))


# --- parsing: real sentences and the tree they mean -----------------------------------

CASES: list[tuple[str, str, object]] = [
    (
        "2020 multi-energy-ct-image (0018,9330)",
        "Required if Frame Type (0008,9007) Value 1 of this frame is ORIGINAL. "
        "May be present otherwise.",
        Equals(FRAME_TYPE, "ORIGINAL", 1),
    ),
    (
        "2020 macro basic-code-sequence (0008,0100)",
        "The identifier of the Coded Entry. See Section 8.1. Shall be present if the code value "
        "length is 16 characters or less, and the code value is not a URN or URL.",
        And(
            (
                LengthCompare(CompareOp.LE, CODE_VALUE_PATHS, 16),
                Not(IsUrnOrUrl(CODE_VALUE_PATHS)),
            )
        ),
    ),
    (
        "2020 macro basic-code-sequence (0008,0120)",
        "Shall be present if Code Value (0008,0100) is not present and the Code Value is a URN "
        "or URL.",
        And((Absent((0x00080100,)), IsUrnOrUrl(CODE_VALUE_PATHS))),
    ),
    (
        "2020 macro basic-code-sequence (0008,0102)",
        "Shall be present if Code Value (0008,0100) or Long Code Value (0008,0119) is present. "
        "May be present otherwise.",
        Or((Present((0x00080100,)), Present((0x00080119,)))),
    ),
    (
        "2020 macro code-sequence (0008,0107)",
        "See Section 8.7. Required if the value of Context Group Extension Flag (0008,010B) is "
        '"Y".',
        Equals((0x0008010B,), "Y"),
    ),
    (
        "2020 rt-image (0018,0060)",
        "Required if Value 3 of Image Type (0008,0008) is PORTAL, SIMULATOR or RADIOGRAPH.",
        OneOf(IMAGE_TYPE, ("PORTAL", "SIMULATOR", "RADIOGRAPH"), 3),
    ),
    (
        "2020 nm-detector (0018,1110)",
        "Required if Image Type (0008,0008) Value 4 is TRANSMISSION and Value 3 is not any of "
        "TOMO, GATED TOMO, RECON TOMO or RECON GATED TOMO.",
        And(
            (
                Equals(IMAGE_TYPE, "TRANSMISSION", 4),
                Present(IMAGE_TYPE),
                Not(OneOf(IMAGE_TYPE, ("TOMO", "GATED TOMO", "RECON TOMO", "RECON GATED TOMO"), 3)),
            )
        ),
    ),
    (
        "2020 content-assessment-results (0072,005E)",
        "Required if Selector Attribute VR (0072,0050) is present and the value is AE.",
        Equals((0x00720050,), "AE"),
    ),
    (
        "2020 macro respiratory-synchronization (0020,9254)",
        "Required if Respiratory Motion Compensation Technique (0018,9170) equals other than NONE "
        "or REALTIME and Respiratory Trigger Type (0020,9250) is absent or has a value of TIME or "
        "BOTH.",
        And(
            (
                Present((0x00189170,)),
                Not(OneOf((0x00189170,), ("NONE", "REALTIME"))),
                Or((Absent((0x00209250,)), OneOf((0x00209250,), ("TIME", "BOTH")))),
            )
        ),
    ),
    (
        "2020 multi-frame-dimension (0020,9222)",
        "Required if Dimension Organization Type (0020,9311) is absent or not TILED_FULL.",
        Or((Absent((0x00209311,)), present_and_not((0x00209311,), "TILED_FULL"))),
    ),
    (
        "2020 x-ray-3d-angiographic-acquisition (0018,0012)",
        "Required if Modality (0008,0060) is MG and contrast media was applied.",
        And(
            (
                Equals((0x00080060,), "MG"),
                Undecidable("contrast media was applied", UndecidableReason.NO_ATTRIBUTE),
            )
        ),
    ),
    (
        "usage multi-frame-single-bit-sc-image sc-multi-frame-vector (name only)",
        "Required if Number of Frames is greater than 1",
        Compare(CompareOp.GT, (0x00280008,), 1),
    ),
    (
        "2020 general-image (0028,0006)",
        "Required if Samples per Pixel (0028,0002) has a value greater than 1.",
        Compare(CompareOp.GT, (0x00280002,), 1),
    ),
    (
        "2020 rt-beams (300A,0102)",
        "Required if Material ID (300A,00E1) is zero length.",
        Empty((0x300A00E1,)),
    ),
    (
        "2020 rt-beams (300A,0102) second form",
        "Required if Material ID (300A,00E1) is non-zero length.",
        HasValue((0x300A00E1,)),
    ),
    (
        "2020 sc-multi-frame-vector (0018,1065)",
        "Required if Frame Increment Pointer (0028,0009) points to Frame Time Vector (0018,1065).",
        Equals((0x00280009,), 0x00181065),
    ),
    (
        "2020 nm-multi-frame (0054,0030)",
        "Required if the value of Frame Increment Pointer (0028,0009) includes the Tag for Phase "
        "Vector (0054,0030).",
        Equals((0x00280009,), 0x00540030),
    ),
    (
        "usage (Frame Increment Pointer with tag values)",
        "Required if Frame Increment Pointer (0028,0009) is Frame Time (0018,1063) or Frame Time "
        "Vector (0018,1065)",
        OneOf((0x00280009,), (0x00181063, 0x00181065)),
    ),
    (
        "2020 sop-common (0072,0056)",
        "Required if the Selector Attribute (0072,0026) value is the Data Element Tag of a "
        "Private Attribute.",
        PrivateTagValue((0x00720026,)),
    ),
    (
        "2020 ophthalmic-tomography-parameters (0022,0055)",
        "Required if Acquisition Device Type Code Sequence (0022,0015) contains an Item with the "
        'value (392012008, SCT, "Optical Coherence Tomography Scanner"). May be present otherwise.',
        ContainsCode(
            (0x00220015,),
            (CodedValue("392012008", "SCT", "Optical Coherence Tomography Scanner"),),
        ),
    ),
    (
        "2020 visual-field-static-perimetry-test-parameters (0024,0016): nested path",
        "Required if Content Item Modifier Sequence (0040,0441) within Performed Protocol Code "
        'Sequence (0040,0260) contains an Item with the value (261004008, SCT, "Diagnostic").',
        ContainsCode((0x00400260, 0x00400441), (CodedValue("261004008", "SCT", "Diagnostic"),)),
    ),
    (
        "2020 intraocular-lens-calculations (0046,0117): scheme written first, name differs",
        "Required if Cornea Measurement Type Code Sequence (0046,0116) contains an item with the "
        'value (DCM, 111759, "Posterior Cornea Surface Measurement").',
        ContainsCode(
            (0x00460116,), (CodedValue("111759", "DCM", "Posterior Cornea Surface Measurement"),)
        ),
    ),
    (
        "2020 patient-identification (0040,E022)",
        "Required if DICOM Retrieval Sequence (0040,E021), WADO Retrieval Sequence (0040,E023), "
        "and WADO-RS Retrieval Sequence (0040,E025) and XDS Retrieval Sequence (0040,E024) are "
        "not present. May be present otherwise.",
        And(
            (
                Absent((0x0040E021,)),
                Absent((0x0040E023,)),
                Absent((0x0040E025,)),
                Absent((0x0040E024,)),
            )
        ),
    ),
    (
        "2020 x-ray-acquisition (0018,1152)",
        "Required if either Exposure Time (0018,1150) or X-Ray Tube Current (0018,1151) are not "
        "present. May be present otherwise.",
        Or((Absent((0x00181150,)), Absent((0x00181151,)))),
    ),
    (
        "2020 general-image (0028,1101)",
        "Required if Photometric Interpretation (0028,0004) has a value of PALETTE COLOR or Pixel "
        "Presentation (0008,9205) at the image level equals COLOR or MIXED.",
        Or(
            (
                Equals((0x00280004,), "PALETTE COLOR"),
                OneOf((0x00089205,), ("COLOR", "MIXED")),
            )
        ),
    ),
    (
        "2020 multi-energy-ct-image (0018,9328): ', or if' groups loosest",
        "Required if Frame Type (0008,9007) Value 1 of this frame is ORIGINAL, or if Image Type "
        "(0008,0008) Value 1 is ORIGINAL and Multi-energy CT Acquisition (0018,9361) is YES.",
        Or(
            (
                Equals(FRAME_TYPE, "ORIGINAL", 1),
                And((Equals(IMAGE_TYPE, "ORIGINAL", 1), Equals((0x00189361,), "YES"))),
            )
        ),
    ),
    (
        "2020 macro referenced-image (0040,A170): UIDs with glosses, 'and not'",
        'Required if SOP Class UID is not "1.2.840.10008.5.1.4.1.1.2.2" (Legacy Converted '
        'Enhanced CT Image Storage) and not "1.2.840.10008.5.1.4.1.1.4.4" (Legacy Converted '
        'Enhanced MR Image Storage) and not "1.2.840.10008.5.1.4.1.1.128.1" (Legacy Converted '
        "Enhanced PET Image Storage), may be present otherwise.",
        present_and_not(
            SOP_CLASS_UID,
            "1.2.840.10008.5.1.4.1.1.2.2",
            "1.2.840.10008.5.1.4.1.1.4.4",
            "1.2.840.10008.5.1.4.1.1.128.1",
        ),
    ),
    (
        "2020 segmentation-image (3006,0084): a UID written after its name",
        "Required if Referenced SOP Class UID (0008,1150) is RT Structure Set Storage "
        '("1.2.840.10008.5.1.4.1.1.481.3").',
        Equals((0x00081150,), "1.2.840.10008.5.1.4.1.1.481.3"),
    ),
    (
        "2020 rt-enhanced-prescription (3010,0069)",
        "Required if Conceptual Volume Category Code Sequence (3010,0067) sequence contains one "
        "Item.",
        CountCompare(CompareOp.EQ, (0x30100067,), 1),
    ),
    (
        "2020 sr-document-general (0008,1010): name only, 'value is'",
        "Required if Observer Type value is DEV.",
        Equals((0x0040A084,), "DEV"),
    ),
    (
        "2020 sc-multi-frame-image (0018,2010): value glosses",
        "Required if Conversion Type (0008,0064) is DF (Digitized Film). May also be present if "
        "Conversion Type (0008,0064) is SD (Scanned Document) or SI (Scanned Image).",
        Equals((0x00080064,), "DF"),
    ),
    (
        "2020 rt-dose (0028,0100): 'if' missing in the standard",
        "Required Pixel Data (7FE0,0010) is present.",
        Present((0x7FE00010,)),
    ),
    (
        "2020 graphic-annotation (0070,0279): stray full stop inside the list",
        "Required if Compound Graphic Type (0070,0294) equals RULER, AXIS. or CROSSHAIR.",
        OneOf((0x00700294,), ("RULER", "AXIS", "CROSSHAIR")),
    ),
    (
        "usage planar-mpr-volumetric-presentation-state volume-cropping: 'any value of'",
        "Required if Global Crop (0070,120B) or any value of Crop (0070,1204) is YES",
        Or((Equals((0x0070120B,), "YES"), Equals((0x00701204,), "YES"))),
    ),
    (
        "2020 rt-treatment-phase-intent (3010,004F): verb before its subjects",
        "Required if a value is present in Minimum Number of Interval Days (3010,0050) or Maximum "
        "Number of Interval Days (3010,0051).",
        Or((HasValue((0x30100050,)), HasValue((0x30100051,)))),
    ),
    (
        "2020 patient (0012,0064)",
        "Required if Patient Identity Removed (0012,0062) is present and has a value of YES and "
        "De-identification Method (0012,0063) is not present. May be present otherwise.",
        And((Equals((0x00120062,), "YES"), Absent((0x00120063,)))),
    ),
    (
        "2020 hanging-protocol-display (0072,0310)",
        "Required if the value of Image Box Layout Type (0072,0304) is TILED, and the value of "
        "Image Box Tile Horizontal Dimension (0072,0306) or Image Box Tile Vertical Dimension "
        "(0072,0308) is greater than 1.",
        And(
            (
                Equals((0x00720304,), "TILED"),
                Or(
                    (
                        Compare(CompareOp.GT, (0x00720306,), 1),
                        Compare(CompareOp.GT, (0x00720308,), 1),
                    )
                ),
            )
        ),
    ),
    (
        "2020 spatial-fiducials (3006,0050): 'in this Item of the … Sequence'",
        "Required if Frame of Reference UID (0020,0052) is present in this Item of the Fiducial "
        "Set Sequence (0070,031C).",
        Present((0x00200052,)),
    ),
    (
        "usage parametric-map palette-color-lookup-table: module qualifier",
        "Required if Pixel Presentation (0008,9205) in the Parametric Map image Module equals "
        "COLOR_RANGE and Palette Color Lookup Table UID (0028,1199) is not present.",
        And((Equals((0x00089205,), "COLOR_RANGE"), Absent((0x00281199,)))),
    ),
    (
        "usage planar-mpr-volumetric-presentation-state graphic-layer",
        "Required if Graphic Layer (0070,0002) is present in the Volumetric Graphic Annotation "
        "Module or the Graphic Annotation Module",
        Present((0x00700002,)),
    ),
    (
        "2020 nm-image (0018,1242): one sentence over three paragraphs",
        "Elapsed time for data acquisition in msec. Required if Image Type (0008,0008) Value 3 "
        "is: WHOLE BODY or STATIC.",
        OneOf(IMAGE_TYPE, ("WHOLE BODY", "STATIC"), 3),
    ),
    (
        "2020 (Sequence Variant / Scanning Sequence, 'or if')",
        "Required if Sequence Variant (0018,0021) is SK or if Scanning Sequence (0018,0020) is "
        "not EP. May be present otherwise.",
        Or((Equals((0x00180021,), "SK"), present_and_not((0x00180020,), "EP"))),
    ),
    (
        "2020 (name only, Responsible Person)",
        "Required if Responsible Person is present and has a value.",
        HasValue((0x00102297,)),
    ),
    (
        "2020 (name only, Table Motion)",
        "Required if Table Motion is DYNAMIC.",
        Equals((0x00181134,), "DYNAMIC"),
    ),
    (
        "2020 (Series Type, comma before 'Value 1')",
        "Required if Series Type (0054,1000), Value 1 is GATED.",
        Equals((0x00541000,), "GATED", 1),
    ),
    (
        "2020 (Photometric Interpretation and Bits Stored)",
        "Required if Photometric Interpretation (0028,0004) is MONOCHROME2, and Bits Stored "
        "(0028,0101) is greater than 1.",
        And((Equals((0x00280004,), "MONOCHROME2"), Compare(CompareOp.GT, (0x00280101,), 1))),
    ),
    (
        "2020 x-ray-3d-angiographic-acquisition (0018,9461): two 'Required if' sentences",
        "Dimensions in mm of the Field of View. Required if present and consistent in the "
        "contributing SOP Instances. Required if Modality (0008,0060) is MG.",
        Or(
            (
                Undecidable(
                    "present and consistent in the contributing SOP Instances",
                    UndecidableReason.OTHER_INSTANCE,
                ),
                Equals((0x00080060,), "MG"),
            )
        ),
    ),
]


@pytest.mark.parametrize(("source", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_real_sentences_parse_to_the_expected_tree(
    source: str, text: str, expected: object
) -> None:
    assert parse(text).required_if == expected


def test_coding_scheme_version_is_decided_by_the_rule_of_section_8_2() -> None:
    # 2020 macro basic-code-sequence (0008,0103): the largest conditional population (one
    # Code Sequence Macro per coded attribute, ~2,900 rules after expansion).
    condition = parse(
        "An identifier of the version of the coding scheme if necessary to resolve ambiguity. "
        "See Section 8.2. Required if the value of Coding Scheme Designator (0008,0102) is "
        "present and is not sufficient to identify the Code Value (0008,0100) or Long Code Value "
        "(0008,0119) unambiguously. Shall not be present if Coding Scheme Designator (0008,0102) "
        "is absent. May be present otherwise."
    )
    assert condition.required_if == And(
        (
            Present((0x00080102,)),
            AmbiguousCode((0x00080102,), ((0x00080100,), (0x00080119,))),
        )
    )
    assert condition.not_present_if == Absent((0x00080102,))
    assert condition.otherwise_may_be_present
    assert condition.decidability is Decidability.CHECKABLE


def test_coding_scheme_version_2013_wording() -> None:
    # PS3.3 2016c Table 8.8-1: no "is present", one code value attribute.
    condition = parse(
        "See Section 8.2. Required if the value of Coding Scheme Designator (0008,0102) is not "
        "sufficient to identify Code Value (0008,0100) unambiguously. May be present otherwise."
    )
    assert condition.required_if == AmbiguousCode((0x00080102,), ((0x00080100,),))


def test_insufficiency_of_another_attribute_stays_undecidable() -> None:
    # Only a Coding Scheme Designator identifies code values; "not sufficient" said of any
    # other attribute is a judgement the parser must not turn into the §8.2 rule.
    condition = parse(
        "Required if the value of Code Meaning (0008,0104) is not sufficient to identify "
        "Code Value (0008,0100) unambiguously."
    )
    assert condition.decidability is Decidability.UNDECIDABLE


def test_may_be_present_if_and_otherwise_flags() -> None:
    # 2020 sc-multi-frame-image (0018,2010)
    condition = parse(
        "Required if Conversion Type (0008,0064) is DF (Digitized Film). May also be present if "
        "Conversion Type (0008,0064) is SD (Scanned Document) or SI (Scanned Image)."
    )
    assert condition.may_be_present_if == OneOf((0x00080064,), ("SD", "SI"))
    assert not condition.otherwise_may_be_present
    # 2020 cardiac-synchronization (0018,9037)
    assert parse(
        "Required if Image Type (0008,0008) Value 1 is ORIGINAL or MIXED. May be present otherwise."
    ).otherwise_may_be_present


def test_mutually_exclusive_is_a_pair_of_rules() -> None:
    # 2020 waveform-annotation (0070,0006): a paragraph without a full stop
    text = join_paragraphs(
        [
            "Text Observation Value (annotation).",
            "Mutually exclusive with Concept Name Code Sequence (0040,A043)",
        ]
    )
    condition = parse(text)
    assert condition.required_if == Absent((0x0040A043,))
    assert condition.not_present_if == Present((0x0040A043,))


def test_docbook_either_list_is_a_disjunction() -> None:
    # 2016c table C.7.6.16-2 (Pixel Measures Macro), Pixel Spacing: "Required if either:"
    # followed by an itemized list whose items end without "or".
    text = join_paragraphs(
        [
            "Physical distance in the imaging target.",
            "Required if either:",
            "Volumetric Properties (0008,9206) is other than DISTORTED or SAMPLED",
            'SOP Class UID is Segmentation Storage ("1.2.840.10008.5.1.4.1.1.66.4") and Frame of '
            "Reference UID (0020,0052) is present",
            "May be present otherwise.",
        ]
    )
    names = NameIndex([*ENTRIES, NameEntry("Volumetric Properties", 0x00089206, "CS")])
    result = parse_condition(text, names=names)
    assert isinstance(result, Condition)
    assert result.required_if == Or(
        (
            present_and_not((0x00089206,), "DISTORTED", "SAMPLED"),
            And(
                (
                    Equals(SOP_CLASS_UID, "1.2.840.10008.5.1.4.1.1.66.4"),
                    Present((0x00200052,)),
                )
            ),
        )
    )
    assert result.otherwise_may_be_present


def test_condition_sentences_leave_explanation_out() -> None:
    # 2020 macro basic-code-sequence (0008,0102)
    text = (
        "The identifier of the coding scheme in which the Coded Entry is defined. See Section "
        "8.2. Shall be present if Code Value (0008,0100) or Long Code Value (0008,0119) is "
        "present. May be present otherwise."
    )
    assert condition_sentences(text, names=NAMES) == [
        "Shall be present if Code Value (0008,0100) or Long Code Value (0008,0119) is present",
        "May be present otherwise",
    ]


def test_names_accept_a_plain_mapping() -> None:
    result = parse_condition(
        "Required if Observer Type value is DEV.", names={"Observer Type": 0x0040A084}
    )
    assert isinstance(result, Condition)
    assert result.required_if == Equals((0x0040A084,), "DEV")


def test_one_word_names_need_a_verb_and_never_item() -> None:
    # "Item" is in the dictionary but prose uses it as a word; "Modality" is a name when a
    # verb follows (2020 usage "Required if Modality = IVUS").
    assert parse("Required if Modality = IVUS").required_if == Equals((0x00080060,), "IVUS")
    result = parse("Required if Image Type Value 1 is DERIVED.")
    assert result.required_if == Equals(IMAGE_TYPE, "DERIVED", 1)


def test_tag_decides_over_a_wrong_name() -> None:
    # 2020: "Image Type (0008,9007)" names the tag of Frame Type.
    result = parse("Required if Image Type (0008,9007) Value 1 equals ORIGINAL.")
    assert result.required_if == Equals(FRAME_TYPE, "ORIGINAL", 1)


# --- the three classes -----------------------------------------------------------------

CLASSES: list[tuple[str, str, Decidability]] = [
    (
        "2020 general-image",
        "Required if Samples per Pixel (0028,0002) has a value greater than 1.",
        Decidability.CHECKABLE,
    ),
    (
        "usage enhanced-ct-image enhanced-contrast-bolus",
        "Required if contrast media was applied.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 scheduled-procedure-step (0040,A161)",
        "Required if Numeric Value (0040,A30A) has insufficient precision to represent the value "
        "as a string. May be present otherwise.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 patient-identification (0008,1160)",
        "Required if the Referenced SOP Instance is a multi-frame image and the reference does not "
        "apply to all frames, and Referenced Segment Number (0062,000B) is not present.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 rt-beams (300A,011E)",
        "Required for first Item of Control Point Sequence, or if Gantry Angle changes during "
        "Beam.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 c-arm-photon-electron-beam (300A,063C)",
        "Required if the conditions in Section C.36.2.2.5.1.1 are satisfied.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 modality-lut (0028,3000): only the forbidden half is stated",
        "Shall not be present if Rescale Intercept (0028,1052) is present.",
        Decidability.UNDECIDABLE,
    ),
    (
        "2020 us-region-calibration (0018,6046): an enumerated value written as its meaning",
        "Required if Pixel Component Organization = Bit aligned.",
        Decidability.UNPARSED,
    ),
    (
        "2020 respiratory-synchronization (0020,9250): 'the value' of an unnamed attribute",
        "Required if the value is not TIME, may be present otherwise.",
        Decidability.UNPARSED,
    ),
    (
        "2020 hanging-protocol-display (0072,0050): a mixed list is not guessed",
        "Required if Selector Attribute (0072,0026) or Filter-by Category (0072,0402), and "
        "Filter-by Operator (0072,0406) are present.",
        Decidability.UNPARSED,
    ),
    ("no condition at all", "Numeric value for this name-value Item.", Decidability.UNPARSED),
    (
        "an attribute with an unknown verb",
        "Required if Samples per Pixel (0028,0002) wobbles gently.",
        Decidability.UNPARSED,
    ),
]


@pytest.mark.parametrize(("source", "text", "expected"), CLASSES, ids=[c[0] for c in CLASSES])
def test_every_condition_falls_into_one_of_three_classes(
    source: str, text: str, expected: Decidability
) -> None:
    result = parse_condition(text, names=NAMES)
    assert classify(result) is expected
    if expected is Decidability.UNPARSED:
        assert isinstance(result, Unparsed)
        assert result.reason  # says why
        assert result.text  # and keeps the prose


def test_unparsed_reason_cites_the_context() -> None:
    from dicompile.generator.conditions import ConditionContext

    result = parse_condition(
        "Required if Pixel Component Organization = Ranges.",
        names=NAMES,
        context=ConditionContext(citation="PS3.3 2020 table_C.8-17"),
    )
    assert isinstance(result, Unparsed)
    assert "table_C.8-17" in result.reason


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Required if",
                "Image Type (0008,0008)",
                "Value",
                "1",
                "is",
                "not",
                "ORIGINAL",
                "or",
                "and",
                ",",
                ".",
                "present",
                "absent",
                "May be present otherwise",
                "the",
                "value",
                "(",
                ")",
                '"Y"',
                "either",
                ":",
                "contrast",
                "Number of Frames",
                ">",
            ]
        ),
        max_size=25,
    )
)
def test_parser_never_raises(words: list[str]) -> None:
    result = parse_condition(" ".join(words), names=NAMES)
    assert isinstance(result, Condition | Unparsed)


def test_render_is_readable() -> None:
    condition = parse("Required if Frame Type (0008,9007) Value 1 of this frame is ORIGINAL.")
    assert condition.required_if is not None
    assert render(condition.required_if) == "(0008,9007)[1] == 'ORIGINAL'"


# --- evaluation ------------------------------------------------------------------------


@attrs.frozen
class FakeDataset:
    """A dict-backed DatasetView: tag → tuple of values, or list of FakeDataset Items."""

    elements: dict[int, tuple[Scalar, ...] | list[FakeDataset]]
    # (scheme, value) → versions the SOP Instance gives that code (what a real view walks)
    instance_codes: dict[tuple[str, str], frozenset[str]] = attrs.field(factory=dict)

    def has(self, tag: int) -> bool:
        return tag in self.elements

    def get_values(self, tag: int) -> tuple[Scalar, ...] | None:
        value = self.elements.get(tag)
        if value is None:
            return None
        return () if isinstance(value, list) else value

    def get_items(self, tag: int) -> Sequence[FakeDataset] | None:
        value = self.elements.get(tag)
        return value if isinstance(value, list) else None

    def code_versions(self, scheme: str, value: str) -> frozenset[str]:
        return self.instance_codes.get((scheme, value), frozenset())


def ds(**elements: tuple[Scalar, ...] | list[FakeDataset]) -> FakeDataset:
    """``ds(x00080008=("ORIGINAL", "PRIMARY"))``: keyword names are hex tags."""
    return FakeDataset({int(k[1:], 16): v for k, v in elements.items()})


def code_item(value: str, scheme: str, tag: int = 0x00080100) -> FakeDataset:
    return FakeDataset({tag: (value,), 0x00080102: (scheme,)})


@pytest.mark.parametrize(
    ("expr", "dataset", "expected"),
    [
        (Present(IMAGE_TYPE), ds(x00080008=()), True),
        (Present(IMAGE_TYPE), ds(), False),
        (Absent(IMAGE_TYPE), ds(), True),
        (HasValue(IMAGE_TYPE), ds(x00080008=()), False),
        (Empty(IMAGE_TYPE), ds(x00080008=()), True),
        (Empty(IMAGE_TYPE), ds(), False),
        (Equals(IMAGE_TYPE, "ORIGINAL", 1), ds(x00080008=("ORIGINAL", "PRIMARY")), True),
        (Equals(IMAGE_TYPE, "PRIMARY", 1), ds(x00080008=("ORIGINAL", "PRIMARY")), False),
        (Equals(IMAGE_TYPE, "PRIMARY"), ds(x00080008=("ORIGINAL", "PRIMARY")), True),
        (Equals(IMAGE_TYPE, "AXIAL", 3), ds(x00080008=("ORIGINAL", "PRIMARY")), False),
        (Equals(IMAGE_TYPE, "ORIGINAL", 1), ds(x00080008=("ORIGINAL ", "PRIMARY")), True),
        (Equals((0x00280008,), "1"), ds(x00280008=(1,)), True),  # IS decoded to int
        (Equals((0x00280009,), 0x00181065), ds(x00280009=(0x00181065,)), True),
        (OneOf((0x00080060,), ("MG", "CR")), ds(x00080060=("CR",)), True),
        (OneOf((0x00080060,), ("MG", "CR")), ds(), False),
        (Compare(CompareOp.GT, (0x00280008,), 1), ds(x00280008=("3",)), True),
        (Compare(CompareOp.GT, (0x00280008,), 1), ds(x00280008=(1,)), False),
        (Compare(CompareOp.NE, (0x300A00D0,), 0), ds(x300A00D0=(0,)), False),
        (Compare(CompareOp.GT, (0x00280008,), 1), ds(), False),
        (CountCompare(CompareOp.EQ, (0x30100067,), 1), ds(x30100067=[ds()]), True),
        (CountCompare(CompareOp.EQ, (0x30100067,), 1), ds(x30100067=[ds(), ds()]), False),
        (CountCompare(CompareOp.GT, (0x00286110,), 1), ds(x00286110=(1, 2)), True),
        (PrivateTagValue((0x00720026,)), ds(x00720026=(0x00091010,)), True),
        (PrivateTagValue((0x00720026,)), ds(x00720026=(0x00100010,)), False),
        (
            ContainsCode((0x00220015,), (CodedValue("392012008", "SCT", "OCT"),)),
            ds(x00220015=[code_item("1", "DCM"), code_item("392012008", "SCT")]),
            True,
        ),
        (
            ContainsCode((0x00220015,), (CodedValue("392012008", "SCT", "OCT"),)),
            ds(x00220015=[code_item("392012008", "DCM")]),
            False,
        ),
        (
            ContainsCode((0x00400260, 0x00400441), (CodedValue("261004008", "SCT", "Diagnostic"),)),
            ds(x00400260=[ds(), ds(x00400441=[code_item("261004008", "SCT")])]),
            True,
        ),
        (Present((0x00400260, 0x00400441)), ds(x00400260=[ds(), ds()]), False),
        (Absent((0x00400260, 0x00400441)), ds(x00400260=[ds(), ds(x00400441=[])]), False),
        (LengthCompare(CompareOp.LE, CODE_VALUE_PATHS, 16), ds(x00080119=("A" * 16,)), True),
        (LengthCompare(CompareOp.LE, CODE_VALUE_PATHS, 16), ds(x00080119=("A" * 17,)), False),
        (IsUrnOrUrl(CODE_VALUE_PATHS), ds(x00080120=("urn:oid:1.2.3",)), True),
        (IsUrnOrUrl(CODE_VALUE_PATHS), ds(x00080120=("https://loinc.org/1-8",)), True),
        (IsUrnOrUrl(CODE_VALUE_PATHS), ds(x00080100=("T-A0100",)), False),
    ],
)
def test_leaves(expr: object, dataset: FakeDataset, expected: bool) -> None:
    assert evaluate_expr(expr, dataset) is expected  # type: ignore[arg-type]


def test_ambiguous_code_needs_two_versions_of_the_code_in_the_instance() -> None:
    leaf = AmbiguousCode((0x00080102,), ((0x00080100,), (0x00080119,)))
    item = code_item("T-D1100", "SRT")
    assert evaluate_expr(leaf, item) is False  # the instance gives the code no version
    one = FakeDataset(item.elements, {("SRT", "T-D1100"): frozenset({"1.1"})})
    assert evaluate_expr(leaf, one) is False  # one version: nothing to tell apart
    two = FakeDataset(item.elements, {("SRT", "T-D1100"): frozenset({"1.1", "2.0"})})
    assert evaluate_expr(leaf, two) is True
    other = FakeDataset(item.elements, {("SRT", "T-D1200"): frozenset({"1.1", "2.0"})})
    assert evaluate_expr(leaf, other) is False  # another code's versions do not count
    long_value = FakeDataset(
        {0x00080119: ("L" * 20,), 0x00080102: ("99X",)}, {("99X", "L" * 20): frozenset("ab")}
    )
    assert evaluate_expr(leaf, long_value) is True  # Long Code Value is the code value
    assert evaluate_expr(leaf, ds(x00080100=("1",))) is False  # no designator


def test_three_valued_logic() -> None:
    unknown = Undecidable("contrast media was applied", UndecidableReason.NO_ATTRIBUTE)
    mg = Equals((0x00080060,), "MG")
    assert evaluate_expr(And((mg, unknown)), ds(x00080060=("CT",))) is False
    assert evaluate_expr(And((mg, unknown)), ds(x00080060=("MG",))) is None
    assert evaluate_expr(Or((mg, unknown)), ds(x00080060=("MG",))) is True
    assert evaluate_expr(Or((mg, unknown)), ds(x00080060=("CT",))) is None
    assert evaluate_expr(Not(unknown), ds()) is None


def test_code_sequence_macro_rules_on_items() -> None:
    # 2020 macro basic-code-sequence: which of Code Value / Long Code Value / URN Code Value
    # the Item must carry, decided from whichever one it does carry (PS3.3 §8.1, §8.8).
    code_value = parse(
        "Shall be present if the code value length is 16 characters or less, and the code value "
        "is not a URN or URL."
    )
    long_code_value = parse(
        "Shall be present if Code Value (0008,0100) is not present and the Code Value is not a "
        "URN or URL."
    )
    urn_code_value = parse(
        "Shall be present if Code Value (0008,0100) is not present and the Code Value is a URN "
        "or URL."
    )
    short = ds(x00080100=("113097",), x00080102=("DCM",))
    assert (evaluate(code_value, short), evaluate(long_code_value, short)) == (True, False)
    # A short code wrongly sent as Long Code Value: Code Value was required.
    misplaced = ds(x00080119=("113097",), x00080102=("DCM",))
    assert evaluate(code_value, misplaced) is True
    urn = ds(x00080120=("urn:lex:eu:council:directive:2010-03-09;2010-19-UE",))
    assert evaluate(urn_code_value, urn) is True
    assert evaluate(long_code_value, urn) is False
    assert evaluate(code_value, urn) is False


def test_verdicts() -> None:
    csv = parse(
        "Required if the value of Coding Scheme Designator (0008,0102) is present and is not "
        "sufficient to identify the Code Value (0008,0100) or Long Code Value (0008,0119) "
        "unambiguously. Shall not be present if Coding Scheme Designator (0008,0102) is absent. "
        "May be present otherwise."
    )
    assert verdict(csv, ds()).presence is Presence.FORBIDDEN
    with_designator = verdict(csv, ds(x00080100=("1",), x00080102=("SCT",)))
    assert with_designator.required is False  # §8.2: the designator names the scheme
    assert with_designator.allowed is True  # but sending it is always fine
    versions = {("SCT", "1"): frozenset({"2019", "2020"})}
    ambiguous = verdict(csv, FakeDataset({0x00080100: ("1",), 0x00080102: ("SCT",)}, versions))
    assert ambiguous.presence is Presence.REQUIRED

    contrast = parse("Required if contrast media was applied. May be present otherwise.")
    unknown = verdict(contrast, ds())
    assert unknown.required is None  # no Data Set tells
    assert unknown.allowed is True

    strict = parse("Required if Modality (0008,0060) is MG.")
    assert verdict(strict, ds(x00080060=("MG",))).presence is Presence.REQUIRED
    assert verdict(strict, ds(x00080060=("CT",))).presence is Presence.FORBIDDEN  # PS3.5 §7.4.2

    lenient = parse(
        "Required if Image Type (0008,0008) Value 1 is ORIGINAL. May be present otherwise."
    )
    assert verdict(lenient, ds(x00080008=("DERIVED",))).presence is Presence.OPTIONAL

    optional_if = parse(
        "Required if Conversion Type (0008,0064) is DF (Digitized Film). May also be present if "
        "Conversion Type (0008,0064) is SD (Scanned Document) or SI (Scanned Image)."
    )
    assert verdict(optional_if, ds(x00080064=("SD",))).presence is Presence.OPTIONAL
    assert verdict(optional_if, ds(x00080064=("WSD",))).presence is Presence.FORBIDDEN

    world = parse("Required if contrast media was applied.")
    assert verdict(world, ds()).presence is Presence.UNKNOWN


def test_conditional_module_falls_back_on_presence_and_says_so() -> None:
    # usage enhanced-ct-image enhanced-contrast-bolus / usage ... (Image Type Value 1)
    world = parse("Required if contrast media was applied.")
    decision = conditional_module(world, ds(), any_attribute_present=True)
    assert (decision.check, decision.assumed, decision.required) == (True, True, None)
    assert not conditional_module(world, ds(), any_attribute_present=False).check
    decided = parse(
        "Required if Image Type (0008,0008) Value 1 is ORIGINAL. May be present otherwise."
    )
    original = conditional_module(decided, ds(x00080008=("ORIGINAL",)), any_attribute_present=False)
    assert (original.check, original.assumed, original.required) == (True, False, True)
    derived = conditional_module(decided, ds(x00080008=("DERIVED",)), any_attribute_present=False)
    assert (derived.check, derived.assumed) == (False, False)


# --- text helpers ------------------------------------------------------------------------


def test_html_cell_text_drops_notes_and_joins_paragraphs() -> None:
    # 2020 pixel-measures (0028,0030), abridged.
    html = (
        '<td colspan="1" rowspan="1"><p>Physical distance.</p><div><h3>Note</h3><p>In the case '
        "of CT images with an Acquisition Type (0018,9302) of CONSTANT_ANGLE ...</p></div><p>"
        "Required if Image Type (0008,0008) Value 3 is</p><p>WHOLE BODY or</p><p>STATIC</p>"
        "<p>May be present otherwise.</p></td>"
    )
    text = html_cell_text(html)
    assert "CONSTANT_ANGLE" not in text
    assert "Value 3 is WHOLE BODY or STATIC. May be present otherwise." in text


# --- golden: the 2020 JSON rendition and the 2016c DocBook excerpt ----------------------


@pytest.mark.shared
def test_audit_of_the_2020_rendition(json_2020: Path) -> None:
    """Issue #4's measure.  Goal: >= 90 % checkable, <= 2 % unparsed.

    Reached: 94.8 % checkable, 0.1 % unparsed.  9.2 points of it are one rule, Coding Scheme
    Version (0008,0103) of the Code Sequence Macros (2861 of the 31222 rules and usages),
    decided by the rule of PS3.3 §8.2 (``AmbiguousCode``); without that rule the share is
    85.6 %, so the floor below fails if the rule stops being parsed.
    """
    names = name_index_from_json(json_2020 / "attributes.json")
    report = audit_json_2020(json_2020, names)
    rules = report.tally("module rules (1C/2C, expanded)") + report.tally(
        "macro rules (1C/2C, each table once)"
    )
    usages = report.tally("conditional module usages")
    assert rules.total == 30954  # "about 31,000 1C/2C rules"
    assert usages.total == 268  # "268 module usages are conditional"
    goal = report.goal
    assert goal.total == rules.total + usages.total
    assert goal.share(goal.checkable) >= 94.5
    assert goal.share(goal.unparsed) <= 2.0
    assert goal.share(goal.checkable + goal.partly) >= 96.0


@pytest.mark.shared
def test_audit_of_the_2016c_docbook_excerpt(json_2020: Path, part03_2016c: Path) -> None:
    names = name_index_from_json(json_2020 / "attributes.json")
    report = audit_docbook(part03_2016c, names)
    goal = report.goal
    # Reached: 69.9 % checkable, 3.0 % unparsed (12 of 396: cells whose cross-reference
    # DocBook leaves empty, SR table-cell conditions, "the pair of …").
    assert goal.total > 350
    assert goal.share(goal.unparsed) <= 3.1
    assert goal.share(goal.checkable) >= 69.5
