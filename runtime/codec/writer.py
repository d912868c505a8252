"""Dataset -> bytes or a stream, in any native transfer syntax (PS3.5 §7, Annex A).

Theory of operation
-------------------
The writer appends encoded elements to a ``bytearray``.  A deferred value (one still in
its file, runtime/media) is not loaded: the writer closes the current ``bytearray`` and
records the deferred source as the next piece, so the output is a list of pieces that is
written to a stream one after another, streaming the deferred ones in chunks.  Lengths that
are known only after their content (items and sequences of defined length, group lengths)
are written as placeholders and patched in place when the content is done: the placeholder
stays in its ``bytearray`` even after later pieces were started, so patching works across
deferred values too.

Rule 1 -- raw bytes read from a stream are written back unchanged when their encoding
context matches the output: always for VRs whose bytes do not depend on it (OB, UN, the
ASCII text VRs), for byte-order dependent VRs when the byte order matches, and for VRs that
use the Specific Character Set when the character set is the same.  Otherwise the value is
decoded and re-encoded.  So reading a file and writing it in its own transfer syntax gives
the same bytes, DS/IS/text included (PS3.5 §6.2: the writer need not understand a value to
preserve it).

Rule 1 holds for whole sequences too: a sequence read from a stream keeps its bytes
(runtime/core/sequence.py), and while nothing in it has changed and the output uses the
same encoding, those bytes are written as they are.

Rule 2 -- lengths: by default sequences and items keep the length form they were read
with (undefined with delimiters, or explicit) and new ones get explicit lengths;
:class:`LengthPolicy` forces one form.  Group Length elements (gggg,0000) present in a
data set are recomputed (PS3.5 §7.2).  Values are padded to even length (PS3.5 §7.1.1).
"""

from __future__ import annotations

import enum
import struct
import warnings
from collections.abc import Iterator
from typing import BinaryIO, Final, TypeAlias

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.value_wiring import TextCodec, text_codec
from dicompile.runtime.codec.vr_codecs import VR_CODECS, swap_bytes
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, DeferredSource, Encapsulated
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind
from dicompile.runtime.errors import DicomWarning, EncodeError

UNDEFINED: Final = 0xFFFFFFFF
_SPECIFIC_CHARACTER_SET: Final = 0x00080005
#: Chunk size for streaming deferred values.
STREAM_CHUNK: Final = 1 << 20


class LengthPolicy(enum.Enum):
    """How sequence and item lengths are written (PS3.5 §7.5.2)."""

    #: As read; explicit lengths for sequences and items made in memory.
    PRESERVE = "preserve"
    #: Explicit lengths everywhere.
    DEFINED = "defined"
    #: Undefined lengths with delimitation items everywhere.
    UNDEFINED = "undefined"


@attrs.frozen
class WriteOptions:
    lengths: LengthPolicy = LengthPolicy.PRESERVE


class _Depends(enum.Enum):
    NOTHING = 0
    CHARSET = 1
    BYTE_ORDER = 2


def _depends(vr: VR) -> _Depends:
    info = VR_INFO[vr]
    if info.kind is VRKind.TEXT:
        return _Depends.CHARSET if info.uses_charset else _Depends.NOTHING
    if info.kind is VRKind.NUMBER or (info.kind is VRKind.BYTES and info.item_size > 1):
        return _Depends.BYTE_ORDER
    return _Depends.NOTHING


#: What the bytes of each VR depend on besides the value.
_DEPENDS: Final = {vr: _depends(vr) for vr in VR}
#: Per VR, for the writer's fast path: (2-byte code, 12-byte explicit header, dependency as
#: 0 nothing / 1 character set / 2 byte order).
_VR_FACTS: Final[dict[VR, tuple[bytes, bool, int]]] = {
    vr: (vr.value.encode("ascii"), VR_INFO[vr].long_header, _DEPENDS[vr].value) for vr in VR
}


@attrs.frozen
class SwappedSource:
    """A deferred value streamed with its words byte-swapped (LE <-> BE, PS3.5 §7.3)."""

    source: DeferredSource
    word_size: int

    @property
    def length(self) -> int:
        return self.source.length

    def read(self) -> bytes:
        return swap_bytes(self.source.read(), self.word_size)

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        size = max(self.word_size, chunk_size - chunk_size % self.word_size)
        carry = b""
        for chunk in self.source.iter_chunks(size):
            data = carry + chunk
            whole = len(data) - len(data) % self.word_size
            carry = data[whole:]
            yield swap_bytes(data[:whole], self.word_size)
        if carry:
            yield carry


#: A piece of the output: bytes in memory (a ``bytearray`` the writer filled, or the
#: ``bytes`` of a sequence copied as read) or a deferred value still in its file.
Piece: TypeAlias = bytearray | bytes | DeferredSource


class _Format:
    """Header packing for one (byte order, VR explicitness)."""

    __slots__ = ("implicit", "item", "long", "short", "u16", "u32")

    def __init__(self, little_endian: bool, implicit: bool) -> None:
        order = "<" if little_endian else ">"
        self.implicit = implicit
        self.short = struct.Struct(order + "HH2sH")
        self.long = struct.Struct(order + "HH2s2xL")
        self.item = struct.Struct(order + "HHL")
        self.u32 = struct.Struct(order + "L")
        self.u16 = struct.Struct(order + "H")


_FORMATS: Final = {
    (le, implicit): _Format(le, implicit) for le in (True, False) for implicit in (True, False)
}
_CODES: Final = {vr: vr.value.encode("ascii") for vr in VR}


#: Kept sequence bytes at least this long become a piece of their own instead of being
#: copied into the buffer: the file writer hands them to ``writev`` as they are, and the
#: copy (a pass over memory the size of the file, for a header-heavy file) is saved.
_OWN_PIECE: Final = 1 << 12


class _Writer:
    """One encoding run: the pieces made so far and the pending length patches."""

    __slots__ = ("buf", "flushed", "lengths", "pieces")

    def __init__(self, options: WriteOptions) -> None:
        self.pieces: list[Piece] = []
        self.buf = bytearray()
        self.flushed = 0
        self.lengths = options.lengths

    def tell(self) -> int:
        return self.flushed + len(self.buf)

    def add_deferred(self, source: DeferredSource) -> None:
        self.pieces.append(self.buf)
        self.flushed += len(self.buf)
        self.pieces.append(source)
        self.flushed += source.length
        self.buf = bytearray()

    def add_bytes(self, data: bytes) -> None:
        """``data`` as a piece of its own, after what the buffer holds (no copy)."""
        if self.buf:
            self.pieces.append(self.buf)
            self.flushed += len(self.buf)
            self.buf = bytearray()
        self.pieces.append(data)
        self.flushed += len(data)

    def finish(self) -> list[Piece]:
        if self.buf:
            self.pieces.append(self.buf)
            self.flushed += len(self.buf)
            self.buf = bytearray()
        return self.pieces

    # -- data sets ---------------------------------------------------------------------------

    def dataset(self, ds: Dataset, ctx: CodecContext) -> None:
        charset = ds._elements.get(_SPECIFIC_CHARACTER_SET)
        if charset is not None:
            # CodecContext.with_charset, with the derived context made once per pair.
            codec = text_codec(_terms(charset), strict=ctx.strict)
            if codec is not ctx.text:
                ctx = _with_text(ctx, codec)
        fmt = _FORMATS[(ctx.little_endian, ctx.implicit_vr)]
        implicit = fmt.implicit
        pack_short = fmt.short.pack
        pack_long = fmt.long.pack
        pack_implicit = fmt.item.pack
        text = ctx.text
        little_endian = ctx.little_endian
        context_class = CodecContext
        facts = _VR_FACTS
        group_patch: tuple[int, bytearray, int, int] | None = None
        for element in ds._ordered().values():
            tag = element.tag
            if group_patch is not None and tag >> 16 != group_patch[0]:
                self._patch_group(group_patch, fmt)
                group_patch = None
            if not tag & 0xFFFF and tag >> 16 != 0xFFFE:
                group_patch = self._group_length(tag, fmt)
                continue
            # The fast path (Rule 1): raw bytes of even length that can be copied as they
            # are.  Everything else goes through element().
            raw = element._raw
            if raw.__class__ is bytes:
                vr = element.vr
                code, long_header, depends = facts[vr]
                length = len(raw)
                if not length & 1 and (
                    depends == 0
                    or (
                        (source := element._ctx).__class__ is context_class
                        and (
                            source.text is text
                            if depends == 1
                            else source.little_endian == little_endian
                        )
                    )
                ):
                    buf = self.buf
                    if implicit:
                        buf += pack_implicit(tag >> 16, tag & 0xFFFF, length)
                    elif long_header:
                        buf += pack_long(tag >> 16, tag & 0xFFFF, code, length)
                    elif length <= 0xFFFF:
                        buf += pack_short(tag >> 16, tag & 0xFFFF, code, length)
                    else:
                        self.element(element, ctx, fmt)
                        continue
                    buf += raw
                    continue
            self.element(element, ctx, fmt)
        if group_patch is not None:
            self._patch_group(group_patch, fmt)

    def _group_length(self, tag: int, fmt: _Format) -> tuple[int, bytearray, int, int]:
        """Write a Group Length placeholder; returns what :meth:`_patch_group` needs."""
        buf = self.buf
        if fmt.implicit:
            buf += fmt.item.pack(tag >> 16, 0, 4)
        else:
            buf += fmt.short.pack(tag >> 16, 0, b"UL", 4)
        position = len(buf)
        buf += b"\x00\x00\x00\x00"
        return tag >> 16, buf, position, self.tell()

    def _patch_group(self, patch: tuple[int, bytearray, int, int], fmt: _Format) -> None:
        _, buf, position, start = patch
        fmt.u32.pack_into(buf, position, self.tell() - start)

    # -- elements ----------------------------------------------------------------------------

    def element(self, element: DataElement, ctx: CodecContext, fmt: _Format) -> None:
        tag = element.tag
        vr = element.vr
        if vr is VR.SQ:
            value = element.value
            if not isinstance(value, Sequence):
                raise EncodeError(f"{format_tag(tag)}: an SQ value must be a Sequence")
            self.sequence(tag, VR.SQ, value, ctx, fmt)
            return
        raw = element.raw
        if raw is not None:
            source = element.decoder
            depends = _DEPENDS[vr]
            if depends is _Depends.NOTHING or (
                isinstance(source, CodecContext)
                and (
                    (depends is _Depends.CHARSET and source.text is ctx.text)
                    or (
                        depends is _Depends.BYTE_ORDER and source.little_endian == ctx.little_endian
                    )
                )
            ):
                if isinstance(raw, bytes):
                    self.value(tag, vr, raw, fmt, ctx)
                else:
                    self.deferred_value(tag, vr, raw, fmt, ctx)
                return
            if (
                not isinstance(raw, bytes)
                and depends is _Depends.BYTE_ORDER
                and VR_INFO[vr].kind is VRKind.BYTES
            ):
                # A deferred OW/OF/... in the other byte order: swap while streaming.
                self.deferred_value(tag, vr, SwappedSource(raw, VR_INFO[vr].item_size), fmt, ctx)
                return
        value = element.value
        if isinstance(value, Encapsulated):
            self.encapsulated(tag, value, fmt, ctx)
            return
        if isinstance(value, Sequence):  # a UN of undefined length read as items
            self.sequence(tag, VR.UN, value, ctx, fmt)
            return
        self.value(tag, vr, VR_CODECS[vr].encode(value, ctx), fmt, ctx)

    def value(self, tag: int, vr: VR, data: bytes, fmt: _Format, ctx: CodecContext) -> None:
        length = len(data)
        if length & 1:
            data += VR_INFO[vr].padding
            length += 1
        self.header(tag, vr, length, fmt, ctx)
        self.buf += data

    def deferred_value(
        self, tag: int, vr: VR, source: DeferredSource, fmt: _Format, ctx: CodecContext
    ) -> None:
        length = source.length
        self.header(tag, vr, length + (length & 1), fmt, ctx)
        self.add_deferred(source)
        if length & 1:
            self.buf += VR_INFO[vr].padding

    def header(self, tag: int, vr: VR, length: int, fmt: _Format, ctx: CodecContext) -> None:
        group = tag >> 16
        number = tag & 0xFFFF
        if fmt.implicit:
            self.buf += fmt.item.pack(group, number, length)
        elif VR_INFO[vr].long_header:
            self.buf += fmt.long.pack(group, number, _CODES[vr], length)
        elif length <= 0xFFFF:
            self.buf += fmt.short.pack(group, number, _CODES[vr], length)
        else:
            # A value too long for a 16-bit length is sent as UN (PS3.5 §6.2.2, 2019+).
            message = (
                f"{format_tag(tag)}: {vr.value} value of {length} bytes exceeds the 16-bit "
                "length of explicit VR; written as UN"
            )
            if ctx.strict:
                raise EncodeError(message)
            warnings.warn(message, DicomWarning, stacklevel=4)
            self.buf += fmt.long.pack(group, number, b"UN", length)

    def encapsulated(self, tag: int, value: Encapsulated, fmt: _Format, ctx: CodecContext) -> None:
        """Encapsulated pixel data: undefined length, items as held (PS3.5 §A.4)."""
        if not ctx.little_endian:
            raise EncodeError(
                f"{format_tag(tag)}: encapsulated pixel data needs a little endian transfer "
                "syntax (PS3.5 Annex A.4)"
            )
        if fmt.implicit:
            self.buf += fmt.item.pack(tag >> 16, tag & 0xFFFF, UNDEFINED)
        else:
            self.buf += fmt.long.pack(tag >> 16, tag & 0xFFFF, b"OB", UNDEFINED)
        data = value.data
        if isinstance(data, bytes):
            self.buf += data
        else:
            self.add_deferred(data)

    def sequence(self, tag: int, vr: VR, value: Sequence, ctx: CodecContext, fmt: _Format) -> None:
        """A sequence and its items (PS3.5 §7.5); a UN sequence is Implicit VR LE inside."""
        if vr is VR.SQ and self.lengths is LengthPolicy.PRESERVE:
            kept = value.encoded
            if kept is not None:
                data, source = kept
                if (
                    isinstance(source, CodecContext)
                    and source.little_endian == ctx.little_endian
                    and source.implicit_vr == ctx.implicit_vr
                    and source.text is ctx.text
                ):
                    # Unchanged since read, in this very encoding: its bytes as they were
                    # (Rule 1 for a whole sequence; runtime/core/sequence.py).
                    length = UNDEFINED if value.undefined_length else len(data)
                    if fmt.implicit:
                        self.buf += fmt.item.pack(tag >> 16, tag & 0xFFFF, length)
                    else:
                        self.buf += fmt.long.pack(tag >> 16, tag & 0xFFFF, b"SQ", length)
                    if len(data) >= _OWN_PIECE:
                        self.add_bytes(data)  # written from where it is, not copied
                    else:
                        self.buf += data
                    return
        if vr is VR.UN:
            undefined = True
            inner_ctx = ctx.with_syntax(little_endian=True, implicit_vr=True)
        else:
            undefined = self._undefined(value.undefined_length)
            inner_ctx = ctx
        inner = _FORMATS[(inner_ctx.little_endian, inner_ctx.implicit_vr)]
        group, number = tag >> 16, tag & 0xFFFF
        buf = self.buf
        if fmt.implicit:
            buf += fmt.item.pack(group, number, UNDEFINED)
        else:
            buf += fmt.long.pack(group, number, _CODES[vr], UNDEFINED)
        position = len(buf) - 4
        start = self.tell()
        for item in value:
            item_undefined = undefined if vr is VR.UN else self._undefined(item.undefined_length)
            self.buf += inner.item.pack(0xFFFE, 0xE000, UNDEFINED)
            item_buf = self.buf
            item_position = len(item_buf) - 4
            item_start = self.tell()
            self.dataset(item, inner_ctx)
            if item_undefined:
                self.buf += inner.item.pack(0xFFFE, 0xE00D, 0)
            else:
                inner.u32.pack_into(item_buf, item_position, self.tell() - item_start)
        if undefined:
            self.buf += inner.item.pack(0xFFFE, 0xE0DD, 0)
        else:
            fmt.u32.pack_into(buf, position, self.tell() - start)

    def _undefined(self, recorded: bool | None) -> bool:
        if self.lengths is LengthPolicy.PRESERVE:
            return bool(recorded)
        return self.lengths is LengthPolicy.UNDEFINED


#: Contexts derived for a Specific Character Set, by (context, id of the text codec).
_DERIVED: Final[dict[tuple[CodecContext, int], CodecContext]] = {}


def _with_text(ctx: CodecContext, codec: TextCodec) -> CodecContext:
    """``ctx`` with the text codec of a data set's Specific Character Set (PS3.5 §6.1).

    Contexts never change, so the derived one is made once per (context, codec) and shared:
    making it anew for every data set (``attrs.evolve``) was a tenth of encoding a small
    file.  The contexts of :func:`~dicompile.runtime.media.part10.encode_file` are shared
    too, so the cache holds a handful of entries (it is emptied past 64).
    """
    key = (ctx, id(codec))
    derived = _DERIVED.get(key)
    if derived is None or derived.text is not codec:  # an id may be reused
        if len(_DERIVED) >= 64:
            _DERIVED.clear()
        derived = _DERIVED[key] = attrs.evolve(ctx, text=codec)
    return derived


def _terms(element: DataElement) -> tuple[str, ...]:
    value = element.value
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple):
        return tuple(v if isinstance(v, str) else "" for v in value)
    return ()


def encode_pieces(
    ds: Dataset, ctx: CodecContext, options: WriteOptions | None = None
) -> list[Piece]:
    """The encoding of ``ds`` as pieces: bytearrays and deferred sources, in order."""
    writer = _Writer(options or WriteOptions())
    writer.dataset(ds, ctx)
    return writer.finish()


def encode_dataset(ds: Dataset, ctx: CodecContext, options: WriteOptions | None = None) -> bytes:
    """The bytes of ``ds`` encoded as ``ctx`` says (deferred values are read in).

    References
    ----------
    PS3.5 §7.1 (elements), §7.5 (sequences), §7.3 (byte order), Annex A.
    """
    return b"".join(
        piece if isinstance(piece, bytes | bytearray) else piece.read()
        for piece in encode_pieces(ds, ctx, options)
    )


def write_pieces(pieces: list[Piece], stream: BinaryIO, chunk_size: int = STREAM_CHUNK) -> int:
    """Write pieces to ``stream``, streaming deferred ones in chunks; returns bytes written.

    Consecutive in-memory pieces are joined into one write of at most ``chunk_size`` bytes
    (a file of small pieces is then one system call, not one per piece); a piece of
    ``_JOIN_LIMIT`` bytes or more is written on its own, as copying it would cost more
    than the system call saved.
    """
    written = 0
    pending: list[bytes | bytearray] = []
    pending_size = 0
    for piece in pieces:
        if isinstance(piece, bytes | bytearray):
            if len(piece) >= _JOIN_LIMIT:
                if pending:
                    written += _flush(pending, stream)
                    pending, pending_size = [], 0
                stream.write(piece)
                written += len(piece)
                continue
            if pending_size + len(piece) > chunk_size and pending:
                written += _flush(pending, stream)
                pending, pending_size = [], 0
            pending.append(piece)
            pending_size += len(piece)
            continue
        if pending:
            written += _flush(pending, stream)
            pending, pending_size = [], 0
        for chunk in piece.iter_chunks(chunk_size):
            stream.write(chunk)
            written += len(chunk)
    if pending:
        written += _flush(pending, stream)
    return written


#: In-memory pieces at least this large are written without joining them to others.
_JOIN_LIMIT: Final = 1 << 16


def _flush(pieces: list[bytes | bytearray], stream: BinaryIO) -> int:
    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    stream.write(data)
    return len(data)


def write_dataset(
    ds: Dataset, ctx: CodecContext, stream: BinaryIO, options: WriteOptions | None = None
) -> int:
    """Write ``ds`` to a binary stream; deferred values are streamed, never loaded whole.

    Returns the number of bytes written.

    References
    ----------
    PS3.5 §7, Annex A.
    """
    return write_pieces(encode_pieces(ds, ctx, options), stream)
