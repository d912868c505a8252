"""Command set codec (PS3.7 §6.3.1): hand-written vectors, VR coding, malformed input."""

from __future__ import annotations

import struct

import pytest

from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    decode_command,
    decode_command_set,
    encode_command,
    encode_command_set,
)

# C-ECHO-RQ, Message ID 1, Verification SOP Class: PS3.7 Table 9.3-12, encoded by hand from
# PS3.5 §7.1.3 (implicit VR: tag group, tag element, 32-bit length, value; little endian).
C_ECHO_RQ = bytes.fromhex(
    # (0000,0000) Command Group Length, UL, length 4, value 56 (bytes that follow)
    "0000 0000"
    "04000000"
    "38000000"
    # (0000,0002) Affected SOP Class UID, UI, length 18: "1.2.840.10008.1.1" + NUL pad
    "0000 0200"
    "12000000"
    "312e322e3834302e31303030382e312e3100"
    # (0000,0100) Command Field, US, length 2: 0030H C-ECHO-RQ
    "0000 0001"
    "02000000"
    "3000"
    # (0000,0110) Message ID, US, length 2: 1
    "0000 1001"
    "02000000"
    "0100"
    # (0000,0800) Command Data Set Type, US, length 2: 0101H, no data set
    "0000 0008"
    "02000000"
    "0101"
)

# C-ECHO-RSP to it, Status 0000H Success: PS3.7 Table 9.3-13.
C_ECHO_RSP = bytes.fromhex(
    # (0000,0000) Command Group Length, UL, 4: 66
    "0000 0000"
    "04000000"
    "42000000"
    # (0000,0002) Affected SOP Class UID, UI, 18
    "0000 0200"
    "12000000"
    "312e322e3834302e31303030382e312e3100"
    # (0000,0100) Command Field, US: 8030H C-ECHO-RSP
    "0000 0001"
    "02000000"
    "3080"
    # (0000,0120) Message ID Being Responded To, US: 1
    "0000 2001"
    "02000000"
    "0100"
    # (0000,0800) Command Data Set Type, US: 0101H
    "0000 0008"
    "02000000"
    "0101"
    # (0000,0900) Status, US: 0000H
    "0000 0009"
    "02000000"
    "0000"
)


def _element(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def _with_group_length(body: bytes) -> bytes:
    return _element(0, struct.pack("<I", len(body))) + body


def test_c_echo_rq_vector() -> None:
    assert encode_command(CEchoRQ(message_id=1)) == C_ECHO_RQ
    assert decode_command(C_ECHO_RQ, None) == CEchoRQ(message_id=1)


def test_c_echo_rsp_vector() -> None:
    message = decode_command(C_ECHO_RSP, None)
    assert message.MESSAGE == "C-ECHO-RSP"
    assert encode_command(message) == C_ECHO_RSP


def test_decoded_values_are_typed_by_vr() -> None:
    elements = decode_command_set(C_ECHO_RQ)
    assert elements == {
        0x0000: 56,
        0x0002: "1.2.840.10008.1.1",  # NUL padding removed
        0x0100: 0x0030,
        0x0110: 1,
        0x0800: 0x0101,
    }
    assert list(elements) == sorted(elements)


def test_vr_encodings() -> None:
    raw = encode_command_set(
        {
            0x0600: "DEST",  # AE, even: no pad
            0x0901: (0x00100010, 0x7FE00010),  # AT 1-n: group, element pairs
            0x0902: "odd",  # LO, padded with a space
            0x1030: "ABC",  # AE, padded with a space
            0x51B0: (1, 2, 3),  # US 1-n (retired Overlays)
        }
    )
    assert raw[12:] == (
        _element(0x0600, b"DEST")
        + _element(0x0901, bytes.fromhex("10001000 e07f1000"))
        + _element(0x0902, b"odd ")
        + _element(0x1030, b"ABC ")
        + _element(0x51B0, bytes.fromhex("010002000300"))
    )
    decoded = decode_command_set(raw)
    assert decoded[0x0901] == (0x00100010, 0x7FE00010)
    assert decoded[0x0902] == "odd" and decoded[0x1030] == "ABC"
    assert decoded[0x51B0] == (1, 2, 3)


def test_unknown_group_0000_tag_stays_raw() -> None:
    raw = encode_command_set({0x0100: 0x0030, 0x7777: b"\x01\x02"})
    assert decode_command_set(raw)[0x7777] == b"\x01\x02"


def test_lenient_padding_and_free_text() -> None:
    # A UID padded with a space and an Error Comment with a byte outside the default
    # repertoire: both read (the UID without its pad, the comment with a replacement).
    body = _element(0x0002, b"1.2.3 ") + _element(0x0902, b"bad \xe9 ")
    decoded = decode_command_set(_with_group_length(body))
    assert decoded[0x0002] == "1.2.3"
    assert decoded[0x0902] == "bad \ufffd"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"empty"),
        (_element(0x0100, b"\x30\x00"), r"\(0000,0100\).*does not start with Command Group Length"),
        (_with_group_length(_element(0x0100, b"\x30\x00")[:-2]), r"runs past the end"),
        (_with_group_length(_element(0x0100, b"\x30\x00") + b"\x00\x00"), r"too few"),
        (
            _element(0, struct.pack("<I", 99)) + _element(0x0100, b"\x30\x00"),
            r"Command Group Length says 99, but 10 bytes follow",
        ),
        (
            _with_group_length(_element(0x00080016, b"1.2\x00")),
            r"\(0008,0016\).*group 0000 elements only",
        ),
        (
            _with_group_length(_element(0x0110, b"\x01\x00") + _element(0x0100, b"\x30\x00")),
            r"\(0000,0100\).*increasing tag order",
        ),
        (
            _with_group_length(_element(0x0100, b"\x30\x00") + _element(0x0100, b"\x30\x00")),
            r"at most once",
        ),
        (
            _with_group_length(struct.pack("<HHI", 0, 0x0100, 0xFFFFFFFF)),
            r"not an explicit even length",
        ),
        (_with_group_length(_element(0x0100, b"\x30")), r"not an explicit even length"),
        (_with_group_length(_element(0x0100, b"\x30\x00\x00\x00")), r"length 4 does not fit US"),
        (_with_group_length(_element(0x0002, b"1.2.a\x00")), r"\(0000,0002\).*not a UID"),
        (_with_group_length(_element(0x0600, b"A\\B ")), r"not an AE title"),
        (_with_group_length(_element(0x0600, b"    ")), r"not an AE title"),
        (_with_group_length(_element(0x0901, b"\x10\x00")), r"not a multiple of 4"),
    ],
)
def test_malformed_command_sets(data: bytes, message: str) -> None:
    with pytest.raises(DIMSEProtocolError, match=message):
        decode_command_set(data)


def test_error_names_the_byte_offset() -> None:
    data = _with_group_length(_element(0x0100, b"\x30\x00") + _element(0x00080016, b"1.2\x00"))
    with pytest.raises(DIMSEProtocolError) as caught:
        decode_command_set(data)
    assert caught.value.offset == 22 and caught.value.tag == 0x00080016
    assert "command set byte 22" in str(caught.value)


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        ({0x0000: 4}, r"computed"),
        ({0x00080016: "1.2"}, r"not a command element"),
        ({0x0110: 70000}, r"out of range"),
        ({0x0110: -1}, r"out of range"),
        ({0x0110: "1"}, r"cannot hold"),
        ({0x0110: (1, 2)}, r"cannot hold"),  # VM 1
        ({0x0110: True}, r"cannot hold"),
        ({0x0002: "1.2.x"}, r"not a UID"),
        ({0x0002: "1." * 33}, r"at most 64"),
        ({0x0600: "A" * 17}, r"at most 16"),
        ({0x0600: "  "}, r"all spaces"),
        ({0x0600: "A\\B"}, r"backslash"),
        ({0x0902: "caf\u00e9"}, r"default repertoire"),
        ({0x0901: (0x1_0000_0000,)}, r"non-tag"),
        ({0x7777: "text"}, r"not in the command dictionary"),
        ({0x7777: b"\x01"}, r"even length"),
    ],
)
def test_encoding_refuses_bad_values(elements: dict[int, object], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        encode_command_set(elements)  # type: ignore[arg-type]
