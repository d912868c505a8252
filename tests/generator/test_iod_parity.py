"""Parity of the two PS3.3 readers: the 2016c DocBook excerpt against the 2020 JSON rendition.

For CT Image (A.3), RT Dose (A.18), Enhanced CT Image (A.38.1) and Enhanced XA Image (A.47),
both models (linked: includes expanded) must agree on

* the module list of each IOD and the functional group macros of the enhanced ones,
* the usage (M/C/U) of every module and macro both list,
* the attribute tags (tag paths) of every module and macro both use, and their types,

except for the differences listed in ``EXPLAINED``, each with its reason.  The test fails on a
difference that is not listed, and on a listed one that no longer occurs.  Added or removed
subtrees count once, at their root.

Reasons are of four sorts:

* **edition**: the text changed between 2016c and 2020 (the attribute names are PS3.6's).
  Where a change comes from a macro that many modules include, the entry names the macro and
  the test checks that the macro itself shows the change.
* **erratum**: the 2016c text is wrong and 2020 corrected it.  Such errors are corrected by
  the errata register (``passes/part03_errata.py``) before linking, as the pipeline will, so
  they do not show here; ``test_errata_are_visible`` checks they were applied.
* **excerpt**: the 2016c file is a cut-down excerpt (see shared/README.md); its Table A.47-1
  lacks nine module rows whose tables it keeps (``test_excerpt_cut_rows``).
* Conditions are compared only by count here (``test_condition_changes_are_reported``):
  their wording changed in hundreds of places and the parser, not this test, judges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs
import pytest

from dicompile.generator.iod_merge import diff_iods, diff_tables, merge_part03
from dicompile.generator.iod_model import ChangeKind, IODConflict, IssueKind, Part03Model
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.passes.part03_errata import apply_part03_errata
from dicompile.generator.sources.docbook.part03 import read_part03
from dicompile.generator.sources.json_part03 import read_json_part03

IODS = ("table_A.3-1", "table_A.18.3-1", "table_A.38-1", "table_A.47-1")
GATED = {
    ChangeKind.MODULE_ADDED,
    ChangeKind.MODULE_REMOVED,
    ChangeKind.FUNCTIONAL_GROUP_ADDED,
    ChangeKind.FUNCTIONAL_GROUP_REMOVED,
    ChangeKind.USAGE_CHANGED,
    ChangeKind.IE_CHANGED,
    ChangeKind.ATTRIBUTE_ADDED,
    ChangeKind.ATTRIBUTE_REMOVED,
    ChangeKind.TYPE_CHANGED,
}


@attrs.frozen
class Explained:
    kind: ChangeKind
    item: str  # IOD key for module/macro uses, module or macro key for attributes
    detail: str  # module/macro key, or tag path
    reason: str
    via: tuple[str, str] | None = None  # (macro key, path inside it) that shows the change


def explain(
    reason: str,
    kind: ChangeKind,
    item: str,
    *details: str,
    via: tuple[str, str] | None = None,
) -> list[Explained]:
    return [Explained(kind, item, detail, reason, via) for detail in details]


ADDED, REMOVED = ChangeKind.ATTRIBUTE_ADDED, ChangeKind.ATTRIBUTE_REMOVED
TYPE = ChangeKind.TYPE_CHANGED
DEPARTMENT = (
    "edition: the Person Identification Macro (Table 10-1) gained Institutional Department"
    " Name (0008,1040) and Institutional Department Type Code Sequence (0008,1041)"
)
OBSERVATION = "edition: the Content Item Macro (Table 10-2) gained Observation DateTime (0040,A032)"
MODIFIER = (
    "edition: the Content Item Macro's items gained Content Item Modifier Sequence"
    " (0040,0441) where the macro is included for protocol context"
)
PATH_INDEX = "edition: Referenced Path Index (0018,9378) added for multi-path CT acquisitions"
EXCERPT_XA = (
    "excerpt: the excerpt's Table A.47-1 has 22 rows; its module tables for these rows are in"
    " the file but no IOD table there uses them (rows cut by the excerpt's maker)"
)

EXPLAINED: tuple[Explained, ...] = (
    # -- IOD module tables ---------------------------------------------------------------
    *explain(
        "edition: General Reference Module (C.12.4) added to the CT Image IOD; it takes the"
        " source-image references that 2016c kept in the General Image Module",
        ChangeKind.MODULE_ADDED,
        "table_A.3-1",
        "table_C.12-10",
    ),
    *explain(
        "edition: Multi-energy CT Image Module added (usage C: Multi-energy CT Acquisition YES)",
        ChangeKind.MODULE_ADDED,
        "table_A.3-1",
        "table_C.8.2.2-1",
    ),
    *explain(
        "edition: Enhanced Multi-energy CT Acquisition Module added to Enhanced CT",
        ChangeKind.MODULE_ADDED,
        "table_A.38-1",
        "table_C.8.15.4-1",
    ),
    *explain(
        "edition: Enhanced CT gained the Temporal Position and the Multi-energy CT"
        " Characteristics / Processing functional group macros",
        ChangeKind.FUNCTIONAL_GROUP_ADDED,
        "table_A.38-1",
        "table_C.7.6.16.2.23-1",
        "table_C.8.15.3.12-1",
        "table_C.8.15.3.13-1",
    ),
    *explain(
        "edition: Real World Value Mapping in Enhanced CT became C (required for multi-energy)",
        ChangeKind.USAGE_CHANGED,
        "table_A.38-1",
        "table_C.7.6.16-12",
    ),
    *explain(
        EXCERPT_XA,
        ChangeKind.MODULE_ADDED,
        "table_A.47-1",
        "table_C.8.19.1-1",
        "table_C.8.19.2-1",
        "table_C.8.19.3-1",
        "table_C.8.19.4-1",
        "table_C.8.19.5-1",
        "table_C.8.19.7-1",
    ),
    *explain(
        "excerpt or edition: Mask, Intervention, Respiratory Synchronization, X-Ray Filtration"
        " and X-Ray Grid are listed for Enhanced XA in 2020 and absent from the excerpt's"
        " Table A.47-1; offline the two causes cannot be told apart",
        ChangeKind.MODULE_ADDED,
        "table_A.47-1",
        "table_C.7-16",
        "table_C.7-19",
        "table_C.7.6.18-2",
        "table_C.8-35",
        "table_C.8-36",
    ),
    *explain(
        "excerpt or edition: the excerpt's Table A.47-1 gives Cardiac Synchronization usage M,"
        " 2020 gives C ('Required if cardiac synchronization was applied')",
        ChangeKind.USAGE_CHANGED,
        "table_A.47-1",
        "table_C.7.6.18-1",
    ),
    # -- SOP Common (C.12-1) -------------------------------------------------------------
    *explain(
        "edition: Coding Scheme Resources Sequence (0008,0109) added",
        ADDED,
        "table_C.12-1",
        "00080110/00080109",
    ),
    *explain(
        "edition: Private Data Element Definition Sequence (0008,0310) added",
        ADDED,
        "table_C.12-1",
        "00080300/00080310",
    ),
    *explain(
        "edition: Institutional Department Type Code Sequence (0008,1041) added to"
        " Contributing Equipment Sequence",
        ADDED,
        "table_C.12-1",
        "0018A001/00081041",
    ),
    *explain(
        DEPARTMENT,
        ADDED,
        "table_C.12-1",
        "0018A001/00081072/00081040",
        "0018A001/00081072/00081041",
        via=("table_10-1", "00081040"),
    ),
    *explain(
        "edition: Nonconforming Modified Attributes Sequence (0400,0551), Instance Origin"
        " Status (0400,0600) and Barcode Value (2200,0005) added",
        ADDED,
        "table_C.12-1",
        "04000561/04000551",
        "04000600",
        "22000005",
    ),
    # -- Patient, Study, Series ---------------------------------------------------------
    *explain(
        "edition: Type of Patient ID (0010,0022) and Genetic Modifications Sequence"
        " (0010,0221) added at the top level of the Patient Module",
        ADDED,
        "table_C.7-1",
        "00100022",
        "00100221",
    ),
    *explain(
        "edition: Other Patient IDs (0010,1000) retired and dropped from the Patient Module",
        REMOVED,
        "table_C.7-1",
        "00101000",
    ),
    *explain(
        DEPARTMENT,
        ADDED,
        "table_C.7-3",
        "00080096/00081040",
        "00080096/00081041",
        "0008009D/00081040",
        "0008009D/00081041",
        "00081049/00081040",
        "00081049/00081041",
        "00081062/00081040",
        "00081062/00081041",
        via=("table_10-1", "00081040"),
    ),
    *explain(
        "edition: Requesting Service Code Sequence (0032,1033) added",
        ADDED,
        "table_C.7-3",
        "00321033",
    ),
    *explain(
        "edition: patient state and history attributes (BMI, measured dimensions,"
        " medical alerts, allergies, smoking and pregnancy status, last menstrual date,"
        " reason for visit, patient state) added to the Patient Study Module",
        ADDED,
        "table_C.7-4a",
        "00101022",
        "00101023",
        "00101024",
        "00102000",
        "00102110",
        "001021A0",
        "001021C0",
        "001021D0",
        "00321066",
        "00321067",
        "00380500",
    ),
    *explain(
        "edition: Longitudinal Temporal Offset from Event (0012,0052) and Event Type"
        " (0012,0053) added",
        ADDED,
        "table_C.7-4b",
        "00120052",
        "00120053",
    ),
    *explain(
        DEPARTMENT,
        ADDED,
        "table_C.7-5a",
        "00081052/00081040",
        "00081052/00081041",
        "00081072/00081040",
        "00081072/00081041",
        via=("table_10-1", "00081040"),
    ),
    *explain(
        "edition: Referenced Defined / Performed Protocol Sequences (0018,990C/990D) added",
        ADDED,
        "table_C.7-5a",
        "0018990C",
        "0018990D",
    ),
    *explain(
        OBSERVATION,
        ADDED,
        "table_C.7-5a",
        "00400260/00400440/0040A032",
        "00400260/00400440/00400441/0040A032",
        "00400275/00400008/00400440/0040A032",
        "00400275/00400008/00400440/00400441/0040A032",
        via=("table_10-2", "0040A032"),
    ),
    *explain(
        DEPARTMENT,
        ADDED,
        "table_C.8-37",
        "00081072/00081040",
        "00081072/00081041",
        via=("table_10-1", "00081040"),
    ),
    *explain(
        OBSERVATION,
        ADDED,
        "table_C.8-37",
        "00400260/00400440/0040A032",
        "00400260/00400440/00400441/0040A032",
        "00400275/00400008/00400440/0040A032",
        "00400275/00400008/00400440/00400441/0040A032",
        via=("table_10-2", "0040A032"),
    ),
    *explain(
        "edition: Institutional Department Type Code Sequence (0008,1041), Device UID"
        " (0018,1002), UDI Sequence (0018,100A) and Manufacturer's Device Class UID"
        " (0018,100B) added",
        ADDED,
        "table_C.7-8",
        "00081041",
        "00181002",
        "0018100A",
        "0018100B",
    ),
    # -- Image ----------------------------------------------------------------------------
    *explain(
        "edition: Extended Offset Table (7FE0,0001) and its Lengths (7FE0,0002) added",
        ADDED,
        "table_C.7-11a",
        "7FE00001",
        "7FE00002",
    ),
    *explain(
        "edition: the source-image references moved from General Image to the new"
        " General Reference Module (C.12.4)",
        REMOVED,
        "table_C.7-9",
        "00081140",
        "0008114A",
        "00082111",
        "00082112",
        "00089215",
    ),
    *explain(
        "edition: Anatomic Region Sequence (0008,2218), Primary Anatomic Structure"
        " Sequence (0008,2228) and Image Laterality (0020,0062) added to General Image",
        ADDED,
        "table_C.7-9",
        "00082218",
        "00082228",
        "00200062",
    ),
    *explain(
        OBSERVATION,
        ADDED,
        "table_C.7-9",
        "00409096/00409220/0040A032",
        via=("table_10-2", "0040A032"),
    ),
    *explain(
        MODIFIER,
        ADDED,
        "table_C.7-9",
        "00409096/00409220/00400441",
        via=("table_C.7.6.16-12b", "00409220/00400441"),
    ),
    *explain(
        OBSERVATION,
        ADDED,
        "table_C.7.6.16-12",
        "00409096/00409220/0040A032",
        via=("table_10-2", "0040A032"),
    ),
    *explain(
        MODIFIER,
        ADDED,
        "table_C.7.6.16-12",
        "00409096/00409220/00400441",
        via=("table_C.7.6.16-12b", "00409220/00400441"),
    ),
    *explain(
        "edition: Referenced Frame Numbers (0040,A136) replaced by Referenced Frame"
        " Number (0008,1160) in Acquisition Context Sequence",
        REMOVED,
        "table_C.7.6.14-1",
        "00400555/0040A136",
    ),
    *explain(
        "edition: Referenced Frame Number (0008,1160) replaces (0040,A136); Observation"
        " DateTime (0040,A032) added",
        ADDED,
        "table_C.7.6.14-1",
        "00400555/00081160",
        "00400555/0040A032",
    ),
    *explain(
        OBSERVATION,
        ADDED,
        "table_C.7.6.22-1",
        "00400560/00400610/00400612/0040A032",
        "00400560/00400620/0040A032",
        via=("table_10-2", "0040A032"),
    ),
    # -- CT ------------------------------------------------------------------------------
    *explain(
        "edition: Multi-energy CT Acquisition (0018,9361) and Image and Fluoroscopy"
        " Area Dose Product (0018,115E) added to CT Image",
        ADDED,
        "table_C.8-3",
        "00189361",
        "0018115E",
    ),
    *explain(
        "edition: Multi-energy CT Acquisition (0018,9361) added to Enhanced CT Image",
        ADDED,
        "table_C.8-114",
        "00189361",
    ),
    *explain(PATH_INDEX, ADDED, "table_C.8-119", "00189304/00189378"),
    *explain(PATH_INDEX, ADDED, "table_C.8-122", "00189312/00189378"),
    *explain(PATH_INDEX, ADDED, "table_C.8-125", "00189325/00189378"),
    *explain(
        "edition: Image and Fluoroscopy Area Dose Product (0018,115E) and Referenced"
        " X-Ray Source Index (0018,9377) added to CT Exposure Sequence",
        ADDED,
        "table_C.8-124",
        "00189321/0018115E",
        "00189321/00189377",
    ),
    # -- RT ------------------------------------------------------------------------------
    *explain(
        "edition: Content Date (0008,0023) and Content Time (0008,0033) added to RT Dose",
        ADDED,
        "table_C.8-39",
        "00080023",
        "00080033",
    ),
    *explain(
        "edition: Definition Source Sequence (0008,1156) and ROI Derivation Algorithm"
        " Identification Sequence (3006,0037) added to Structure Set ROI Sequence",
        ADDED,
        "table_C.8-41",
        "30060020/00081156",
        "30060020/30060037",
    ),
    # -- types ---------------------------------------------------------------------------
    *explain(
        "edition: Pixel Data (7FE0,0010) of the Icon Image Sequence (Table C.7-11b)"
        " became Type 1 (2016c: 1C)",
        TYPE,
        "table_C.7-9",
        "00880200/7FE00010",
        via=("table_C.7-11b", "7FE00010"),
    ),
    *explain(
        "edition: as above, in the Enhanced CT Image Module's Icon Image Sequence",
        TYPE,
        "table_C.8-114",
        "00880200/7FE00010",
        via=("table_C.7-11b", "7FE00010"),
    ),
    *explain(
        "edition: Per-frame Functional Groups Sequence (5200,9230) became 1C",
        TYPE,
        "table_C.7.6.16-1",
        "52009230",
    ),
    *explain(
        "edition: Spacing Between Slices (0018,0088) in Pixel Measures became 1C",
        TYPE,
        "table_C.7.6.16-2",
        "00289110/00180088",
    ),
    *explain(
        "edition: Purpose of Reference Code Sequence (0040,A170) became 1C",
        TYPE,
        "table_C.7.6.16-6",
        "00081140/0040A170",
    ),
    *explain(
        "edition: Derivation Code Sequence (0008,9215) and Purpose of Reference Code"
        " Sequence (0040,A170) in Derivation Image became 1C",
        TYPE,
        "table_C.7.6.16-7",
        "00089124/00089215",
        "00089124/00082112/0040A170",
    ),
    *explain(
        "edition: Dimension Index Sequence (0020,9222) became 1C and its Dimension"
        " Organization UID (0020,9164) 1",
        TYPE,
        "table_C.7.6.17-1",
        "00209222",
        "00209222/00209164",
    ),
    *explain("edition: Skip Beats (0018,1086) became Type 3", TYPE, "table_C.7.6.18-1", "00181086"),
)


@pytest.fixture(scope="module")
def docbook(part03_2016c: Path) -> Part03Model:
    return link_part03(apply_part03_errata(read_part03(part03_2016c)))


@pytest.fixture(scope="module")
def rendition(json_2020: Path) -> Part03Model:
    return link_part03(read_json_part03(json_2020))


def roots(conflicts: Iterable[IODConflict]) -> list[IODConflict]:
    """Added/removed subtrees once, at their root; other conflicts unchanged."""
    listed = list(conflicts)
    paths = {(c.kind, c.item, c.detail) for c in listed}
    kept: list[IODConflict] = []
    for conflict in listed:
        if conflict.kind in (ADDED, REMOVED):
            parent = conflict.detail.rpartition("/")[0]
            if parent and (conflict.kind, conflict.item, parent) in paths:
                continue
        kept.append(conflict)
    return kept


def parity_differences(old: Part03Model, new: Part03Model) -> list[IODConflict]:
    found: list[IODConflict] = []
    shared_tables: set[str] = set()
    for key in IODS:
        before, after = old.iod(key), new.iod(key)
        found.extend(c for c in diff_iods(before, after) if c.kind in GATED)
        shared_tables |= {u.module for u in before.modules} & {u.module for u in after.modules}
        shared_tables |= {g.macro for g in before.functional_groups} & {
            g.macro for g in after.functional_groups
        }
    for key in sorted(shared_tables):
        changes = diff_tables(old.attribute_table(key), new.attribute_table(key))
        found.extend(roots(c for c in changes if c.kind in GATED))
    return found


def test_every_difference_is_explained(docbook: Part03Model, rendition: Part03Model) -> None:
    found = {(c.kind, c.item, c.detail): c for c in parity_differences(docbook, rendition)}
    explained = {(e.kind, e.item, e.detail): e for e in EXPLAINED}
    assert len(explained) == len(EXPLAINED), "an explanation is listed twice"
    unexplained = sorted((found[k].describe() for k in found.keys() - explained.keys()), key=str)
    stale = sorted(f"{k[0].value} {k[1]} {k[2]}" for k in explained.keys() - found.keys())
    assert not unexplained, "differences without an explanation:\n" + "\n".join(unexplained)
    assert not stale, "explanations of differences that no longer occur:\n" + "\n".join(stale)


def test_identity_mapping(docbook: Part03Model, rendition: Part03Model) -> None:
    """Both sources key items by PS3.3 table id; kinds agree, and so do the name slugs.

    The rule: the key is the table's ``xml:id`` (DocBook) = the anchor of ``linkToStandard``
    (JSON); the slug is :func:`iod_model.slug` of the caption less "Module/Macro Attributes",
    "IOD Modules" (DocBook) = the rendition's ``id``.  The slug only pairs items whose table
    was renumbered; the names listed below differ between the sources.
    """
    theirs: dict[str, tuple[str, str]] = {
        **{t.key: ("module", t.slug) for t in rendition.modules},
        **{t.key: ("macro", t.slug) for t in rendition.macros},
        **{t.key: ("iod", t.slug) for t in rendition.iods},
    }
    ours: dict[str, tuple[str, str]] = {
        **{t.key: ("module", t.slug) for t in docbook.modules},
        **{t.key: ("macro", t.slug) for t in docbook.macros},
        **{t.key: ("iod", t.slug) for t in docbook.iods},
    }
    missing = sorted(ours.keys() - theirs.keys())
    # Not in the 2020 rendition: the Encrypted Attributes Data Set table is no macro (the
    # rendition lists none such), and the Table Content Item Macro was dropped after 2016c.
    assert missing == ["table_C.12-7", "table_C.18.10-1"]
    renamed = {
        key: (ours[key][1], theirs[key][1])
        for key in ours.keys() & theirs.keys()
        if ours[key] != theirs[key]
    }
    assert renamed == {
        "table_A.47-1": ("enhanced-x-ray-angiographic-image", "enhanced-xa-image"),
        "table_C.8-125": ("ct-x-ray-details-sequence", "ct-x-ray-details"),
    }
    # Keys are unique across kinds, and all but four items match by key, kind and slug.
    assert len(ours) == len(docbook.modules) + len(docbook.macros) + len(docbook.iods) == 157
    assert len(ours) - len(missing) - len(renamed) == 153


def test_macro_changes_behind_propagated_differences(
    docbook: Part03Model, rendition: Part03Model
) -> None:
    """An explanation that blames a macro is checked on the macro itself."""
    for entry in EXPLAINED:
        if entry.via is None:
            continue
        macro, path = entry.via
        changes = diff_tables(docbook.attribute_table(macro), rendition.attribute_table(macro))
        kinds = {(c.kind, c.detail) for c in changes}
        assert (entry.kind, path) in kinds, f"{macro} does not show {entry.kind.value} {path}"
        # The difference in the module is the macro's, seen where the module includes it.
        assert any(kind is entry.kind and entry.detail.endswith(d) for kind, d in kinds)


def test_the_four_iods_agree_elsewhere(docbook: Part03Model, rendition: Part03Model) -> None:
    # RT Dose has no difference at all in its module table, and most modules of the four
    # IODs match attribute for attribute: the comparison is not vacuous.
    assert not [
        c for c in diff_iods(docbook.iod(IODS[1]), rendition.iod(IODS[1])) if c.kind in GATED
    ]
    same = [
        key
        for key in {u.module for u in docbook.iod(IODS[0]).modules}
        if not [
            c
            for c in diff_tables(docbook.attribute_table(key), rendition.attribute_table(key))
            if c.kind in GATED
        ]
    ]
    assert len(same) >= 8  # e.g. Image Plane, VOI LUT, Frame of Reference, Overlay Plane


def test_excerpt_cut_rows(docbook: Part03Model) -> None:
    used = {u.module for i in docbook.iods for u in i.modules}
    for entry in EXPLAINED:
        if entry.reason == EXCERPT_XA:
            assert entry.detail in docbook.attribute_tables() and entry.detail not in used


def test_errata_are_visible(docbook: Part03Model) -> None:
    """The 2016c errata were corrected and reported, so the comparison sees the fixed text."""
    corrected = {
        (i.provenance.table_id, i.provenance.row)
        for i in docbook.issues
        if i.kind is IssueKind.ERRATUM
    }
    assert corrected == {("table_C.12-1", 19), ("table_C.12-1", 24), ("table_10-18", 8)}
    assert not [i for i in docbook.issues if i.kind is IssueKind.DUPLICATE_ATTRIBUTE]


def test_condition_changes_are_reported(docbook: Part03Model, rendition: Part03Model) -> None:
    changed = [
        c
        for key in IODS
        for c in diff_iods(docbook.iod(key), rendition.iod(key))
        if c.kind is ChangeKind.CONDITION_CHANGED
    ]
    texts = {(c.detail, c.other_value, c.kept_value) for c in changed}
    assert (
        "table_C.7.16-13",
        "Required if the Section C.7.6.4b is present",
        "Required if the Enhanced Contrast/Bolus Module is present.",
    ) in texts


def test_merge_newest_wins_and_keeps_older_only(
    docbook: Part03Model, rendition: Part03Model
) -> None:
    merged = merge_part03([rendition, docbook])  # order does not matter: editions decide
    assert merged.edition == "2020"
    assert len(merged.iods) == 143 and len(merged.modules) == 375
    # The two 2016c tables the rendition lacks are kept, the rest come from 2020.
    assert len(merged.macros) == 262
    assert merged.attribute_table("table_C.8-3").provenance.edition == "2020"
    assert merged.attribute_table("table_C.18.10-1").provenance.edition == "2016c"
    kinds = {c.kind for c in merged.conflicts}
    assert {
        ChangeKind.ITEM_ONLY_IN_OLDER,
        ChangeKind.MODULE_ADDED,
        ChangeKind.TYPE_CHANGED,
    } <= kinds
    assert merge_part03([docbook, rendition]) == merged
