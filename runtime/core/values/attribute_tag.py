"""Attribute Tag (AT) values: a tag as two 16-bit numbers, group first (PS3.5 Table 6.2-1).

The bytes of an AT value are those of a data element tag (§7.1.1): the group number then
the element number, each in the transfer syntax's byte order, so ``(0018,00FF)`` is
``18 00 FF 00`` in little endian and ``00 18 00 FF`` in big endian.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from dicompile.runtime.core.tag import format_tag_hex, parse_tag


def unpack_at(raw: bytes, *, little_endian: bool = True) -> tuple[int, ...]:
    """The tags of an AT value field (4 bytes each).

    Raises ValueError when the length is not a multiple of 4.

    References
    ----------
    PS3.5 Table 6.2-1 (AT), §7.1.1 (tag encoding).
    """
    if len(raw) % 4:
        raise ValueError(f"an AT value field is a multiple of 4 bytes, not {len(raw)}")
    count = len(raw) // 2
    numbers = struct.unpack(f"{'<' if little_endian else '>'}{count}H", raw)
    return tuple((numbers[i] << 16) | numbers[i + 1] for i in range(0, count, 2))


def pack_at(tags: Iterable[int], *, little_endian: bool = True) -> bytes:
    """The AT value field for ``tags`` (32-bit numbers ``0xGGGGEEEE``).

    References
    ----------
    PS3.5 Table 6.2-1 (AT), §7.1.1 (tag encoding).
    """
    numbers: list[int] = []
    for tag in tags:
        if not 0 <= tag <= 0xFFFFFFFF:
            raise ValueError(f"an AT value is a 32-bit tag, not {tag:#x}")
        numbers += (tag >> 16, tag & 0xFFFF)
    return struct.pack(f"{'<' if little_endian else '>'}{len(numbers)}H", *numbers)


def at_to_text(tag: int) -> str:
    """``"GGGGEEEE"``, the form of AT in the DICOM JSON model (PS3.18 F.2.3)."""
    return format_tag_hex(tag)


def at_from_text(text: str) -> int:
    """Read ``"GGGGEEEE"``, ``"(GGGG,EEEE)"`` or ``"GGGG,EEEE"``; ValueError otherwise."""
    return int(parse_tag(text))
