"""The PDU codec: hand-written vectors, incremental decoding, every malformed-input path,
encoder refusals, a decode(encode(x)) == x property for every PDU type, and fuzzing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicompile.runtime.errors import LocalProtocolError, MalformedPDUError, RemoteProtocolError
from dicompile.runtime.net.ul.pdu import (
    DICOM_APPLICATION_CONTEXT_NAME,
    PDU,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AbortReason,
    AbortSource,
    AbstractSyntaxSubItem,
    ACSERejectReason,
    ApplicationContextItem,
    AReleaseRP,
    AReleaseRQ,
    AsynchronousOperationsWindowSubItem,
    ContextResult,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    MessageControlHeader,
    PDataTF,
    PresentationContextACItem,
    PresentationContextRQItem,
    PresentationDataValue,
    PresentationRejectReason,
    RejectResult,
    RejectSource,
    Reserved,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UnknownSubItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserIdentityType,
    UserInformationItem,
    UserRejectReason,
    decode_pdu,
    encode_pdu,
    max_fragment_length,
)

from . import vectors
from .strategies import PDUS

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"

USER_INFORMATION = UserInformationItem(
    (
        MaximumLengthSubItem(16384),
        ImplementationClassUIDSubItem("1.2.3.4.5"),
        ImplementationVersionNameSubItem("DICOMPILE_01"),
    )
)
ASSOCIATE_RQ = AAssociateRQ(
    "ANY-SCP",
    "ECHOSCU",
    ApplicationContextItem(DICOM_APPLICATION_CONTEXT_NAME),
    (
        PresentationContextRQItem(
            1, AbstractSyntaxSubItem(VERIFICATION), (TransferSyntaxSubItem(IMPLICIT_LE),)
        ),
    ),
    USER_INFORMATION,
)
ACCEPTED = PresentationContextACItem(
    1, ContextResult.ACCEPTANCE, TransferSyntaxSubItem(IMPLICIT_LE)
)
ASSOCIATE_AC = AAssociateAC(
    "ANY-SCP",
    "ECHOSCU",
    ApplicationContextItem(DICOM_APPLICATION_CONTEXT_NAME),
    (ACCEPTED,),
    USER_INFORMATION,
)
ASSOCIATE_RQ_FULL = AAssociateRQ(
    "ANY-SCP",
    "ECHOSCU",
    ApplicationContextItem(DICOM_APPLICATION_CONTEXT_NAME),
    ASSOCIATE_RQ.presentation_contexts,
    UserInformationItem(
        (
            MaximumLengthSubItem(0),
            ImplementationClassUIDSubItem("1.2.3.4.5"),
            AsynchronousOperationsWindowSubItem(5, 1),
            RoleSelectionSubItem(VERIFICATION, scu_role=True, scp_role=False),
            ImplementationVersionNameSubItem("DICOMPILE_01"),
            SOPClassExtendedNegotiationSubItem(STUDY_ROOT_FIND, b"\x01"),
            SOPClassCommonExtendedNegotiationSubItem(
                "1.2.840.10008.5.1.4.1.1.88.40",
                "1.2.840.10008.4.2",
                ("1.2.840.10008.5.1.4.1.1.88.22",),
            ),
            UserIdentityRQSubItem(UserIdentityType.USERNAME_AND_PASSCODE, True, b"user", b"pass"),
        )
    ),
)
ASSOCIATE_AC_FULL = AAssociateAC(
    "ANY-SCP",
    "ECHOSCU",
    ApplicationContextItem(DICOM_APPLICATION_CONTEXT_NAME),
    (ACCEPTED, PresentationContextACItem(3, ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED, None)),
    UserInformationItem(
        (
            MaximumLengthSubItem(32768),
            ImplementationClassUIDSubItem("1.2.3.4.5"),
            AsynchronousOperationsWindowSubItem(1, 1),
            RoleSelectionSubItem(VERIFICATION, scu_role=True, scp_role=False),
            ImplementationVersionNameSubItem("DICOMPILE_01"),
            SOPClassExtendedNegotiationSubItem(STUDY_ROOT_FIND, b"\x01"),
            UserIdentityACSubItem(b"tick"),
        )
    ),
)

VECTORS: list[tuple[str, bytes, PDU]] = [
    ("A-ASSOCIATE-RQ", vectors.ASSOCIATE_RQ, ASSOCIATE_RQ),
    ("A-ASSOCIATE-AC", vectors.ASSOCIATE_AC, ASSOCIATE_AC),
    ("A-ASSOCIATE-RQ all sub-items", vectors.ASSOCIATE_RQ_FULL, ASSOCIATE_RQ_FULL),
    ("A-ASSOCIATE-AC all sub-items", vectors.ASSOCIATE_AC_FULL, ASSOCIATE_AC_FULL),
    (
        "A-ASSOCIATE-RJ",
        vectors.ASSOCIATE_RJ,
        AAssociateRJ(
            RejectResult.REJECTED_PERMANENT,
            RejectSource.SERVICE_USER,
            UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED,
        ),
    ),
    (
        "P-DATA-TF",
        vectors.P_DATA_TF,
        PDataTF(
            (
                PresentationDataValue(
                    1, MessageControlHeader(True, True), bytes.fromhex("0000000004000000")
                ),
                PresentationDataValue(1, MessageControlHeader(False, False), b"\x10\x00"),
            )
        ),
    ),
    ("A-RELEASE-RQ", vectors.RELEASE_RQ, AReleaseRQ()),
    ("A-RELEASE-RP", vectors.RELEASE_RP, AReleaseRP()),
    (
        "A-ABORT provider",
        vectors.ABORT_PROVIDER,
        AAbort(AbortSource.SERVICE_PROVIDER, AbortReason.UNEXPECTED_PDU),
    ),
    ("A-ABORT user", vectors.ABORT_USER, AAbort(AbortSource.SERVICE_USER)),
]


@pytest.mark.parametrize(("name", "data", "pdu"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vectors_decode_and_encode(name: str, data: bytes, pdu: PDU) -> None:
    assert decode_pdu(data) == (pdu, len(data))
    assert encode_pdu(pdu) == data


@pytest.mark.parametrize(("name", "data", "pdu"), VECTORS, ids=[v[0] for v in VECTORS])
def test_incremental_decoding(name: str, data: bytes, pdu: PDU) -> None:
    for cut in range(len(data)):
        assert decode_pdu(data[:cut]) is None, cut
    assert decode_pdu(bytearray(data + vectors.RELEASE_RQ)) == (pdu, len(data))
    assert decode_pdu(memoryview(data)) == (pdu, len(data))


def test_decoding_does_not_pin_a_bytearray() -> None:
    buffer = bytearray(vectors.P_DATA_TF + vectors.RELEASE_RQ)
    decoded = decode_pdu(buffer)
    assert decoded is not None
    del buffer[: decoded[1]]  # a memoryview still held would make this a BufferError
    assert decode_pdu(buffer) == (AReleaseRQ(), 10)


def test_user_information_accessors() -> None:
    info = ASSOCIATE_RQ_FULL.user_information
    assert info.maximum_length == 0
    assert info.implementation_class_uid == "1.2.3.4.5"
    assert info.implementation_version_name == "DICOMPILE_01"
    assert info.asynchronous_operations_window == AsynchronousOperationsWindowSubItem(5, 1)
    assert [r.sop_class_uid for r in info.role_selections] == [VERIFICATION]
    assert info.extended_negotiations[0].service_class_application_information == b"\x01"
    assert info.common_extended_negotiations[0].related_general_sop_class_uids == (
        "1.2.840.10008.5.1.4.1.1.88.22",
    )
    assert info.user_identity_rq is not None and info.user_identity_rq.secondary_field == b"pass"
    assert info.user_identity_ac is None
    assert UserInformationItem().maximum_length is None
    # Sub-items are kept in item-type order whatever order they are given in.
    shuffled = UserInformationItem(tuple(reversed(info.sub_items)))
    assert shuffled == info


# ------------------------------------------------------------------ reserved and unknown


def _patched(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


def test_reserved_codes_are_kept_not_raised() -> None:
    rj = decode_pdu(_patched(vectors.ASSOCIATE_RJ, 7, b"\x03\x01\x05"))
    assert rj is not None
    assert rj[0] == AAssociateRJ(Reserved(3), RejectSource.SERVICE_USER, Reserved(5))
    rj = decode_pdu(_patched(vectors.ASSOCIATE_RJ, 8, b"\x09\x02"))
    assert rj is not None and rj[0] == AAssociateRJ(
        RejectResult.REJECTED_PERMANENT, Reserved(9), Reserved(2)
    )
    rj = decode_pdu(_patched(vectors.ASSOCIATE_RJ, 8, b"\x03\x02"))
    assert rj is not None and rj[0].reason is PresentationRejectReason.LOCAL_LIMIT_EXCEEDED
    abort = decode_pdu(_patched(vectors.ABORT_PROVIDER, 8, b"\x01\x03"))
    assert abort is not None and abort[0] == AAbort(Reserved(1), Reserved(3))
    for pdu in (rj[0], abort[0]):
        assert decode_pdu(encode_pdu(pdu)) == (pdu, 10)


def test_reserved_context_result_and_identity_type() -> None:
    # AC: byte 7 of the first presentation context item (PDU offset 99 + 6).
    data = _patched(vectors.ASSOCIATE_AC, 99 + 6, b"\x07")
    decoded = decode_pdu(data)
    assert decoded is not None
    assert isinstance(decoded[0], AAssociateAC)
    context = decoded[0].presentation_contexts[0]
    assert context.result == Reserved(7)
    assert context.transfer_syntax == TransferSyntaxSubItem(IMPLICIT_LE)  # kept, untested
    assert encode_pdu(decoded[0]) == data
    offset = vectors.ASSOCIATE_RQ_FULL.index(bytes.fromhex("5800000e02")) + 4
    decoded = decode_pdu(_patched(vectors.ASSOCIATE_RQ_FULL, offset, b"\x09"))
    assert decoded is not None and isinstance(decoded[0], AAssociateRQ)
    identity = decoded[0].user_information.user_identity_rq
    assert identity is not None and identity.identity_type == Reserved(9)


def _rq_with_user_data(sub_items: bytes, *, extra_items: bytes = b"") -> bytes:
    """The vector A-ASSOCIATE-RQ with other user information sub-items (lengths fixed)."""
    head = vectors.ASSOCIATE_RQ[: 6 + 68 + 25 + 50]
    user = bytes([0x50, 0]) + struct.pack(">H", len(sub_items)) + sub_items
    body = head[6:] + extra_items + user
    return head[:2] + struct.pack(">I", len(body)) + body


def test_unknown_items_are_skipped_and_unknown_sub_items_kept() -> None:
    unknown_sub = bytes.fromhex("5a000003010203")  # a sub-item type 5AH of a later edition
    data = _rq_with_user_data(
        bytes.fromhex("510000040000ffff") + unknown_sub,
        extra_items=bytes.fromhex("60000002abcd"),  # an item type 60H: ignored (§9.3.1)
    )
    decoded = decode_pdu(data)
    assert decoded is not None and isinstance(decoded[0], AAssociateRQ)
    info = decoded[0].user_information
    assert info.sub_items == (MaximumLengthSubItem(0xFFFF), UnknownSubItem(0x5A, b"\x01\x02\x03"))
    # Re-encoded without the unknown item, with the unknown sub-item.
    assert encode_pdu(decoded[0]) == _rq_with_user_data(
        bytes.fromhex("510000040000ffff") + unknown_sub
    )


def test_uid_with_a_nul_pad_is_accepted() -> None:
    # Some peers pad UIDs to even length with a NUL (PS3.5 style); PS3.8 Annex F forbids it.
    sub = bytes.fromhex("5200000a") + b"1.2.3.4.5\x00"
    decoded = decode_pdu(_rq_with_user_data(sub))
    assert decoded is not None and isinstance(decoded[0], AAssociateRQ)
    assert decoded[0].user_information.implementation_class_uid == "1.2.3.4.5"


# ------------------------------------------------------------------------ malformed input


def _error(data: bytes, **limits: int) -> MalformedPDUError:
    with pytest.raises(MalformedPDUError) as info:
        decode_pdu(data, **limits)  # type: ignore[arg-type]
    assert isinstance(info.value, RemoteProtocolError)
    return info.value


def test_unknown_pdu_type_is_refused_from_its_first_byte() -> None:
    error = _error(b"\x08")
    assert (error.pdu_type, error.offset) == (0x08, 0)
    assert error.abort_reason == AbortReason.UNRECOGNIZED_PDU.value
    assert "PDU type 0x08, byte offset 0" in str(error)
    assert _error(b"\x00\x00").pdu_type == 0


@pytest.mark.parametrize("pdu_type", [0x03, 0x05, 0x06, 0x07])
def test_fixed_length_pdus_must_say_four(pdu_type: int) -> None:
    error = _error(bytes([pdu_type, 0, 0, 0, 0, 5]))  # header only: refused at once
    assert (error.pdu_type, error.offset) == (pdu_type, 2)
    assert "fixed length 4" in error.message


def test_p_data_longer_than_the_limit_is_refused_from_the_header() -> None:
    header = bytes.fromhex("040000004001")  # PDU-length 16385
    assert decode_pdu(header, max_pdata_length=16385) is None  # within: waits for the body
    error = _error(header, max_pdata_length=16384)
    assert error.offset == 2 and error.abort_reason == AbortReason.INVALID_PDU_PARAMETER_VALUE.value
    # No limit at all still refuses nothing but waits: a real bound needs max_pdata_length.
    assert decode_pdu(bytes.fromhex("04007fffffff")) is None


def test_association_pdu_above_the_local_limit() -> None:
    error = _error(bytes.fromhex("010000100001"), max_associate_length=1 << 20)
    assert "local limit" in error.message and error.pdu_type == 1


def _case_id(value: object) -> str:
    return value if isinstance(value, str) else type(value).__name__


def _with_length(data: bytes) -> bytes:
    return data[:2] + struct.pack(">I", len(data) - 6) + data[6:]


@pytest.mark.parametrize(
    ("name", "data", "offset", "message"),
    ids=_case_id,
    argvalues=[
        (
            "RQ shorter than its fixed fields",
            _with_length(vectors.ASSOCIATE_RQ[:40]),
            6,
            "needs 68 bytes",
        ),
        (
            "item overruns the PDU",
            _with_length(vectors.ASSOCIATE_RQ[:-3]),
            149,
            "item 50H of length 37 overruns its container by 3 bytes",
        ),
        (
            "called AE title with a control character",
            _patched(vectors.ASSOCIATE_RQ, 12, b"\x07"),
            10,
            "outside ISO 646 G0",
        ),
        (
            "called AE title with a backslash",
            _patched(vectors.ASSOCIATE_RQ, 11, b"\\"),
            10,
            "or a backslash",
        ),
        (
            "calling AE title all spaces",
            _patched(vectors.ASSOCIATE_RQ, 26, b" " * 16),
            26,
            "all spaces",
        ),
        (
            "AC protocol version without bit 0",
            _patched(vectors.ASSOCIATE_AC, 6, b"\x00\x02"),
            6,
            "lacks bit 0",
        ),
        (
            "even presentation context ID",
            _patched(vectors.ASSOCIATE_RQ, 103, b"\x02"),
            103,
            "is not odd",
        ),
        (
            "application context name not a UID",
            _patched(vectors.ASSOCIATE_RQ, 80, b"x"),
            78,
            "is not a UID",
        ),
        (
            "transfer syntax sub-item retyped: no transfer syntax",
            _patched(vectors.ASSOCIATE_RQ, 128, b"\x41"),
            99,
            "0 transfer syntax",
        ),
        (
            "abstract syntax sub-item retyped as a second transfer syntax",
            _patched(vectors.ASSOCIATE_RQ, 107, b"\x40"),
            99,
            "0 abstract syntax",
        ),
        (
            "user information retyped: none left",
            _patched(vectors.ASSOCIATE_RQ, 149, b"\x5f"),
            74,
            "0 user information",
        ),
        (
            "AC item in an RQ",
            _patched(vectors.ASSOCIATE_RQ, 99, b"\x21"),
            99,
            "does not belong",
        ),
        (
            "accepted context without a transfer syntax",
            _patched(vectors.ASSOCIATE_AC, 107, b"\x41"),
            99,
            "exactly one is required",
        ),
        ("P-DATA-TF without PDV", bytes.fromhex("040000000000"), 6, "no PDV"),
        (
            "PDV without a message control header",
            bytes.fromhex("04000000000500000001") + b"\x01",
            6,
            "leaves no room",
        ),
        (
            "PDV with an even context ID",
            _patched(vectors.P_DATA_TF, 10, b"\x02"),
            10,
            "is not odd",
        ),
        (
            "PDV overruns the PDU",
            _patched(vectors.P_DATA_TF, 20, b"\x00\x00\x00\x09"),
            20,
            "PDV of length 9 overruns the PDU by 5 bytes",
        ),
    ],
)
def test_malformed_pdus(name: str, data: bytes, offset: int, message: str) -> None:
    error = _error(data)
    assert error.offset == offset, error
    assert message in error.message, error
    assert error.pdu_type == data[0]


@pytest.mark.parametrize(
    ("name", "sub_items", "message"),
    ids=_case_id,
    argvalues=[
        ("maximum length of 3 bytes", "51000003000040", "not 4"),
        ("async window of 5 bytes", "5300000500010001ff", "not 4"),
        ("two maximum lengths", "51000004000040005100000400004000", "only one is allowed"),
        ("implementation version of 17 bytes", "55000011" + "41" * 17, "1-16 G0"),
        ("empty implementation version", "55000000", "1-16 G0"),
        ("implementation class UID with letters", "52000003316132", "not a UID"),
        ("UID longer than 64", "52000041" + "31" * 65, "not a UID"),
        ("role selection UID overruns", "540000050009312e3201", "needs 9 bytes"),
        ("role selection with three role bytes", "540000080003312e32010101", "two role bytes"),
        ("extended negotiation UID overruns", "56000004000a312e", "needs 10 bytes"),
        (
            "common extended: related list overruns",
            "5700000e0003312e320003312e33000a0003",
            "needs 10 bytes",
        ),
        (
            "common extended: related UID overruns",
            "570000100003312e320003312e330004000a312e",
            "needs 10 bytes",
        ),
        ("user identity truncated", "58000006010000050000", "needs 5 bytes"),
        ("user identity with trailing bytes", "5800000801000001410000ff", "after its last field"),
        ("user identity AC with trailing bytes", "59000004000141ff", "after its last field"),
        ("sub-item header cut", "5100", "item header"),
    ],
)
def test_malformed_sub_items(name: str, sub_items: str, message: str) -> None:
    error = _error(_rq_with_user_data(bytes.fromhex(sub_items)))
    assert message in error.message, error
    assert error.pdu_type == 1 and error.offset >= 149


# ------------------------------------------------------------------------ encoder refusals


@pytest.mark.parametrize(
    ("name", "pdu", "message"),
    ids=_case_id,
    argvalues=[
        (
            "AE title too long",
            AAssociateRQ(
                "X" * 17,
                "B",
                ASSOCIATE_RQ.application_context,
                ASSOCIATE_RQ.presentation_contexts,
                USER_INFORMATION,
            ),
            "AE title",
        ),
        (
            "AE title of spaces",
            AAssociateRQ(
                "  ",
                "B",
                ASSOCIATE_RQ.application_context,
                ASSOCIATE_RQ.presentation_contexts,
                USER_INFORMATION,
            ),
            "AE title",
        ),
        (
            "no presentation context",
            AAssociateRQ("A", "B", ASSOCIATE_RQ.application_context, (), USER_INFORMATION),
            "one or more presentation contexts",
        ),
        (
            "no transfer syntax",
            AAssociateRQ(
                "A",
                "B",
                ASSOCIATE_RQ.application_context,
                (PresentationContextRQItem(1, AbstractSyntaxSubItem(VERIFICATION), ()),),
                USER_INFORMATION,
            ),
            "proposes no transfer syntax",
        ),
        (
            "bad abstract syntax UID",
            AAssociateRQ(
                "A",
                "B",
                ASSOCIATE_RQ.application_context,
                (
                    PresentationContextRQItem(
                        1, AbstractSyntaxSubItem("1.2.x"), (TransferSyntaxSubItem(IMPLICIT_LE),)
                    ),
                ),
                USER_INFORMATION,
            ),
            "is not a UID",
        ),
        (
            "accepted without a transfer syntax",
            AAssociateAC(
                "A",
                "B",
                ASSOCIATE_AC.application_context,
                (PresentationContextACItem(1, ContextResult.ACCEPTANCE, None),),
                USER_INFORMATION,
            ),
            "needs a transfer syntax",
        ),
        (
            "reject reason of another source",
            AAssociateRJ(
                RejectResult.REJECTED_TRANSIENT,
                RejectSource.SERVICE_USER,
                ACSERejectReason.PROTOCOL_VERSION_NOT_SUPPORTED,
            ),
            "does not belong to source",
        ),
        ("P-DATA-TF without PDV", PDataTF(()), "one or more PDVs"),
        (
            "PDV with context 0",
            PDataTF((PresentationDataValue(0, MessageControlHeader(True, True), b""),)),
            "presentation context ID 0",
        ),
        ("abort code above 255", AAbort(Reserved(256)), "does not fit in one byte"),
        (
            "maximum length above 2**32",
            AAssociateRQ(
                "A",
                "B",
                ASSOCIATE_RQ.application_context,
                ASSOCIATE_RQ.presentation_contexts,
                UserInformationItem((MaximumLengthSubItem(1 << 32),)),
            ),
            "does not fit in 4 bytes",
        ),
        (
            "user information longer than 65535",
            AAssociateRQ(
                "A",
                "B",
                ASSOCIATE_RQ.application_context,
                ASSOCIATE_RQ.presentation_contexts,
                UserInformationItem((UserIdentityACSubItem(bytes(70000)),)),
            ),
            "does not fit in two bytes",
        ),
    ],
)
def test_encoder_refusals(name: str, pdu: PDU, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        encode_pdu(pdu)


def test_max_fragment_length() -> None:
    assert max_fragment_length(16384) == 16378
    assert max_fragment_length(16385) == 16378  # fragments are even (PS3.8 E.1)
    with pytest.raises(LocalProtocolError):
        max_fragment_length(6)


# ------------------------------------------------------------------------------- property


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PDUS)
def test_decode_of_encode_is_identity(pdu: PDU) -> None:
    data = encode_pdu(pdu)
    assert decode_pdu(data) == (pdu, len(data))


def test_the_property_covers_every_pdu_type() -> None:
    seen: set[type] = set()

    @settings(max_examples=100, deadline=None)
    @given(PDUS)
    def collect(pdu: PDU) -> None:
        seen.add(type(pdu))

    collect()
    assert seen == {
        AAssociateRQ,
        AAssociateAC,
        AAssociateRJ,
        PDataTF,
        AReleaseRQ,
        AReleaseRP,
        AAbort,
    }


# ----------------------------------------------------------------------------------- fuzz


def _check_outcome(data: bytes) -> None:
    try:
        result = decode_pdu(data, max_pdata_length=1 << 16)
    except MalformedPDUError:
        return
    if result is None:
        return
    pdu, consumed = result
    assert 6 <= consumed <= len(data)
    # What decodes re-encodes to something that decodes to the same record.
    again = encode_pdu(pdu)
    assert decode_pdu(again) == (pdu, len(again))


@settings(max_examples=1000, deadline=1000)
@given(st.binary(max_size=400))
def test_random_bytes_never_escape(data: bytes) -> None:
    _check_outcome(data)


@settings(max_examples=1000, deadline=1000)
@given(st.integers(1, 7), st.binary(max_size=400), st.integers(-2, 2))
def test_random_bodies_behind_a_plausible_header_never_escape(
    pdu_type: int, body: bytes, skew: int
) -> None:
    length = max(len(body) + skew, 0)
    _check_outcome(bytes([pdu_type, 0]) + length.to_bytes(4, "big") + body)


@settings(max_examples=1000, deadline=1000)
@given(
    st.sampled_from([v[1] for v in VECTORS]),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 400),
)
def test_mutated_vectors_never_escape(data: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    _check_outcome(bytes(buffer[: max(cut, 1)]))
    _check_outcome(bytes(buffer))
