"""The tokens of an encoded data set (STYLE.md item 6; PS3.5 §7.1, §7.5, §A.4).

A data set stream is a flat sequence of these, each with the byte offset where it starts
in the buffer it was read from:

* :class:`ElementHeader` then :class:`Value` -- an element with a value field;
* :class:`SequenceStart`, then per item :class:`ItemStart` ... :class:`ItemEnd`, then
  :class:`SequenceEnd` -- an SQ element (or a UN of undefined length, PS3.5 §6.2.2);
* :class:`ElementHeader` (undefined length), :class:`Fragment` per item, then
  :class:`SequenceEnd` -- encapsulated pixel data (item 0 is the Basic Offset Table).

``ItemEnd`` and ``SequenceEnd`` say whether a delimitation item was present (undefined
length) or the end came from a length.  Tokens are immutable and carry no decoded values;
:mod:`dicompile.runtime.codec.parser` produces them.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR


@attrs.frozen
class ElementHeader:
    """The header of a non-sequence element (tag, VR, length)."""

    offset: int
    tag: int
    vr: VR
    #: Value length, or None for undefined length (encapsulated pixel data).
    length: int | None
    #: True if the VR was in the stream (explicit VR), False if taken from the dictionary.
    explicit_vr: bool

    def __str__(self) -> str:
        length = "undefined" if self.length is None else str(self.length)
        return f"@{self.offset} {format_tag(self.tag)} {self.vr.value} length {length}"


@attrs.frozen
class Value:
    """The value field of the element whose header precedes it."""

    offset: int
    raw: bytes = attrs.field(repr=False)

    @property
    def length(self) -> int:
        return len(self.raw)


@attrs.frozen
class SequenceStart:
    """The header of an SQ element, or of a UN element of undefined length."""

    offset: int
    tag: int
    vr: VR
    #: Value length, or None for undefined length.
    length: int | None
    explicit_vr: bool


@attrs.frozen
class ItemStart:
    """An Item (FFFE,E000) header of a sequence."""

    offset: int
    #: 0-based position in its sequence.
    index: int
    #: Item length, or None for undefined length.
    length: int | None


@attrs.frozen
class ItemEnd:
    """The end of an item: after its Item Delimitation Item, or where its length ends."""

    offset: int
    delimited: bool


@attrs.frozen
class SequenceEnd:
    """The end of a sequence or of encapsulated pixel data."""

    offset: int
    delimited: bool


@attrs.frozen
class Fragment:
    """One item of encapsulated pixel data (index 0: the Basic Offset Table)."""

    offset: int
    index: int
    raw: bytes = attrs.field(repr=False)


Token: TypeAlias = (
    ElementHeader | Value | SequenceStart | ItemStart | ItemEnd | SequenceEnd | Fragment
)
