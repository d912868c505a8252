"""Encapsulated pixel data: items, offset tables and frames (PS3.5 §A.4, §8.2).

Theory of operation
-------------------
An encapsulated Pixel Data (7FE0,0010) element has undefined length.  Its value is a
sequence of items, each an 8-byte header -- tag (FFFE,E000) and a 4-byte little-endian
length -- followed by that many bytes, closed by a Sequence Delimitation Item (FFFE,E0DD)
of length 0:

* item 0 is the Basic Offset Table (BOT): empty, or one 32-bit offset per frame;
* every further item is a *fragment* of the encoded pixel stream; a frame is one or more
  consecutive fragments and a fragment never holds data of two frames (§A.4.1, §A.4.3...).

Rule 1 -- what the parser reads.  :func:`parse_encapsulated` takes a buffer that *starts*
at the first byte of the BOT item tag (just after the element header) and scans item
*headers* up to and including the sequence delimiter.  The buffer may go on past the
delimiter (a ``memoryview`` of a whole mmap'ed file from the value start, say): the result's
``end`` tells how many bytes the element value used.  Item values are never copied or read
while parsing; the result keeps a ``memoryview`` of the buffer and copies one frame's bytes
only when :meth:`EncapsulatedPixelData.get_frame` is asked for it.

Rule 2 -- every length is checked against the buffer before it is used, so a corrupt length
fails as :class:`~dicompile.runtime.errors.DecodeError` naming the byte offset instead of
allocating or reading past the end; the scan moves forward by at least 8 bytes per item, so
it always ends.

Rule 3 -- frame boundaries come from, in this order: the Extended Offset Table (when the
caller passes it; the BOT must then be empty, PS3.3 C.7.6.3.1.8 of 2018 and later), the
BOT, a single frame, one fragment per frame (fragment count == Number of Frames), and
last a documented heuristic on the codestream signatures of the JPEG family.  When none
applies the parser says the frames cannot be delimited; it never guesses silently.

Offsets in error messages are relative to the start of the buffer plus ``base_offset``, so
a reader that passes the value's file position gets file positions in its errors.
"""

from __future__ import annotations

import enum
import mmap
import struct
from collections.abc import Sequence
from typing import Final, TypeAlias

import attrs

from dicompile.runtime.core.tag import ITEM, SEQUENCE_DELIMITER, format_tag
from dicompile.runtime.errors import DecodeError, EncodeError

#: What the parser and the builder accept as bytes: anything with the buffer protocol
#: that the reader may hold (an mmap of the file, a slice of one, a bytes read).
ByteSource: TypeAlias = bytes | bytearray | memoryview | mmap.mmap

_HEADER: Final = struct.Struct("<HHL")  # group, element, item length (PS3.5 §7.5)
_ITEM_GROUP: Final = ITEM >> 16
_ITEM_ELEMENT: Final = ITEM & 0xFFFF
_DELIMITER_ELEMENT: Final = SEQUENCE_DELIMITER & 0xFFFF
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF
#: The largest even value an Item Length can hold (0xFFFFFFFF means "undefined").
_MAX_ITEM_LENGTH: Final = 0xFFFFFFFE
_ITEM_TAG_BYTES: Final = b"\xfe\xff\x00\xe0"
_DELIMITER_ITEM: Final = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"

# Codestream signatures for the last-resort frame heuristic (see _frames_from_markers):
# SOI followed by the next marker's FF (ISO 10918-1 B.2.1, ISO 14495-1 C.1.1), and
# SOC followed by SIZ, which ISO 15444-1 A.4.1/A.5.1 require to open a codestream.
_JPEG_SOI: Final = b"\xff\xd8\xff"
_J2K_SOC_SIZ: Final = b"\xff\x4f\xff\x51"


class OffsetTable(enum.StrEnum):
    """Which offset table :func:`encapsulate` writes (PS3.5 §A.4; PS3.3 C.7.6.3.1.8)."""

    #: 32-bit offsets in the first item; limited to 4 GiB of fragments.
    BASIC = "basic"
    #: Empty BOT plus Extended Offset Table (7FE0,0001) and Lengths (7FE0,0002), 64-bit.
    EXTENDED = "extended"
    #: Empty BOT and nothing else (readers then rely on Number of Frames or markers).
    NONE = "none"


class FrameSource(enum.StrEnum):
    """How :func:`parse_encapsulated` found the frame boundaries (Rule 3 of the module)."""

    EXTENDED_OFFSET_TABLE = "extended offset table"
    BASIC_OFFSET_TABLE = "basic offset table"
    SINGLE_FRAME = "single frame"
    ONE_FRAGMENT_PER_FRAME = "one fragment per frame"
    JPEG_MARKERS = "JPEG start of image markers"
    JPEG2000_MARKERS = "JPEG 2000 SOC/SIZ markers"


@attrs.frozen
class Fragment:
    """One fragment item: where its value starts in the buffer and how long it is."""

    #: Offset of the first value byte, relative to the start of the parsed buffer.
    offset: int
    #: The Item Length (even, at least 2).
    length: int

    @property
    def item_offset(self) -> int:
        """Offset of the item's tag, 8 bytes before the value."""
        return self.offset - 8


@attrs.frozen
class FrameSpan:
    """A frame as a run of fragments ``fragments[start:stop]`` and its byte length."""

    start: int
    stop: int
    #: Bytes of the frame: the fragments' lengths added up, or the Extended Offset Table
    #: Lengths value when that was given (it may leave out the last pad byte).
    length: int


@attrs.frozen(eq=False)
class EncapsulatedPixelData:
    """The item structure of one encapsulated Pixel Data value, and random access to frames.

    Holds a ``memoryview`` of the parsed buffer; frames are copied out only on request.
    While it lives the underlying buffer cannot be resized (or an mmap closed).
    """

    buffer: memoryview = attrs.field(repr=False)
    #: The BOT's offsets as stored (empty when the BOT item has no value).
    basic_offset_table: tuple[int, ...]
    fragments: tuple[Fragment, ...]
    frames: tuple[FrameSpan, ...]
    frame_source: FrameSource
    #: Offset just past the sequence delimiter (or the buffer's end when the caller
    #: allowed a missing delimiter): the number of bytes of the element's value.
    end: int

    @property
    def number_of_frames(self) -> int:
        return len(self.frames)

    def frame_fragments(self, index: int) -> tuple[memoryview, ...]:
        """The fragments of frame ``index`` as zero-copy views of the buffer.

        When the frame's length is shorter than its fragments (an Extended Offset Table
        Lengths value that leaves out the pad byte), the last view is cut to it.
        """
        span = self._span(index)
        views: list[memoryview] = []
        remaining = span.length
        for fragment in self.fragments[span.start : span.stop]:
            take = min(fragment.length, remaining)
            views.append(self.buffer[fragment.offset : fragment.offset + take])
            remaining -= take
        return tuple(views)

    def get_frame(self, index: int) -> bytes:
        """The encoded bytes of frame ``index`` (0-based): its fragments joined.

        Reads only that frame's fragments.

        References
        ----------
        PS3.5 §A.4 (a frame may span several fragments; no fragment spans two frames).
        """
        return b"".join(self.frame_fragments(index))

    def _span(self, index: int) -> FrameSpan:
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame {index} does not exist: there are {len(self.frames)} frames")
        return self.frames[index]


def parse_encapsulated(
    buffer: ByteSource,
    *,
    number_of_frames: int | None = None,
    extended_offset_table: ByteSource | None = None,
    extended_offset_table_lengths: ByteSource | None = None,
    require_delimiter: bool = True,
    base_offset: int = 0,
) -> EncapsulatedPixelData:
    """Parse an encapsulated Pixel Data value into its offset table, fragments and frames.

    Parameters
    ----------
    buffer
        The element's value, starting at the first byte of the Basic Offset Table item tag
        (right after the element header with length FFFFFFFFH).  It must include the
        Sequence Delimitation Item; bytes after it are ignored (see ``end``).
    number_of_frames
        Number of Frames (0028,0008), or 1 when absent from the data set; ``None`` when
        unknown.  When given it must agree with the offset tables.
    extended_offset_table, extended_offset_table_lengths
        The raw values (little-endian 64-bit, VR OV) of (7FE0,0001) and (7FE0,0002), both
        or neither.
    require_delimiter
        When false, the end of ``buffer`` may also end the sequence (for a lenient reader
        of a truncated file, or a caller that already cut the delimiter off).
    base_offset
        Added to every byte offset named in an error (the value's position in its file).

    Returns
    -------
    EncapsulatedPixelData

    Raises
    ------
    DecodeError
        An item tag other than (FFFE,E000) or a delimiter; an undefined, odd, zero or
        out-of-buffer item length; a BOT whose length is not a multiple of 4 or whose
        offsets do not start at 0, increase, and land on item tags; an Extended Offset
        Table that is inconsistent with the items; or frames that cannot be delimited.

    References
    ----------
    PS3.5 §A.4 (items, Basic Offset Table, delimiter), §8.2 (fragments and frames);
    PS3.3 C.7.6.3.1.8 (Extended Offset Table, 2018 and later editions).
    """
    view = memoryview(buffer)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    size = len(view)

    if number_of_frames is not None and number_of_frames < 1:
        raise DecodeError(f"Number of Frames must be at least 1, not {number_of_frames}")

    # Item 0: the Basic Offset Table.
    bot_length = _read_item_header(view, 0, base_offset, what="Basic Offset Table item")
    if bot_length is None:
        raise DecodeError(
            "encapsulated Pixel Data: the sequence ends before the "
            "Basic Offset Table item that must come first (PS3.5 §A.4)",
            offset=base_offset,
        )
    if bot_length % 4:
        raise DecodeError(
            f"Basic Offset Table: length {bot_length} is not a "
            "multiple of 4 (it holds 32-bit offsets, PS3.5 §A.4)",
            offset=base_offset,
        )
    bot = struct.unpack_from(f"<{bot_length // 4}L", view, 8) if bot_length else ()
    first_fragment = 8 + bot_length

    fragments, end = _scan_fragments(view, first_fragment, size, require_delimiter, base_offset)

    eot = _read_extended_table(
        extended_offset_table, extended_offset_table_lengths, bot, base_offset
    )
    if eot is not None:
        frames = _frames_from_extended(eot, fragments, first_fragment, base_offset)
        source = FrameSource.EXTENDED_OFFSET_TABLE
    elif bot:
        frames = _frames_from_basic(bot, fragments, first_fragment, base_offset)
        source = FrameSource.BASIC_OFFSET_TABLE
    else:
        frames, source = _frames_without_table(view, fragments, number_of_frames, base_offset)

    if number_of_frames is not None and len(frames) != number_of_frames:
        raise DecodeError(
            f"encapsulated Pixel Data: the {source} gives "
            f"{len(frames)} frames but Number of Frames is {number_of_frames}",
            offset=base_offset,
        )
    return EncapsulatedPixelData(
        buffer=view,
        basic_offset_table=tuple(bot),
        fragments=fragments,
        frames=frames,
        frame_source=source,
        end=end,
    )


def _read_item_header(view: memoryview, pos: int, base: int, *, what: str) -> int | None:
    """Length of the item whose tag is at ``pos``; None for a sequence delimiter.

    Checks the tag, that the length is defined and that the value fits in the buffer.
    """
    if pos + 8 > len(view):
        raise DecodeError(
            f"{what}: only {len(view) - pos} bytes left, "
            "an item header needs 8 (truncated encapsulated Pixel Data)",
            offset=base + pos,
        )
    group, element, length = _HEADER.unpack_from(view, pos)
    if group == _ITEM_GROUP and element == _DELIMITER_ELEMENT:
        if length != 0:
            raise DecodeError(
                f"sequence delimiter (FFFE,E0DD) has length "
                f"{length:#010x}; it must be 0 (PS3.5 §A.4)",
                offset=base + pos,
            )
        return None
    if group != _ITEM_GROUP or element != _ITEM_ELEMENT:
        raise DecodeError(
            f"{what}: found tag {format_tag(group << 16 | element)}, "
            "expected an item (FFFE,E000) or the sequence delimiter (FFFE,E0DD) (PS3.5 §A.4)",
            offset=base + pos,
        )
    if length == _UNDEFINED_LENGTH:
        raise DecodeError(
            f"{what}: undefined item length; items of encapsulated "
            "Pixel Data have explicit lengths (PS3.5 §A.4)",
            offset=base + pos,
        )
    if pos + 8 + length > len(view):
        raise DecodeError(
            f"{what}: length {length} runs past the end of the data "
            f"({len(view) - pos - 8} bytes left)",
            offset=base + pos,
        )
    return int(length)


def _scan_fragments(
    view: memoryview, pos: int, size: int, require_delimiter: bool, base: int
) -> tuple[tuple[Fragment, ...], int]:
    fragments: list[Fragment] = []
    while True:
        if pos == size and not require_delimiter:
            return tuple(fragments), pos
        length = _read_item_header(view, pos, base, what=f"fragment item {len(fragments)}")
        if length is None:
            return tuple(fragments), pos + 8
        if length == 0 or length % 2:
            raise DecodeError(
                f"fragment item {len(fragments)}: length {length}; "
                "fragments must have an even length of at least 2 (PS3.5 §A.4)",
                offset=base + pos,
            )
        fragments.append(Fragment(offset=pos + 8, length=length))
        pos += 8 + length


def _fragment_index_by_item_offset(
    fragments: Sequence[Fragment], first_fragment: int
) -> dict[int, int]:
    """Map each fragment's item-tag offset, as offset tables count it, to its index."""
    return {frag.item_offset - first_fragment: i for i, frag in enumerate(fragments)}


def _frames_from_starts(
    starts: Sequence[int], fragments: Sequence[Fragment]
) -> tuple[FrameSpan, ...]:
    stops = [*starts[1:], len(fragments)]
    return tuple(
        FrameSpan(start, stop, sum(f.length for f in fragments[start:stop]))
        for start, stop in zip(starts, stops, strict=True)
    )


def _check_table_offsets(
    offsets: Sequence[int],
    fragments: Sequence[Fragment],
    first_fragment: int,
    base: int,
    table: str,
) -> list[int]:
    """Fragment indices at which the table's frames start; checks every offset."""
    index_of = _fragment_index_by_item_offset(fragments, first_fragment)
    starts: list[int] = []
    previous = -1
    for frame, offset in enumerate(offsets):
        if frame == 0 and offset != 0:
            raise DecodeError(
                f"{table}: the first frame's offset is {offset}, it must be 0 "
                "(the first fragment follows the Basic Offset Table, PS3.5 §A.4)",
                offset=base,
            )
        if offset <= previous:
            raise DecodeError(
                f"{table}: offset {offset} of frame {frame} does not increase "
                f"on the previous one ({previous})",
                offset=base,
            )
        if offset not in index_of:
            raise DecodeError(
                f"{table}: offset {offset} of frame {frame} (byte "
                f"{base + first_fragment + offset}) is not the start of a fragment item",
                offset=base,
            )
        starts.append(index_of[offset])
        previous = offset
    return starts


def _frames_from_basic(
    bot: Sequence[int], fragments: Sequence[Fragment], first_fragment: int, base: int
) -> tuple[FrameSpan, ...]:
    starts = _check_table_offsets(bot, fragments, first_fragment, base, "Basic Offset Table")
    return _frames_from_starts(starts, fragments)


def _read_extended_table(
    offsets_value: ByteSource | None,
    lengths_value: ByteSource | None,
    bot: Sequence[int],
    base: int,
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    if offsets_value is None and lengths_value is None:
        return None
    if offsets_value is None or lengths_value is None:
        raise DecodeError(
            "Extended Offset Table (7FE0,0001) and Extended Offset Table Lengths (7FE0,0002) "
            "must be present together (PS3.3 C.7.6.3.1.8)"
        )
    offsets_view = memoryview(offsets_value).cast("B")
    lengths_view = memoryview(lengths_value).cast("B")
    for name, value in (("(7FE0,0001)", offsets_view), ("(7FE0,0002)", lengths_view)):
        if len(value) % 8:
            raise DecodeError(
                f"Extended Offset Table {name}: {len(value)} bytes is not a whole number of "
                "64-bit values (VR OV)"
            )
    if len(offsets_view) != len(lengths_view):
        raise DecodeError(
            f"Extended Offset Table has {len(offsets_view) // 8} offsets but its Lengths "
            f"{len(lengths_view) // 8} values (PS3.3 C.7.6.3.1.8)"
        )
    if not offsets_view:
        raise DecodeError("Extended Offset Table (7FE0,0001) is empty; it needs one per frame")
    if bot:
        raise DecodeError(
            "encapsulated Pixel Data: the Basic Offset Table must be empty "
            "when an Extended Offset Table is present (PS3.5 §A.4, 2018 and later)",
            offset=base,
        )
    count = len(offsets_view) // 8
    return (
        struct.unpack(f"<{count}Q", offsets_view),
        struct.unpack(f"<{count}Q", lengths_view),
    )


def _frames_from_extended(
    eot: tuple[tuple[int, ...], tuple[int, ...]],
    fragments: Sequence[Fragment],
    first_fragment: int,
    base: int,
) -> tuple[FrameSpan, ...]:
    offsets, lengths = eot
    # PS3.3 C.7.6.3.1.8: with an EOT each frame is exactly one fragment.
    if len(offsets) != len(fragments):
        raise DecodeError(
            f"Extended Offset Table lists {len(offsets)} frames but the Pixel Data has "
            f"{len(fragments)} fragments; with an Extended Offset Table each frame must be "
            "one fragment (PS3.3 C.7.6.3.1.8)",
            offset=base,
        )
    starts = _check_table_offsets(offsets, fragments, first_fragment, base, "Extended Offset Table")
    frames: list[FrameSpan] = []
    for frame, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        item_length = fragments[start].length
        # The length is the frame's; it may leave out the pad byte of an odd-length frame.
        if length not in (item_length, item_length - 1):
            raise DecodeError(
                f"Extended Offset Table Lengths: frame {frame} has length {length} but its "
                f"fragment holds {item_length} "
                "bytes",
                offset=base + fragments[start].item_offset,
            )
        frames.append(FrameSpan(start, start + 1, length))
    return tuple(frames)


def _frames_without_table(
    view: memoryview,
    fragments: Sequence[Fragment],
    number_of_frames: int | None,
    base: int,
) -> tuple[tuple[FrameSpan, ...], FrameSource]:
    if not fragments:
        raise DecodeError(
            "encapsulated Pixel Data has no fragments (PS3.5 §A.4 needs "
            "at least one item after the Basic Offset Table)",
            offset=base,
        )
    if number_of_frames == 1 or (number_of_frames is None and len(fragments) == 1):
        return _frames_from_starts([0], fragments), FrameSource.SINGLE_FRAME
    if number_of_frames == len(fragments):
        # PS3.5 §8.2: "number of fragments ... with the number of frames" -- equal counts
        # and no fragment spanning two frames leave one fragment per frame.
        return _frames_from_starts(range(len(fragments)), fragments), (
            FrameSource.ONE_FRAGMENT_PER_FRAME
        )
    found = _frames_from_markers(view, fragments)
    if found is not None:
        return found
    known = "not given" if number_of_frames is None else str(number_of_frames)
    raise DecodeError(
        f"encapsulated Pixel Data: frames cannot be delimited: the Basic "
        f"Offset Table is empty, there is no Extended Offset Table, {len(fragments)} "
        f"fragments do not match Number of Frames ({known}), and the fragments do not open "
        "with JPEG or JPEG 2000 codestream markers",
        offset=base,
    )


def _frames_from_markers(
    view: memoryview, fragments: Sequence[Fragment]
) -> tuple[tuple[FrameSpan, ...], FrameSource] | None:
    """Heuristic: a frame starts at each fragment that opens a codestream.

    Every frame of the JPEG family is a complete codestream (PS3.5 §A.4.1-A.4.4) that
    opens with SOI FFD8 (JPEG, JPEG-LS) or SOC FF4F then SIZ FF51 (JPEG 2000).  Inside
    entropy-coded JPEG and JPEG-LS data an FF byte is never followed by D8, so only a
    fragment cut exactly before an SOI *inside a marker segment* (an APPn thumbnail) could
    fool it; in JPEG 2000 packet data FF4F FF51 is not forbidden outright.  That is why it
    is the last resort, used only when the offset tables and Number of Frames cannot tell,
    and why the caller's Number of Frames, when known, must agree with what it finds.
    """
    first = fragments[0]
    head = bytes(view[first.offset : first.offset + 4])
    if head.startswith(_JPEG_SOI):
        signature, source = _JPEG_SOI, FrameSource.JPEG_MARKERS
    elif head == _J2K_SOC_SIZ:
        signature, source = _J2K_SOC_SIZ, FrameSource.JPEG2000_MARKERS
    else:
        return None
    width = len(signature)
    starts = [
        i
        for i, frag in enumerate(fragments)
        if view[frag.offset : frag.offset + min(width, frag.length)] == signature
    ]
    return _frames_from_starts(starts, fragments), source


@attrs.frozen
class EncapsulatedValue:
    """What :func:`encapsulate` builds: the Pixel Data value and, for
    :attr:`OffsetTable.EXTENDED`, the values of (7FE0,0001) and (7FE0,0002)."""

    #: The value of Pixel Data (7FE0,0010) with undefined length: BOT item, fragment
    #: items and the sequence delimiter -- exactly what :func:`parse_encapsulated` reads.
    pixel_data: bytes
    extended_offset_table: bytes | None = None
    extended_offset_table_lengths: bytes | None = None


def encapsulate(
    frames: Sequence[ByteSource],
    *,
    offset_table: OffsetTable = OffsetTable.BASIC,
    fragments_per_frame: int | None = None,
    max_fragment_size: int | None = None,
) -> EncapsulatedValue:
    """Encapsulate encoded frames as the value of an undefined-length Pixel Data element.

    Parameters
    ----------
    frames
        One encoded (compressed) frame each, in frame order.  Odd-length frames get a
        trailing 00H pad byte in their last fragment (PS3.5 §A.4).
    offset_table
        Which offset table to write.  ``EXTENDED`` also returns the (7FE0,0001) and
        (7FE0,0002) values and needs one fragment per frame.
    fragments_per_frame
        Split every frame into this many fragments of nearly equal even size.
    max_fragment_size
        Split every frame into fragments of at most this many bytes (even, >= 2).
        At most one of the two splitting options may be given; by default each frame
        is one fragment (required for RLE, PS3.5 §A.4.2).

    Returns
    -------
    EncapsulatedValue

    Raises
    ------
    EncodeError
        An empty frame, a split that cannot give even fragments of at least 2 bytes, a
        frame or total too big for the item lengths or the Basic Offset Table's 32-bit
        offsets, or a multi-fragment frame with an Extended Offset Table.

    References
    ----------
    PS3.5 §A.4 (items, even lengths, Basic Offset Table, delimiter);
    PS3.3 C.7.6.3.1.8 (Extended Offset Table, 2018 and later editions).
    """
    if fragments_per_frame is not None and max_fragment_size is not None:
        raise EncodeError("give fragments_per_frame or max_fragment_size, not both")
    if fragments_per_frame is not None and fragments_per_frame < 1:
        raise EncodeError(f"fragments_per_frame must be at least 1, not {fragments_per_frame}")
    if max_fragment_size is not None and (
        max_fragment_size < 2 or max_fragment_size % 2 or max_fragment_size > _MAX_ITEM_LENGTH
    ):
        raise EncodeError(
            f"max_fragment_size must be even and between 2 and {_MAX_ITEM_LENGTH}, "
            f"not {max_fragment_size}"
        )
    split: list[list[memoryview | bytes]] = []
    for index, frame in enumerate(frames):
        split.append(_split_frame(index, frame, fragments_per_frame, max_fragment_size))
    return encapsulate_fragments(split, offset_table=offset_table)


def encapsulate_fragments(
    frames: Sequence[Sequence[ByteSource]],
    *,
    offset_table: OffsetTable = OffsetTable.BASIC,
) -> EncapsulatedValue:
    """Encapsulate frames given as their fragments, each of even length >= 2.

    For a writer that keeps fragments as they were read (transcoding without
    recompression).  See :func:`encapsulate` for the rest.

    References
    ----------
    PS3.5 §A.4; PS3.3 C.7.6.3.1.8.
    """
    offset_table = OffsetTable(offset_table)
    if not frames:
        raise EncodeError("encapsulated Pixel Data needs at least one frame")
    pieces: list[ByteSource] = []
    offsets: list[int] = []
    lengths: list[int] = []
    position = 0  # from the first fragment's item tag, as both offset tables count
    for index, fragments in enumerate(frames):
        if not fragments:
            raise EncodeError(f"frame {index} has no fragments")
        if offset_table is OffsetTable.EXTENDED and len(fragments) != 1:
            raise EncodeError(
                f"frame {index} has {len(fragments)} fragments; the Extended Offset Table "
                "needs each frame in one fragment (PS3.3 C.7.6.3.1.8)"
            )
        offsets.append(position)
        frame_length = 0
        for fragment in fragments:
            length = memoryview(fragment).nbytes
            if length < 2 or length % 2 or length > _MAX_ITEM_LENGTH:
                raise EncodeError(
                    f"frame {index}: a fragment of {length} bytes; fragments need an even "
                    f"length between 2 and {_MAX_ITEM_LENGTH} (PS3.5 §A.4)"
                )
            pieces.append(_ITEM_TAG_BYTES + struct.pack("<L", length))
            pieces.append(fragment)
            position += 8 + length
            frame_length += length
        lengths.append(frame_length)

    if offset_table is OffsetTable.BASIC:
        if offsets[-1] > 0xFFFFFFFF or 4 * len(offsets) > _MAX_ITEM_LENGTH:
            raise EncodeError(
                f"frame offsets reach {offsets[-1]} bytes, past the Basic Offset Table's "
                "32-bit range; use OffsetTable.EXTENDED or OffsetTable.NONE"
            )
        bot = struct.pack(f"<{len(offsets)}L", *offsets)
    else:
        bot = b""
    head = _ITEM_TAG_BYTES + struct.pack("<L", len(bot)) + bot
    pixel_data = b"".join([head, *pieces, _DELIMITER_ITEM])
    if offset_table is OffsetTable.EXTENDED:
        return EncapsulatedValue(
            pixel_data,
            struct.pack(f"<{len(offsets)}Q", *offsets),
            struct.pack(f"<{len(lengths)}Q", *lengths),
        )
    return EncapsulatedValue(pixel_data)


def _split_frame(
    index: int,
    frame: ByteSource,
    fragments_per_frame: int | None,
    max_fragment_size: int | None,
) -> list[memoryview | bytes]:
    """Cut one frame into even-length fragments; only the last may get a 00H pad."""
    view = memoryview(frame).cast("B")
    size = len(view)
    if size == 0:
        raise EncodeError(f"frame {index} is empty; a fragment holds at least 2 bytes")
    padded = size + size % 2
    if max_fragment_size is not None:
        step = max_fragment_size
        bounds = list(range(0, padded, step))
    else:
        count = fragments_per_frame or 1
        words = padded // 2
        if count > words:
            raise EncodeError(
                f"frame {index} of {size} bytes cannot make {count} fragments of at least "
                "2 bytes each"
            )
        small, extra = divmod(words, count)
        bounds = []
        start = 0
        for i in range(count):
            bounds.append(start)
            start += 2 * (small + (1 if i < extra else 0))
    pieces: list[memoryview | bytes] = []
    for i, start in enumerate(bounds):
        stop = bounds[i + 1] if i + 1 < len(bounds) else padded
        if stop > size:  # the last fragment of an odd-length frame: pad with 00H
            pieces.append(bytes(view[start:size]) + b"\x00")
        else:
            pieces.append(view[start:stop])
    if any(len(p) > _MAX_ITEM_LENGTH for p in pieces):
        raise EncodeError(
            f"frame {index}: a fragment would exceed the 32-bit item length; "
            "split it with max_fragment_size"
        )
    return pieces
