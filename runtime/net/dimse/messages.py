"""DIMSE-C and DIMSE-N messages (PS3.7 §9.3, §10.3) as frozen records, to and from command sets.

Theory of operation
-------------------
* One frozen attrs class per message: ``CStoreRQ`` ... ``NDeleteRSP``, and one ``CCancelRQ``
  for the three C-CANCEL-*-RQ tables (they share command field 0FFFH and their fields).
  Field names are the command dictionary's keywords in snake_case (``AffectedSOPClassUID`` →
  ``affected_sop_class_uid``); the tag of each field is looked up by that keyword in the
  generated dictionary (PS3.7 Annex E), so the standard stays the single source of tags.
* Which fields a received message must hold comes from the generated message tables: a field
  of usage ``M`` (PS3.7 §9.1/§10.1, or "required by the DIMSE protocol") that is missing is a
  :class:`~dicompile.runtime.errors.DIMSEProtocolError`; ``U``/``C`` fields may be absent
  (``None``).  Python defaults (``priority=Priority.MEDIUM``) are only a convenience for
  senders.
* Command Group Length, Command Field and Command Data Set Type are not fields: encoding
  computes the first, the class gives the second and ``data_set`` decides the third
  (:data:`NO_DATA_SET` when ``None``, :data:`DATA_SET_PRESENT` otherwise).  A class whose
  message never carries a data set has no ``data_set`` field; one whose message always does
  has ``data_set: bytes``; otherwise ``bytes | None``.
* ``data_set`` is opaque: the bytes of the data set in the presentation context's transfer
  syntax, encoded and decoded by the layer above.
* Responses also carry the optional status fields of Annex C (Offending Element, Error
  Comment, Error ID; Attribute Identifier List for DIMSE-N); any other command element a peer
  sends lands in ``other_elements`` so nothing received is lost and it encodes back.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from typing import ClassVar, Final, TypeAlias

import attrs

from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError
from dicompile.runtime.net.dimse.command_set import (
    COMMAND_DATA_SET_TYPE,
    COMMAND_FIELD,
    COMMAND_GROUP_LENGTH,
    CommandValue,
    decode_command_set,
    encode_command_set,
)
from dicompile.runtime.net.ul.pdu import Reserved

#: Command Data Set Type (0000,0800) meaning "no data set" (PS3.7 Annex E, Table E.1-1).
NO_DATA_SET: Final = 0x0101
#: The value sent when a data set follows: any value other than 0101H will do (PS3.7 §9.3).
DATA_SET_PRESENT: Final = 0x0001
#: Verification SOP Class (PS3.4 A.4), the usual Affected SOP Class of C-ECHO.
VERIFICATION_SOP_CLASS: Final = "1.2.840.10008.1.1"

OtherElements: TypeAlias = tuple[tuple[int, CommandValue], ...]


class Priority(enum.IntEnum):
    """Priority (0000,0700) of C-STORE, C-FIND, C-GET and C-MOVE requests (Table E.1-1)."""

    MEDIUM = 0x0000
    HIGH = 0x0001
    LOW = 0x0002


class DataSetPresence(enum.Enum):
    """Whether a message carries a data set, per its Command Data Set Type (§9.3, §10.3)."""

    ABSENT = "absent"
    REQUIRED = "required"
    OPTIONAL = "optional"


_NO_FIELD: Final = frozenset({"data_set", "other_elements"})
_PRIORITIES: Final = frozenset(p.value for p in Priority)


def _other() -> OtherElements:
    return ()


# --------------------------------------------------------------------------------------
# DIMSE-C (PS3.7 §9.3)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CStoreRQ:
    """C-STORE-RQ (PS3.7 §9.3.1.1, Table 9.3-1); ``data_set`` is the SOP Instance."""

    MESSAGE: ClassVar[str] = "C-STORE-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0001
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.REQUIRED

    message_id: int
    affected_sop_class_uid: str
    affected_sop_instance_uid: str
    priority: Priority | Reserved = Priority.MEDIUM
    move_originator_application_entity_title: str | None = None
    move_originator_message_id: int | None = None
    data_set: bytes
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CStoreRSP:
    """C-STORE-RSP (PS3.7 §9.3.1.2, Table 9.3-2)."""

    MESSAGE: ClassVar[str] = "C-STORE-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8001
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CFindRQ:
    """C-FIND-RQ (PS3.7 §9.3.2.1, Table 9.3-3); ``data_set`` is the Identifier."""

    MESSAGE: ClassVar[str] = "C-FIND-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0020
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.REQUIRED

    message_id: int
    affected_sop_class_uid: str
    priority: Priority | Reserved = Priority.MEDIUM
    data_set: bytes
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CFindRSP:
    """C-FIND-RSP (PS3.7 §9.3.2.2, Table 9.3-4); ``data_set`` is a matched Identifier."""

    MESSAGE: ClassVar[str] = "C-FIND-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8020
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CGetRQ:
    """C-GET-RQ (PS3.7 §9.3.3.1, Table 9.3-6); ``data_set`` is the Identifier."""

    MESSAGE: ClassVar[str] = "C-GET-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0010
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.REQUIRED

    message_id: int
    affected_sop_class_uid: str
    priority: Priority | Reserved = Priority.MEDIUM
    data_set: bytes
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CGetRSP:
    """C-GET-RSP (PS3.7 §9.3.3.2, Table 9.3-7) with the sub-operation counts."""

    MESSAGE: ClassVar[str] = "C-GET-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8010
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    number_of_remaining_suboperations: int | None = None
    number_of_completed_suboperations: int | None = None
    number_of_failed_suboperations: int | None = None
    number_of_warning_suboperations: int | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CMoveRQ:
    """C-MOVE-RQ (PS3.7 §9.3.4.1, Table 9.3-9); ``data_set`` is the Identifier."""

    MESSAGE: ClassVar[str] = "C-MOVE-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0021
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.REQUIRED

    message_id: int
    affected_sop_class_uid: str
    move_destination: str
    priority: Priority | Reserved = Priority.MEDIUM
    data_set: bytes
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CMoveRSP:
    """C-MOVE-RSP (PS3.7 §9.3.4.2, Table 9.3-10) with the sub-operation counts."""

    MESSAGE: ClassVar[str] = "C-MOVE-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8021
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    number_of_remaining_suboperations: int | None = None
    number_of_completed_suboperations: int | None = None
    number_of_failed_suboperations: int | None = None
    number_of_warning_suboperations: int | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CEchoRQ:
    """C-ECHO-RQ (PS3.7 §9.3.5.1, Table 9.3-12)."""

    MESSAGE: ClassVar[str] = "C-ECHO-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0030
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id: int
    affected_sop_class_uid: str = VERIFICATION_SOP_CLASS
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CEchoRSP:
    """C-ECHO-RSP (PS3.7 §9.3.5.2, Table 9.3-13)."""

    MESSAGE: ClassVar[str] = "C-ECHO-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8030
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id_being_responded_to: int
    status: int = 0x0000
    affected_sop_class_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class CCancelRQ:
    """C-CANCEL-RQ for C-FIND, C-GET and C-MOVE (PS3.7 Tables 9.3-5, 9.3-8, 9.3-11)."""

    MESSAGE: ClassVar[str] = "C-CANCEL-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0FFF
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id_being_responded_to: int
    other_elements: OtherElements = attrs.field(factory=_other)


# --------------------------------------------------------------------------------------
# DIMSE-N (PS3.7 §10.3)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NEventReportRQ:
    """N-EVENT-REPORT-RQ (PS3.7 §10.3.1.1, Table 10.3-1); ``data_set``: Event Information."""

    MESSAGE: ClassVar[str] = "N-EVENT-REPORT-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0100
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id: int
    affected_sop_class_uid: str
    affected_sop_instance_uid: str
    event_type_id: int
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NEventReportRSP:
    """N-EVENT-REPORT-RSP (PS3.7 §10.3.1.2, Table 10.3-2); ``data_set``: Event Reply."""

    MESSAGE: ClassVar[str] = "N-EVENT-REPORT-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8100
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    event_type_id: int | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NGetRQ:
    """N-GET-RQ (PS3.7 §10.3.2.1, Table 10.3-3); no identifier list asks for all attributes."""

    MESSAGE: ClassVar[str] = "N-GET-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0110
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id: int
    requested_sop_class_uid: str
    requested_sop_instance_uid: str
    attribute_identifier_list: tuple[int, ...] | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NGetRSP:
    """N-GET-RSP (PS3.7 §10.3.2.2, Table 10.3-4); ``data_set``: Attribute List."""

    MESSAGE: ClassVar[str] = "N-GET-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8110
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NSetRQ:
    """N-SET-RQ (PS3.7 §10.3.3.1, Table 10.3-5); ``data_set``: Modification List."""

    MESSAGE: ClassVar[str] = "N-SET-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0120
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.REQUIRED

    message_id: int
    requested_sop_class_uid: str
    requested_sop_instance_uid: str
    data_set: bytes
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NSetRSP:
    """N-SET-RSP (PS3.7 §10.3.3.2, Table 10.3-6); ``data_set``: Attribute List."""

    MESSAGE: ClassVar[str] = "N-SET-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8120
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NActionRQ:
    """N-ACTION-RQ (PS3.7 §10.3.4.1, Table 10.3-7); ``data_set``: Action Information."""

    MESSAGE: ClassVar[str] = "N-ACTION-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0130
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id: int
    requested_sop_class_uid: str
    requested_sop_instance_uid: str
    action_type_id: int
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NActionRSP:
    """N-ACTION-RSP (PS3.7 §10.3.4.2, Table 10.3-8); ``data_set``: Action Reply."""

    MESSAGE: ClassVar[str] = "N-ACTION-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8130
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    action_type_id: int | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NCreateRQ:
    """N-CREATE-RQ (PS3.7 §10.3.5.1, Table 10.3-9); ``data_set``: Attribute List."""

    MESSAGE: ClassVar[str] = "N-CREATE-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0140
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id: int
    affected_sop_class_uid: str
    affected_sop_instance_uid: str | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NCreateRSP:
    """N-CREATE-RSP (PS3.7 §10.3.5.2, Table 10.3-10); ``data_set``: Attribute List."""

    MESSAGE: ClassVar[str] = "N-CREATE-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8140
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.OPTIONAL

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    data_set: bytes | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NDeleteRQ:
    """N-DELETE-RQ (PS3.7 §10.3.6.1, Table 10.3-11)."""

    MESSAGE: ClassVar[str] = "N-DELETE-RQ"
    COMMAND_FIELD: ClassVar[int] = 0x0150
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id: int
    requested_sop_class_uid: str
    requested_sop_instance_uid: str
    other_elements: OtherElements = attrs.field(factory=_other)


@attrs.frozen(kw_only=True)
class NDeleteRSP:
    """N-DELETE-RSP (PS3.7 §10.3.6.2, Table 10.3-12)."""

    MESSAGE: ClassVar[str] = "N-DELETE-RSP"
    COMMAND_FIELD: ClassVar[int] = 0x8150
    DATA_SET: ClassVar[DataSetPresence] = DataSetPresence.ABSENT

    message_id_being_responded_to: int
    status: int
    affected_sop_class_uid: str | None = None
    affected_sop_instance_uid: str | None = None
    offending_element: tuple[int, ...] | None = None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None
    other_elements: OtherElements = attrs.field(factory=_other)


Request: TypeAlias = (
    CStoreRQ
    | CFindRQ
    | CGetRQ
    | CMoveRQ
    | CEchoRQ
    | CCancelRQ
    | NEventReportRQ
    | NGetRQ
    | NSetRQ
    | NActionRQ
    | NCreateRQ
    | NDeleteRQ
)
Response: TypeAlias = (
    CStoreRSP
    | CFindRSP
    | CGetRSP
    | CMoveRSP
    | CEchoRSP
    | NEventReportRSP
    | NGetRSP
    | NSetRSP
    | NActionRSP
    | NCreateRSP
    | NDeleteRSP
)
DimseMessage: TypeAlias = Request | Response

MESSAGE_TYPES: Final[tuple[type[DimseMessage], ...]] = (
    CStoreRQ,
    CStoreRSP,
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CGetRSP,
    CMoveRQ,
    CMoveRSP,
    CEchoRQ,
    CEchoRSP,
    CCancelRQ,
    NEventReportRQ,
    NEventReportRSP,
    NGetRQ,
    NGetRSP,
    NSetRQ,
    NSetRSP,
    NActionRQ,
    NActionRSP,
    NCreateRQ,
    NCreateRSP,
    NDeleteRQ,
    NDeleteRSP,
)
BY_COMMAND_FIELD: Final[Mapping[int, type[DimseMessage]]] = {
    cls.COMMAND_FIELD: cls for cls in MESSAGE_TYPES
}
#: The generated message table(s) each class follows (C-CANCEL-RQ has three, all alike).
_TABLE_NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "C-CANCEL-RQ": ("C-CANCEL-FIND-RQ", "C-CANCEL-GET-RQ", "C-CANCEL-MOVE-RQ"),
}


# --------------------------------------------------------------------------------------
# Field <-> tag, from the generated command dictionary
# --------------------------------------------------------------------------------------


def snake_case(keyword: str) -> str:
    """``AffectedSOPClassUID`` → ``affected_sop_class_uid`` (the field naming rule)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", keyword).lower()


@functools.cache
def field_tags() -> Mapping[str, int]:
    """Field name → tag for every command element of the generated dictionary (Annex E)."""
    from dicompile.generated.dimse_commands import COMMAND_ELEMENTS

    return {snake_case(e.keyword): tag for tag, e in COMMAND_ELEMENTS.items()}


def required_tags(cls: type[DimseMessage]) -> frozenset[int]:
    """Tags a received ``cls`` message must hold: usage ``M`` in the generated message table.

    References
    ----------
    PS3.7 §9.1, §9.3, §10.1, §10.3.
    """
    return _class_tables()[cls.MESSAGE][1]


def message_fields(cls: type[DimseMessage]) -> Mapping[str, int]:
    """The command fields of a message class: attribute name → tag."""
    return _class_tables()[cls.MESSAGE][0]


@functools.cache
def _class_tables() -> Mapping[str, tuple[Mapping[str, int], frozenset[int]]]:
    from dicompile.generated.dimse_commands import MESSAGES

    tags = field_tags()
    result: dict[str, tuple[Mapping[str, int], frozenset[int]]] = {}
    for cls in MESSAGE_TYPES:
        fields: dict[str, int] = {}
        for field in attrs.fields(cls):
            if field.name in _NO_FIELD:
                continue
            tag = tags.get(field.name)
            if tag is None:  # a bug of this module; test_messages checks every class
                raise LookupError(f"{cls.__name__}.{field.name} is no command dictionary keyword")
            fields[field.name] = tag
        names = _TABLE_NAMES.get(cls.MESSAGE, (cls.MESSAGE,))
        required = frozenset(f.tag for n in names for f in MESSAGES[n].fields if f.usage == "M")
        result[cls.MESSAGE] = (fields, required)
    return result


# --------------------------------------------------------------------------------------
# Encoding and decoding
# --------------------------------------------------------------------------------------


def command_elements(message: DimseMessage) -> dict[int, CommandValue]:
    """The command elements of ``message``, without the Command Group Length.

    Raises
    ------
    LocalProtocolError
        When ``other_elements`` repeats a tag the message sets itself.

    References
    ----------
    PS3.7 §9.3, §10.3, Annex E.
    """
    cls = type(message)
    data_set = getattr(message, "data_set", None)
    elements: dict[int, CommandValue] = {
        COMMAND_FIELD: cls.COMMAND_FIELD,
        COMMAND_DATA_SET_TYPE: NO_DATA_SET if data_set is None else DATA_SET_PRESENT,
    }
    for name, tag in message_fields(cls).items():
        value = getattr(message, name)
        if value is None:
            continue
        if isinstance(value, Reserved):
            value = value.value
        elements[tag] = int(value) if isinstance(value, enum.IntEnum) else value
    for tag, value in message.other_elements:
        if tag in elements or tag == COMMAND_GROUP_LENGTH:
            raise LocalProtocolError(
                f"{cls.MESSAGE}: other_elements repeats ({tag >> 16:04X},{tag & 0xFFFF:04X}),"
                " which the message sets itself"
            )
        elements[tag] = value
    return elements


def encode_command(message: DimseMessage) -> bytes:
    """The command set of ``message`` in Implicit VR Little Endian (PS3.7 §6.3.1)."""
    return encode_command_set(command_elements(message))


def has_data_set(elements: Mapping[int, CommandValue], *, context_id: int | None = None) -> bool:
    """Whether a decoded command set announces a data set (Command Data Set Type ≠ 0101H).

    References
    ----------
    PS3.7 Annex E, Table E.1-1 (0000,0800).
    """
    value = elements.get(COMMAND_DATA_SET_TYPE)
    if not isinstance(value, int):
        raise DIMSEProtocolError(
            "the command set has no Command Data Set Type", context_id=context_id
        )
    return value != NO_DATA_SET


def message_type(
    elements: Mapping[int, CommandValue], *, context_id: int | None = None
) -> type[DimseMessage]:
    """The message class named by the Command Field (0000,0100) of a decoded command set."""
    value = elements.get(COMMAND_FIELD)
    if not isinstance(value, int):
        raise DIMSEProtocolError("the command set has no Command Field", context_id=context_id)
    cls = BY_COMMAND_FIELD.get(value)
    if cls is None:
        raise DIMSEProtocolError(
            f"unknown Command Field {value:04X}H (PS3.7 Table E.1-1)",
            context_id=context_id,
            tag=COMMAND_FIELD,
        )
    return cls


def decode_message(
    elements: Mapping[int, CommandValue],
    data_set: bytes | None,
    *,
    context_id: int | None = None,
) -> DimseMessage:
    """Build the message a decoded command set and its data set (or None) describe.

    Raises
    ------
    DIMSEProtocolError
        For an unknown Command Field, a missing mandatory field, a data set where the message
        has none or none where it needs one, or a Command Data Set Type that contradicts the
        presence of ``data_set``.

    References
    ----------
    PS3.7 §9.1, §9.3, §10.1, §10.3, Annex E.
    """
    cls = message_type(elements, context_id=context_id)
    announced = has_data_set(elements, context_id=context_id)

    def fail(message: str, tag: int | None = None) -> DIMSEProtocolError:
        return DIMSEProtocolError(message, context_id=context_id, command=cls.MESSAGE, tag=tag)

    if announced != (data_set is not None):
        raise fail(
            "Command Data Set Type says "
            + ("a data set follows, but none came" if announced else "no data set, but one came")
        )
    if data_set is not None and cls.DATA_SET is DataSetPresence.ABSENT:
        raise fail("this message never carries a data set (Command Data Set Type must be 0101H)")
    if data_set is None and cls.DATA_SET is DataSetPresence.REQUIRED:
        raise fail("this message always carries a data set (PS3.7 §9.3, §10.3)")
    fields = message_fields(cls)
    missing = required_tags(cls) - set(elements)
    if missing:
        raise fail("a mandatory field is missing", min(missing))
    kwargs: dict[str, object] = {}
    for name, tag in fields.items():
        if tag not in elements:
            continue
        value = elements[tag]
        if isinstance(value, bytes):  # only for tags the dictionary does not know
            raise fail(f"{name} could not be decoded by its VR", tag)
        if name == "priority":
            if not isinstance(value, int):
                raise fail(f"Priority {value!r} is not a number", tag)
            # An undefined priority is kept as received (STYLE 3), not refused.
            kwargs[name] = Priority(value) if value in _PRIORITIES else Reserved(value)
        else:
            kwargs[name] = value
    if cls.DATA_SET is not DataSetPresence.ABSENT:
        kwargs["data_set"] = data_set
    own = set(fields.values()) | {COMMAND_GROUP_LENGTH, COMMAND_FIELD, COMMAND_DATA_SET_TYPE}
    kwargs["other_elements"] = tuple((t, v) for t, v in elements.items() if t not in own)
    # The value types follow from the dictionary's VRs, which test_messages checks against
    # each field's annotation.
    return cls(**kwargs)  # type: ignore[arg-type]


def decode_command(
    command_set: bytes, data_set: bytes | None, *, context_id: int | None = None
) -> DimseMessage:
    """Decode a command set and pair it with its data set (inverse of :func:`encode_command`).

    References
    ----------
    PS3.7 §6.3.1, §9.3, §10.3.
    """
    try:
        elements = decode_command_set(command_set)
    except DIMSEProtocolError as exc:
        raise DIMSEProtocolError(
            exc.message, context_id=context_id, tag=exc.tag, offset=exc.offset
        ) from None
    return decode_message(elements, data_set, context_id=context_id)
