"""Command sets (PS3.7 §6.3.1): group 0000 elements, always Implicit VR Little Endian.

Theory of operation
-------------------
* A command set is a mapping ``tag -> value``.  Values are typed by the VR the command
  dictionary gives (PS3.7 Annex E, generated from the standard into
  ``dicompile.generated.dimse_commands`` and looked up lazily, so this module imports without
  it): ``US``/``UL`` → ``int`` (``tuple[int, ...]`` for a VM of 1-n), ``AT`` → ``tuple[int,
  ...]`` of tags, ``UI``/``AE``/``LO``/``SH``/``LT``/``CS``/``IS`` → ``str``.  A group 0000 tag
  the dictionary does not know keeps its value as ``bytes``.
* Encoding writes the elements in increasing tag order, pads every value to an even length
  (UI with NUL, text with a space, PS3.5 §6.2) and computes the Command Group Length
  (0000,0000) itself; callers never pass it.  Bad values raise
  :class:`~dicompile.runtime.errors.LocalProtocolError`.
* Decoding is strict about structure, which PS3.7 §6.3.1 fixes: every element is in group
  0000, tags strictly increase (so none repeats), lengths are explicit and even, the first
  element is the Command Group Length and its value is the number of bytes that follow it,
  each value fits its VR.  Anything else raises
  :class:`~dicompile.runtime.errors.DIMSEProtocolError` naming the tag and byte offset.
* Text is the default repertoire (PS3.5 §6.1.2.1; a command set has no Specific Character
  Set).  Free text (LO, SH, LT, CS, IS) from a peer that breaks this is decoded with
  replacement characters rather than refused: an odd byte in an Error Comment must not abort
  an association.  UIDs and AE titles, which are matched and compared, are checked.

This is a small, focused codec.  ``runtime/codec``'s implicit VR reader/writer looks VRs up in
the PS3.6 dictionary, which has no group 0000 (command elements are defined in PS3.7), and
reports :class:`~dicompile.runtime.errors.DecodeError`; delegating to it would need a command
dictionary lookup passed in and the structural checks above kept here.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Mapping
from typing import Final, TypeAlias

from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError

#: A command element value, by VR (see the module docstring).
CommandValue: TypeAlias = int | str | tuple[int, ...] | bytes

COMMAND_GROUP_LENGTH: Final = 0x00000000
COMMAND_FIELD: Final = 0x00000100
COMMAND_DATA_SET_TYPE: Final = 0x00000800
#: A local limit on the value of one text element; Table E.2-1's longest VR (LT) allows 10240.
_MAX_TEXT: Final = {"AE": 16, "LO": 64, "SH": 16, "LT": 10240, "CS": 16, "IS": 12, "UI": 64}
_UID_CHARS: Final = re.compile(r"[0-9.]+")
_HEADER: Final = struct.Struct("<HHI")  # group, element, value length (PS3.5 §7.1.3)
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF


@functools.cache
def element_vr(tag: int) -> tuple[str, str] | None:
    """``(VR, VM)`` of a command element from the generated dictionary, or None if unknown.

    References
    ----------
    PS3.7 Annex E, Tables E.1-1 and E.2-1.
    """
    from dicompile.generated.dimse_commands import COMMAND_ELEMENTS

    entry = COMMAND_ELEMENTS.get(tag)
    return (entry.vr, entry.vm) if entry is not None else None


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------


def _encode_text(tag: int, vr: str, value: CommandValue) -> bytes:
    if not isinstance(value, str):
        raise LocalProtocolError(f"{_tag_text(tag)} {vr} takes a str, not {value!r}")
    if vr == "UI":
        if _UID_CHARS.fullmatch(value) is None:
            raise LocalProtocolError(f"{_tag_text(tag)}: {value!r} is not a UID (PS3.5 §9.1)")
    elif any(ord(c) < 0x20 or ord(c) > 0x7E for c in value) or (vr != "LT" and "\\" in value):
        raise LocalProtocolError(
            f"{_tag_text(tag)} {vr}: {value!r} is outside the default repertoire"
            " or holds a backslash (PS3.5 §6.2)"
        )
    if vr == "AE" and not value.strip(" "):
        raise LocalProtocolError(f"{_tag_text(tag)}: an AE title may not be all spaces")
    if len(value) > _MAX_TEXT[vr]:
        raise LocalProtocolError(
            f"{_tag_text(tag)} {vr}: {len(value)} characters, at most {_MAX_TEXT[vr]}"
        )
    raw = value.encode("ascii")
    if len(raw) % 2:
        raw += b"\x00" if vr == "UI" else b" "
    return raw


def _ints(tag: int, vr: str, value: CommandValue, multiple: bool) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if multiple and isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    raise LocalProtocolError(f"{_tag_text(tag)} {vr} cannot hold {value!r}")


def encode_value(tag: int, value: CommandValue) -> bytes:
    """The even-length value field of one command element (PS3.5 §6.2, §7.1.3).

    Raises
    ------
    LocalProtocolError
        When the value does not fit the element's VR and VM.

    References
    ----------
    PS3.7 §6.3.1, Annex E; PS3.5 §6.2.
    """
    known = element_vr(tag)
    if known is None:
        if not isinstance(value, bytes) or len(value) % 2:
            raise LocalProtocolError(
                f"{_tag_text(tag)} is not in the command dictionary: its value must be bytes"
                " of even length"
            )
        return value
    vr, vm = known
    multiple = vm != "1"
    if vr in ("US", "UL"):
        values = _ints(tag, vr, value, multiple)
        limit, code = (0xFFFF, "H") if vr == "US" else (0xFFFFFFFF, "I")
        if not values or any(not 0 <= v <= limit for v in values):
            raise LocalProtocolError(f"{_tag_text(tag)} {vr}: {value!r} is out of range")
        return struct.pack(f"<{len(values)}{code}", *values)
    if vr == "AT":
        tags = _ints(tag, vr, value, True)
        # An empty list is a zero-length value: present, without tags (PS3.5 §7.1.1).
        if any(not 0 <= t <= 0xFFFFFFFF for t in tags):
            raise LocalProtocolError(f"{_tag_text(tag)} AT: {value!r} holds a non-tag")
        return b"".join(struct.pack("<HH", t >> 16, t & 0xFFFF) for t in tags)
    if vr in _MAX_TEXT:
        return _encode_text(tag, vr, value)
    raise LocalProtocolError(f"{_tag_text(tag)}: no command set encoding for VR {vr}")


def encode_command_set(elements: Mapping[int, CommandValue]) -> bytes:
    """Encode a command set in Implicit VR Little Endian, Command Group Length first.

    Parameters
    ----------
    elements
        Command elements by tag, without (0000,0000), which is computed.

    Raises
    ------
    LocalProtocolError
        For a tag outside group 0000, a Command Group Length given by the caller, or a value
        that does not fit its VR.

    References
    ----------
    PS3.7 §6.3.1, Annex E (Table E.1-1: Command Group Length); PS3.5 §7.1.3.
    """
    parts: list[bytes] = []
    for tag in sorted(elements):
        if tag >> 16 != 0 or tag < 0:
            raise LocalProtocolError(f"{_tag_text(tag)} is not a command element (group 0000)")
        if tag == COMMAND_GROUP_LENGTH:
            raise LocalProtocolError("the Command Group Length (0000,0000) is computed, not given")
        raw = encode_value(tag, elements[tag])
        parts.append(_HEADER.pack(0, tag & 0xFFFF, len(raw)))
        parts.append(raw)
    body = b"".join(parts)
    return _HEADER.pack(0, 0, 4) + struct.pack("<I", len(body)) + body


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------


def _decode_value(tag: int, raw: bytes, offset: int) -> CommandValue:
    known = element_vr(tag)
    if known is None:
        return raw
    vr, vm = known

    def fail(message: str) -> DIMSEProtocolError:
        return DIMSEProtocolError(f"{vr} value {raw!r}: {message}", tag=tag, offset=offset)

    if vr in ("US", "UL"):
        size, code = (2, "H") if vr == "US" else (4, "I")
        if not raw or len(raw) % size or (vm == "1" and len(raw) != size):
            raise fail(f"length {len(raw)} does not fit {vr} with VM {vm}")
        values = struct.unpack(f"<{len(raw) // size}{code}", raw)
        return values[0] if vm == "1" else tuple(values)
    if vr == "AT":
        if len(raw) % 4:
            raise fail(f"length {len(raw)} is not a multiple of 4")
        pairs = struct.unpack(f"<{len(raw) // 2}H", raw)
        return tuple((pairs[i] << 16) | pairs[i + 1] for i in range(0, len(pairs), 2))
    if vr == "UI":
        # PS3.5 §9.1 pads with one NUL; a trailing space is a common mistake, accepted.
        try:
            text = raw.decode("ascii").rstrip("\x00 ")
        except UnicodeDecodeError:
            raise fail("not a UID") from None
        if _UID_CHARS.fullmatch(text) is None or len(text) > _MAX_TEXT["UI"]:
            raise fail("not a UID (PS3.5 §9.1)")
        return text
    if vr == "AE":
        try:
            text = raw.decode("ascii").strip(" ")
        except UnicodeDecodeError:
            raise fail("not in the default repertoire") from None
        if not text or len(text) > _MAX_TEXT["AE"] or any(ord(c) < 0x20 or c == "\\" for c in text):
            raise fail("not an AE title (PS3.5 §6.2)")
        return text
    if vr in _MAX_TEXT:
        # Free text: trailing (and for CS/IS/SH/LO leading) spaces are padding.
        text = raw.decode("ascii", errors="replace").rstrip("\x00 ")
        return text if vr == "LT" else text.lstrip(" ")
    return raw


def decode_command_set(data: bytes) -> dict[int, CommandValue]:
    """Decode an Implicit VR Little Endian command set; the result keeps the group length.

    Raises
    ------
    DIMSEProtocolError
        Naming the tag and the byte offset, when the bytes break PS3.7 §6.3.1: an element
        outside group 0000, tags out of order or repeated, an undefined, odd or overrunning
        length, a missing or wrong Command Group Length, a value that does not fit its VR.

    References
    ----------
    PS3.7 §6.3.1, Annex E; PS3.5 §7.1.3 (implicit VR element layout).
    """
    elements: dict[int, CommandValue] = {}
    offset = 0
    previous = -1
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise DIMSEProtocolError(
                f"{len(data) - offset} bytes left, too few for an element header", offset=offset
            )
        group, element, length = _HEADER.unpack_from(data, offset)
        tag = (group << 16) | element
        if group != 0:
            raise DIMSEProtocolError(
                "a command set holds group 0000 elements only (PS3.7 §6.3.1)",
                tag=tag,
                offset=offset,
            )
        if tag <= previous:
            raise DIMSEProtocolError(
                f"follows {_tag_text(previous)}: command elements must be in increasing tag"
                " order, each at most once (PS3.7 §6.3.1)",
                tag=tag,
                offset=offset,
            )
        if length == _UNDEFINED_LENGTH or length % 2:
            raise DIMSEProtocolError(
                f"value length {length:#x} is not an explicit even length (PS3.7 §6.3.1)",
                tag=tag,
                offset=offset,
            )
        start = offset + _HEADER.size
        if start + length > len(data):
            raise DIMSEProtocolError(
                f"value length {length} runs past the end of the command set ({len(data)} bytes)",
                tag=tag,
                offset=offset,
            )
        if previous < 0 and tag != COMMAND_GROUP_LENGTH:
            raise DIMSEProtocolError(
                "the command set does not start with Command Group Length (0000,0000)",
                tag=tag,
                offset=offset,
            )
        value = _decode_value(tag, data[start : start + length], offset)
        if tag == COMMAND_GROUP_LENGTH and value != len(data) - start - length:
            raise DIMSEProtocolError(
                f"Command Group Length says {value!r}, but {len(data) - start - length} bytes"
                " follow it",
                tag=tag,
                offset=offset,
            )
        elements[tag] = value
        previous = tag
        offset = start + length
    if not elements:
        raise DIMSEProtocolError("the command set is empty", offset=0)
    return elements
