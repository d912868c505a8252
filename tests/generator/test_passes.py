"""The pure passes: UID and context group keywords, element keywords, errata, transfer syntaxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.model import (
    ConflictKind,
    ContextGroupDef,
    DataElementDef,
    Provenance,
    StandardModel,
    TagPattern,
    UIDDef,
)
from dicompile.generator.passes.context_group_keywords import name_context_group_keywords
from dicompile.generator.passes.element_keywords import check_element_keywords
from dicompile.generator.passes.part06_errata import ERRATA, apply_part06_errata
from dicompile.generator.passes.transfer_syntaxes import describe_transfer_syntaxes
from dicompile.generator.passes.uid_keywords import (
    keyword_from_name,
    name_uid_keywords,
    spell_number,
    unique_keywords,
)

A1 = Provenance("PS3.6", "2013", "table_A-1", "2013/part06.xml", 1)


def _uid(uid: str, name: str, uid_type: str = "SOP Class", retired: bool = False) -> UIDDef:
    return UIDDef(uid, name, "", uid_type, retired, A1)


@pytest.mark.parametrize(
    ("name", "keyword"),
    [
        ("CT Image Storage", "CTImageStorage"),
        ("Explicit VR Little Endian", "ExplicitVRLittleEndian"),
        ("Implicit VR Little Endian: Default Transfer Syntax for DICOM", "ImplicitVRLittleEndian"),
        ("Explicit VR Big Endian (Retired)", "ExplicitVRBigEndian"),
        ("Verification SOP Class", "Verification"),
        ("Basic Grayscale Print Management Meta SOP Class", "BasicGrayscalePrintManagementMeta"),
        ("Printer SOP Instance", "PrinterInstance"),
        ("Storage Service Class", "Storage"),
        ("SPM2 T1 Frame of Reference", "SPM2T1"),
        ("12-lead ECG Waveform Storage", "TwelveLeadECGWaveformStorage"),
        (
            "XA/XRF Grayscale Softcopy Presentation State Storage",
            "XAXRFGrayscaleSoftcopyPresentationStateStorage",
        ),
        (
            "Multi-frame True Color Secondary Capture Image Storage",
            "MultiFrameTrueColorSecondaryCaptureImageStorage",
        ),
        (
            "Patient Root Query/Retrieve Information Model - FIND",
            "PatientRootQueryRetrieveInformationModelFind",
        ),
        ("JPEG Extended (Process 2 & 4) : Default Transfer Syntax", "JPEGExtendedProcess2And4"),
        (
            "Unified Worklist and Procedure Step Service Class - Trial (Retired)",
            "UnifiedWorklistAndProcedureStepTrial",
        ),
        ("dicomDeviceName", "dicomDeviceName"),
        ("", ""),
    ],
)
def test_keyword_from_name(name: str, keyword: str) -> None:
    assert keyword_from_name(name) == keyword


def test_context_group_names_keep_class_words() -> None:
    assert keyword_from_name("Anatomic Region", drop_class_words=False) == "AnatomicRegion"
    assert (
        keyword_from_name("Frame of Reference Types", drop_class_words=False)
        == "FrameOfReferenceTypes"
    )


@pytest.mark.parametrize(
    ("number", "words"),
    [(0, "Zero"), (12, "Twelve"), (20, "Twenty"), (45, "FortyFive"), (123, "N123")],
)
def test_spell_number(number: int, words: str) -> None:
    assert spell_number(number) == words


def test_unique_keywords_prefer_current_items() -> None:
    given, clashes = unique_keywords(
        [("a", "X", True), ("b", "X", False), ("c", "X", True), ("d", "", False)]
    )
    assert given == {"b": "X", "a": "XRetired", "c": "XRetired2", "d": ""}
    assert clashes == [("a", "X", "XRetired"), ("c", "X", "XRetired2")]


def test_name_uid_keywords_resolves_and_reports_clashes() -> None:
    model = StandardModel(
        uids=(
            _uid(
                "1.2.840.10008.5.1.4.1.1.5",
                "Nuclear Medicine Image Storage (Retired)",
                retired=True,
            ),
            _uid("1.2.840.10008.5.1.4.1.1.20", "Nuclear Medicine Image Storage"),
            UIDDef("1.2.3", "Given", "GivenKeyword", "SOP Class", False, A1),
        )
    )
    named = {u.uid: u.keyword for u in name_uid_keywords(model).uids}
    assert named == {
        "1.2.840.10008.5.1.4.1.1.20": "NuclearMedicineImageStorage",
        "1.2.840.10008.5.1.4.1.1.5": "NuclearMedicineImageStorageRetired",
        "1.2.3": "GivenKeyword",
    }
    (clash,) = name_uid_keywords(model).conflicts
    assert clash.kind is ConflictKind.KEYWORD_CLASH and clash.item == "1.2.840.10008.5.1.4.1.1.5"


def test_context_group_keywords_are_unique() -> None:
    prov = Provenance("PS3.6", "2013", "table_A-3", "2013/part06.xml", 1)
    model = StandardModel(
        context_groups=(
            ContextGroupDef("1.2.840.10008.6.1.1", 1, "Same Name", "", prov),
            ContextGroupDef("1.2.840.10008.6.1.2", 2, "Same Name", "", prov),
            ContextGroupDef("1.2.840.10008.6.1.3", None, "", "", prov),
        )
    )
    result = name_context_group_keywords(model)
    assert [g.keyword for g in result.context_groups] == ["SameName", "SameName2", ""]
    assert len(result.conflicts) == 1


def test_element_keyword_clash_empties_the_later() -> None:
    def element(tag: str, keyword: str) -> DataElementDef:
        prov = Provenance("PS3.6", "2020", "attributes.json", "x/attributes.json", 0)
        return DataElementDef(TagPattern.parse(tag), "N", keyword, "CS", "1", False, prov)

    result = check_element_keywords(
        StandardModel(data_elements=(element("00100020", "K"), element("00100010", "K")))
    )
    assert [(e.tag.text, e.keyword) for e in result.data_elements] == [
        ("00100010", "K"),
        ("00100020", ""),
    ]
    assert result.conflicts[0].kind is ConflictKind.KEYWORD_CLASH


@pytest.mark.parametrize(
    ("uid", "name", "expected"),
    [
        (
            "1.2.840.10008.1.2",
            "Implicit VR Little Endian: Default Transfer Syntax for DICOM",
            (True, True, False, False),
        ),
        ("1.2.840.10008.1.2.1", "Explicit VR Little Endian", (False, True, False, False)),
        (
            "1.2.840.10008.1.2.1.99",
            "Deflated Explicit VR Little Endian",
            (False, True, True, False),
        ),
        ("1.2.840.10008.1.2.2", "Explicit VR Big Endian (Retired)", (False, False, False, False)),
        (
            "1.2.840.10008.1.2.4.50",
            "JPEG Baseline (Process 1) : Default ...",
            (False, True, False, True),
        ),
        ("1.2.840.10008.1.2.4.94", "JPIP Referenced", (False, True, False, False)),
        ("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", (False, True, True, False)),
        ("1.2.840.10008.1.2.5", "RLE Lossless", (False, True, False, True)),
    ],
)
def test_transfer_syntax_properties(
    uid: str, name: str, expected: tuple[bool, bool, bool, bool]
) -> None:
    model = describe_transfer_syntaxes(StandardModel(uids=(_uid(uid, name, "Transfer Syntax"),)))
    (ts,) = model.transfer_syntaxes
    assert (ts.implicit_vr, ts.little_endian, ts.deflated, ts.encapsulated) == expected


def test_file_formats_are_not_data_set_encodings() -> None:
    model = StandardModel(
        uids=(
            _uid("1.2.840.10008.1.2.6.2", "XML Encoding", "Transfer Syntax"),
            _uid("1.2.840.10008.1.1", "Verification SOP Class"),
        )
    )
    assert describe_transfer_syntaxes(model).transfer_syntaxes == ()


def test_errata_apply_only_to_the_edition_they_name() -> None:
    wrong = UIDDef(
        "11.2.840.10008.5.1.4.1.1.82.1",
        "Corneal Topography Map Storage",
        "",
        "SOP Class",
        False,
        A1,
    )
    fixed = apply_part06_errata(StandardModel(uids=(wrong,)))
    assert [u.uid for u in fixed.uids] == ["1.2.840.10008.5.1.4.1.1.82.1"]
    assert fixed.conflicts[0].kind is ConflictKind.ERRATUM
    later = UIDDef(
        wrong.uid,
        wrong.name,
        "",
        "SOP Class",
        False,
        Provenance("PS3.6", "2014a", "table_A-1", "f", 1),
    )
    assert apply_part06_errata(StandardModel(uids=(later,))).uids == (later,)


@pytest.mark.shared
@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: f"{e.uid}-{e.field}")
def test_errata_still_in_the_source(xml_2013: Path, erratum: object) -> None:
    """Canary: fails when the edition in ../shared no longer has the error (drop the entry)."""
    from dicompile.generator.passes.part06_errata import UIDErratum
    from dicompile.generator.sources.docbook.part06 import read_part06

    assert isinstance(erratum, UIDErratum)
    uids = {u.uid: u for u in read_part06(xml_2013 / "part06.xml").uids}
    assert erratum.uid in uids
    assert getattr(uids[erratum.uid], erratum.field) == erratum.wrong
