"""The PS3.4 DocBook reader: a hand-written fixture for each table layout, errors, and golden
expectations over the real 2013 part04.xml (each checked against the XML text by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.model import ConflictKind, TagPattern
from dicompile.generator.service_model import (
    DimseOperation,
    MatchingKeyType,
    QueryKeyDef,
    ReturnKeyType,
    ServiceModel,
    StatusCategory,
    StatusCode,
)
from dicompile.generator.sources.docbook.common import DocBookPart, body_rows, load_part
from dicompile.generator.sources.docbook.part04 import (
    read_attribute_list,
    read_key_table,
    read_part04,
    read_service_group,
    read_status_table,
    read_typed_table,
)
from dicompile.generator.sources.docbook.part04_tables import (
    ERRATA,
    AttributeListSpec,
    ServiceGroupSpec,
    StatusTableSpec,
    TagErratum,
    TypedTableSpec,
)
from dicompile.generator.sources.docbook.part06 import read_part06
from dicompile.runtime.errors import StandardSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "part04" / "part04.xml"
OP = DimseOperation


@pytest.fixture(scope="module")
def fixture_part() -> DocBookPart:
    return load_part(FIXTURE)


def _variant(tmp_path: Path, old: str, new: str) -> DocBookPart:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "part04.xml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_part(path)


def _by_tag(keys: tuple[QueryKeyDef, ...], tag: str) -> QueryKeyDef:
    return next(k for k in keys if k.tag is not None and k.tag.text == tag)


# ----------------------------------------------------------------------------- status codes


@pytest.mark.parametrize(
    ("text", "base", "mask", "inside", "outside"),
    [
        ("A700", 0xA700, 0xFFFF, 0xA700, 0xA701),
        ("A7xx", 0xA700, 0xFF00, 0xA7FE, 0xA800),
        ("Cxxx", 0xC000, 0xF000, 0xCFFF, 0xB000),
        ("a9XX", 0xA900, 0xFF00, 0xA912, 0xAA00),
    ],
)
def test_status_code(text: str, base: int, mask: int, inside: int, outside: int) -> None:
    code = StatusCode.parse(text)
    assert (code.base, code.mask) == (base, mask)
    assert code.matches(inside) and not code.matches(outside)


@pytest.mark.parametrize("text", ["A70", "A7000", "xA00", "G000", ""])
def test_status_code_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a status code"):
        StatusCode.parse(text)


# ----------------------------------------------------------------------------- fixture: keys


def test_qr_key_table(fixture_part: DocBookPart) -> None:
    keys = read_key_table(fixture_part, "table_C.6-1")
    name = _by_tag(keys, "00100010")
    assert name.name == "Patient's Name"
    assert name.matching_key_type is MatchingKeyType.REQUIRED
    assert name.return_key_type is None  # Q/R: one key type for matching and return
    assert _by_tag(keys, "00100020").matching_key_type is MatchingKeyType.UNIQUE
    assert _by_tag(keys, "00100020").name == "PatientID"  # zero-width space removed
    sequence = _by_tag(keys, "00081120")
    assert [(c.tag.text if c.tag else None, c.name) for c in sequence.children] == [
        ("00081150", "Referenced SOP Class UID"),
        ("00081155", "Referenced SOP Instance UID"),  # "> Referenced": space after '>'
    ]
    others = keys[-1]
    assert others.tag is None and others.name == "All other Attributes at Patient Level"
    assert others.provenance.row == 6 and others.provenance.table_id == "table_C.6-1"


def test_worklist_key_table_modules_nesting_and_remarks(fixture_part: DocBookPart) -> None:
    keys = read_key_table(fixture_part, "table_K.6-1")
    assert [k.name for k in keys] == ["Scheduled Procedure Step Sequence", "Patient's Name"]
    sps = keys[0]
    assert sps.module == "Scheduled Procedure Step"
    assert (sps.matching_key_type, sps.return_key_type) == (
        MatchingKeyType.REQUIRED,
        ReturnKeyType.TYPE_1,
    )
    assert sps.remark == "Sequence Matching; see C.2.2.2.6."  # the xref spelled out
    protocol = _by_tag(sps.children, "00400008")
    assert protocol.return_key_type is ReturnKeyType.TYPE_1C
    (code_value,) = protocol.children
    assert code_value.matching_key_type is MatchingKeyType.NOT_MATCHED
    assert sps.children[-1].tag is None  # ">All other Attributes from the ... Sequence"
    assert keys[1].module == "Patient Identification"
    paths = [tuple(k.name for k in path) for path in sps.walk()]
    assert (
        "Scheduled Procedure Step Sequence",
        "Scheduled Protocol Code Sequence",
        "Code Value",
    ) in paths


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<para>Type</para>", "<para>Kind</para>", "columns changed"),
        ("<td><para>U</para></td>", "<td><para>X</para></td>", "not a key type: 'X'"),
        ("<td><para>(0010,0020)</para></td>", "<td><para>0010-0020</para></td>", "not a tag"),
        (
            "<td><para>Patient's Name</para></td><td><para>(0010,0010)</para></td>",
            "<td><para>Patient's Name</para></td><td/>",
            "no tag for",
        ),
        (
            "<para>&gt;Referenced SOP Class UID</para>",
            "<para>&gt;&gt;&gt;Referenced SOP Class UID</para>",
            "nesting jumps",
        ),
    ],
)
def test_key_table_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    part = _variant(tmp_path, old, new)
    with pytest.raises(StandardSourceError, match=message) as caught:
        read_key_table(part, "table_C.6-1")
    assert caught.value.table_id == "table_C.6-1"
    assert caught.value.source_file is not None
    assert caught.value.source_file.endswith("/part04.xml")


def test_missing_table_is_named(fixture_part: DocBookPart) -> None:
    with pytest.raises(StandardSourceError, match=r"table_C\.6-2"):
        read_key_table(fixture_part, "table_C.6-2")


# ----------------------------------------------------------------------------- fixture: statuses


def test_status_table_continuation_and_ranges(fixture_part: DocBookPart) -> None:
    spec = StatusTableSpec("table_C.4-1", OP.C_FIND)
    statuses = read_status_table(fixture_part, spec, "Query/Retrieve Service Class")
    rows = [(s.code.text, s.category, s.meaning, s.related_fields) for s in statuses]
    assert rows == [
        ("A700", StatusCategory.FAILURE, "Refused: Out of Resources", ("(0000,0902)",)),
        # An empty "Service Status" cell continues the class above.
        ("Cxxx", StatusCategory.FAILURE, "Unable to process", ("(0000,0901)", "(0000,0902)")),
        # "(any value C000 through CFFF ...)" is the range Cxxx.
        ("Cxxx", StatusCategory.FAILURE, "Out of range", ()),
        ("FF00", StatusCategory.PENDING, "Matches are continuing", ("Identifier",)),
        ("0000", StatusCategory.SUCCESS, "", ()),
    ]
    assert all(s.operation is OP.C_FIND for s in statuses)


def test_status_table_with_row_spans(fixture_part: DocBookPart) -> None:
    spec = StatusTableSpec("table_C.4-9", OP.N_ACTION, "Some SOP Class")
    statuses = read_status_table(fixture_part, spec, "Query/Retrieve Service Class")
    assert [(s.code.text, s.category) for s in statuses] == [
        ("B101", StatusCategory.WARNING),
        ("B102", StatusCategory.WARNING),
        ("C101", StatusCategory.FAILURE),
    ]
    assert {s.scope for s in statuses} == {"Some SOP Class"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<para>Failure</para>", "<para>Oops</para>", "not a status class"),
        ("<para>A700</para>", "<para>A70G</para>", "not a status code"),
        ("<para>Identifier</para>", "<para>Whatever</para>", "unreadable related fields"),
        ("<para>Status Codes</para>", "<para>Codes</para>", "columns changed"),
    ],
)
def test_status_table_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    part = _variant(tmp_path, old, new)
    with pytest.raises(StandardSourceError, match=message):
        read_status_table(part, StatusTableSpec("table_C.4-1", OP.C_FIND), "Q/R")


# ----------------------------------------------------------------------------- fixture: DIMSE-N


def test_action_table(fixture_part: DocBookPart) -> None:
    spec = TypedTableSpec("table_J.3-1", "Storage Commitment Push Model SOP Class", OP.N_ACTION)
    first, second = read_typed_table(fixture_part, spec, "Storage Commitment Service Class")
    assert (first.type_id, first.type_name) == (1, "Request Storage Commitment")
    assert [a.name for a in first.attributes] == ["Transaction UID", "Referenced SOP Sequence"]
    (file_set,) = first.attributes[1].children
    assert (file_set.scu, file_set.scp, file_set.comment) == ("3", "3", "See J.3.2.1.1.1.")
    assert (second.type_id, second.attributes, second.comment) == (2, (), "No attributes.")


def test_attribute_list_table_per_operation(fixture_part: DocBookPart) -> None:
    spec = AttributeListSpec(
        "table_F.7.2-1",
        "Modality Performed Procedure Step SOP Class",
        (("Req. Type N-CREATE (SCU/SCP)", OP.N_CREATE), ("Req. Type N-SET (SCU/SCP)", OP.N_SET)),
        final_state="Requirement Type Final State (see Note 1)",
    )
    create, update = read_attribute_list(fixture_part, spec, "Procedure Step SOP Classes")
    assert (create.operation, update.operation) == (OP.N_CREATE, OP.N_SET)
    charset = create.attributes[0]
    assert (charset.scu, charset.scp) == ("1C", "1C")
    assert charset.comment == "(Required if an extended character set is used)"
    status = next(a for a in update.attributes if a.name == "Performed Procedure Step Status")
    assert (status.scu, status.scp, status.module) == (
        "3",
        "1",
        "Performed Procedure Step Information",
    )
    series = next(a for a in update.attributes if a.name == "Performed Series Sequence")
    (protocol,) = series.children
    assert protocol.not_allowed and (protocol.scu, protocol.scp) == ("", "")
    assert protocol.final_state == "1"
    others = update.attributes[-1]  # name cell spanning the Tag column
    assert others.tag is None and (others.scu, others.scp) == ("3", "3")


def test_service_group_table(fixture_part: DocBookPart) -> None:
    spec = ServiceGroupSpec("table_J.3.1-1", ("A SOP Class", "B SOP Class"))
    usages = read_service_group(fixture_part, spec, "Storage Commitment Service Class")
    assert [(u.scope, u.operation, u.qualifier, u.scu, u.scp) for u in usages] == [
        ("A SOP Class", OP.N_EVENT_REPORT, "", "M", "M"),
        ("A SOP Class", OP.N_ACTION, "Request", "U", "M"),
        ("B SOP Class", OP.N_EVENT_REPORT, "", "M", "M"),
        ("B SOP Class", OP.N_ACTION, "Request", "U", "M"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<para>N-EVENT-REPORT</para>", "<para>N-EVENT</para>", "not a DIMSE service"),
        (
            "<para>M/M</para></td></tr>\n          <tr><td><para>N-ACTION",
            "<para>M/3</para></td></tr>\n          <tr><td><para>N-ACTION",
            "not an SCU/SCP usage",
        ),
    ],
)
def test_service_group_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    part = _variant(tmp_path, old, new)
    with pytest.raises(StandardSourceError, match=message):
        read_service_group(part, ServiceGroupSpec("table_J.3.1-1", ("X",)), "S")


def test_requirement_errors(tmp_path: Path) -> None:
    part = _variant(tmp_path, "<para>3/1</para>", "<para>3-1</para>")
    spec = AttributeListSpec("table_F.7.2-1", "MPPS", (("Req. Type N-SET (SCU/SCP)", OP.N_SET),))
    with pytest.raises(StandardSourceError, match="not an SCU/SCP requirement: '3-1'"):
        read_attribute_list(part, spec, "Procedure Step SOP Classes")


def test_reader_refuses_other_parts(tmp_path: Path) -> None:
    part = _variant(tmp_path, "DICOM PS3.4 2013", "DICOM PS3.6 2013")
    with pytest.raises(StandardSourceError, match=r"expected PS3\.4"):
        read_part04(part.path)


# ----------------------------------------------------------------------------- golden: 2013


@pytest.fixture(scope="module")
def model_2013(shared_dir: Path) -> ServiceModel:
    return read_part04(shared_dir / "standard-xml" / "2013" / "part04.xml")


def test_service_classes(model_2013: ServiceModel) -> None:
    by_annex = {s.annex: s for s in model_2013.service_classes}
    assert by_annex["C"].name == "Query/Retrieve Service Class"
    assert by_annex["K"].name == "Basic Worklist Management Service"  # sic, no "Class"
    assert {a for a, s in by_annex.items() if s.retired} == {"D", "E", "G", "L"}
    assert by_annex["B"].uid == "1.2.840.10008.4.2"  # B.3.1.3
    # Annexes that extend another service class, and the informative M, define none.
    assert not {"M", "N", "O", "Y", "Z", "AA"} & set(by_annex)


def test_sop_classes(model_2013: ServiceModel) -> None:
    sops = {(s.service_class, s.uid): s for s in model_2013.sop_classes}
    find = sops[("Query/Retrieve Service Class", "1.2.840.10008.5.1.4.1.2.2.1")]
    assert find.name == "Study Root Query/Retrieve Information Model - FIND"
    assert find.provenance.table_id == "table_C.6.2.3-1" and find.provenance.row == 1
    ct = sops[("Storage Service Class", "1.2.840.10008.5.1.4.1.1.2")]
    assert (ct.name, ct.iod_section, ct.retired) == ("CT Image Storage", "A.3", False)
    assert sops[("Storage Service Class", "1.2.840.10008.5.1.4.1.1.6")].retired  # Table B.6-1
    echo = sops[("Verification Service Class", "1.2.840.10008.1.1")]
    assert (echo.name, echo.provenance.table_id) == ("Verification SOP Class", "sect_A.4")
    mpps = sops[("Procedure Step SOP Classes", "1.2.840.10008.3.1.2.3.3")]
    assert mpps.name == "Modality Performed Procedure Step SOP Class"
    commitment = sops[("Storage Commitment Service Class", "1.2.840.10008.1.20.1")]
    assert commitment.name == "Storage Commitment Push Model SOP Class"
    worklist = sops[("Basic Worklist Management Service", "1.2.840.10008.5.1.4.31")]
    assert worklist.name == "Modality Worklist Information Model - FIND"
    assert sops[("Unified Procedure Step Service and SOP Classes", "1.2.840.10008.5.1.4.34.6.3")]
    # Composite Instance Root Retrieve (Annex Y) belongs to Query/Retrieve.
    assert ("Query/Retrieve Service Class", "1.2.840.10008.5.1.4.1.2.4.3") in sops
    storage = [s for s in model_2013.sop_classes if s.service_class == "Storage Service Class"]
    assert (len(storage), sum(s.retired for s in storage)) == (110 + 4, 4)  # B.5-1 and B.6-1
    instances = {w.uid: w.name for w in model_2013.well_known_instances}
    assert instances["1.2.840.10008.1.20.1.1"] == "Storage Commitment Push Model SOP Instance"


def test_sop_classes_agree_with_pynetdicom(model_2013: ServiceModel) -> None:
    """Every current UID read is one pynetdicom (a test-only oracle, newer edition) knows,
    in the group of the same service."""
    sop_class = pytest.importorskip("pynetdicom.sop_class")
    groups = {
        "Verification Service Class": "_VERIFICATION_CLASSES",
        # Later editions moved the implant template, hanging protocol and color palette
        # storage classes to the Non-Patient Object Storage Service Class.
        "Storage Service Class": "_STORAGE_CLASSES _NON_PATIENT_OBJECT_CLASSES",
        "Hanging Protocol Storage Service Class": "_NON_PATIENT_OBJECT_CLASSES",
        "Color Palette Storage Service Class": "_NON_PATIENT_OBJECT_CLASSES",
        "Query/Retrieve Service Class": "_QR_CLASSES",
        "Procedure Step SOP Classes": "_PROCEDURE_STEP_CLASSES",
        "Print Management Service Class": "_PRINT_MANAGEMENT_CLASSES",
        "Storage Commitment Service Class": "_STORAGE_COMMITMENT_CLASSES",
        "Basic Worklist Management Service": "_BASIC_WORKLIST_CLASSES",
        "Application Event Logging Service Class": "_APPLICATION_EVENT_CLASSES",
        "Relevant Patient Information Query Service Class": "_RELEVANT_PATIENT_QUERY_CLASSES",
        "Instance Availability Notification Service Class": "_INSTANCE_AVAILABILITY_CLASSES",
        "Media Creation Management Service Class": "_MEDIA_CREATION_CLASSES",
        "Hanging Protocol Query/Retrieve Service Class": "_HANGING_PROTOCOL_CLASSES",
        "Substance Administration Query Service Class": "_SUBSTANCE_ADMINISTRATION_CLASSES",
        "Color Palette Query/Retrieve Service Class": "_COLOR_PALETTE_CLASSES",
        "Implant Template Query/Retrieve Service Classes": "_IMPLANT_TEMPLATE_CLASSES",
        "Unified Procedure Step Service and SOP Classes": "_UNIFIED_PROCEDURE_STEP_CLASSES",
    }
    checked = 0
    for sop in model_2013.sop_classes:
        if sop.retired or sop.service_class not in groups:
            continue
        known = {
            uid
            for group in groups[sop.service_class].split()
            for uid in getattr(sop_class, group).values()
        }
        assert sop.uid in known, (sop.service_class, sop.uid, sop.name)
        checked += 1
    assert checked > 150


def test_qr_information_models(model_2013: ServiceModel) -> None:
    study_root = model_2013.information_model("Study Root Query/Retrieve Information Model")
    assert study_root.root == "STUDY"
    assert [lv.value for lv in study_root.levels] == ["STUDY", "SERIES", "IMAGE"]
    assert study_root.sop_class_uid(OP.C_FIND) == "1.2.840.10008.5.1.4.1.2.2.1"
    assert study_root.sop_class_uid(OP.C_GET) == "1.2.840.10008.5.1.4.1.2.2.3"
    study_uid = _by_tag(study_root.level("STUDY").keys, "0020000D")
    assert (study_uid.name, study_uid.matching_key_type) == (
        "Study Instance UID",
        MatchingKeyType.UNIQUE,
    )
    # C.6.2.1.3: Study Root's series level "is the same as" Patient Root's (Table C.6-3).
    assert study_root.level("SERIES").provenance.table_id == "table_C.6-3"
    series_uid = _by_tag(study_root.level("SERIES").keys, "0020000E")
    assert series_uid.matching_key_type is MatchingKeyType.UNIQUE
    patient_root = model_2013.information_model("Patient Root Query/Retrieve Information Model")
    assert patient_root.root == "PATIENT"
    patient_name = _by_tag(patient_root.level("PATIENT").keys, "00100010")
    assert patient_name.matching_key_type is MatchingKeyType.REQUIRED
    image = patient_root.level("IMAGE")
    assert image.name == "Composite Object Instance Information"
    alternate = _by_tag(image.keys, "00083001")  # Alternate Representation Sequence
    purpose = _by_tag(alternate.children, "0040A170")
    assert [k.name for k in purpose.children][:2] == ["Code Value", "Coding Scheme Designator"]
    frames = model_2013.information_model("Composite Instance Root Retrieve").level("FRAME")
    assert [k.tag.text for k in frames.keys if k.tag] == ["00081161", "00081162", "00081163"]


def test_worklist_keys(model_2013: ServiceModel) -> None:
    worklist = model_2013.information_model("Modality Worklist Information Model")
    assert worklist.sop_class_uid(OP.C_FIND) == "1.2.840.10008.5.1.4.31"
    (level,) = worklist.levels
    sps = _by_tag(level.keys, "00400100")
    assert sps.name == "Scheduled Procedure Step Sequence"
    assert (sps.matching_key_type, sps.return_key_type) == (
        MatchingKeyType.REQUIRED,
        ReturnKeyType.TYPE_1,
    )
    assert sps.module == "Scheduled Procedure Step"
    ae = _by_tag(sps.children, "00400001")
    assert (ae.name, ae.matching_key_type, ae.return_key_type) == (
        "Scheduled Station AE Title",
        MatchingKeyType.REQUIRED,
        ReturnKeyType.TYPE_1,
    )
    protocol = _by_tag(sps.children, "00400008")
    context = _by_tag(protocol.children, "00400440")  # >>Protocol Context Sequence
    assert context.matching_key_type is MatchingKeyType.NOT_MATCHED
    value_type = _by_tag(context.children, "0040A040")  # >>>Value Type
    assert value_type.return_key_type is ReturnKeyType.TYPE_1
    patient_name = _by_tag(level.keys, "00100010")
    assert (patient_name.module, patient_name.matching_key_type) == (
        "Patient Identification",
        MatchingKeyType.REQUIRED,
    )
    # 125 body rows, 11 of them module headings.
    assert sum(1 for _ in level.walk()) == 125 - 11


def test_worklist_identifier_attributes(model_2013: ServiceModel) -> None:
    worklist = model_2013.information_model("Modality Worklist Information Model")
    by_tag = {a.tag.text: a for a in worklist.identifier_attributes}  # Table K.6-1a
    charset = by_tag["00080005"]
    assert (charset.name, charset.request_type, charset.response_type) == (
        "Specific Character Set",
        ReturnKeyType.TYPE_1C,
        ReturnKeyType.TYPE_1C,
    )
    hl7 = by_tag["0040A390"]
    assert (hl7.request_type, hl7.response_type) == (
        ReturnKeyType.NOT_RETURNED,
        ReturnKeyType.TYPE_1C,
    )
    assert [c.name for c in hl7.children][-1] == "Retrieve URI"


def test_statuses(model_2013: ServiceModel) -> None:
    find = {s.code.text: s for s in model_2013.statuses if s.provenance.table_id == "table_C.4-1"}
    assert set(find) == {"A700", "A900", "Cxxx", "FE00", "0000", "FF00", "FF01"}
    a700 = find["A700"]
    assert (a700.category, a700.meaning, a700.operation) == (
        StatusCategory.FAILURE,
        "Refused: Out of Resources",
        OP.C_FIND,
    )
    assert a700.service_class == "Query/Retrieve Service Class"
    assert find["A900"].meaning == "Identifier does not match SOP Class"
    assert find["Cxxx"].meaning == "Unable to process"
    assert find["FF01"].category is StatusCategory.PENDING
    store = {s.code.text: s for s in model_2013.statuses if s.operation is OP.C_STORE}
    assert store["A7xx"].service_class == "Storage Service Class"
    assert store["B007"].category is StatusCategory.WARNING
    mpps = next(s for s in model_2013.statuses if s.provenance.table_id == "table_F.7.2-2")
    assert (mpps.code.text, mpps.error_id, mpps.operation) == ("0110", "A710", OP.N_SET)
    assert mpps.error_comment == "Performed Procedure Step Object may no longer be updated"


@pytest.mark.parametrize(
    ("table_id", "oracle"),
    [
        ("table_B.2-1", "STORAGE_SERVICE_CLASS_STATUS"),
        ("table_C.4-1", "QR_FIND_SERVICE_CLASS_STATUS"),
        ("table_C.4-2", "QR_MOVE_SERVICE_CLASS_STATUS"),
        ("table_C.4-3", "QR_GET_SERVICE_CLASS_STATUS"),
        ("table_K.4-1", "MODALITY_WORKLIST_SERVICE_CLASS_STATUS"),
    ],
)
def test_statuses_agree_with_pynetdicom(
    model_2013: ServiceModel, table_id: str, oracle: str
) -> None:
    """The status class of each code (both ends of a range) is pynetdicom's, where it has one."""
    status = pytest.importorskip("pynetdicom.status")
    known: dict[int, tuple[str, str]] = getattr(status, oracle)
    statuses = [s for s in model_2013.statuses if s.provenance.table_id == table_id]
    assert statuses
    compared = 0
    for s in statuses:
        for value in (s.code.base, s.code.base | (~s.code.mask & 0xFFFF)):
            if value in known:
                assert known[value][0] == s.category.value, (table_id, s.code.text)
                compared += 1
    assert compared >= len(statuses)


def test_mpps_attributes(model_2013: ServiceModel) -> None:
    tables = {
        t.operation: t
        for t in model_2013.attribute_tables
        if t.provenance.table_id == "table_F.7.2-1"
    }
    assert set(tables) == {OP.N_CREATE, OP.N_SET}
    create, update = tables[OP.N_CREATE], tables[OP.N_SET]
    assert create.scope == "Modality Performed Procedure Step SOP Class"
    assert create.service_class == "Procedure Step SOP Classes"
    status_tag = TagPattern.parse("(0040,0252)")
    created = next(a for a in create.attributes if a.tag == status_tag)
    updated = next(a for a in update.attributes if a.tag == status_tag)
    assert created.name == "Performed Procedure Step Status"
    assert (created.scu, created.scp, updated.scu, updated.scp) == ("1", "1", "3", "1")
    assert created.module == "Performed Procedure Step Information"
    step = next(a for a in update.attributes if a.name == "Scheduled Step Attribute Sequence")
    assert step.not_allowed  # N-SET: "Not allowed"
    end_date = next(a for a in create.attributes if a.tag == TagPattern.parse("(0040,0250)"))
    assert end_date.final_state == "1"
    assert sum(1 for _ in create.walk()) == 116 - 3  # three module headings


def test_storage_commitment_attributes(model_2013: ServiceModel) -> None:
    (request,) = [t for t in model_2013.attribute_tables if t.provenance.table_id == "table_J.3-1"]
    assert (request.operation, request.type_id, request.type_name) == (
        OP.N_ACTION,
        1,
        "Request Storage Commitment",
    )
    referenced = next(a for a in request.attributes if a.name == "Referenced SOP Sequence")
    assert [(c.name, c.scu, c.scp) for c in referenced.children][:2] == [
        ("Referenced SOP Class UID", "1", "1"),
        ("Referenced SOP Instance UID", "1", "1"),
    ]
    events = {
        t.type_id: t for t in model_2013.attribute_tables if t.provenance.table_id == "table_J.3-2"
    }
    assert events[1].type_name == "Storage Commitment Request Successful"
    assert events[2].type_name == "Storage Commitment Request Complete - Failures Exist"
    failed = next(a for a in events[2].attributes if a.name == "Failed SOP Sequence")
    reason = next(c for c in failed.children if c.name == "Failure Reason")
    assert (reason.tag, reason.scu, reason.scp) == (TagPattern.parse("(0008,1197)"), "-", "1")
    assert all(t.operation is OP.N_EVENT_REPORT for t in events.values())


def test_errata_are_applied_and_reported(model_2013: ServiceModel) -> None:
    errata = {c.item: c for c in model_2013.conflicts if c.kind is ConflictKind.ERRATUM}
    assert set(errata) == {f"{e.table_id} {e.name}" for e in ERRATA if e.edition == "2013"}
    model = model_2013.information_model("Implant Assembly Template Information Model")
    name = next(k for k in model.levels[0].keys if k.name == "Implant Assembly Template Name")
    assert name.tag == TagPattern.parse("(0076,0001)")
    (get,) = [t for t in model_2013.attribute_tables if t.provenance.table_id == "table_F.8.2-1"]
    birth = next(a for a in get.attributes if a.name == "Patient's Birth Date")
    assert birth.tag == TagPattern.parse("(0010,0030)")


@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: f"{e.table_id}:{e.name}")
def test_errata_canary(shared_dir: Path, erratum: TagErratum) -> None:
    """ERRATUM canary: the error is still in the edition's text; when an edition in ../shared
    fixes it, this fails and the ERRATA entry should go."""
    part = load_part(shared_dir / "standard-xml" / erratum.edition / "part04.xml")
    rows = [r for r in body_rows(part.table(erratum.table_id)) if r.texts()[0] == erratum.name]
    assert len(rows) == 1
    assert rows[0].texts()[1] == erratum.wrong


def test_tags_are_registered_in_ps36(model_2013: ServiceModel, shared_dir: Path) -> None:
    """Every tag of every key and attribute requirement is in the PS3.6 2013 registry (an
    independent source: this is how the errata above were found)."""
    registry = read_part06(shared_dir / "standard-xml" / "2013" / "part06.xml")
    known = {e.tag.text for e in registry.data_elements}
    tags = [
        (path[-1].tag.text, path[-1].provenance.cite())
        for im in model_2013.information_models
        for level in im.levels
        for path in level.walk()
        if path[-1].tag is not None
    ] + [
        (path[-1].tag.text, path[-1].provenance.cite())
        for table in model_2013.attribute_tables
        for path in table.walk()
        if path[-1].tag is not None
    ]
    assert len(tags) > 1000
    assert [t for t in tags if t[0] not in known] == []


def test_service_groups(model_2013: ServiceModel) -> None:
    usages = {
        (u.scope, u.operation, u.qualifier): (u.scu, u.scp) for u in model_2013.service_usages
    }
    mpps = "Modality Performed Procedure Step SOP Class"
    assert usages[(mpps, OP.N_CREATE, "")] == ("M", "M")  # Table F.7.1-1
    assert usages[(mpps, OP.N_SET, "")] == ("M", "M")
    commitment = "Storage Commitment Push Model SOP Class"
    assert usages[(commitment, OP.N_ACTION, "")] == ("M", "M")  # Table J.3.1-1
    assert usages[(commitment, OP.N_EVENT_REPORT, "")] == ("M", "M")
    assert usages[("Basic Film Session SOP Class", OP.N_DELETE, "")] == ("U", "M")  # H.4-1
    assert usages[("UPS Watch SOP Class", OP.N_ACTION, "Un/Subscribe")] == ("M", "M")  # CC.2-3
    assert usages[("UPS Watch SOP Class", OP.C_FIND, "")] == ("U", "M")


def test_scopes_name_sop_classes_read(model_2013: ServiceModel) -> None:
    """Every scope that names a SOP class names one the reader found (so emitters can join
    statuses, attribute tables and service groups to SOP classes by name)."""
    names = {s.name for s in model_2013.sop_classes}
    scopes = {
        *(u.scope for u in model_2013.service_usages),
        *(t.scope for t in model_2013.attribute_tables),
        *(s.scope for s in model_2013.statuses),
    }
    unknown = {s for s in scopes if s.endswith("SOP Class") and s not in names}
    # PS3.4 2013 defines these two without giving their UIDs (PS3.6 does).
    assert unknown == {
        "RT Conventional Machine Verification SOP Class",
        "RT Ion Machine Verification SOP Class",
    }
