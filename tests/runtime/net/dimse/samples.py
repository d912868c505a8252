"""One message of every DIMSE type with every field set, for round-trip and oracle tests.

Values are made up but valid: UIDs of PS3.6 (Verification, CT Image Storage, Study Root
Q/R, Storage Commitment Push Model and its well-known instance, Modality Performed Procedure
Step) and short even-length "data sets" (the DIMSE layer treats them as opaque bytes).
"""

from __future__ import annotations

from typing import Final

from dicompile.runtime.net.dimse import (
    CCancelRQ,
    CEchoRQ,
    CEchoRSP,
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CGetRSP,
    CMoveRQ,
    CMoveRSP,
    CStoreRQ,
    CStoreRSP,
    DimseMessage,
    NActionRQ,
    NActionRSP,
    NCreateRQ,
    NCreateRSP,
    NDeleteRQ,
    NDeleteRSP,
    NEventReportRQ,
    NEventReportRSP,
    NGetRQ,
    NGetRSP,
    NSetRQ,
    NSetRSP,
    Priority,
)

CT_IMAGE: Final = "1.2.840.10008.5.1.4.1.1.2"
STUDY_ROOT_FIND: Final = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_GET: Final = "1.2.840.10008.5.1.4.1.2.2.3"
STUDY_ROOT_MOVE: Final = "1.2.840.10008.5.1.4.1.2.2.2"
COMMITMENT: Final = "1.2.840.10008.1.20.1"
COMMITMENT_INSTANCE: Final = "1.2.840.10008.1.20.1.1"
MPPS: Final = "1.2.840.10008.3.1.2.3.3"
INSTANCE: Final = "1.2.826.0.1.3680043.2.1125.1.42"
#: (0010,0010) Patient Name, PN, "DOE^JOHN" in implicit VR little endian.
DATA: Final = b"\x10\x00\x10\x00\x08\x00\x00\x00DOE^JOHN"
#: (0008,0052) Query/Retrieve Level "STUDY " in implicit VR little endian.
IDENTIFIER: Final = b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY "

SAMPLES: Final[tuple[DimseMessage, ...]] = (
    CStoreRQ(
        message_id=7,
        affected_sop_class_uid=CT_IMAGE,
        affected_sop_instance_uid=INSTANCE,
        priority=Priority.HIGH,
        move_originator_application_entity_title="MOVESCU",
        move_originator_message_id=3,
        data_set=DATA,
    ),
    CStoreRSP(
        message_id_being_responded_to=7,
        status=0xA700,
        affected_sop_class_uid=CT_IMAGE,
        affected_sop_instance_uid=INSTANCE,
        offending_element=(0x00100010, 0x00100020),
        error_comment="Out of resources",
    ),
    CFindRQ(message_id=8, affected_sop_class_uid=STUDY_ROOT_FIND, data_set=IDENTIFIER),
    CFindRSP(
        message_id_being_responded_to=8,
        status=0xFF00,
        affected_sop_class_uid=STUDY_ROOT_FIND,
        data_set=IDENTIFIER,
    ),
    CGetRQ(
        message_id=9,
        affected_sop_class_uid=STUDY_ROOT_GET,
        priority=Priority.LOW,
        data_set=IDENTIFIER,
    ),
    CGetRSP(
        message_id_being_responded_to=9,
        status=0xFF00,
        affected_sop_class_uid=STUDY_ROOT_GET,
        number_of_remaining_suboperations=5,
        number_of_completed_suboperations=2,
        number_of_failed_suboperations=1,
        number_of_warning_suboperations=0,
    ),
    CMoveRQ(
        message_id=10,
        affected_sop_class_uid=STUDY_ROOT_MOVE,
        move_destination="STORESCP",
        data_set=IDENTIFIER,
    ),
    CMoveRSP(
        message_id_being_responded_to=10,
        status=0xB000,
        affected_sop_class_uid=STUDY_ROOT_MOVE,
        number_of_remaining_suboperations=0,
        number_of_completed_suboperations=4,
        number_of_failed_suboperations=1,
        number_of_warning_suboperations=1,
        data_set=IDENTIFIER,
    ),
    CEchoRQ(message_id=1),
    CEchoRSP(
        message_id_being_responded_to=1, status=0x0000, affected_sop_class_uid="1.2.840.10008.1.1"
    ),
    CCancelRQ(message_id_being_responded_to=8),
    NEventReportRQ(
        message_id=11,
        affected_sop_class_uid=COMMITMENT,
        affected_sop_instance_uid=COMMITMENT_INSTANCE,
        event_type_id=1,
        data_set=DATA,
    ),
    NEventReportRSP(
        message_id_being_responded_to=11,
        status=0x0000,
        affected_sop_class_uid=COMMITMENT,
        affected_sop_instance_uid=COMMITMENT_INSTANCE,
        event_type_id=1,
    ),
    NGetRQ(
        message_id=12,
        requested_sop_class_uid=MPPS,
        requested_sop_instance_uid=INSTANCE,
        attribute_identifier_list=(0x00400252, 0x00400253),
    ),
    NGetRSP(
        message_id_being_responded_to=12,
        status=0x0107,
        affected_sop_class_uid=MPPS,
        affected_sop_instance_uid=INSTANCE,
        attribute_identifier_list=(0x00400254,),
        data_set=DATA,
    ),
    NSetRQ(
        message_id=13,
        requested_sop_class_uid=MPPS,
        requested_sop_instance_uid=INSTANCE,
        data_set=DATA,
    ),
    NSetRSP(
        message_id_being_responded_to=13,
        status=0x0110,
        affected_sop_class_uid=MPPS,
        affected_sop_instance_uid=INSTANCE,
        error_comment="Could not update",
        error_id=42,
    ),
    NActionRQ(
        message_id=14,
        requested_sop_class_uid=COMMITMENT,
        requested_sop_instance_uid=COMMITMENT_INSTANCE,
        action_type_id=1,
        data_set=DATA,
    ),
    NActionRSP(
        message_id_being_responded_to=14,
        status=0x0000,
        affected_sop_class_uid=COMMITMENT,
        affected_sop_instance_uid=COMMITMENT_INSTANCE,
        action_type_id=1,
    ),
    NCreateRQ(
        message_id=15,
        affected_sop_class_uid=MPPS,
        affected_sop_instance_uid=INSTANCE,
        data_set=DATA,
    ),
    NCreateRSP(
        message_id_being_responded_to=15,
        status=0x0000,
        affected_sop_class_uid=MPPS,
        affected_sop_instance_uid=INSTANCE,
        data_set=DATA,
    ),
    NDeleteRQ(message_id=16, requested_sop_class_uid=MPPS, requested_sop_instance_uid=INSTANCE),
    NDeleteRSP(
        message_id_being_responded_to=16,
        status=0x0112,
        affected_sop_class_uid=MPPS,
        affected_sop_instance_uid=INSTANCE,
    ),
)


def sample_id(message: DimseMessage) -> str:
    """A test id: the message name."""
    return message.MESSAGE
