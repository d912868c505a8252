"""Data element tags (PS3.5 §7.1): a group and an element number packed in one int.

Tags travel through the codecs as plain ``int`` (``0x00100010``) because that is what is
cheapest to hash and compare; :class:`Tag` is an ``int`` subclass that prints itself as
``(0010,0010)`` for messages and reports.
"""

from __future__ import annotations

import re
from typing import Final

#: (FFFE,E000) Item, (FFFE,E00D) Item Delimitation Item, (FFFE,E0DD) Sequence Delimitation Item
ITEM: Final = 0xFFFEE000
ITEM_DELIMITER: Final = 0xFFFEE00D
SEQUENCE_DELIMITER: Final = 0xFFFEE0DD
#: (7FE0,0010) Pixel Data
PIXEL_DATA: Final = 0x7FE00010

_TAG_TEXT = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?$")


class Tag(int):
    """A tag as an ``int`` that knows its group and element and prints as ``(GGGG,EEEE)``."""

    __slots__ = ()

    def __new__(cls, value: int) -> Tag:
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"a tag is a 32-bit unsigned number, not {value:#x}")
        return super().__new__(cls, value)

    @property
    def group(self) -> int:
        return self >> 16

    @property
    def element(self) -> int:
        return self & 0xFFFF

    @property
    def is_private(self) -> bool:
        """Odd groups are private (PS3.5 §7.8), except the reserved groups 1, 3, 5, 7 and FFFF."""
        return is_private(self)

    def __str__(self) -> str:
        return format_tag(self)

    def __repr__(self) -> str:
        return f"Tag({format_tag(self)})"


def format_tag(tag: int) -> str:
    """``0x00100010`` → ``"(0010,0010)"``."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def format_tag_hex(tag: int) -> str:
    """``0x00100010`` → ``"00100010"`` (the DICOM JSON model's key form, PS3.18 F.2.1.1)."""
    return f"{tag:08X}"


def parse_tag(text: str) -> Tag:
    """Read ``(0010,0010)``, ``0010,0010`` or ``00100010``; ValueError if it is none of these."""
    match = _TAG_TEXT.match(text.strip())
    if match is None:
        raise ValueError(f"not a tag: {text!r} (expected (GGGG,EEEE), GGGG,EEEE or GGGGEEEE)")
    return Tag(int(match[1] + match[2], 16))


def is_private(tag: int) -> bool:
    """True for tags of private groups (odd group numbers above 0x0008, PS3.5 §7.8.1)."""
    group = tag >> 16
    return bool(group & 1) and group > 0x0008 and group != 0xFFFF


def is_private_creator(tag: int) -> bool:
    """True for private creator elements (gggg,0010-00FF) that reserve a block (PS3.5 §7.8.1)."""
    return is_private(tag) and 0x0010 <= (tag & 0xFFFF) <= 0x00FF
