"""PS3.8 §9.3 protocol data units: frozen records and a sans-IO codec.

Theory of operation
-------------------
* Every PDU, item and sub-item of PS3.8 §9.3 and Annex D, and of the PS3.7 D.3.3 user
  information sub-items, is a frozen attrs record.  Records hold decoded values (``str``
  UIDs and AE titles, ``int`` lengths, enum codes); they never hold raw wire fields that a
  receiver must not test (those are rebuilt on encoding).
* Decoding is a function, never a method that mutates a record: :func:`decode_pdu` takes
  a buffer and returns ``(pdu, bytes_consumed)``, or ``None`` while the PDU is incomplete.
  It looks at the 6-byte PDU header first and refuses a PDU whose type is unknown or whose
  PDU-length breaks a limit *before* any of the body is awaited, so a peer cannot make the
  caller buffer or allocate gigabytes on the strength of a length field (Rule 1).
* Malformed input raises :class:`~dicompile.runtime.errors.MalformedPDUError` (a
  :class:`~dicompile.runtime.errors.RemoteProtocolError`) naming the PDU type and the
  0-based byte offset from the first byte of the PDU, and carrying the A-ABORT reason of
  PS3.8 Table 9-26 the upper layer sends for it.  Nothing else escapes the decoder (Rule 2).
* Codes the standard reserves or does not define decode to :class:`Reserved` instead of
  raising (STYLE 3); a record holding a :class:`Reserved` encodes back to the same byte.
* Items of unrecognized type are skipped (PS3.8 §9.3.1); unrecognized user information
  sub-items are kept as :class:`UnknownSubItem` so that a newer edition's negotiation is
  not lost (PS3.8 D.2).  Encoding emits items in increasing item-type order (§9.3.1), and
  :class:`UserInformationItem` keeps its sub-items sorted by type (some older peers expect
  it, PS3.8 §9.3.2.3).
* Offsets in comments are the standard's 1-based "PDU bytes"/"Item bytes" numbers; the
  code indexes 0-based (PDU byte *n* is ``data[n - 1]``).
* AE titles are 16 ISO 646 G0 characters (PS3.8 Table 9-11) without the backslash, which
  PS3.5's VR AE excludes and PS3.8 Annex C defers to.
* Leniencies, each a deliberate reading of "not tested when received": reserved bytes are
  never checked; the A-ASSOCIATE-AC copies of the AE titles (bytes 11-42, "reserved" there)
  are decoded without validation; a single trailing NUL after a UID (a common PS3.5-style
  pad that PS3.8 Annex F forbids) is stripped; item order is not enforced on input.
* The protocol version of an A-ASSOCIATE-RQ is *kept*, not checked: PS3.8 Table 9-10 AE-6
  answers an unsupported version with an A-ASSOCIATE-RJ (source 2, reason 2), not with an
  abort, so the state machine decides.  In an A-ASSOCIATE-AC bit 0 must be set.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Iterator
from typing import Final, TypeAlias, TypeVar

import attrs

from dicompile.runtime.errors import LocalProtocolError, MalformedPDUError

# --------------------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------------------


@attrs.frozen
class Reserved:
    """A code value the standard reserves or leaves undefined, kept as received (STYLE 3)."""

    value: int


class PDUType(enum.Enum):
    """PDU-type byte (PDU byte 1) of the seven PDUs of PS3.8 §9.3."""

    A_ASSOCIATE_RQ = 0x01
    A_ASSOCIATE_AC = 0x02
    A_ASSOCIATE_RJ = 0x03
    P_DATA_TF = 0x04
    A_RELEASE_RQ = 0x05
    A_RELEASE_RP = 0x06
    A_ABORT = 0x07


class ItemType(enum.Enum):
    """Item-type byte of the items (PS3.8 §9.3) and user information sub-items (Annex D)."""

    APPLICATION_CONTEXT = 0x10
    PRESENTATION_CONTEXT_RQ = 0x20
    PRESENTATION_CONTEXT_AC = 0x21
    ABSTRACT_SYNTAX = 0x30
    TRANSFER_SYNTAX = 0x40
    USER_INFORMATION = 0x50
    MAXIMUM_LENGTH = 0x51
    IMPLEMENTATION_CLASS_UID = 0x52
    ASYNCHRONOUS_OPERATIONS_WINDOW = 0x53
    SCP_SCU_ROLE_SELECTION = 0x54
    IMPLEMENTATION_VERSION_NAME = 0x55
    SOP_CLASS_EXTENDED_NEGOTIATION = 0x56
    SOP_CLASS_COMMON_EXTENDED_NEGOTIATION = 0x57
    USER_IDENTITY_RQ = 0x58
    USER_IDENTITY_AC = 0x59


class RejectResult(enum.Enum):
    """A-ASSOCIATE-RJ Result (PS3.8 Table 9-21, byte 8)."""

    REJECTED_PERMANENT = 1
    REJECTED_TRANSIENT = 2


class RejectSource(enum.Enum):
    """A-ASSOCIATE-RJ Source (PS3.8 Table 9-21, byte 9)."""

    SERVICE_USER = 1
    SERVICE_PROVIDER_ACSE = 2
    SERVICE_PROVIDER_PRESENTATION = 3


class UserRejectReason(enum.Enum):
    """Reason/Diag. when the source is the UL service-user (Table 9-21, byte 10)."""

    NO_REASON_GIVEN = 1
    APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = 2
    CALLING_AE_TITLE_NOT_RECOGNIZED = 3
    CALLED_AE_TITLE_NOT_RECOGNIZED = 7


class ACSERejectReason(enum.Enum):
    """Reason/Diag. when the source is the UL service-provider, ACSE related function."""

    NO_REASON_GIVEN = 1
    PROTOCOL_VERSION_NOT_SUPPORTED = 2


class PresentationRejectReason(enum.Enum):
    """Reason/Diag. when the source is the UL service-provider, Presentation related."""

    TEMPORARY_CONGESTION = 1
    LOCAL_LIMIT_EXCEEDED = 2


RejectReason: TypeAlias = UserRejectReason | ACSERejectReason | PresentationRejectReason | Reserved

_REASONS_BY_SOURCE: Final[
    dict[RejectSource, type[UserRejectReason | ACSERejectReason | PresentationRejectReason]]
] = {
    RejectSource.SERVICE_USER: UserRejectReason,
    RejectSource.SERVICE_PROVIDER_ACSE: ACSERejectReason,
    RejectSource.SERVICE_PROVIDER_PRESENTATION: PresentationRejectReason,
}


class AbortSource(enum.Enum):
    """A-ABORT Source (PS3.8 Table 9-26, byte 9); the value 1 is reserved."""

    SERVICE_USER = 0
    SERVICE_PROVIDER = 2


class AbortReason(enum.Enum):
    """A-ABORT Reason/Diag. for a service-provider abort (Table 9-26, byte 10; 3 reserved).

    Also the provider reason of the A-P-ABORT indication (PS3.8 §7.4.1).
    """

    REASON_NOT_SPECIFIED = 0
    UNRECOGNIZED_PDU = 1
    UNEXPECTED_PDU = 2
    UNRECOGNIZED_PDU_PARAMETER = 4
    UNEXPECTED_PDU_PARAMETER = 5
    INVALID_PDU_PARAMETER_VALUE = 6


class ContextResult(enum.Enum):
    """Presentation context Result/Reason of the A-ASSOCIATE-AC (PS3.8 Table 9-18, byte 7)."""

    ACCEPTANCE = 0
    USER_REJECTION = 1
    NO_REASON = 2
    ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
    TRANSFER_SYNTAXES_NOT_SUPPORTED = 4


class UserIdentityType(enum.Enum):
    """User-Identity-Type (PS3.7 Table D.3-14, byte 5)."""

    USERNAME = 1
    USERNAME_AND_PASSCODE = 2
    KERBEROS_SERVICE_TICKET = 3
    SAML_ASSERTION = 4


_E = TypeVar("_E", bound=enum.Enum)


def code(enum_type: type[_E], value: int) -> _E | Reserved:
    """``enum_type(value)``, or :class:`Reserved` when the enum does not define ``value``."""
    try:
        return enum_type(value)
    except ValueError:
        return Reserved(value)


def code_value(member: enum.Enum | Reserved) -> int:
    """The wire value of an enum member or a :class:`Reserved` code."""
    value = member.value
    assert isinstance(value, int)
    return value


def reject_reason(source: RejectSource | Reserved, value: int) -> RejectReason:
    """Decode A-ASSOCIATE-RJ byte 10, whose meaning depends on the source (Table 9-21)."""
    if isinstance(source, Reserved):
        return Reserved(value)
    return code(_REASONS_BY_SOURCE[source], value)


# --------------------------------------------------------------------------------------
# Items and sub-items
# --------------------------------------------------------------------------------------

DICOM_APPLICATION_CONTEXT_NAME: Final = "1.2.840.10008.3.1.1.1"  # PS3.7 Annex A.2.1


@attrs.frozen
class ApplicationContextItem:
    """Application Context Item, type 10H (PS3.8 Table 9-12)."""

    name: str


@attrs.frozen
class AbstractSyntaxSubItem:
    """Abstract Syntax Sub-Item, type 30H (PS3.8 Table 9-14)."""

    name: str


@attrs.frozen
class TransferSyntaxSubItem:
    """Transfer Syntax Sub-Item, type 40H (PS3.8 Tables 9-15 and 9-19)."""

    name: str


@attrs.frozen
class PresentationContextRQItem:
    """Presentation Context Item of the A-ASSOCIATE-RQ, type 20H (PS3.8 Table 9-13)."""

    context_id: int
    abstract_syntax: AbstractSyntaxSubItem
    transfer_syntaxes: tuple[TransferSyntaxSubItem, ...]


@attrs.frozen
class PresentationContextACItem:
    """Presentation Context Item of the A-ASSOCIATE-AC, type 21H (PS3.8 Table 9-18).

    ``transfer_syntax`` is ``None`` when the context is not accepted and the peer sent an
    empty (or no) Transfer Syntax Sub-Item: the field "shall not be significant" then.
    """

    context_id: int
    result: ContextResult | Reserved
    transfer_syntax: TransferSyntaxSubItem | None


@attrs.frozen
class MaximumLengthSubItem:
    """Maximum Length Sub-Item, type 51H (PS3.8 Tables D.1-1, D.1-2); 0 means no maximum."""

    maximum_length_received: int


@attrs.frozen
class ImplementationClassUIDSubItem:
    """Implementation Class UID Sub-Item, type 52H (PS3.7 Tables D.3-1, D.3-2)."""

    implementation_class_uid: str


@attrs.frozen
class AsynchronousOperationsWindowSubItem:
    """Asynchronous Operations Window Sub-Item, type 53H (PS3.7 Tables D.3-7, D.3-8)."""

    maximum_number_operations_invoked: int
    maximum_number_operations_performed: int


@attrs.frozen
class RoleSelectionSubItem:
    """SCP/SCU Role Selection Sub-Item, type 54H (PS3.7 Tables D.3-9, D.3-10)."""

    sop_class_uid: str
    scu_role: bool
    scp_role: bool


@attrs.frozen
class ImplementationVersionNameSubItem:
    """Implementation Version Name Sub-Item, type 55H (PS3.7 Tables D.3-3, D.3-4)."""

    implementation_version_name: str


@attrs.frozen
class SOPClassExtendedNegotiationSubItem:
    """SOP Class Extended Negotiation Sub-Item, type 56H (PS3.7 Table D.3-11)."""

    sop_class_uid: str
    service_class_application_information: bytes


@attrs.frozen
class SOPClassCommonExtendedNegotiationSubItem:
    """SOP Class Common Extended Negotiation Sub-Item, type 57H (PS3.7 Tables D.3-12, D.3-13).

    Byte 2, reserved in every other item, is the sub-item version here (0 in 2013).
    """

    sop_class_uid: str
    service_class_uid: str
    related_general_sop_class_uids: tuple[str, ...] = ()
    sub_item_version: int = 0


@attrs.frozen
class UserIdentityRQSubItem:
    """User Identity Negotiation Sub-Item of the A-ASSOCIATE-RQ, type 58H (PS3.7 D.3-14)."""

    identity_type: UserIdentityType | Reserved
    positive_response_requested: bool
    primary_field: bytes
    secondary_field: bytes = b""


@attrs.frozen
class UserIdentityACSubItem:
    """User Identity Negotiation Sub-Item of the A-ASSOCIATE-AC, type 59H (PS3.7 D.3-15)."""

    server_response: bytes


@attrs.frozen
class UnknownSubItem:
    """A user information sub-item of a type this code does not know (kept, PS3.8 D.2)."""

    item_type: int
    data: bytes


UserSubItem: TypeAlias = (
    MaximumLengthSubItem
    | ImplementationClassUIDSubItem
    | AsynchronousOperationsWindowSubItem
    | RoleSelectionSubItem
    | ImplementationVersionNameSubItem
    | SOPClassExtendedNegotiationSubItem
    | SOPClassCommonExtendedNegotiationSubItem
    | UserIdentityRQSubItem
    | UserIdentityACSubItem
    | UnknownSubItem
)


def sub_item_type(sub_item: UserSubItem) -> int:
    """The item-type byte of a user information sub-item."""
    if isinstance(sub_item, UnknownSubItem):
        return sub_item.item_type
    return _SUB_ITEM_TYPES[type(sub_item)].value


_SUB_ITEM_TYPES: Final[dict[type[UserSubItem], ItemType]] = {
    MaximumLengthSubItem: ItemType.MAXIMUM_LENGTH,
    ImplementationClassUIDSubItem: ItemType.IMPLEMENTATION_CLASS_UID,
    AsynchronousOperationsWindowSubItem: ItemType.ASYNCHRONOUS_OPERATIONS_WINDOW,
    RoleSelectionSubItem: ItemType.SCP_SCU_ROLE_SELECTION,
    ImplementationVersionNameSubItem: ItemType.IMPLEMENTATION_VERSION_NAME,
    SOPClassExtendedNegotiationSubItem: ItemType.SOP_CLASS_EXTENDED_NEGOTIATION,
    SOPClassCommonExtendedNegotiationSubItem: ItemType.SOP_CLASS_COMMON_EXTENDED_NEGOTIATION,
    UserIdentityRQSubItem: ItemType.USER_IDENTITY_RQ,
    UserIdentityACSubItem: ItemType.USER_IDENTITY_AC,
}

_S = TypeVar("_S")


def _sorted_sub_items(
    items: tuple[UserSubItem, ...] | list[UserSubItem],
) -> tuple[UserSubItem, ...]:
    # Stable: sub-items of one type (role selections, ...) keep their relative order.
    return tuple(sorted(items, key=sub_item_type))


@attrs.frozen
class UserInformationItem:
    """User Information Item, type 50H (PS3.8 Tables 9-16, 9-20; sub-items in Annex D).

    Sub-items are kept sorted by item type (stable), the order older peers expect.
    """

    sub_items: tuple[UserSubItem, ...] = attrs.field(default=(), converter=_sorted_sub_items)

    def _first(self, kind: type[_S]) -> _S | None:
        for sub_item in self.sub_items:
            if isinstance(sub_item, kind):
                return sub_item
        return None

    def _all(self, kind: type[_S]) -> tuple[_S, ...]:
        return tuple(s for s in self.sub_items if isinstance(s, kind))

    @property
    def maximum_length(self) -> int | None:
        """Maximum-length-received (0: no maximum), or ``None`` without the sub-item."""
        found = self._first(MaximumLengthSubItem)
        return found.maximum_length_received if found is not None else None

    @property
    def implementation_class_uid(self) -> str | None:
        found = self._first(ImplementationClassUIDSubItem)
        return found.implementation_class_uid if found is not None else None

    @property
    def implementation_version_name(self) -> str | None:
        found = self._first(ImplementationVersionNameSubItem)
        return found.implementation_version_name if found is not None else None

    @property
    def asynchronous_operations_window(self) -> AsynchronousOperationsWindowSubItem | None:
        return self._first(AsynchronousOperationsWindowSubItem)

    @property
    def role_selections(self) -> tuple[RoleSelectionSubItem, ...]:
        return self._all(RoleSelectionSubItem)

    @property
    def extended_negotiations(self) -> tuple[SOPClassExtendedNegotiationSubItem, ...]:
        return self._all(SOPClassExtendedNegotiationSubItem)

    @property
    def common_extended_negotiations(
        self,
    ) -> tuple[SOPClassCommonExtendedNegotiationSubItem, ...]:
        return self._all(SOPClassCommonExtendedNegotiationSubItem)

    @property
    def user_identity_rq(self) -> UserIdentityRQSubItem | None:
        return self._first(UserIdentityRQSubItem)

    @property
    def user_identity_ac(self) -> UserIdentityACSubItem | None:
        return self._first(UserIdentityACSubItem)


# --------------------------------------------------------------------------------------
# PDUs
# --------------------------------------------------------------------------------------


@attrs.frozen
class AAssociateRQ:
    """A-ASSOCIATE-RQ PDU, type 01H (PS3.8 §9.3.2, Table 9-11).

    AE titles are held without their non-significant leading and trailing spaces.
    """

    called_ae_title: str
    calling_ae_title: str
    application_context: ApplicationContextItem
    presentation_contexts: tuple[PresentationContextRQItem, ...]
    user_information: UserInformationItem
    protocol_version: int = 1


@attrs.frozen
class AAssociateAC:
    """A-ASSOCIATE-AC PDU, type 02H (PS3.8 §9.3.3, Table 9-17).

    Bytes 11-26 and 27-42 are "reserved" here, sent as received in the A-ASSOCIATE-RQ
    (the called and calling AE titles) and never tested: they are decoded without checks.
    """

    called_ae_title: str
    calling_ae_title: str
    application_context: ApplicationContextItem
    presentation_contexts: tuple[PresentationContextACItem, ...]
    user_information: UserInformationItem
    protocol_version: int = 1


@attrs.frozen
class AAssociateRJ:
    """A-ASSOCIATE-RJ PDU, type 03H (PS3.8 §9.3.4, Table 9-21)."""

    result: RejectResult | Reserved
    source: RejectSource | Reserved
    reason: RejectReason


@attrs.frozen
class MessageControlHeader:
    """The first byte of every presentation data value (PS3.8 Annex E.2).

    Bit 0: 1 for a command fragment, 0 for a data set fragment.  Bit 1: 1 for the last
    fragment.  Bits 2-7 are sent as 0 and never checked on receipt.
    """

    is_command: bool
    is_last: bool

    def to_byte(self) -> int:
        return (0x01 if self.is_command else 0x00) | (0x02 if self.is_last else 0x00)

    @classmethod
    def from_byte(cls, value: int) -> MessageControlHeader:
        return cls(is_command=bool(value & 0x01), is_last=bool(value & 0x02))


#: The four message control headers, by bits 0-1 (bits 2-7 are never checked, E.2).
_HEADERS: Final = tuple(MessageControlHeader.from_byte(value) for value in range(4))


@attrs.frozen
class PresentationDataValue:
    """Presentation-Data-Value Item (PS3.8 Table 9-23) with its message control header."""

    context_id: int
    header: MessageControlHeader
    fragment: bytes


@attrs.frozen
class PDataTF:
    """P-DATA-TF PDU, type 04H (PS3.8 §9.3.5, Table 9-22)."""

    pdvs: tuple[PresentationDataValue, ...]


@attrs.frozen
class AReleaseRQ:
    """A-RELEASE-RQ PDU, type 05H (PS3.8 §9.3.6, Table 9-24)."""


@attrs.frozen
class AReleaseRP:
    """A-RELEASE-RP PDU, type 06H (PS3.8 §9.3.7, Table 9-25)."""


@attrs.frozen
class AAbort:
    """A-ABORT PDU, type 07H (PS3.8 §9.3.8, Table 9-26).

    The reason is significant only when the source is the service-provider; it is kept
    as received either way.
    """

    source: AbortSource | Reserved
    reason: AbortReason | Reserved = AbortReason.REASON_NOT_SPECIFIED


PDU: TypeAlias = (
    AAssociateRQ | AAssociateAC | AAssociateRJ | PDataTF | AReleaseRQ | AReleaseRP | AAbort
)

PDU_TYPES: Final[dict[type[PDU], PDUType]] = {
    AAssociateRQ: PDUType.A_ASSOCIATE_RQ,
    AAssociateAC: PDUType.A_ASSOCIATE_AC,
    AAssociateRJ: PDUType.A_ASSOCIATE_RJ,
    PDataTF: PDUType.P_DATA_TF,
    AReleaseRQ: PDUType.A_RELEASE_RQ,
    AReleaseRP: PDUType.A_RELEASE_RP,
    AAbort: PDUType.A_ABORT,
}

# --------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------

PDU_HEADER_LENGTH: Final = 6  # PDU bytes 1-6: type, reserved, PDU-length
PDV_OVERHEAD: Final = 6  # PDV item: 4-byte Item-length, context ID, message control header
MAX_PDU_LENGTH_FIELD: Final = 0xFFFFFFFF  # the largest value PDU bytes 3-6 can hold
# A local limit on A-ASSOCIATE-RQ/AC PDU-length, which the standard does not negotiate.
# 1 MiB is far above real requests (128 presentation contexts with ten transfer syntaxes
# each and a 64 KiB user identity assertion fit in ~110 KiB).
DEFAULT_MAX_ASSOCIATE_LENGTH: Final = 1 << 20
_FIXED_LENGTH: Final = 4  # A-ASSOCIATE-RJ, A-RELEASE-RQ/RP, A-ABORT: PDU-length 00000004H


def max_fragment_length(max_pdata_length: int) -> int:
    """The largest message fragment one P-DATA-TF of ``max_pdata_length`` can carry.

    A PDU-length of ``max_pdata_length`` (the peer's Maximum Length, PS3.8 D.1; not 0)
    holds one PDV item of 4 + 1 + 1 bytes of overhead plus the fragment (PS3.8 Table 9-23,
    Annex E.2).  Fragments must also be even (Annex E.1), so the result is rounded down.

    References
    ----------
    PS3.8 D.1, Table 9-23, Annex E.
    """
    if max_pdata_length <= PDV_OVERHEAD:
        raise LocalProtocolError(
            f"a maximum PDU length of {max_pdata_length} leaves no room for a fragment"
        )
    return (max_pdata_length - PDV_OVERHEAD) & ~1


def check_pdu_length(
    pdu_type: int,
    length: int,
    *,
    max_pdata_length: int | None = None,
    max_associate_length: int = DEFAULT_MAX_ASSOCIATE_LENGTH,
) -> None:
    """Refuse a PDU-length that breaks a limit, from the 6-byte header alone.

    ``max_pdata_length`` is the Maximum Length this side announced (PS3.8 D.1: exceeding
    it is a protocol error); ``None`` means no maximum was specified.  A-ASSOCIATE-RQ/AC
    are held to ``max_associate_length``, a local limit.  PDUs of fixed size must say 4.

    Raises
    ------
    MalformedPDUError
        With reason invalid-PDU-parameter-value and the offset of the PDU-length field.

    References
    ----------
    PS3.8 §9.3.1, Tables 9-11 to 9-26, D.1.
    """
    if pdu_type == PDUType.P_DATA_TF.value:
        if max_pdata_length is not None and length > max_pdata_length:
            raise MalformedPDUError(
                f"P-DATA-TF PDU-length {length} exceeds the maximum length {max_pdata_length}"
                " announced for this association (PS3.8 D.1)",
                pdu_type=pdu_type,
                offset=2,
            )
    elif pdu_type in (PDUType.A_ASSOCIATE_RQ.value, PDUType.A_ASSOCIATE_AC.value):
        if length > max_associate_length:
            raise MalformedPDUError(
                f"PDU-length {length} exceeds the local limit of {max_associate_length}"
                " bytes for association PDUs",
                pdu_type=pdu_type,
                offset=2,
            )
    elif length != _FIXED_LENGTH:
        raise MalformedPDUError(
            f"PDU-length is {length}; this PDU has the fixed length 4",
            pdu_type=pdu_type,
            offset=2,
        )


# --------------------------------------------------------------------------------------
# Field codecs
# --------------------------------------------------------------------------------------

_UID_MAX: Final = 64  # PS3.8 Annex F
_UID_CHARS: Final = frozenset(b"0123456789.")


def _is_g0(raw: bytes) -> bool:
    # ISO 646:1990 Basic G0 set: the printable characters 20H-7EH.
    return all(0x20 <= b <= 0x7E for b in raw)


def _is_ae(raw: bytes) -> bool:
    # PS3.8 Annex C sends AE titles to PS3.5 (VR AE), which also excludes 5CH (backslash).
    return _is_g0(raw) and b"\\" not in raw


def encode_ae_title(title: str) -> bytes:
    """An AE title as the 16 bytes of PS3.8 Table 9-11 bytes 11-26/27-42 (space padded)."""
    raw = title.encode("ascii", "replace")
    stripped = raw.strip(b" ")
    if not stripped or len(raw) > 16 or not _is_ae(raw):
        raise LocalProtocolError(
            f"AE title {title!r} is not 1-16 ISO 646 G0 characters, no backslash, with a"
            " non-space (PS3.8 Table 9-11, Annex C; PS3.5 VR AE)"
        )
    return stripped.ljust(16, b" ")


def encode_uid(uid: str, what: str = "UID") -> bytes:
    """A UID as PS3.8 Annex F encodes it: digits and dots, no padding, at most 64 bytes."""
    raw = uid.encode("ascii", "replace")
    if not raw or len(raw) > _UID_MAX or not set(raw) <= _UID_CHARS:
        raise LocalProtocolError(f"{what} {uid!r} is not a UID (PS3.8 Annex F)")
    return raw


def _lenient_text(raw: bytes) -> str:
    # For fields the receiver must not test: keep every byte (latin-1 is total).
    return raw.decode("latin-1").strip(" \x00")


def _lenient_text_bytes(text: str, what: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"{what} {text!r} is not representable in bytes") from exc


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise LocalProtocolError(f"{what} {value} does not fit in two bytes")
    return struct.pack(">H", value)


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{what} {value} does not fit in one byte")
    return bytes((value,))


def _item(item_type: int, value: bytes, *, byte2: int = 0) -> bytes:
    # Item bytes 1: type, 2: reserved (or sub-item version), 3-4: Item-length.
    return bytes((item_type, byte2)) + _u16(len(value), f"item {item_type:02X}H length")


def _context_id(context_id: int) -> int:
    if not (1 <= context_id <= 255 and context_id % 2 == 1):
        raise LocalProtocolError(
            f"presentation context ID {context_id} is not an odd integer 1-255 (PS3.8 Table 9-13)"
        )
    return context_id


# --------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------


def encode_sub_item(sub_item: UserSubItem) -> bytes:
    """One user information sub-item with its 4-byte header (PS3.8 D.1, PS3.7 D.3.3)."""
    byte2 = 0
    match sub_item:
        case MaximumLengthSubItem(maximum_length_received=value):
            if not 0 <= value <= MAX_PDU_LENGTH_FIELD:
                raise LocalProtocolError(f"maximum length {value} does not fit in 4 bytes")
            body = struct.pack(">I", value)  # bytes 5-8: Maximum-length-received
        case ImplementationClassUIDSubItem(implementation_class_uid=uid):
            body = encode_uid(uid, "implementation class UID")  # bytes 5-xxx
        case ImplementationVersionNameSubItem(implementation_version_name=name):
            body = name.encode("ascii", "replace")  # bytes 5-xxx: 1-16 G0 characters
            if not 1 <= len(body) <= 16 or not _is_g0(body):
                raise LocalProtocolError(
                    f"implementation version name {name!r} is not 1-16 G0 characters"
                    " (PS3.7 Table D.3-3)"
                )
        case AsynchronousOperationsWindowSubItem(
            maximum_number_operations_invoked=invoked,
            maximum_number_operations_performed=performed,
        ):
            body = _u16(invoked, "operations invoked")  # bytes 5-6
            body += _u16(performed, "operations performed")  # bytes 7-8
        case RoleSelectionSubItem(sop_class_uid=uid, scu_role=scu, scp_role=scp):
            raw = encode_uid(uid, "SOP class UID")
            body = _u16(len(raw), "UID-length") + raw  # bytes 5-6: UID-length; 7-xxx
            body += bytes((int(scu), int(scp)))  # SCU-role, SCP-role bytes
        case SOPClassExtendedNegotiationSubItem(
            sop_class_uid=uid, service_class_application_information=info
        ):
            raw = encode_uid(uid, "SOP class UID")
            body = _u16(len(raw), "SOP-class-uid-length") + raw + info  # 5-6; 7-xxx; rest
        case SOPClassCommonExtendedNegotiationSubItem(
            sop_class_uid=uid,
            service_class_uid=service,
            related_general_sop_class_uids=related,
            sub_item_version=version,
        ):
            byte2 = _u8(version, "sub-item version")[0]  # byte 2: Sub-item-version
            raw = encode_uid(uid, "SOP class UID")
            body = _u16(len(raw), "SOP-class-uid-length") + raw  # 5-6; 7-x
            raw = encode_uid(service, "service class UID")
            body += _u16(len(raw), "Service-class-uid-length") + raw  # (x+1)-(x+2); -y
            pairs = b"".join(
                _u16(len(r), "Related-general-sop-class-uid-length") + r
                for r in (encode_uid(u, "related general SOP class UID") for u in related)
            )  # Table D.3-13 sub-fields
            body += _u16(len(pairs), "Related-general-sop-class-identification-length")
            body += pairs  # (y+3)-z; the Reserved field (z+1)-k is empty in version 0
        case UserIdentityRQSubItem(
            identity_type=kind,
            positive_response_requested=positive,
            primary_field=primary,
            secondary_field=secondary,
        ):
            body = _u8(code_value(kind), "User-Identity-Type")  # byte 5
            body += bytes((int(positive),))  # byte 6: Positive-response-requested
            body += _u16(len(primary), "Primary-field-length") + primary  # 7-8; 9-n
            body += _u16(len(secondary), "Secondary-field-length") + secondary  # n+1-m
        case UserIdentityACSubItem(server_response=response):
            body = _u16(len(response), "Server-response-length") + response  # 5-6; 7-n
        case UnknownSubItem(item_type=item_type, data=data):
            return _item(_u8(item_type, "item type")[0], data) + data
    return _item(sub_item_type(sub_item), body, byte2=byte2) + body


def encode_user_information(item: UserInformationItem) -> bytes:
    """User Information Item, type 50H, with its sub-items (PS3.8 Tables 9-16, 9-20)."""
    body = b"".join(encode_sub_item(s) for s in item.sub_items)  # bytes 5-xxx: User-data
    return _item(ItemType.USER_INFORMATION.value, body) + body


def _encode_name_item(item_type: ItemType, name: str, what: str) -> bytes:
    body = encode_uid(name, what)
    return _item(item_type.value, body) + body


def encode_presentation_context_rq(item: PresentationContextRQItem) -> bytes:
    """Presentation Context Item, type 20H (PS3.8 Table 9-13)."""
    if not item.transfer_syntaxes:
        raise LocalProtocolError(
            f"presentation context {item.context_id} proposes no transfer syntax (PS3.8 §9.3.2.2)"
        )
    # byte 5: Presentation-context-ID; bytes 6-8: reserved
    body = bytes((_context_id(item.context_id), 0, 0, 0))
    # bytes 9-xxx: one Abstract Syntax Sub-Item then the Transfer Syntax Sub-Items
    body += _encode_name_item(
        ItemType.ABSTRACT_SYNTAX, item.abstract_syntax.name, "abstract syntax name"
    )
    for ts in item.transfer_syntaxes:
        body += _encode_name_item(ItemType.TRANSFER_SYNTAX, ts.name, "transfer syntax name")
    return _item(ItemType.PRESENTATION_CONTEXT_RQ.value, body) + body


def encode_presentation_context_ac(item: PresentationContextACItem) -> bytes:
    """Presentation Context Item, type 21H (PS3.8 Table 9-18)."""
    result = code_value(item.result)
    # byte 5: Presentation-context-ID; 6: reserved; 7: Result/Reason; 8: reserved
    body = bytes((_context_id(item.context_id), 0, _u8(result, "result")[0], 0))
    # bytes 9-xxx: one Transfer Syntax Sub-Item (not significant unless accepted)
    if item.transfer_syntax is None:
        if item.result == ContextResult.ACCEPTANCE:
            raise LocalProtocolError(
                f"accepted presentation context {item.context_id} needs a transfer syntax"
            )
        body += _item(ItemType.TRANSFER_SYNTAX.value, b"")
    elif item.result == ContextResult.ACCEPTANCE:
        body += _encode_name_item(
            ItemType.TRANSFER_SYNTAX, item.transfer_syntax.name, "transfer syntax name"
        )
    else:
        raw = _lenient_text_bytes(item.transfer_syntax.name, "transfer syntax name")
        body += _item(ItemType.TRANSFER_SYNTAX.value, raw) + raw
    return _item(ItemType.PRESENTATION_CONTEXT_AC.value, body) + body


def _pdu(pdu_type: PDUType, body: bytes) -> bytes:
    if len(body) > MAX_PDU_LENGTH_FIELD:
        raise LocalProtocolError(f"PDU body of {len(body)} bytes does not fit PDU-length")
    # bytes 1: PDU-type; 2: reserved; 3-6: PDU-length
    return struct.pack(">BBI", pdu_type.value, 0, len(body)) + body


def _encode_associate(pdu: AAssociateRQ | AAssociateAC) -> bytes:
    if not pdu.presentation_contexts:
        raise LocalProtocolError("an association PDU needs one or more presentation contexts")
    body = _u16(pdu.protocol_version, "protocol version")  # bytes 7-8: Protocol-version
    body += b"\x00\x00"  # bytes 9-10: reserved
    if isinstance(pdu, AAssociateRQ):
        body += encode_ae_title(pdu.called_ae_title)  # bytes 11-26: Called-AE-title
        body += encode_ae_title(pdu.calling_ae_title)  # bytes 27-42: Calling-AE-title
        contexts = b"".join(encode_presentation_context_rq(c) for c in pdu.presentation_contexts)
    else:
        for title in (pdu.called_ae_title, pdu.calling_ae_title):
            # bytes 11-26, 27-42: reserved, echoing the A-ASSOCIATE-RQ's AE titles
            raw = _lenient_text_bytes(title, "AE title")
            if len(raw) > 16:
                raise LocalProtocolError(f"AE title {title!r} is longer than 16 bytes")
            body += raw.ljust(16, b" ")
        contexts = b"".join(encode_presentation_context_ac(c) for c in pdu.presentation_contexts)
    body += bytes(32)  # bytes 43-74: reserved
    # bytes 75-xxx: Application Context Item, Presentation Context Items, User Information
    body += _encode_name_item(
        ItemType.APPLICATION_CONTEXT, pdu.application_context.name, "application context name"
    )
    body += contexts
    body += encode_user_information(pdu.user_information)
    return _pdu(PDU_TYPES[type(pdu)], body)


def encode_pdu(pdu: PDU) -> bytes:
    """The bytes of one PDU, header included.

    Raises
    ------
    LocalProtocolError
        When a field cannot be encoded (AE title too long, bad UID, even context ID, ...).

    References
    ----------
    PS3.8 §9.3, Tables 9-11 to 9-26; PS3.8 Annex D; PS3.7 D.3.3.
    """
    match pdu:
        case AAssociateRQ() | AAssociateAC():
            return _encode_associate(pdu)
        case AAssociateRJ(result=result, source=source, reason=reason):
            if isinstance(source, RejectSource) and not isinstance(reason, Reserved):
                expected = _REASONS_BY_SOURCE[source]
                if not isinstance(reason, expected):
                    raise LocalProtocolError(
                        f"reject reason {reason} does not belong to source {source}"
                        " (PS3.8 Table 9-21)"
                    )
            # byte 7: reserved; 8: Result; 9: Source; 10: Reason/Diag.
            body = b"\x00" + bytes(
                _u8(code_value(v), "reject field")[0] for v in (result, source, reason)
            )
            return _pdu(PDUType.A_ASSOCIATE_RJ, body)
        case PDataTF(pdvs=pdvs):
            # The PDU header goes first in the same join: fragments are copied once.
            return b"".join(_pdata_parts(pdvs))
        case AReleaseRQ():
            return _pdu(PDUType.A_RELEASE_RQ, bytes(4))  # bytes 7-10: reserved
        case AReleaseRP():
            return _pdu(PDUType.A_RELEASE_RP, bytes(4))  # bytes 7-10: reserved
        case AAbort(source=source, reason=reason):
            # bytes 7-8: reserved; 9: Source; 10: Reason/Diag.
            body = b"\x00\x00" + bytes(
                (_u8(code_value(source), "source")[0], _u8(code_value(reason), "reason")[0])
            )
            return _pdu(PDUType.A_ABORT, body)


def _pdata_parts(pdvs: tuple[PresentationDataValue, ...]) -> list[bytes]:
    """The bytes of a P-DATA-TF as a list: header, then each PDV's header and fragment."""
    if not pdvs:
        raise LocalProtocolError("a P-DATA-TF needs one or more PDVs (PS3.8 §9.3.5)")
    parts: list[bytes] = [b""]
    length = 0
    for pdv in pdvs:
        # Item bytes 1-4: Item-length; 5: Presentation-context-ID;
        # 6-xxx: Presentation-data-value = message control header + fragment
        parts.append(
            struct.pack(
                ">IBB", len(pdv.fragment) + 2, _context_id(pdv.context_id), pdv.header.to_byte()
            )
        )
        parts.append(pdv.fragment)
        length += PDV_OVERHEAD + len(pdv.fragment)
    if length > MAX_PDU_LENGTH_FIELD:
        raise LocalProtocolError(f"PDU body of {length} bytes does not fit PDU-length")
    parts[0] = struct.pack(">BBI", PDUType.P_DATA_TF.value, 0, length)
    return parts


#: A fragment at least this long is written on its own rather than copied into the PDU.
SEPARATE_FRAGMENT: Final = 1 << 15


def encode_pdu_parts(pdu: PDU) -> list[bytes]:
    """The bytes of one PDU as consecutive parts whose concatenation is :func:`encode_pdu`.

    Fragments of at least :data:`SEPARATE_FRAGMENT` bytes are parts of their own, the very
    objects of the PDVs, so that a driver writes them without copying them into a PDU;
    everything between them is joined.

    Raises
    ------
    LocalProtocolError
        As :func:`encode_pdu`.
    """
    if not isinstance(pdu, PDataTF):
        return [encode_pdu(pdu)]
    out: list[bytes] = []
    small: list[bytes] = []
    for part in _pdata_parts(pdu.pdvs):
        if len(part) >= SEPARATE_FRAGMENT:
            if small:
                out.append(b"".join(small))
                small = []
            out.append(part)
        else:
            small.append(part)
    if small:
        out.append(b"".join(small))
    return out


# --------------------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------------------

_INVALID: Final = AbortReason.INVALID_PDU_PARAMETER_VALUE.value
_UNEXPECTED_PARAMETER: Final = AbortReason.UNEXPECTED_PDU_PARAMETER.value


@attrs.frozen
class _Reader:
    """The body of one complete PDU, with the PDU type and absolute offsets for errors."""

    data: bytes  # the whole PDU, header included, so offsets are PDU offsets
    pdu_type: int

    def fail(self, message: str, offset: int, reason: int = _INVALID) -> MalformedPDUError:
        return MalformedPDUError(
            message, pdu_type=self.pdu_type, offset=offset, abort_reason=reason
        )

    def need(self, offset: int, count: int, end: int, what: str) -> None:
        if offset + count > end:
            raise self.fail(
                f"{what} needs {count} bytes but only {max(end - offset, 0)} remain", offset
            )

    def u8(self, offset: int, end: int, what: str) -> int:
        self.need(offset, 1, end, what)
        return self.data[offset]

    def u16(self, offset: int, end: int, what: str) -> int:
        self.need(offset, 2, end, what)
        value: int = struct.unpack_from(">H", self.data, offset)[0]
        return value

    def take(self, offset: int, count: int, end: int, what: str) -> bytes:
        self.need(offset, count, end, what)
        return self.data[offset : offset + count]

    def items(self, start: int, end: int, what: str) -> Iterator[tuple[int, int, int, int]]:
        """(item type, byte 2, value start, value end) of each item in ``[start, end)``."""
        offset = start
        while offset < end:
            self.need(offset, 4, end, f"{what} item header")
            item_type, byte2, length = struct.unpack_from(">BBH", self.data, offset)
            if offset + 4 + length > end:  # reported at the item's first byte
                raise self.fail(
                    f"item {item_type:02X}H of length {length} overruns its container by"
                    f" {offset + 4 + length - end} bytes",
                    offset,
                )
            yield item_type, byte2, offset + 4, offset + 4 + length
            offset += 4 + length

    def uid(self, start: int, end: int, what: str) -> str:
        raw = self.data[start:end]
        if raw.endswith(b"\x00"):
            raw = raw[:-1]  # leniency: a PS3.5-style NUL pad (see the module docstring)
        if not raw or len(raw) > _UID_MAX or not set(raw) <= _UID_CHARS:
            raise self.fail(f"{what} {raw!r} is not a UID (PS3.8 Annex F)", start)
        return raw.decode("ascii")


def _decode_sub_item(r: _Reader, item_type: int, byte2: int, start: int, end: int) -> UserSubItem:
    length = end - start
    kind = code(ItemType, item_type)
    fixed = (ItemType.MAXIMUM_LENGTH, ItemType.ASYNCHRONOUS_OPERATIONS_WINDOW)
    if kind in fixed and length != 4:
        raise r.fail(f"sub-item {item_type:02X}H has length {length}, not 4", start - 2)
    match kind:
        case ItemType.MAXIMUM_LENGTH:
            # bytes 5-8: Maximum-length-received
            return MaximumLengthSubItem(struct.unpack_from(">I", r.data, start)[0])
        case ItemType.IMPLEMENTATION_CLASS_UID:
            return ImplementationClassUIDSubItem(r.uid(start, end, "implementation class UID"))
        case ItemType.IMPLEMENTATION_VERSION_NAME:
            raw = r.data[start:end]  # bytes 5-xxx: 1-16 G0 characters
            if not 1 <= len(raw) <= 16 or not _is_g0(raw):
                raise r.fail(f"implementation version name {raw!r} is not 1-16 G0 chars", start)
            return ImplementationVersionNameSubItem(raw.decode("ascii"))
        case ItemType.ASYNCHRONOUS_OPERATIONS_WINDOW:
            invoked, performed = struct.unpack_from(">HH", r.data, start)  # bytes 5-6, 7-8
            return AsynchronousOperationsWindowSubItem(invoked, performed)
        case ItemType.SCP_SCU_ROLE_SELECTION:
            uid_length = r.u16(start, end, "UID-length")  # bytes 5-6
            r.need(start + 2, uid_length, end, "SOP-class-uid")
            uid = r.uid(start + 2, start + 2 + uid_length, "SOP class UID")  # bytes 7-xxx
            roles_at = start + 2 + uid_length
            if end - roles_at != 2:
                raise r.fail("role selection sub-item must end with the two role bytes", roles_at)
            # SCU-role, SCP-role bytes: 0 or 1 (any non-zero read as support)
            return RoleSelectionSubItem(uid, bool(r.data[roles_at]), bool(r.data[roles_at + 1]))
        case ItemType.SOP_CLASS_EXTENDED_NEGOTIATION:
            uid_length = r.u16(start, end, "SOP-class-uid-length")  # bytes 5-6
            r.need(start + 2, uid_length, end, "SOP-class-uid")
            uid = r.uid(start + 2, start + 2 + uid_length, "SOP class UID")  # bytes 7-xxx
            info = r.data[start + 2 + uid_length : end]  # Service-class-application-information
            return SOPClassExtendedNegotiationSubItem(uid, info)
        case ItemType.SOP_CLASS_COMMON_EXTENDED_NEGOTIATION:
            offset = start
            uids: list[str] = []
            for what in ("SOP-class-uid", "Service-class-uid"):
                uid_length = r.u16(offset, end, f"{what}-length")  # 5-6, (x+1)-(x+2)
                r.need(offset + 2, uid_length, end, what)
                uids.append(r.uid(offset + 2, offset + 2 + uid_length, what))  # 7-x, (x+3)-y
                offset += 2 + uid_length
            related_length = r.u16(offset, end, "Related-general-sop-class-identification-length")
            r.need(offset + 2, related_length, end, "Related-general-sop-class-identification")
            related: list[str] = []
            pair = offset + 2
            related_end = pair + related_length
            while pair < related_end:  # Table D.3-13: pairs of length + UID
                uid_length = r.u16(pair, related_end, "Related-general-sop-class-uid-length")
                r.need(pair + 2, uid_length, related_end, "Related-general-sop-class-uid")
                related.append(r.uid(pair + 2, pair + 2 + uid_length, "related general UID"))
                pair += 2 + uid_length
            # (z+1)-k: reserved for fields of later sub-item versions; ignored.
            return SOPClassCommonExtendedNegotiationSubItem(
                uids[0], uids[1], tuple(related), sub_item_version=byte2
            )
        case ItemType.USER_IDENTITY_RQ:
            identity = code(UserIdentityType, r.u8(start, end, "User-Identity-Type"))  # byte 5
            positive = bool(r.u8(start + 1, end, "Positive-response-requested"))  # byte 6
            primary_length = r.u16(start + 2, end, "Primary-field-length")  # bytes 7-8
            primary = r.take(start + 4, primary_length, end, "Primary-field")  # 9-n
            at = start + 4 + primary_length
            secondary_length = r.u16(at, end, "Secondary-field-length")  # n+1-n+2
            secondary = r.take(at + 2, secondary_length, end, "Secondary-field")  # n+3-m
            if at + 2 + secondary_length != end:
                raise r.fail("user identity sub-item has bytes after its last field", at)
            return UserIdentityRQSubItem(identity, positive, primary, secondary)
        case ItemType.USER_IDENTITY_AC:
            response_length = r.u16(start, end, "Server-response-length")  # bytes 5-6
            response = r.take(start + 2, response_length, end, "Server-response")  # 7-n
            if start + 2 + response_length != end:
                raise r.fail("user identity sub-item has bytes after its last field", start)
            return UserIdentityACSubItem(response)
    return UnknownSubItem(item_type, r.data[start:end])


_SINGLETONS: Final = (
    MaximumLengthSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    AsynchronousOperationsWindowSubItem,
    UserIdentityRQSubItem,
    UserIdentityACSubItem,
)


def _decode_user_information(r: _Reader, start: int, end: int) -> UserInformationItem:
    sub_items: list[UserSubItem] = []
    seen: set[type] = set()
    for item_type, byte2, value_start, value_end in r.items(start, end, "user information"):
        sub_item = _decode_sub_item(r, item_type, byte2, value_start, value_end)
        if isinstance(sub_item, _SINGLETONS):
            if type(sub_item) in seen:
                raise r.fail(
                    f"second sub-item of type {item_type:02X}H; only one is allowed"
                    " (PS3.8 D.1, PS3.7 D.3.3)",
                    value_start - 4,
                    _UNEXPECTED_PARAMETER,
                )
            seen.add(type(sub_item))
        sub_items.append(sub_item)
    return UserInformationItem(tuple(sub_items))


def _decode_presentation_context_rq(r: _Reader, start: int, end: int) -> PresentationContextRQItem:
    context_id = r.u8(start, end, "Presentation-context-ID")  # byte 5; bytes 6-8 reserved
    r.need(start, 4, end, "presentation context fixed fields")
    if not (context_id % 2 == 1):
        raise r.fail(f"presentation context ID {context_id} is not odd", start)
    abstract: list[AbstractSyntaxSubItem] = []
    transfer: list[TransferSyntaxSubItem] = []
    for item_type, _, value_start, value_end in r.items(start + 4, end, "presentation context"):
        if item_type == ItemType.ABSTRACT_SYNTAX.value:
            abstract.append(
                AbstractSyntaxSubItem(r.uid(value_start, value_end, "abstract syntax name"))
            )
        elif item_type == ItemType.TRANSFER_SYNTAX.value:
            transfer.append(
                TransferSyntaxSubItem(r.uid(value_start, value_end, "transfer syntax name"))
            )
    if len(abstract) != 1 or not transfer:
        raise r.fail(
            f"presentation context {context_id} has {len(abstract)} abstract syntax and"
            f" {len(transfer)} transfer syntax sub-items; one and one or more are required",
            start - 4,
            _UNEXPECTED_PARAMETER,
        )
    return PresentationContextRQItem(context_id, abstract[0], tuple(transfer))


def _decode_presentation_context_ac(r: _Reader, start: int, end: int) -> PresentationContextACItem:
    r.need(start, 4, end, "presentation context fixed fields")
    context_id = r.data[start]  # byte 5: Presentation-context-ID; byte 6 reserved
    result = code(ContextResult, r.data[start + 2])  # byte 7: Result/Reason; 8 reserved
    if not (context_id % 2 == 1):
        raise r.fail(f"presentation context ID {context_id} is not odd", start)
    names: list[tuple[int, int]] = [
        (value_start, value_end)
        for item_type, _, value_start, value_end in r.items(start + 4, end, "context")
        if item_type == ItemType.TRANSFER_SYNTAX.value
    ]
    if result == ContextResult.ACCEPTANCE:
        if len(names) != 1:
            raise r.fail(
                f"accepted presentation context {context_id} has {len(names)} transfer"
                " syntax sub-items; exactly one is required (PS3.8 Table 9-18)",
                start - 4,
                _UNEXPECTED_PARAMETER,
            )
        name = r.uid(names[0][0], names[0][1], "transfer syntax name")
        return PresentationContextACItem(context_id, result, TransferSyntaxSubItem(name))
    # Not accepted: the sub-item "shall not be significant and ... not tested" (byte 9-xxx).
    text = _lenient_text(r.data[names[0][0] : names[0][1]]) if len(names) == 1 else ""
    return PresentationContextACItem(
        context_id, result, TransferSyntaxSubItem(text) if text else None
    )


def _decode_ae_title(r: _Reader, offset: int, what: str) -> str:
    raw = r.data[offset : offset + 16]
    if not _is_ae(raw):
        raise r.fail(
            f"{what} {raw!r} has characters outside ISO 646 G0 or a backslash"
            " (PS3.8 Table 9-11, Annex C; PS3.5 VR AE)",
            offset,
        )
    title = raw.decode("ascii").strip(" ")
    if not title:
        raise r.fail(f"{what} is all spaces, which shall not be used (PS3.8 9.3.2)", offset)
    return title


def _decode_associate(r: _Reader, end: int) -> AAssociateRQ | AAssociateAC:
    is_rq = r.pdu_type == PDUType.A_ASSOCIATE_RQ.value
    r.need(6, 68, end, "fixed fields of the A-ASSOCIATE PDU")
    version = r.u16(6, end, "Protocol-version")  # bytes 7-8; 9-10 reserved
    if not is_rq and not version & 0x0001:
        raise r.fail(f"protocol version {version:#06x} lacks bit 0 (PS3.8 Table 9-17)", 6)
    if is_rq:
        called = _decode_ae_title(r, 10, "Called-AE-title")  # bytes 11-26
        calling = _decode_ae_title(r, 26, "Calling-AE-title")  # bytes 27-42
    else:  # bytes 11-26, 27-42 reserved in the AC: not tested
        called = _lenient_text(r.data[10:26])
        calling = _lenient_text(r.data[26:42])
    # bytes 43-74 reserved; 75-xxx variable items
    context_names: list[ApplicationContextItem] = []
    user_information: list[UserInformationItem] = []
    rq_contexts: list[PresentationContextRQItem] = []
    ac_contexts: list[PresentationContextACItem] = []
    own_context = ItemType.PRESENTATION_CONTEXT_RQ if is_rq else ItemType.PRESENTATION_CONTEXT_AC
    other_context = ItemType.PRESENTATION_CONTEXT_AC if is_rq else ItemType.PRESENTATION_CONTEXT_RQ
    for item_type, _, start, item_end in r.items(74, end, "variable"):
        if item_type == ItemType.APPLICATION_CONTEXT.value:
            name = r.uid(start, item_end, "application context name")
            context_names.append(ApplicationContextItem(name))
        elif item_type == own_context.value:
            if is_rq:
                rq_contexts.append(_decode_presentation_context_rq(r, start, item_end))
            else:
                ac_contexts.append(_decode_presentation_context_ac(r, start, item_end))
        elif item_type == ItemType.USER_INFORMATION.value:
            user_information.append(_decode_user_information(r, start, item_end))
        elif item_type == other_context.value:
            raise r.fail(
                f"item {item_type:02X}H does not belong in this PDU",
                start - 4,
                _UNEXPECTED_PARAMETER,
            )
        # Other item types: unrecognized, ignored and skipped (PS3.8 §9.3.1).
    contexts = rq_contexts if is_rq else ac_contexts
    if len(context_names) != 1 or not contexts or len(user_information) != 1:
        raise r.fail(
            f"{len(context_names)} application context, {len(contexts)} presentation context"
            f" and {len(user_information)} user information items; 1, 1 or more and 1 are"
            " required (PS3.8 §9.3.2, §9.3.3)",
            74,
            _UNEXPECTED_PARAMETER,
        )
    if is_rq:
        return AAssociateRQ(
            called, calling, context_names[0], tuple(rq_contexts), user_information[0], version
        )
    return AAssociateAC(
        called, calling, context_names[0], tuple(ac_contexts), user_information[0], version
    )


def _decode_pdata(r: _Reader, end: int) -> PDataTF:
    with memoryview(r.data) as view:
        return _decode_pdata_view(view, end)


def _decode_pdata_view(view: memoryview, end: int) -> PDataTF:
    """The PDVs of the P-DATA-TF at the start of ``view`` (``end`` bytes, header included).

    Reads the PDU in place: only the fragments are copied out, each once.
    """
    pdu_type = PDUType.P_DATA_TF.value

    def fail(message: str, offset: int) -> MalformedPDUError:
        return MalformedPDUError(message, pdu_type=pdu_type, offset=offset, abort_reason=_INVALID)

    pdvs: list[PresentationDataValue] = []
    offset = 6
    while offset < end:
        if offset + 4 > end:
            raise fail(f"PDV Item-length needs 4 bytes but only {end - offset} remain", offset)
        length: int = struct.unpack_from(">I", view, offset)[0]  # item bytes 1-4
        if offset + 4 + length > end:  # reported at the PDV item's first byte
            raise fail(
                f"PDV of length {length} overruns the PDU by {offset + 4 + length - end} bytes",
                offset,
            )
        if length < 2:
            raise fail(
                f"PDV Item-length {length} leaves no room for the context ID and the message"
                " control header (PS3.8 Table 9-23, Annex E.2)",
                offset,
            )
        context_id = view[offset + 4]  # item byte 5: Presentation-context-ID
        if not context_id % 2 == 1:
            raise fail(f"PDV presentation context ID {context_id} is not odd", offset + 4)
        header = _HEADERS[view[offset + 5] & 0x03]  # item byte 6
        fragment = view[offset + 6 : offset + 4 + length].tobytes()  # 7-xxx
        pdvs.append(PresentationDataValue(context_id, header, fragment))
        offset += 4 + length
    if not pdvs:
        raise fail("P-DATA-TF carries no PDV (PS3.8 §9.3.5)", 6)
    return PDataTF(tuple(pdvs))


def _decode_fixed(r: _Reader) -> AAssociateRJ | AReleaseRQ | AReleaseRP | AAbort:
    if r.pdu_type == PDUType.A_ASSOCIATE_RJ.value:
        # byte 7 reserved; 8: Result; 9: Source; 10: Reason/Diag.
        source = code(RejectSource, r.data[8])
        return AAssociateRJ(code(RejectResult, r.data[7]), source, reject_reason(source, r.data[9]))
    if r.pdu_type == PDUType.A_ABORT.value:
        # bytes 7-8 reserved; 9: Source; 10: Reason/Diag.
        return AAbort(code(AbortSource, r.data[8]), code(AbortReason, r.data[9]))
    if r.pdu_type == PDUType.A_RELEASE_RQ.value:
        return AReleaseRQ()  # bytes 7-10 reserved
    return AReleaseRP()  # bytes 7-10 reserved


_DECODERS: Final[dict[int, Callable[[_Reader, int], PDU]]] = {
    PDUType.A_ASSOCIATE_RQ.value: _decode_associate,
    PDUType.A_ASSOCIATE_AC.value: _decode_associate,
    PDUType.P_DATA_TF.value: _decode_pdata,
    PDUType.A_ASSOCIATE_RJ.value: lambda r, end: _decode_fixed(r),
    PDUType.A_RELEASE_RQ.value: lambda r, end: _decode_fixed(r),
    PDUType.A_RELEASE_RP.value: lambda r, end: _decode_fixed(r),
    PDUType.A_ABORT.value: lambda r, end: _decode_fixed(r),
}


def peek_header(
    buf: bytes | bytearray | memoryview,
    *,
    max_pdata_length: int | None = None,
    max_associate_length: int = DEFAULT_MAX_ASSOCIATE_LENGTH,
) -> tuple[int, int] | None:
    """``(pdu_type, pdu_length)`` from the first 6 bytes, checked; ``None`` if incomplete.

    An unknown PDU type is refused as soon as its byte is there, a bad PDU-length as soon
    as the header is complete.

    References
    ----------
    PS3.8 §9.3.1, §9.3.2-9.3.8 (PDU bytes 1-6).
    """
    if len(buf) < 1:
        return None
    pdu_type = buf[0]  # byte 1: PDU-type
    if pdu_type not in _DECODERS:
        raise MalformedPDUError(
            f"unrecognized PDU type {pdu_type:#04x}",
            pdu_type=pdu_type,
            offset=0,
            abort_reason=AbortReason.UNRECOGNIZED_PDU.value,
        )
    if len(buf) < PDU_HEADER_LENGTH:
        return None
    length: int = struct.unpack_from(">I", buf, 2)[0]  # bytes 3-6: PDU-length
    check_pdu_length(
        pdu_type,
        length,
        max_pdata_length=max_pdata_length,
        max_associate_length=max_associate_length,
    )
    return pdu_type, length


def decode_pdu(
    buf: bytes | bytearray | memoryview,
    *,
    max_pdata_length: int | None = None,
    max_associate_length: int = DEFAULT_MAX_ASSOCIATE_LENGTH,
) -> tuple[PDU, int] | None:
    """Decode the PDU at the start of ``buf``: ``(pdu, bytes consumed)`` or ``None``.

    ``None`` means the PDU is not complete yet; feed more bytes and call again with the
    whole buffer.  The header is checked before the body is awaited (see
    :func:`check_pdu_length` for the limits), so a peer cannot make the caller buffer
    more than the limits allow.  The buffer is only read; a ``bytearray`` may be resized
    by the caller afterwards.

    Raises
    ------
    MalformedPDUError
        For an unknown PDU type, a length that breaks a limit or is inconsistent with the
        items, truncated items, a missing mandatory item, bad AE titles or UIDs, an even
        presentation context ID, or an A-ASSOCIATE-AC without protocol version bit 0.

    References
    ----------
    PS3.8 §9.3, Tables 9-11 to 9-26; PS3.8 Annex D; PS3.7 D.3.3.
    """
    header = peek_header(
        buf, max_pdata_length=max_pdata_length, max_associate_length=max_associate_length
    )
    if header is None:
        return None
    pdu_type, length = header
    total = PDU_HEADER_LENGTH + length
    if len(buf) < total:
        return None
    if pdu_type == PDUType.P_DATA_TF.value:
        # Decoded in place: the fragments are the only copies made of a P-DATA-TF.
        with memoryview(buf) as view:
            return _decode_pdata_view(view, total), total
    with memoryview(buf) as view:
        data = view[:total].tobytes()
    reader = _Reader(data, pdu_type)
    return _DECODERS[pdu_type](reader, total), total
