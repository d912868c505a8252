"""Bytes -> Dataset: the data set reader for every transfer syntax (PS3.5 §7, Annex A).

Theory of operation
-------------------
This is the hot path of the whole runtime, so it is one loop over a ``bytes`` or ``mmap``
buffer with ``struct.unpack_from`` and dict lookups, nesting sequences and items on an
explicit stack instead of recursing (:meth:`_Reader.parse`), and it makes exactly one small
object per element: a :class:`DataElement` holding the value's raw bytes (decoded later, on
access; runtime/core/element.py).  The cycle collector is paused while the tree is built.
It also records the elements in depth-first order as it meets them, which the data set's
``iter_all`` returns while nothing in the tree has changed (runtime/core/dataset.py).
It follows the same grammar as the token stream of :mod:`dicompile.runtime.codec.parser`
(which tools use to look at the structure of a stream without building a tree); a test
checks that the two agree on every file of the test corpus.  It does not consume tokens
itself because one token object per header and per value would double the cost of
reading header-heavy files.

Rule 1 -- bounds.  Every length is checked against the end of its enclosing value (item,
sequence, buffer) before it is used; nothing is sliced or allocated past the input, and
every step moves forward by at least 8 bytes, so any input ends in bounded time and memory.
Nesting deeper than :data:`MAX_DEPTH` is refused (a recursion bomb is a few bytes per level).

Rule 2 -- strict or lenient.  Data that breaks PS3.5 raises :class:`DecodeError` in strict
mode; in lenient mode (the default) the reader warns with :class:`DicomWarning` and takes the
best reading (documented at each place).  Errors name the source, the byte offset and the
tag path, e.g. ``(0008,1115)[0]/(0008,1150)``.

Rule 3 -- VRs.  Explicit VR streams give each element's VR; a UN element whose tag the data
dictionary knows is re-read with its real VR (PS3.5 §6.2.2).  Implicit VR streams take the
dictionary's VR; unknown tags are UN; "US or SS" follows Pixel Representation (0028,0103)
(LUT descriptors are always US), and "OB or OW" is OW (PS3.5 Annex A.1).  An undefined
length is a sequence for SQ and UN (a UN of undefined length holds Implicit VR Little Endian items,
PS3.5 §6.2.2) and encapsulated pixel data for OB/OW (PS3.5 §A.4).
"""

from __future__ import annotations

import gc
import mmap
import struct
import warnings
from collections.abc import Callable
from typing import Any, Final, NamedTuple, TypeAlias

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import (
    UNDECODED,
    DataElement,
    DeferredSource,
    Encapsulated,
    decoded_element,
    raw_element,
)
from dicompile.runtime.core.sequence import EditToken, Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR, dictionary_vr
from dicompile.runtime.errors import DecodeError, DicomWarning

#: What a reader reads from: slicing either gives bytes (a memoryview or bytearray is
#: copied to bytes once by :func:`read_dataset`).
Buffer: TypeAlias = bytes | mmap.mmap
#: Makes a deferred value for (offset in the buffer, length); see runtime/media/deferred.py.
DeferFactory: TypeAlias = Callable[[int, int], DeferredSource]

#: Maximum nesting of sequences (real files rarely exceed 10).
MAX_DEPTH: Final = 128

UNDEFINED: Final = 0xFFFFFFFF
_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQ_END: Final = 0xFFFEE0DD
_SPECIFIC_CHARACTER_SET: Final = 0x00080005
_PIXEL_REPRESENTATION: Final = 0x00280103
_PIXEL_DATA: Final = 0x7FE00010
#: Elements whose values later elements of the same data set depend on.
_LEVEL_FACT_TAGS: Final = frozenset({_SPECIFIC_CHARACTER_SET, _PIXEL_REPRESENTATION})

#: 2-byte VR code -> (VR, has the 12-byte header with a 32-bit length) (PS3.5 Table 7.1-1/2).
VR_HEADERS: Final[dict[bytes, tuple[VR, bool]]] = {
    vr.value.encode("ascii"): (vr, vr.info.long_header) for vr in VR
}

_HEAD_LE: Final = struct.Struct("<HH2sH")
_HEAD_BE: Final = struct.Struct(">HH2sH")
# The parse loop reads the VR code as a 16-bit number in the stream's byte order: an int
# key is cheaper to make and to hash than a new 2-byte bytes object per element.
_CODED_HEAD_LE: Final = struct.Struct("<HHHH")
_CODED_HEAD_BE: Final = struct.Struct(">HHHH")
#: VR_HEADERS keyed by the VR code read as a little / big endian 16-bit number (one table
#: per byte order: "LO" read one way is "OL" read the other).
_VR_CODES: Final[dict[bool, dict[int, tuple[VR, bool]]]] = {
    little: {
        int.from_bytes(code, "little" if little else "big"): header
        for code, header in VR_HEADERS.items()
    }
    for little in (True, False)
}
_IHEAD_LE: Final = struct.Struct("<HHL")
_IHEAD_BE: Final = struct.Struct(">HHL")
_U32_LE: Final = struct.Struct("<L")
_U32_BE: Final = struct.Struct(">L")
_U16_LE: Final = struct.Struct("<H")
_U16_BE: Final = struct.Struct(">H")

# LUT Descriptors are "US or SS" in PS3.6 but always read unsigned: PS3.3 C.11.1.1 and
# C.7.6.3.1.5 (first and third values are unsigned whatever Pixel Representation says).
_UNSIGNED_DESCRIPTORS: Final = frozenset(
    {0x00281101, 0x00281102, 0x00281103, 0x00283002, 0x00281221, 0x00281222, 0x00281223}
)

#: Where the reader is, for messages: (parent, sequence tag, item index, depth) links;
#: None at the top level.
Path: TypeAlias = "tuple[Path, int, int, int] | None"


def format_path(path: Path, tag: int | None = None) -> str:
    """The tag path of a position: ``(0008,1115)[0]/(0008,1150)``."""
    parts: list[str] = []
    link = path
    while link is not None:
        link, seq_tag, index, _ = link
        parts.append(f"{format_tag(seq_tag)}[{index}]")
    parts.reverse()
    if tag is not None:
        parts.append(format_tag(tag))
    return "/".join(parts) or "(data set)"


def path_depth(path: Path) -> int:
    """Number of sequence levels above a position."""
    return 0 if path is None else path[3]


class PixelFacts(NamedTuple):
    """Facts of the current data set that implicit VR resolution needs; items inherit them."""

    pixel_representation: int | None = None


_NO_FACTS: Final = PixelFacts()


@attrs.frozen
class ReadOptions:
    """Policy of one read: deferral of large values and where to stop."""

    #: Values at least this long are deferred through ``defer`` (None: never).
    defer_size: int | None = None
    defer: DeferFactory | None = None
    #: Stop before the first top-level element whose tag is >= this (None: read all).
    stop_before: int | None = None
    #: Stop before the first top-level element whose tag is < this (for reading one group).
    stop_below: int | None = None
    #: Name of the source for messages (a file name).
    source: str | None = None


_NEVER: Final = 1 << 62
#: Largest sequence whose bytes are kept for writers.
_MAX_KEPT: Final = 16 << 20
_new = object.__new__

# Parse modes: the top-level data set, an item of defined or undefined length, or the
# items of a single sequence (a UN element re-read as SQ).
_TOP: Final = 0
_ITEM_DEFINED: Final = 1
_ITEM_UNDEFINED: Final = 2
_SEQ_ROOT: Final = 3

_Unpack: TypeAlias = Callable[[Buffer, int], tuple[Any, ...]]
_ShortVRs: TypeAlias = dict[int, VR]
#: The VRs with a 16-bit length (the 8-byte explicit header), by code as in _VR_CODES.
_SHORT_VRS: Final[dict[bool, _ShortVRs]] = {
    little: {code: vr for code, (vr, long_header) in codes.items() if not long_header}
    for little, codes in _VR_CODES.items()
}
#: (element header explicit, element header implicit / item header, 32-bit length, short
#: VR codes) per byte order (True: little endian).
_UNPACKERS: Final[dict[bool, tuple[_Unpack, _Unpack, _Unpack, _ShortVRs]]] = {
    little: (
        (_CODED_HEAD_LE if little else _CODED_HEAD_BE).unpack_from,
        (_IHEAD_LE if little else _IHEAD_BE).unpack_from,
        (_U32_LE if little else _U32_BE).unpack_from,
        _SHORT_VRS[little],
    )
    for little in (True, False)
}
_ITEM_HEADERS: Final[dict[bool, _Unpack]] = {
    True: _IHEAD_LE.unpack_from,
    False: _IHEAD_BE.unpack_from,
}


class _SeqFrame:
    """A sequence whose items are being read."""

    __slots__ = (
        "depth",
        "end",
        "item_ctx",
        "item_header",
        "items",
        "problems",
        "start",
        "tag",
        "token",
        "undefined",
        "vr",
        "walk_at",
    )

    def __init__(
        self,
        tag: int,
        vr: VR,
        end: int,
        undefined: bool,
        item_ctx: CodecContext,
        depth: int,
        start: int = 0,
        token: EditToken | None = None,
        problems: int = 0,
    ) -> None:
        self.tag = tag
        self.vr = vr
        #: Where the value starts, the edit token of its subtree and the reader's problem
        #: count when it started (for keeping its bytes, see runtime/core/sequence.py).
        self.start = start
        self.token = token if token is not None else EditToken()
        self.problems = problems
        # The value being built: items are appended with list.append (they are Datasets
        # by construction, so the type check of Sequence.append is skipped).
        self.items: Sequence = Sequence._from_list([], undefined)
        self.end = end
        self.undefined = undefined
        self.item_ctx = item_ctx
        self.item_header = _ITEM_HEADERS[item_ctx.little_endian]
        self.depth = depth
        #: Index of the sequence element in the reader's walk (set by the parse loop).
        self.walk_at = -1


#: A saved data set level (see _Reader.parse): what an item's level replaces.  The stop
#: tags never change, and the syntax locals (implicit, unpackers) follow from the context.
_Level: TypeAlias = tuple[
    dict[int, DataElement],
    int,
    bool,
    CodecContext,
    PixelFacts,
    int,
    int,
    Path,
    "_SeqFrame | None",
    bool,
    bool,
]


class _Reader:
    """One read of one buffer: the buffer, the policy, the problem count and the walk."""

    __slots__ = (
        "buf",
        "defer",
        "defer_size",
        "problems",
        "size",
        "source",
        "stop_before",
        "stop_below",
        "vr_cache",
        "walk",
        "walk_tokens",
    )

    def __init__(self, buf: Buffer, options: ReadOptions) -> None:
        self.buf = buf
        self.size = len(buf)
        self.source = options.source
        self.defer = options.defer
        self.defer_size = (
            options.defer_size
            if options.defer is not None and options.defer_size is not None
            else _NEVER
        )
        self.stop_before = options.stop_before
        self.stop_below = options.stop_below
        self.vr_cache: dict[int, tuple[VR, ...]] = {}
        #: Deviations met so far (a sequence with none keeps its bytes).
        self.problems = 0
        #: Every element of the top-level parse in iter_all order (depth first), and the
        #: edit tokens of the top-level sequences (see Dataset.iter_all).
        self.walk: list[DataElement | None] = []
        self.walk_tokens: list[EditToken] = []

    # -- problems -----------------------------------------------------------------------------

    def error(self, message: str, offset: int, path: Path, tag: int | None) -> DecodeError:
        return DecodeError(
            message, source=self.source, offset=offset, tag_path=format_path(path, tag)
        )

    def problem(
        self, ctx: CodecContext, message: str, offset: int, path: Path, tag: int | None
    ) -> None:
        """Strict: raise.  Lenient: warn (the caller goes on with its best reading)."""
        self.problems += 1
        err = self.error(message, offset, path, tag)
        if ctx.strict:
            raise err
        warnings.warn(str(err), DicomWarning, stacklevel=2)

    # -- VR of implicit elements ----------------------------------------------------------------

    def dictionary_vrs(self, ctx: CodecContext, tag: int) -> tuple[VR, ...]:
        found = self.vr_cache.get(tag)
        if found is None:
            found = dictionary_vr(ctx.lookup.vr_text(tag))
            self.vr_cache[tag] = found
        return found

    def implicit_vr(self, ctx: CodecContext, tag: int, facts: PixelFacts) -> VR:
        """The VR of an implicit-VR element (PS3.5 §7.1.3, Annex A.1 notes)."""
        choices = self.dictionary_vrs(ctx, tag)
        if len(choices) == 1:
            return choices[0]
        if not choices:
            return VR.UN
        if VR.OW in choices:
            # "OB or OW" (Pixel Data, Overlay Data, Waveform Data), "US or OW" (LUT Data),
            # "US or SS or OW" (old palette data): PS3.5 A.1 gives all of them OW in Implicit
            # VR Little Endian, whatever Bits Allocated says.
            return VR.OW
        if VR.US in choices and VR.SS in choices:
            if tag in _UNSIGNED_DESCRIPTORS:
                return VR.US
            return VR.SS if facts.pixel_representation == 1 else VR.US
        return choices[0]

    # -- the parse loop -----------------------------------------------------------------------

    def parse(
        self,
        pos: int,
        end: int,
        ctx: CodecContext,
        facts: PixelFacts,
        path: Path,
        mode: int,
        seq: _SeqFrame | None = None,
    ) -> tuple[dict[int, DataElement], int, bool, int, CodecContext, DataElement | None, bool]:
        """Parse a data set (``mode`` _TOP, _ITEM_DEFINED, _ITEM_UNDEFINED) from ``pos`` up to
        ``end``, or the items of one sequence (_SEQ_ROOT with ``seq``).

        Nested sequences and items are handled in this one loop with an explicit stack
        rather than by recursion: header-heavy files (SR content trees) hold more items
        than elements per item, and a call per item with its set-up would cost a third of
        the time.  The loop is in *data set mode* (``seq is None``: reading elements of the
        current level) or in *sequence mode* (between the items of ``seq``, an SQ element
        of the current level).  Entering an item pushes the current level; ending it pops.

        Returns (elements, end position, tags ascended, last tag, context at the end, the
        sequence element for _SEQ_ROOT, whether an SQ or UN element is among the elements).
        """
        buf = self.buf
        defer_size = self.defer_size
        cache = self.vr_cache
        fact_tags = _LEVEL_FACT_TAGS
        sq = VR.SQ
        un = VR.UN
        new = _new
        element_class = DataElement
        undecoded = UNDECODED
        dataset_class = Dataset
        list_append = list.append
        list_new = list.__new__
        sequence_class = Sequence
        frame_class = _SeqFrame

        elements: dict[int, DataElement] = {}
        last = -1
        in_order = True
        implicit = ctx.implicit_vr
        unpack_e, unpack_i, unpack_u32, short_vrs = _UNPACKERS[ctx.little_endian]
        if mode == _TOP:
            stop_hi = self.stop_before if self.stop_before is not None else _NEVER
            # Tag 0 at the top level is checked for trailing zero padding (see below).
            stop_lo = self.stop_below if self.stop_below is not None else 1
        else:
            stop_hi, stop_lo = _NEVER, -1
        # Items have no stop tags; `limited` spares them the two comparisons per element.
        limited = mode == _TOP
        # Whether an SQ or UN element was added to this level (Dataset._nested).
        nested = False
        # The deferral threshold for 16-bit lengths, kept a small int (faster to compare).
        defer_short = min(defer_size, 0x10000)
        stack: list[_Level] = []
        # Elements in depth-first order, as iter_all gives them (a sequence's slot is
        # reserved when it starts: its element is made when it ends).
        walk = self.walk if mode == _TOP else []
        walk_append = walk.append

        while True:
            if seq is None:
                # ---- data set mode: the next element of the current level ----
                if pos + 8 <= end:
                    if implicit:
                        group, number, length = unpack_i(buf, pos)
                        code = 0
                    else:
                        group, number, code, length = unpack_e(buf, pos)
                        vr = short_vrs.get(code)
                        if vr is not None and group != 0xFFFE:
                            tag = (group << 16) | number
                            start = pos + 8
                            stop = start + length
                            if (
                                tag > last
                                and stop <= end
                                and not length & 1
                                and length < defer_short
                                and (not limited or stop_lo <= tag < stop_hi)
                            ):
                                # The common case, on its own: a 16-bit length is never
                                # undefined and the VR is neither SQ nor UN (both have
                                # 32-bit lengths), so only order, bounds, parity,
                                # deferral and the stop tags (top level) are checked.
                                element = new(element_class)
                                element.tag = tag
                                element.vr = vr
                                element._raw = buf[start:stop]
                                element._value = undecoded
                                element._ctx = ctx
                                elements[tag] = element
                                walk_append(element)
                                last = tag
                                pos = stop
                                # _LEVEL_FACT_TAGS, as two int comparisons.
                                if tag == 0x00080005 or tag == 0x00280103:
                                    ctx, facts = self._level_facts(tag, element, ctx, facts)
                                continue
                    tag = (group << 16) | number
                    if group != 0xFFFE:
                        if (
                            limited
                            and (tag >= stop_hi or tag < stop_lo)
                            and (
                                tag != 0 or stop_lo != 1 or self._zero_padding(ctx, pos, end, path)
                            )
                        ):
                            return elements, pos, in_order, last, ctx, None, nested
                        if implicit:
                            choices = cache.get(tag)
                            if choices is not None and len(choices) == 1:
                                vr = choices[0]
                            else:
                                vr = self.implicit_vr(ctx, tag, facts)
                            start = pos + 8
                        else:
                            header = _VR_CODES[ctx.little_endian].get(code)
                            if header is not None:
                                vr, long_header = header
                                if long_header:
                                    if pos + 12 > end:
                                        self._trailing(ctx, pos, end, path, mode == _TOP)
                                        pos = end
                                        continue
                                    length = unpack_u32(buf, pos + 8)[0]
                                    start = pos + 12
                                else:
                                    start = pos + 8
                            else:
                                # Not a VR: some writers put implicit-VR elements in an
                                # explicit stream.
                                if not self._looks_implicit(ctx, pos, end, tag, path):
                                    pos = end
                                    continue
                                vr = self.implicit_vr(ctx, tag, facts)
                                length = unpack_u32(buf, pos + 4)[0]
                                start = pos + 8
                        if tag <= last:
                            in_order = (
                                self._order_problem(ctx, tag, last, pos, path, elements)
                                and in_order
                            )
                        last = tag
                        if vr is sq:
                            # The common case of _start_sequence, inline.
                            depth = 1 if path is None else path[3] + 1
                            if length == UNDEFINED:
                                seq_end = end
                            elif start + length <= end:
                                seq_end = start + length
                            else:
                                seq_end = self._value_end(ctx, tag, start, length, end, path)
                            if depth > MAX_DEPTH:
                                raise self.error(
                                    f"sequences nested deeper than {MAX_DEPTH}", pos, path, tag
                                )
                            # _SeqFrame(...) and Sequence._from_list(...), inline (two
                            # Python calls less per sequence: SR trees hold hundreds).
                            undefined = length == UNDEFINED
                            items = list_new(sequence_class)
                            items._undefined = undefined
                            items._token = None
                            items._encoded = None
                            seq = new(frame_class)
                            seq.tag = tag
                            seq.vr = sq
                            seq.start = start
                            seq.token = (
                                stack[-1][8].token  # type: ignore[union-attr]
                                if stack
                                else EditToken()
                            )
                            seq.problems = self.problems
                            seq.items = items
                            seq.end = seq_end
                            seq.undefined = undefined
                            seq.item_ctx = ctx
                            # The item header layout is the implicit element header's.
                            seq.item_header = unpack_i
                            seq.depth = depth
                            seq.walk_at = len(walk)
                            walk_append(None)
                            pos = start
                            continue
                        if length == UNDEFINED and vr is un:
                            seq = self._start_sequence(
                                tag, vr, start, length, end, ctx, path, stack
                            )
                            seq.walk_at = len(walk)
                            walk_append(None)
                            pos = start
                            continue
                        if length == UNDEFINED:
                            found = self.undefined_length(tag, vr, start, end, ctx, path)
                            if found is None:
                                seq = self._start_sequence(
                                    tag, sq, start, length, end, ctx, path, stack
                                )
                                seq.walk_at = len(walk)
                                walk_append(None)
                                pos = start
                                continue
                            element, pos = found
                        else:
                            stop = start + length
                            if stop > end or length & 1 or vr is un:
                                element, stop = self._unusual(
                                    tag, vr, start, length, end, ctx, path, facts
                                )
                            elif length >= defer_size:
                                assert self.defer is not None
                                element = raw_element(tag, vr, self.defer(start, length), ctx)
                            else:
                                element = new(element_class)
                                element.tag = tag
                                element.vr = vr
                                element._raw = buf[start:stop]
                                element._value = undecoded
                                element._ctx = ctx
                            pos = stop
                        elements[tag] = element
                        walk_append(element)
                        vr = element.vr
                        if vr is sq or vr is un:
                            nested = True
                        if tag in fact_tags:
                            ctx, facts = self._level_facts(tag, element, ctx, facts)
                        continue
                    # (FFFE,xxxx): an item delimiter ends an undefined-length item.
                    if tag == _ITEM_END and mode == _ITEM_UNDEFINED:
                        pos += 8
                    else:
                        self._stray_delimiter(ctx, tag, pos, path)
                        pos += 8
                        continue
                else:
                    # ---- the end of the current level's bytes ----
                    if pos < end:
                        self._trailing(ctx, pos, end, path, mode == _TOP)
                        pos = end
                    if mode == _TOP or not stack:
                        return elements, pos, in_order, last, ctx, None, nested
                    if mode == _ITEM_UNDEFINED:
                        self.problem(
                            ctx,
                            "item of undefined length ends without an Item Delimitation Item",
                            pos,
                            path,
                            None,
                        )
                # ---- the item is complete: back to its sequence ----
                item = new(dataset_class)
                item._elements = elements
                item._sorted = in_order
                item._last = last
                item._undefined = mode == _ITEM_UNDEFINED
                item._nested = nested
                item._walk = None
                item_ctx = ctx
                (
                    elements,
                    last,
                    in_order,
                    ctx,
                    facts,
                    end,
                    mode,
                    path,
                    seq,
                    limited,
                    nested,
                ) = stack.pop()
                if ctx is not item_ctx:
                    implicit = ctx.implicit_vr
                    unpack_e, unpack_i, unpack_u32, short_vrs = _UNPACKERS[ctx.little_endian]
                assert seq is not None
                item._token = seq.token
                list_append(seq.items, item)
                continue

            # ---- sequence mode: the next item of ``seq`` ----
            seq_end = seq.end
            finished = False
            if pos + 8 > seq_end:
                if pos < seq_end:
                    self.problem(ctx, "truncated item header", pos, path, seq.tag)
                    pos = seq_end
                elif seq.undefined:
                    self.problem(
                        ctx,
                        "sequence of undefined length ends without a Sequence Delimitation Item",
                        pos,
                        path,
                        seq.tag,
                    )
                finished = True
            else:
                item_ctx = seq.item_ctx
                group, number, length = seq.item_header(buf, pos)
                item_tag = (group << 16) | number
                if item_tag == _ITEM:
                    item_path: Path = (path, seq.tag, len(seq.items), seq.depth)
                    if length == UNDEFINED:
                        item_mode = _ITEM_UNDEFINED
                        item_end = seq_end
                    else:
                        item_mode = _ITEM_DEFINED
                        item_end = pos + 8 + length
                        if item_end > seq_end:
                            self.problem(
                                ctx,
                                f"item length {length} goes past the end of the sequence",
                                pos,
                                item_path,
                                None,
                            )
                            item_end = seq_end
                    stack.append(
                        (
                            elements,
                            last,
                            in_order,
                            ctx,
                            facts,
                            end,
                            mode,
                            path,
                            seq,
                            limited,
                            nested,
                        )
                    )
                    elements = {}
                    last = -1
                    in_order = True
                    nested = False
                    if item_ctx is not ctx:
                        ctx = item_ctx
                        implicit = item_ctx.implicit_vr
                        unpack_e, unpack_i, unpack_u32, short_vrs = _UNPACKERS[
                            item_ctx.little_endian
                        ]
                    end = item_end
                    mode = item_mode
                    path = item_path
                    seq = None
                    limited = False
                    pos += 8
                    continue
                if item_tag == _SEQ_END:
                    pos += 8
                    if seq.undefined:
                        finished = True
                    else:
                        self.problem(
                            ctx,
                            "Sequence Delimitation Item in a sequence of defined length",
                            pos - 8,
                            path,
                            seq.tag,
                        )
                else:
                    self.problem(
                        ctx,
                        f"{format_tag(item_tag)} where an item was expected (PS3.5 §7.5)",
                        pos,
                        path,
                        seq.tag,
                    )
                    # Best reading: the sequence ends here.
                    if not seq.undefined:
                        pos = seq_end
                    finished = True
            if finished:
                items = seq.items
                items._token = seq.token
                if seq.depth == 1 and seq.problems == self.problems and seq.vr is sq:
                    # A clean top-level sequence keeps its bytes for writers (Rule 1 of
                    # writer.py extended to whole sequences), unless large: nothing in it
                    # can then have been deferred.
                    size = pos - seq.start
                    if size < self.defer_size and size <= _MAX_KEPT:
                        items._encoded = (buf[seq.start : pos], seq.item_ctx)
                element = new(element_class)
                element.tag = seq.tag
                element.vr = seq.vr
                element._raw = None
                element._value = items
                element._ctx = None
                if mode == _SEQ_ROOT and not stack:
                    return elements, pos, in_order, last, ctx, element, True
                elements[seq.tag] = element
                walk[seq.walk_at] = element
                if seq.depth == 1:
                    self.walk_tokens.append(seq.token)
                nested = True
                seq = None

    # -- pieces of the loops ------------------------------------------------------------------

    def _unusual(
        self,
        tag: int,
        vr: VR,
        start: int,
        length: int,
        end: int,
        ctx: CodecContext,
        path: Path,
        facts: PixelFacts,
    ) -> tuple[DataElement, int]:
        """A defined-length value that is too long, odd, or UN: the slow path."""
        stop = self._value_end(ctx, tag, start, length, end, path)
        if length & 1:
            self.problem(ctx, f"odd value length {length} (PS3.5 §7.1.1)", start, path, tag)
        if vr is VR.UN:
            return self.unknown(tag, start, stop, ctx, path, facts), stop
        if stop - start >= self.defer_size:
            assert self.defer is not None
            return raw_element(tag, vr, self.defer(start, stop - start), ctx), stop
        return raw_element(tag, vr, self.buf[start:stop], ctx), stop

    def _level_facts(
        self, tag: int, element: DataElement, ctx: CodecContext, facts: PixelFacts
    ) -> tuple[CodecContext, PixelFacts]:
        """Note the facts later elements of this level depend on (charset, pixel format)."""
        value = element.value
        if tag == _SPECIFIC_CHARACTER_SET:
            if isinstance(value, str):
                terms: tuple[str, ...] = (value,)
            elif isinstance(value, tuple):
                terms = tuple(v if isinstance(v, str) else "" for v in value)
            else:
                terms = ()
            return ctx.with_charset(terms), facts
        number = value if isinstance(value, int) else None
        return ctx, facts._replace(pixel_representation=number)

    def _value_end(
        self, ctx: CodecContext, tag: int, start: int, length: int, end: int, path: Path
    ) -> int:
        """End of a value of ``length`` at ``start``; lenient mode cuts it at ``end``."""
        stop = start + length
        if stop > end:
            self.problem(
                ctx,
                f"value length {length} goes past the end of its container "
                f"({end - start} bytes left)",
                start,
                path,
                tag,
            )
            return end
        return stop

    def _trailing(self, ctx: CodecContext, pos: int, end: int, path: Path, top: bool) -> None:
        self.problems += 1
        rest = bytes(self.buf[pos:end])
        if top and not rest.strip(b"\x00"):
            warnings.warn(
                str(self.error(f"{end - pos} trailing zero bytes ignored", pos, path, None)),
                DicomWarning,
                stacklevel=3,
            )
            return
        self.problem(ctx, f"truncated element header ({end - pos} bytes left)", pos, path, None)

    def _zero_padding(self, ctx: CodecContext, pos: int, end: int, path: Path) -> bool:
        """True (after a warning) if the top-level data set ends in zero bytes at ``pos``."""
        if any(self.buf[pos:end]):
            return False
        self._trailing(ctx, pos, end, path, True)
        return True

    def _stray_delimiter(self, ctx: CodecContext, tag: int, pos: int, path: Path) -> None:
        self.problem(ctx, f"unexpected {format_tag(tag)} in a data set; skipped", pos, path, None)

    def _looks_implicit(self, ctx: CodecContext, pos: int, end: int, tag: int, path: Path) -> bool:
        code = bytes(self.buf[pos + 4 : pos + 6])
        if not any(code) and not any(self.buf[pos:end]):
            # All zero from here: padding after the data set.
            self._trailing(ctx, pos, end, path, top=True)
            return False
        self.problem(
            ctx,
            f"{code!r} is not a VR; element read as implicit VR (PS3.5 §7.1.3)",
            pos,
            path,
            tag,
        )
        return True

    def _order_problem(
        self,
        ctx: CodecContext,
        tag: int,
        last: int,
        pos: int,
        path: Path,
        elements: dict[int, DataElement],
    ) -> bool:
        """Report a repeated or descending tag; returns whether the order still ascends."""
        if tag in elements:
            self.problem(ctx, "the tag occurs twice; the last one is kept", pos, path, tag)
            return tag == last
        self.problem(
            ctx,
            f"tags out of order ({format_tag(tag)} after {format_tag(last)}, PS3.5 §7.1)",
            pos,
            path,
            tag,
        )
        return False

    def _start_sequence(
        self,
        tag: int,
        vr: VR,
        start: int,
        length: int,
        end: int,
        ctx: CodecContext,
        path: Path,
        stack: list[_Level],
    ) -> _SeqFrame:
        """The frame of a sequence whose items start at ``start`` (PS3.5 §7.5)."""
        parent = stack[-1][8] if stack else None
        token = parent.token if parent is not None else None
        depth = path_depth(path) + 1
        if depth > MAX_DEPTH:
            raise self.error(f"sequences nested deeper than {MAX_DEPTH}", start, path, tag)
        if length == UNDEFINED:
            seq_end = end
        else:
            seq_end = self._value_end(ctx, tag, start, length, end, path)
        if vr is VR.UN:
            # PS3.5 §6.2.2: a UN of undefined length holds Implicit VR Little Endian items.
            known = self.dictionary_vrs(ctx, tag) == (VR.SQ,)
            implicit = ctx.with_syntax(little_endian=True, implicit_vr=True)
            return _SeqFrame(
                tag,
                VR.SQ if known else VR.UN,
                seq_end,
                True,
                implicit,
                depth,
                start,
                token,
                self.problems,
            )
        return _SeqFrame(
            tag, vr, seq_end, length == UNDEFINED, ctx, depth, start, token, self.problems
        )

    def unknown(
        self,
        tag: int,
        start: int,
        stop: int,
        ctx: CodecContext,
        path: Path,
        facts: PixelFacts,
    ) -> DataElement:
        """A UN element of defined length: re-read with its dictionary VR if known."""
        raw = self.buf[start:stop]
        choices = self.dictionary_vrs(ctx, tag)
        if not choices or choices == (VR.UN,):
            return raw_element(tag, VR.UN, raw, ctx)
        vr = self.implicit_vr(ctx, tag, facts)
        # Read with another VR than the stream's: written differently, so not kept as is.
        self.problems += 1
        if vr is not VR.SQ:
            return raw_element(tag, vr, raw, ctx)
        # A sequence sent as UN: its items are Implicit VR Little Endian (PS3.5 §6.2.2).
        implicit = ctx.with_syntax(little_endian=True, implicit_vr=True)
        frame = _SeqFrame(tag, VR.SQ, len(raw), False, implicit, path_depth(path) + 1)
        inner = _Reader(raw, ReadOptions(source=self.source))
        element = inner.parse(0, len(raw), implicit, facts, path, _SEQ_ROOT, frame)[5]
        assert element is not None
        return element

    def undefined_length(
        self, tag: int, vr: VR, start: int, end: int, ctx: CodecContext, path: Path
    ) -> tuple[DataElement, int] | None:
        """A non-SQ element of undefined length: encapsulated pixel data, or None when it
        is to be read as a sequence (after a warning)."""
        if vr in (VR.OB, VR.OW) or tag == _PIXEL_DATA:
            return self.encapsulated(tag, vr, start, end, ctx, path)
        self.problem(
            ctx,
            f"undefined length for VR {vr.value}; read as a sequence (PS3.5 §7.1.1)",
            start,
            path,
            tag,
        )
        return None

    def encapsulated(
        self, tag: int, vr: VR, start: int, end: int, ctx: CodecContext, path: Path
    ) -> tuple[DataElement, int]:
        """Encapsulated pixel data (PS3.5 §A.4): items up to the sequence delimiter.

        The element keeps the VR of the stream (OB as §A.4 requires, or the OW some writers
        use; the writer always writes OB)."""
        buf = self.buf
        unpack = (_IHEAD_LE if ctx.little_endian else _IHEAD_BE).unpack_from
        pos = start
        while True:
            if pos + 8 > end:
                self.problem(
                    ctx,
                    "encapsulated pixel data ends without a Sequence Delimitation Item",
                    pos,
                    path,
                    tag,
                )
                data = bytes(buf[start:end]) + _delimiter(ctx.little_endian)
                return decoded_element(tag, vr, Encapsulated(data)), end
            group, number, length = unpack(buf, pos)
            item_tag = (group << 16) | number
            if item_tag == _SEQ_END:
                pos += 8
                break
            if item_tag != _ITEM or length == UNDEFINED:
                self.problem(
                    ctx,
                    f"{format_tag(item_tag)} where a fragment item was expected (PS3.5 §A.4)",
                    pos,
                    path,
                    tag,
                )
                data = bytes(buf[start:pos]) + _delimiter(ctx.little_endian)
                return decoded_element(tag, vr, Encapsulated(data)), end
            if pos + 8 + length > end:
                self.problem(ctx, f"fragment length {length} goes past the end", pos, path, tag)
                data = bytes(buf[start:pos]) + _delimiter(ctx.little_endian)
                return decoded_element(tag, vr, Encapsulated(data)), end
            pos += 8 + length
        size = pos - start
        source: bytes | DeferredSource
        if size >= self.defer_size:
            assert self.defer is not None
            source = self.defer(start, size)
        else:
            source = buf[start:pos]
        return decoded_element(tag, vr, Encapsulated(source)), pos


def _delimiter(little_endian: bool) -> bytes:
    return (_IHEAD_LE if little_endian else _IHEAD_BE).pack(0xFFFE, 0xE0DD, 0)


def read_dataset(
    buf: Buffer | bytearray | memoryview,
    ctx: CodecContext,
    *,
    offset: int = 0,
    end: int | None = None,
    options: ReadOptions | None = None,
) -> tuple[Dataset, int, CodecContext]:
    """Read a data set from ``buf[offset:end]`` encoded as ``ctx`` says.

    Returns
    -------
    (Dataset, int, CodecContext)
        The data set, the position where reading stopped (``end``, or the first tag at or
        after ``options.stop_before``), and the context at the end (with the data set's
        Specific Character Set).

    Raises
    ------
    DecodeError
        Strict mode: any deviation from PS3.5.  Lenient mode: only what cannot be read at
        all (sequences nested deeper than :data:`MAX_DEPTH`).

    References
    ----------
    PS3.5 §7.1 (elements), §7.5 (sequences and items), §6.2.2 (UN), Annex A (syntaxes).
    """
    opts = options or ReadOptions()
    data: Buffer = buf if isinstance(buf, (bytes, mmap.mmap)) else bytes(buf)
    stop = len(data) if end is None else min(end, len(data))
    reader = _Reader(data, opts)
    paused = gc.isenabled()
    # The tree is acyclic and made of many small objects: pausing the cycle collector while
    # it is built avoids repeated scans of the growing tree (~2x faster on header-heavy
    # files).  Reference counting still frees everything as usual.
    if paused:
        gc.disable()
    try:
        elements, pos, in_order, last, final_ctx, _, nested = reader.parse(
            offset, stop, ctx, _NO_FACTS, None, _TOP
        )
    finally:
        if paused:
            gc.enable()
    dataset = Dataset._from_dict(elements, in_order, last, None, nested)
    if not reader.problems:
        # Nothing was out of order, repeated or re-read: the walk is iter_all's order.
        dataset._walk = (reader.walk, tuple(reader.walk_tokens))  # type: ignore[assignment]
    return dataset, pos, final_ctx


def read_element_header(
    buf: Buffer, pos: int, ctx: CodecContext
) -> tuple[int, VR | None, int, int]:
    """(tag, VR or None, value length, value offset) of the element header at ``pos``.

    The VR is None for implicit streams, item and delimiter tags, and bytes that are not a VR.
    The caller checks ``pos + 12 <= len(buf)`` (or 8 for implicit streams).
    """
    le = ctx.little_endian
    if ctx.implicit_vr:
        group, number, length = (_IHEAD_LE if le else _IHEAD_BE).unpack_from(buf, pos)
        return (group << 16) | number, None, length, pos + 8
    group, number, code, short = (_HEAD_LE if le else _HEAD_BE).unpack_from(buf, pos)
    tag = (group << 16) | number
    header = VR_HEADERS.get(code) if group != 0xFFFE else None
    if header is None:
        length = (_U32_LE if le else _U32_BE).unpack_from(buf, pos + 4)[0]
        return tag, None, length, pos + 8
    vr, long_header = header
    if long_header:
        return tag, vr, (_U32_LE if le else _U32_BE).unpack_from(buf, pos + 8)[0], pos + 12
    return tag, vr, short, pos + 8
