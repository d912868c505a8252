"""Where PS3.4 keeps what: the tables and sections the PS3.4 reader reads, by ``xml:id``.

The reader (``part04.py``) is generic over a few table layouts; this module declares which
table of the 2013 edition has which layout and what it is about (service class operation,
SOP class scope), and the known errors of the text (``ERRATA``).  A newer edition that moves
or renames a table makes the reader fail on the declaration, naming the table.

References
----------
PS3.4 2013: Tables B.5-1, C.6-1 to C.6-5, K.6-1, the status tables, F.7.2-1, J.3-1, J.3-2 and
the other tables listed below.
"""

from __future__ import annotations

import attrs

from dicompile.generator.service_model import DimseOperation

OP = DimseOperation


#: Annexes whose records belong to another annex's service class (see the theory above).
PART_OF: dict[str, str] = {"N": "B", "O": "B", "AA": "B", "Y": "C", "Z": "C"}


@attrs.frozen
class SOPClassTable:
    """A table of SOP class names and UIDs (and, for Storage, the IOD's PS3.3 section)."""

    table_id: str
    retired: bool = False


SOP_CLASS_TABLES: tuple[SOPClassTable, ...] = (
    SOPClassTable("table_B.5-1"),  # Storage: Standard SOP Classes
    SOPClassTable("table_B.6-1", retired=True),
    SOPClassTable("table_C.6.1.3-1"),  # Patient Root Q/R
    SOPClassTable("table_C.6.2.3-1"),  # Study Root Q/R
    SOPClassTable("table_I.4-1"),  # Media Storage Standard SOP Classes
    SOPClassTable("table_I.5-1", retired=True),
    SOPClassTable("table_K.6.1.4-1"),  # Modality Worklist
    SOPClassTable("table_Q.4-3"),  # Relevant Patient Information Query
    SOPClassTable("table_U.6.1.4-1"),  # Hanging Protocol Q/R
    SOPClassTable("table_V.6.1.4-1"),  # Product Characteristics Query
    SOPClassTable("table_V.6.2.4-1"),  # Substance Approval Query
    SOPClassTable("table_X.6.1.4-1"),  # Color Palette Q/R
    SOPClassTable("table_Y.6.1.3-1"),  # Composite Instance Root Retrieve
    SOPClassTable("table_Z.6.1.3-1"),  # Composite Instance Retrieve Without Bulk Data
    SOPClassTable("table_BB.6.1.4-1"),  # Implant Template Q/R
)

#: Sections that define SOP classes in a sentence ("The ... SOP Class UID shall have the value").
SOP_CLASS_SECTIONS: tuple[str, ...] = (
    "sect_A.4",  # Verification
    "sect_F.7.3",  # Modality Performed Procedure Step
    "sect_F.8.3",  # ... Retrieve
    "sect_F.9.3",  # ... Notification
    "sect_H.3.2.2.1",  # Basic Grayscale Print Management Meta
    "sect_H.3.2.2.2",  # Basic Color Print Management Meta
    "sect_H.4.1.3",  # Basic Film Session
    "sect_H.4.2.3",  # Basic Film Box
    "sect_H.4.3.1.3",  # Basic Grayscale Image Box
    "sect_H.4.3.2.3",  # Basic Color Image Box
    "sect_H.4.4.3",  # Basic Annotation Box
    "sect_H.4.5.4",  # Print Job
    "sect_H.4.6.4",  # Printer
    "sect_H.4.9.2.4",  # Presentation LUT
    "sect_H.4.11.3",  # Printer Configuration Retrieval
    "sect_J.3.4",  # Storage Commitment Push Model
    "sect_P.2.3",  # Procedural Event Logging
    "sect_P.3.3",  # Substance Administration Logging
    "sect_R.3.3",  # Instance Availability Notification
    "sect_S.3.3",  # Media Creation Management
    "sect_T.4.3",  # Hanging Protocol Storage
    "sect_W.4.3",  # Color Palette Storage
    "sect_CC.3.1",  # the four UPS SOP classes (a list)
)

#: Sections that give a well-known SOP Instance UID.
WELL_KNOWN_SECTIONS: tuple[str, ...] = (
    "sect_H.4.6.5",  # Printer
    "sect_H.4.11.4",  # Printer Configuration Retrieval
    "sect_J.3.5",  # Storage Commitment Push Model
    "sect_P.2.4",  # Procedural Event Logging
    "sect_P.3.4",  # Substance Administration Logging
    "sect_CC.3.1.2",  # UPS Global Instance Subscription
)

#: Sections that give the UID of a service class itself.
SERVICE_CLASS_UID_SECTIONS: tuple[str, ...] = ("sect_B.3.1.3",)  # Storage Service Class


@attrs.frozen
class ModelSpec:
    """Where an information model's SOP classes, levels and keys are.

    ``level_sources`` are, level by level, a key table id or a section id: a section either
    holds the key table or says the level is "the same as" another section (by an ``xref``),
    whose table is then read (Study Root's series and instance levels).  ``level_table`` gives
    each level's name and (0008,0052) value.  The SOP classes are the rows of ``sop_table``
    named "``name`` - FIND/MOVE/GET"; where the names carry no such suffix (Table Q.4-3),
    ``operation`` says what all the rows do.
    """

    name: str
    sop_table: str
    level_sources: tuple[str, ...]
    level_table: str | None = None
    operation: DimseOperation | None = None
    identifier_table: str | None = None  # further C-FIND identifier attributes


INFORMATION_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "Patient Root Query/Retrieve Information Model",
        "table_C.6.1.3-1",
        ("sect_C.6.1.1.2", "sect_C.6.1.1.3", "sect_C.6.1.1.4", "sect_C.6.1.1.5"),
        level_table="table_C.6.1-1",
    ),
    ModelSpec(
        "Study Root Query/Retrieve Information Model",
        "table_C.6.2.3-1",
        ("sect_C.6.2.1.2", "sect_C.6.2.1.3", "sect_C.6.2.1.4"),
        level_table="table_C.6.2-1",
    ),
    ModelSpec(
        "Composite Instance Root Retrieve",
        "table_Y.6.1.3-1",
        ("table_Y.6-1", "table_Y.6-2"),
        level_table="table_Y.6.1-1",
    ),
    ModelSpec(
        "Composite Instance Retrieve Without Bulk Data",
        "table_Z.6.1.3-1",
        ("table_Z.6-1",),
        level_table="table_Z.6.1-1",
    ),
    ModelSpec(
        "Modality Worklist Information Model",
        "table_K.6.1.4-1",
        ("table_K.6-1",),
        identifier_table="table_K.6-1a",
    ),
    ModelSpec(
        "Relevant Patient Information Model",
        "table_Q.4-3",
        ("table_Q.4-1",),
        operation=OP.C_FIND,
        identifier_table="table_Q.4-2",
    ),
    ModelSpec("Hanging Protocol Information Model", "table_U.6.1.4-1", ("table_U.6-1",)),
    ModelSpec(
        "Product Characteristics Query Information Model", "table_V.6.1.4-1", ("table_V.6-1",)
    ),
    ModelSpec("Substance Approval Query Information Model", "table_V.6.2.4-1", ("table_V.6-2",)),
    ModelSpec("Color Palette Information Model", "table_X.6.1.4-1", ("table_X.6-1",)),
    ModelSpec("Generic Implant Template Information Model", "table_BB.6.1.4-1", ("table_BB.6-1",)),
    ModelSpec("Implant Assembly Template Information Model", "table_BB.6.1.4-1", ("table_BB.6-2",)),
    ModelSpec("Implant Template Group Information Model", "table_BB.6.1.4-1", ("table_BB.6-3",)),
)


@attrs.frozen
class StatusTableSpec:
    """A table of service-specific statuses of one operation (``scope``: see StatusDef)."""

    table_id: str
    operation: DimseOperation
    scope: str = ""


STATUS_TABLES: tuple[StatusTableSpec, ...] = (
    StatusTableSpec("table_B.2-1", OP.C_STORE),
    StatusTableSpec("table_C.4-1", OP.C_FIND),
    StatusTableSpec("table_C.4-2", OP.C_MOVE),
    StatusTableSpec("table_C.4-3", OP.C_GET),
    StatusTableSpec("table_F.7.2-2", OP.N_SET, "Modality Performed Procedure Step SOP Class"),
    StatusTableSpec(
        "table_F.8.2-2", OP.N_GET, "Modality Performed Procedure Step Retrieve SOP Class"
    ),
    StatusTableSpec("table_H.4.1.2.1.2", OP.N_CREATE, "Basic Film Session SOP Class"),
    StatusTableSpec("table_H.4-4", OP.N_ACTION, "Basic Film Session SOP Class"),
    StatusTableSpec("table_H.4.2.2.1.2-1", OP.N_CREATE, "Basic Film Box SOP Class"),
    StatusTableSpec("table_H.4-9", OP.N_ACTION, "Basic Film Box SOP Class"),
    StatusTableSpec("table_H.4.3.1.2.1.2-1", OP.N_SET, "Basic Grayscale Image Box SOP Class"),
    StatusTableSpec("table_H.4.3.2.2.1.2-1", OP.N_SET, "Basic Color Image Box SOP Class"),
    StatusTableSpec("table_H.4.9.2.1.2-1", OP.N_CREATE, "Presentation LUT SOP Class"),
    StatusTableSpec("table_K.4-1", OP.C_FIND),
    StatusTableSpec("table_P.2-3", OP.N_ACTION, "Procedural Event Logging SOP Class"),
    StatusTableSpec("table_P.3-3", OP.N_ACTION, "Substance Administration Logging SOP Class"),
    StatusTableSpec("table_Q.2-1", OP.C_FIND),
    # Table S.3.2.2.4-1 sits in S.3.2.1.4, the statuses of the N-CREATE.
    StatusTableSpec("table_S.3.2.2.4-1", OP.N_CREATE, "Media Creation Management SOP Class"),
    StatusTableSpec(
        "table_S.3.2.3.4-1",
        OP.N_ACTION,
        "Media Creation Management SOP Class: Cancel Media Creation",
    ),
    StatusTableSpec("table_S.3.2.4.4-1", OP.N_GET, "Media Creation Management SOP Class"),
    StatusTableSpec("table_T.4-1", OP.C_STORE),
    StatusTableSpec("table_V.4-1", OP.C_FIND),
    StatusTableSpec("table_W.4-1", OP.C_STORE),
    StatusTableSpec("table_Y.4-1", OP.C_MOVE, "Composite Instance Root Retrieve"),
    StatusTableSpec("table_Y.4-2", OP.C_GET, "Composite Instance Root Retrieve"),
    StatusTableSpec("table_Z.4-1", OP.C_GET, "Composite Instance Retrieve Without Bulk Data"),
    StatusTableSpec("table_CC.2.1-2", OP.N_ACTION, "Change UPS State"),
    StatusTableSpec("table_CC.2.2-2", OP.N_ACTION, "Request UPS Cancel"),
    StatusTableSpec(
        "table_CC.2.3-3", OP.N_ACTION, "Subscribe/Unsubscribe to Receive UPS Event Reports"
    ),
    StatusTableSpec("table_CC.2.5-4", OP.N_CREATE, "Create a Unified Procedure Step"),
    StatusTableSpec("table_CC.2.6-1", OP.N_SET, "Set Unified Procedure Step Information"),
    StatusTableSpec("table_CC.2.7-1", OP.N_GET, "Get Unified Procedure Step Information"),
    StatusTableSpec("table_CC.2.8-2", OP.C_FIND, "Search for Unified Procedure Step"),
    StatusTableSpec("table_DD.3.2.1.2-1", OP.N_CREATE, "RT Ion Machine Verification SOP Class"),
    StatusTableSpec("table_DD.3.2.1.2-2", OP.N_SET, "RT Ion Machine Verification SOP Class"),
    StatusTableSpec(
        "table_DD.3.2.2.3-1",
        OP.N_GET,
        "RT Conventional Machine and RT Ion Machine Verification SOP Classes",
    ),
    StatusTableSpec(
        "table_DD.3.2.3-2",
        OP.N_ACTION,
        "RT Conventional Machine and RT Ion Machine Verification SOP Classes",
    ),
)


@attrs.frozen
class AttributeListSpec:
    """A table "Attribute Name | Tag | requirement column(s)" of one SOP class.

    ``columns`` maps each requirement column's header to the operation it is about;
    ``final_state`` is the header of Table F.7.2-1's "Final State" column, if any.
    """

    table_id: str
    scope: str
    columns: tuple[tuple[str, DimseOperation], ...]
    final_state: str | None = None


_MPPS = "Modality Performed Procedure Step SOP Class"

ATTRIBUTE_LIST_TABLES: tuple[AttributeListSpec, ...] = (
    AttributeListSpec(
        "table_F.7.2-1",
        _MPPS,
        (
            ("Req. Type N-CREATE (SCU/SCP)", OP.N_CREATE),
            ("Req. Type N-SET (SCU/SCP)", OP.N_SET),
        ),
        final_state="Requirement Type Final State (see Note 1)",
    ),
    AttributeListSpec(
        "table_F.8.2-1",
        "Modality Performed Procedure Step Retrieve SOP Class",
        (("Requirement Type (SCU/SCP)", OP.N_GET),),
    ),
    AttributeListSpec(
        "table_H.4-2", "Basic Film Session SOP Class", (("Usage SCU/SCP", OP.N_CREATE),)
    ),
    AttributeListSpec("table_H.4-6", "Basic Film Box SOP Class", (("Usage SCU/SCP", OP.N_CREATE),)),
    AttributeListSpec("table_H.4-7", "Basic Film Box SOP Class", (("Usage SCU/SCP", OP.N_SET),)),
    AttributeListSpec(
        "table_H.4-10", "Basic Grayscale Image Box SOP Class", (("Usage SCU/SCP", OP.N_SET),)
    ),
    AttributeListSpec(
        "table_H.4-11", "Basic Color Image Box SOP Class", (("Usage SCU/SCP", OP.N_SET),)
    ),
    AttributeListSpec(
        "table_H.4-13", "Basic Annotation Box SOP Class", (("Usage SCU/SCP", OP.N_SET),)
    ),
    AttributeListSpec("table_H.4-15", "Print Job SOP Class", (("Usage SCU/SCP", OP.N_GET),)),
    AttributeListSpec("table_H.4-17", "Printer SOP Class", (("Usage SCU/SCP", OP.N_GET),)),
    AttributeListSpec(
        "table_H.4-23", "Presentation LUT SOP Class", (("Usage SCU/SCP", OP.N_CREATE),)
    ),
    AttributeListSpec(
        "table_H.4-26",
        "Printer Configuration Retrieval SOP Class",
        (("Usage SCU/SCP", OP.N_GET),),
    ),
    AttributeListSpec(
        "table_R.3.2-1",
        "Instance Availability Notification SOP Class",
        (("Req. Type N-CREATE (SCU/SCP)", OP.N_CREATE),),
    ),
    AttributeListSpec(
        "table_S.3.2.1.1-1",
        "Media Creation Management SOP Class",
        (("Requirement Type SCU/SCP", OP.N_CREATE),),
    ),
    AttributeListSpec(
        "table_S.3.2.4.1-1",
        "Media Creation Management SOP Class",
        (("Requirement Type (SCU/SCP)", OP.N_GET),),
    ),
)


@attrs.frozen
class TypedTableSpec:
    """A table "Action/Event Type Name | Type ID | Attribute | Tag | requirement"."""

    table_id: str
    scope: str
    operation: DimseOperation


TYPED_TABLES: tuple[TypedTableSpec, ...] = (
    TypedTableSpec(
        "table_F.9.2-1",
        "Modality Performed Procedure Step Notification SOP Class",
        OP.N_EVENT_REPORT,
    ),
    TypedTableSpec("table_J.3-1", "Storage Commitment Push Model SOP Class", OP.N_ACTION),
    TypedTableSpec("table_J.3-2", "Storage Commitment Push Model SOP Class", OP.N_EVENT_REPORT),
    TypedTableSpec("table_H.4-3", "Basic Film Session SOP Class", OP.N_ACTION),
    TypedTableSpec("table_H.4-8", "Basic Film Box SOP Class", OP.N_ACTION),
    TypedTableSpec("table_H.4-14", "Print Job SOP Class", OP.N_EVENT_REPORT),
    TypedTableSpec("table_H.4-16", "Printer SOP Class", OP.N_EVENT_REPORT),
    TypedTableSpec("table_P.2-2", "Procedural Event Logging SOP Class", OP.N_ACTION),
    TypedTableSpec("table_P.3-2", "Substance Administration Logging SOP Class", OP.N_ACTION),
    TypedTableSpec("table_S.3.2.2.1-1", "Media Creation Management SOP Class", OP.N_ACTION),
    TypedTableSpec("table_S.3.2.3.1-1", "Media Creation Management SOP Class", OP.N_ACTION),
    # Tables CC.2-1 to CC.2-4 assign the UPS operations to the four UPS SOP classes; Request
    # UPS Cancel is an N-ACTION of UPS Push and UPS Watch alike (named here by the first).
    TypedTableSpec("table_CC.2.1-1", "UPS Pull SOP Class", OP.N_ACTION),
    TypedTableSpec("table_CC.2.2-1", "UPS Push SOP Class", OP.N_ACTION),
    TypedTableSpec("table_CC.2.3-1", "UPS Watch SOP Class", OP.N_ACTION),
    TypedTableSpec("table_CC.2.4-1", "UPS Event SOP Class", OP.N_EVENT_REPORT),
)


@attrs.frozen
class ServiceGroupSpec:
    """A "DIMSE Service Element | Usage SCU/SCP" table: the DIMSE services of a SOP class."""

    table_id: str
    scopes: tuple[str, ...]  # the SOP classes the table is about (Table DD.3.2-1: two)


SERVICE_GROUP_TABLES: tuple[ServiceGroupSpec, ...] = (
    ServiceGroupSpec("table_F.7.1-1", (_MPPS,)),
    ServiceGroupSpec("table_F.8.1-1", ("Modality Performed Procedure Step Retrieve SOP Class",)),
    ServiceGroupSpec(
        "table_F.9.1-1", ("Modality Performed Procedure Step Notification SOP Class",)
    ),
    ServiceGroupSpec("table_H.4-1", ("Basic Film Session SOP Class",)),
    ServiceGroupSpec("table_H.4-5", ("Basic Film Box SOP Class",)),
    ServiceGroupSpec("table_H.4.3.1.2-1", ("Basic Grayscale Image Box SOP Class",)),
    ServiceGroupSpec("table_H.4.3.2.2-1", ("Basic Color Image Box SOP Class",)),
    ServiceGroupSpec("table_H.4.4.2", ("Basic Annotation Box SOP Class",)),
    ServiceGroupSpec("table_H.4.5.2-1", ("Print Job SOP Class",)),
    ServiceGroupSpec("table_H.4.6.2-1", ("Printer SOP Class",)),
    ServiceGroupSpec("table_H.4.9.2-1", ("Presentation LUT SOP Class",)),
    ServiceGroupSpec("table_H.4.11.2-1", ("Printer Configuration Retrieval SOP Class",)),
    ServiceGroupSpec("table_J.3.1-1", ("Storage Commitment Push Model SOP Class",)),
    ServiceGroupSpec("table_P.2-1", ("Procedural Event Logging SOP Class",)),
    ServiceGroupSpec("table_P.3-1", ("Substance Administration Logging SOP Class",)),
    ServiceGroupSpec("table_R.3.1-1", ("Instance Availability Notification SOP Class",)),
    ServiceGroupSpec("table_S.3.1-1", ("Media Creation Management SOP Class",)),
    ServiceGroupSpec("table_CC.2-1", ("UPS Push SOP Class",)),
    ServiceGroupSpec("table_CC.2-2", ("UPS Pull SOP Class",)),
    ServiceGroupSpec("table_CC.2-3", ("UPS Watch SOP Class",)),
    ServiceGroupSpec("table_CC.2-4", ("UPS Event SOP Class",)),
    # PS3.4 2013 gives no UIDs for these two SOP classes (PS3.6 does).
    ServiceGroupSpec(
        "table_DD.3.2-1",
        ("RT Conventional Machine Verification SOP Class", "RT Ion Machine Verification SOP Class"),
    ),
)


def _all_table_ids() -> tuple[str, ...]:
    ids: list[str] = [t.table_id for t in SOP_CLASS_TABLES]
    for model in INFORMATION_MODELS:
        ids.append(model.sop_table)
        if model.level_table:
            ids.append(model.level_table)
        ids.extend(s for s in model.level_sources if s.startswith("table_"))
        if model.identifier_table:
            ids.append(model.identifier_table)
    ids += [s.table_id for s in STATUS_TABLES]
    ids += [s.table_id for s in ATTRIBUTE_LIST_TABLES]
    ids += [s.table_id for s in TYPED_TABLES]
    ids += [s.table_id for s in SERVICE_GROUP_TABLES]
    return tuple(dict.fromkeys(ids))


#: Every table the reader reads directly (sections resolve to further tables: see ModelSpec).
TABLES: tuple[str, ...] = _all_table_ids()


@attrs.frozen
class TagErratum:
    """A row of a PS3.4 table that gives no tag (or a wrong one), and the tag PS3.6 gives."""

    edition: str
    table_id: str
    name: str  # the Description / Attribute Name of the row
    wrong: str  # the tag cell as the erroneous text writes it
    right: str
    why: str


ERRATA: tuple[TagErratum, ...] = (
    # ERRATUM: PS3.4 2013 Table BB.6-2 leaves the Tag of "Implant Assembly Template Name" empty;
    # PS3.6 2013 Table 6-1 registers Implant Assembly Template Name as (0076,0001).
    TagErratum(
        "2013",
        "table_BB.6-2",
        "Implant Assembly Template Name",
        "",
        "(0076,0001)",
        "empty Tag cell; PS3.6 Table 6-1 gives (0076,0001)",
    ),
    # ERRATUM: PS3.4 2013 Table BB.6-3 gives Implant Template Group Name the group length tag
    # (0078,0000); PS3.6 2013 Table 6-1 registers it as (0078,0001).
    TagErratum(
        "2013",
        "table_BB.6-3",
        "Implant Template Group Name",
        "(0078,0000)",
        "(0078,0001)",
        "group length tag; PS3.6 Table 6-1 gives (0078,0001)",
    ),
    # ERRATUM: PS3.4 2013 Table F.8.2-1 gives Patient's Birth Date the tag of Patient's Birth
    # Time (0010,0032); PS3.6 2013 Table 6-1 and Table F.7.2-1 give (0010,0030).
    TagErratum(
        "2013",
        "table_F.8.2-1",
        "Patient's Birth Date",
        "(0010,0032)",
        "(0010,0030)",
        "tag of Patient's Birth Time; PS3.6 Table 6-1 gives (0010,0030)",
    ),
)
