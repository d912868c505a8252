"""Functional groups of an enhanced multi-frame IOD (PS3.3 §C.7.6.16, Enhanced CT Table A.38-2).

Each test spoils the functional groups of :func:`builders.enhanced_ct_groups` in one way and
expects the finding PS3.3 prescribes; other modules of the hand-built instance are incomplete
on purpose, so only functional group findings are compared.
"""

from __future__ import annotations

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.validate.engine import validate
from dicompile.runtime.validate.findings import Finding, Kind, Severity

from .builders import enhanced_ct_groups, item, sequence

SOURCE = "PS3.3 2020 table_A.38-1"
GROUP_KINDS = {
    Kind.FUNCTIONAL_GROUP_MISSING,
    Kind.FUNCTIONAL_GROUP_TWICE,
    Kind.FUNCTIONAL_GROUP_NOT_SHARED,
    Kind.FRAME_COUNT,
}


def group_findings(ds: Dataset) -> list[Finding]:
    report = validate(ds)
    assert report.iod == "Enhanced CT Image"
    return [f for f in report.findings if f.kind in GROUP_KINDS or f.path.startswith("(5200,")]


def shared(ds: Dataset) -> Dataset:
    value = ds["SharedFunctionalGroupsSequence"].value
    assert isinstance(value, list)
    return value[0]


def frames(ds: Dataset) -> list[Dataset]:
    value = ds["PerFrameFunctionalGroupsSequence"].value
    assert isinstance(value, list)
    return list(value)


def test_complete_groups_have_no_finding() -> None:
    assert group_findings(enhanced_ct_groups()) == []


def test_frame_content_may_not_be_shared() -> None:
    # Table A.38-2: Frame Content, "M - May not be used as a Shared Functional Group".
    ds = enhanced_ct_groups()
    content = frames(ds)[0]["FrameContentSequence"]
    for frame in frames(ds):
        del frame["FrameContentSequence"]
    shared(ds).add(content)
    assert group_findings(ds) == [
        Finding(
            Severity.ERROR,
            Kind.FUNCTIONAL_GROUP_NOT_SHARED,
            None,
            "(5200,9229)[1]",
            "Frame Content",
            "usage M",
            "the Frame Content Functional Group may not be used as a Shared Functional Group",
            SOURCE,
        )
    ]


def test_shared_and_per_frame_at_once() -> None:
    # C.7.6.16.1: a Functional Group is in the Shared or in the Per-frame Sequence, not both.
    ds = enhanced_ct_groups()
    frames(ds)[0].add(shared(ds)["PixelMeasuresSequence"])
    assert group_findings(ds) == [
        Finding(
            Severity.ERROR,
            Kind.FUNCTIONAL_GROUP_TWICE,
            None,
            "",
            "Pixel Measures",
            "C.7.6.16.1",
            "the Pixel Measures Functional Group is in the Shared Functional Groups Sequence and"
            " in Per-frame Functional Groups Items",
            SOURCE,
        )
    ]


def test_mandatory_group_missing() -> None:
    ds = enhanced_ct_groups()
    del shared(ds)["CTImageFrameTypeSequence"]  # CT Image Frame Type, usage M
    assert group_findings(ds) == [
        Finding(
            Severity.ERROR,
            Kind.FUNCTIONAL_GROUP_MISSING,
            None,
            "",
            "CT Image Frame Type",
            "usage M",
            "the CT Image Frame Type Functional Group is required and is not in the Shared"
            " Functional Groups Sequence nor in any frame",
            SOURCE,
        )
    ]


def test_per_frame_group_missing_in_some_frames() -> None:
    ds = enhanced_ct_groups(frames=3)
    del frames(ds)[1]["PlanePositionSequence"]
    (finding,) = group_findings(ds)
    assert (finding.kind, finding.module) == (
        Kind.FUNCTIONAL_GROUP_MISSING,
        "Plane Position (Patient)",
    )
    assert finding.message.endswith("is not shared, and frames 2 lack it")


def test_number_of_frames_against_per_frame_items() -> None:
    ds = enhanced_ct_groups(frames=2)
    ds["NumberOfFrames"] = 3
    assert group_findings(ds) == [
        Finding(
            Severity.ERROR,
            Kind.FRAME_COUNT,
            0x52009230,
            "(5200,9230)",
            "",
            "C.7.6.16.1.2",
            "the Per-frame Functional Groups Sequence has 2 Items and Number of Frames"
            " (0028,0008) is 3",
            SOURCE,
        )
    ]


def test_attribute_of_no_functional_group() -> None:
    ds = enhanced_ct_groups()
    shared(ds)["PatientName"] = "Nobody"
    assert group_findings(ds) == [
        Finding(
            Severity.WARNING,
            Kind.NOT_IN_IOD,
            0x00100010,
            "(5200,9229)[1]/(0010,0010)",
            "",
            "functional groups",
            "(0010,0010) PatientName is not a functional group macro of the Enhanced CT Image IOD",
            SOURCE,
        )
    ]


def test_macro_rules_inside_the_group_items() -> None:
    # CT Image Frame Type Macro (Table C.8-117): Frame Type (0008,9007) is Type 1.
    ds = enhanced_ct_groups()
    shared(ds)["CTImageFrameTypeSequence"] = sequence(
        item(
            PixelPresentation="MONOCHROME",
            VolumetricProperties="VOLUME",
            VolumeBasedCalculationTechnique="NONE",
        )
    )
    assert [(f.kind, f.path, f.module) for f in group_findings(ds)] == [
        (Kind.MISSING, "(5200,9229)[1]/(0018,9329)[1]/(0008,9007)", "CT Image Frame Type")
    ]
