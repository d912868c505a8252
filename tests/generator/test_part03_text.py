"""Tests of the prose readers shared by both PS3.3 readers (conditions, value lists, CIDs).

Inputs are sentences of PS3.3 (2016c DocBook or the 2020 rendition), cited per case.
"""

from __future__ import annotations

import pytest

from dicompile.generator.iod_model import ContextKind, ContextRef, Usage, ValueListKind
from dicompile.generator.sources.part03_text import (
    LIST_ITEM,
    condition_text,
    context_refs,
    usage_of,
    value_list_title,
)


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        # Table C.8-3 Rescale Type (2016c): its own paragraph, with a continuation.
        (
            [
                "Specifies the output units of Rescale Slope (0028,1053).",
                "See Section C.11.1.1.2 for Defined Terms and further explanation.",
                "Required if the Rescale Type is not HU (Hounsfield Units). May be present"
                " otherwise.",
            ],
            "Required if the Rescale Type is not HU (Hounsfield Units). May be present otherwise.",
        ),
        # Table C.18.4-1 Referenced Segment Number: the condition after prose in one paragraph.
        (
            [
                "Identifies the segments to which the reference applies identified by Segment"
                " Number (0062,0004). Required if the Referenced SOP Instance is a Segmentation."
            ],
            "Required if the Referenced SOP Instance is a Segmentation.",
        ),
        # Table C.7-6 (Display Shutter) Shutter Left Vertical Edge: prose after the condition.
        (
            [
                "Required if Shutter Shape (0018,1600) is RECTANGULAR. Location of the left edge"
                " of the rectangular shutter with respect to pixels in the image given as column."
            ],
            "Required if Shutter Shape (0018,1600) is RECTANGULAR.",
        ),
        # Table 8.8-1a Code Value: "Shall be present if".
        (
            [
                "The identifier of the Coded Entry.",
                "Shall be present if the code value length is 16 characters or less.",
            ],
            "Shall be present if the code value length is 16 characters or less.",
        ),
        # Pixel Measures Pixel Spacing (2020): a list of alternatives.
        (
            [
                "Physical distance in the imaging target between the centers of each pixel.",
                "Required if:",
                LIST_ITEM + "Volumetric Properties (0008,9206) is other than DISTORTED or"
                " SAMPLED, or",
                LIST_ITEM + "SOP Class UID is Segmentation Storage and Frame of Reference UID"
                " (0020,0052) is present.",
                "May be present otherwise.",
            ],
            "Required if: Volumetric Properties (0008,9206) is other than DISTORTED or SAMPLED,"
            " or SOP Class UID is Segmentation Storage and Frame of Reference UID (0020,0052) is"
            " present. May be present otherwise.",
        ),
        # Graphic Annotation Text Object Sequence (2020): only a loose statement.
        (
            [
                "Sequence that describes a text annotation.",
                "Either one or both of Text Object Sequence (0070,0008) or Graphic Object"
                " Sequence (0070,0009) are required.",
            ],
            "Either one or both of Text Object Sequence (0070,0008) or Graphic Object Sequence"
            " (0070,0009) are required.",
        ),
        (["Mutually exclusive with Concept Name Code Sequence (0040,A043)"], ""),
    ],
)
def test_condition_text(paragraphs: list[str], expected: str) -> None:
    assert condition_text(paragraphs) == expected


def test_value_list_titles() -> None:
    assert value_list_title("Enumerated Values:") == (ValueListKind.ENUMERATED, None)
    assert value_list_title("Defined Terms for Value 3:") == (ValueListKind.DEFINED, 3)
    assert value_list_title("Enumerated Value:") == (ValueListKind.ENUMERATED, None)
    assert value_list_title("For humans:") is None


def test_context_refs() -> None:
    # Notes of 2016c include rows (Tables C.8-3, C.8.19.2-1, C.7.6.16-12b).
    assert context_refs("Defined CID 4052.") == (ContextRef("CID", 4052, ContextKind.DEFINED),)
    assert context_refs("BCID 19.") == (ContextRef("CID", 19, ContextKind.BASELINE),)
    assert context_refs("DCID 7004 for referenced waveforms.") == (
        ContextRef("CID", 7004, ContextKind.DEFINED),
    )
    assert context_refs(
        "Baseline CID for Concept Name Code Sequence is CID 9000. Defined TID is TID 8004."
    ) == (
        ContextRef("CID", 9000, ContextKind.BASELINE),
        ContextRef("TID", 8004, ContextKind.DEFINED),
    )
    assert context_refs("No Baseline CID is defined.") == ()


def test_usage_cells() -> None:
    assert usage_of("M") == (Usage.MANDATORY, "")
    assert usage_of("C - Required if contrast media was used in this image") == (
        Usage.CONDITIONAL,
        "Required if contrast media was used in this image",
    )
    assert usage_of("U - see elsewhere") == (Usage.USER_OPTION, "see elsewhere")
    with pytest.raises(ValueError, match="not a usage"):
        usage_of("Mandatory")
