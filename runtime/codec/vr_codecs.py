"""Value codecs, one per VR, in a typed table (STYLE.md item 7; PS3.5 §6.2, §7.3).

``VR_CODECS[vr].decode(raw, ctx)`` turns a value's bytes into its Python value and
``VR_CODECS[vr].encode(value, ctx)`` turns a value into bytes, padded to even length
(PS3.5 §7.1.1).  The :class:`~dicompile.runtime.codec.context.CodecContext` carries byte order,
character set and strictness; codecs keep no state.

Decoded forms (see :data:`dicompile.runtime.core.element.ElementValue`):

* text VRs: one value per backslash-separated part (LT ST UT UR are never split), with the
  padding PS3.5 Table 6.2-1 calls insignificant removed (core/values/text.py PADDING; and
  trailing NULs); ``str``, or PersonName / DA / TM / DT for PN DA TM DT
  (runtime/core/values, reached through value_wiring.py);
* DS and IS: :class:`DS` / :class:`IS` numbers that keep their text; a component that is
  not a number is an error in strict mode and stays text (with a :class:`DicomWarning`)
  otherwise;
* FL FD SL SS SV UL US UV: numbers; AT: tags as ``int``;
* OB OD OF OL OV OW UN: ``bytes`` in little-endian order (swapped per word when read from or
  written to Explicit VR Big Endian, PS3.5 §7.3).

One value gives a scalar, several a tuple, an empty value None.
"""

from __future__ import annotations

import array
import struct
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Protocol

from dicompile.runtime.codec.value_wiring import STRIP_LEADING, TEXT_TYPES
from dicompile.runtime.core.element import ElementValue, Encapsulated, ScalarValue
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values import DS, IS, ds_value, ds_values, is_value, is_values
from dicompile.runtime.core.values import format_ds as values_format_ds
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError

if TYPE_CHECKING:
    from dicompile.runtime.codec.context import CodecContext


class VRCodec(Protocol):
    """Decode and encode the values of one VR."""

    @property
    def vr(self) -> VR: ...

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        """The value of ``raw`` (the whole value field, padding included)."""
        ...

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        """The value field for ``value``, padded to even length."""
        ...


def _problem(ctx: CodecContext, message: str) -> None:
    """Raise in strict mode, warn in lenient mode (the caller then does its best)."""
    if ctx.strict:
        raise DecodeError(message)
    warnings.warn(message, DicomWarning, stacklevel=4)


# -- text ------------------------------------------------------------------------------------


class StringCodec:
    """Character string VRs (PS3.5 §6.2, Table 6.2-1)."""

    __slots__ = ("_charset", "_factory", "_multi", "_pad", "_strip_leading", "vr")

    def __init__(self, vr: VR) -> None:
        info = VR_INFO[vr]
        self.vr = vr
        self._charset = info.uses_charset
        self._multi = info.multi_valued
        self._pad = info.padding
        self._strip_leading = vr in STRIP_LEADING
        self._factory = TEXT_TYPES.get(vr)

    def _split(self, raw: bytes, ctx: CodecContext) -> list[str] | None:
        """The values as stripped strings, or None for an empty value (padding only)."""
        # Without a character set only the default repertoire is allowed (PS3.5 §6.1.2.3);
        # latin-1 never fails and loses nothing.
        text = ctx.text.decode(raw, self.vr) if self._charset else raw.decode("latin-1")
        # Trailing NUL: UI padding, and a frequent non-conformant pad of other VRs.
        text = text.rstrip(" \x00")
        if not text:
            return None
        if not self._multi:
            return [text]
        if "\\" in text:
            if self._strip_leading:
                return [part.strip(" \x00") for part in text.split("\\")]
            return [part.rstrip(" \x00") for part in text.split("\\")]
        return [text.lstrip(" ") if self._strip_leading else text]

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        # The common case -- one value, no factory -- inline: this runs once per element.
        if not raw:
            return None
        if self._charset:
            text_codec = ctx.text
            single = text_codec.single_codec
            if single is None:
                text = text_codec.decode(raw, self.vr)
            else:
                # The text codec's own fast path, without the call.
                try:
                    text = raw.decode(single)
                except UnicodeDecodeError:
                    text = text_codec.decode(raw, self.vr)  # lenient, with a warning
        else:
            text = raw.decode("latin-1")
        text = text.rstrip(" \x00")
        if not text:
            return None
        factory = self._factory
        if not self._multi:
            return text if factory is None else factory(text)
        if "\\" not in text:
            if self._strip_leading:
                text = text.lstrip(" ")
            return text if factory is None else factory(text)
        if self._strip_leading:
            parts = [part.strip(" \x00") for part in text.split("\\")]
        else:
            parts = [part.rstrip(" \x00") for part in text.split("\\")]
        if factory is None:
            return tuple(parts)
        return tuple([factory(part) for part in parts])

    def _format(self, value: ScalarValue | None) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            raise EncodeError(f"a {self.vr.value} value is text, not bool")
        return value if isinstance(value, str) else str(value)

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        if value is None:
            return b""
        if isinstance(value, tuple):
            if not self._multi:
                raise EncodeError(
                    f"{self.vr.value} is single-valued (PS3.5 §6.4): got {value!r:.80}"
                )
            parts = [self._format(v) for v in value]
            if any("\\" in part for part in parts):
                raise EncodeError(
                    f"a {self.vr.value} value contains a backslash, the value delimiter "
                    "(PS3.5 §6.4)"
                )
            text = "\\".join(parts)
        elif isinstance(value, (bytes, Sequence, Encapsulated)):
            raise EncodeError(f"a {self.vr.value} value is text, not {type(value).__name__}")
        else:
            text = self._format(value)
        if self._charset:
            raw = ctx.text.encode(text, self.vr)
        else:
            try:
                raw = text.encode("ascii" if ctx.strict else "latin-1")
            except UnicodeEncodeError as exc:
                raise EncodeError(
                    f"{self.vr.value} allows only the default repertoire (PS3.5 §6.1.2.3): "
                    f"{text!r:.80}"
                ) from exc
        if len(raw) & 1:
            raw += self._pad
        return raw


#: Numeric strings with more values than this decode to plain ``float``/``int``.
#:
#: DS and IS values keep their text, which makes each one a small object the cycle collector
#: tracks.  An RT Structure Set holds hundreds of thousands of Contour Data values; made as
#: DS objects they cost ~6x as much as floats, nearly all of it in collector scans of the
#: whole heap (measured: 360 ms against 60 ms for 578,000 values, CPython 3.11).  Long
#: numeric arrays are data, not text to show: they decode to plain numbers, and their exact
#: text stays in the element's raw bytes, which writers reuse (Rule 1 of writer.py).
BULK_VALUES: Final = 64


def format_ds(value: float) -> str:
    """The shortest text of at most 16 characters for a DS number (PS3.5 Table 6.2-1)."""
    try:
        return values_format_ds(value)
    except ValueError as exc:
        raise EncodeError(str(exc)) from exc


class DecimalStringCodec(StringCodec):
    """DS: decimal numbers as text (PS3.5 Table 6.2-1), decoded to :class:`DS` values
    (``float`` subclasses that keep their text)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(VR.DS)

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        if not raw:
            return None
        if 0x5C not in raw:
            # One value (the common case), inline.  (0x5C is the backslash: an int operand
            # is one memchr, a bytes operand costs a buffer export, ~7x as long.)
            text = raw.decode("latin-1").strip(" \x00")
            if not text:
                return None
            try:
                return ds_value(text)
            except ValueError:
                return self._slow(text, ctx)
        if len(raw) > 2 * BULK_VALUES:
            # Maybe a long array (BULK_VALUES + 1 values take at least this many bytes):
            # float() reads bytes and ignores surrounding spaces, so one C-level pass (split,
            # then map) decodes it with no per-value Python code.
            pieces = raw.split(b"\\")
            if len(pieces) > BULK_VALUES:
                try:
                    return tuple(map(float, pieces))
                except ValueError:
                    pass  # NUL padding, empty or bad values: the general path says which
        text = raw.decode("latin-1").rstrip(" \x00")
        parts = text.split("\\")
        if " " in text or "\x00" in text:
            parts = [part.strip(" \x00") for part in parts]
        try:
            if len(parts) > BULK_VALUES:
                values: tuple[ScalarValue | None, ...] = tuple(map(float, parts))
            else:
                values = ds_values(parts)
        except ValueError:
            values = tuple([self._slow(part, ctx) for part in parts])
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _slow(self, text: str, ctx: CodecContext) -> ScalarValue | None:
        if not text:
            return None
        try:
            return DS(text)
        except ValueError:
            _problem(ctx, f"DS value {text!r} is not a decimal number; kept as text")
            return text

    def _format(self, value: ScalarValue | None) -> str:
        if isinstance(value, DS):
            return value.text
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            return format_ds(value)
        return super()._format(value)


class IntegerStringCodec(StringCodec):
    """IS: integers as text (PS3.5 Table 6.2-1), decoded to :class:`IS` values
    (``int`` subclasses that keep a non-canonical text)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(VR.IS)

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        if not raw:
            return None
        text = raw.decode("latin-1").strip(" \x00")
        if "\\" not in text:
            # One value (the common case), inline.
            if not text:
                return None
            try:
                return is_value(text)
            except ValueError:
                return self._slow(text, ctx)
        parts = text.split("\\")
        if " " in text or "\x00" in text:
            parts = [part.strip(" \x00") for part in parts]
        try:
            if len(parts) > BULK_VALUES:
                values: tuple[ScalarValue | None, ...] = tuple(map(int, parts))
            else:
                values = is_values(parts)
        except ValueError:
            values = tuple([self._slow(part, ctx) for part in parts])
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _slow(self, text: str, ctx: CodecContext) -> ScalarValue | None:
        if not text:
            return None
        try:
            return IS(text)
        except ValueError:
            _problem(ctx, f"IS value {text!r} is not an integer; kept as text")
            return text

    def _format(self, value: ScalarValue | None) -> str:
        if isinstance(value, IS):
            return value.text
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return super()._format(value)


# -- binary numbers --------------------------------------------------------------------------


class NumberCodec:
    """FL FD SL SS SV UL US UV: fixed-size binary numbers (PS3.5 Table 6.2-1, §7.3)."""

    __slots__ = ("_code", "_one_be", "_one_le", "_size", "vr")

    def __init__(self, vr: VR) -> None:
        info = VR_INFO[vr]
        self.vr = vr
        self._code = info.struct_format
        self._size = info.item_size
        self._one_le = struct.Struct("<" + self._code)
        self._one_be = struct.Struct(">" + self._code)

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        size = self._size
        if len(raw) == size:
            # One value (the common case), inline.
            unpack = (self._one_le if ctx.little_endian else self._one_be).unpack
            number: ScalarValue = unpack(raw)[0]
            return number
        count, extra = divmod(len(raw), size)
        if extra:
            _problem(
                ctx,
                f"{self.vr.value} value of {len(raw)} bytes is not a multiple of {size}; "
                f"the last {extra} bytes are ignored",
            )
            raw = raw[: count * size]
        if count == 1:
            one = self._one_le if ctx.little_endian else self._one_be
            value: ScalarValue = one.unpack(raw)[0]
            return value
        if count == 0:
            return None
        order = "<" if ctx.little_endian else ">"
        return struct.unpack(f"{order}{count}{self._code}", raw)

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        if value is None:
            return b""
        values = value if isinstance(value, tuple) else (value,)
        order = "<" if ctx.little_endian else ">"
        try:
            return struct.pack(f"{order}{len(values)}{self._code}", *values)
        except struct.error as exc:
            raise EncodeError(f"cannot encode {value!r:.80} as {self.vr.value}: {exc}") from exc


class AttributeTagCodec:
    """AT: tags as pairs of 16-bit unsigned group, element numbers (PS3.5 Table 6.2-1)."""

    __slots__ = ()
    vr = VR.AT

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        count, extra = divmod(len(raw), 4)
        if extra:
            _problem(ctx, f"AT value of {len(raw)} bytes is not a multiple of 4")
            raw = raw[: count * 4]
        if count == 0:
            return None
        order = "<" if ctx.little_endian else ">"
        words = struct.unpack(f"{order}{count * 2}H", raw)
        tags = tuple((words[i] << 16) | words[i + 1] for i in range(0, len(words), 2))
        return tags[0] if count == 1 else tags

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        if value is None:
            return b""
        values = value if isinstance(value, tuple) else (value,)
        words: list[int] = []
        for tag in values:
            if not isinstance(tag, int) or not 0 <= tag <= 0xFFFFFFFF:
                raise EncodeError(f"an AT value is a 32-bit tag, not {tag!r}")
            words += (tag >> 16, tag & 0xFFFF)
        order = "<" if ctx.little_endian else ">"
        return struct.pack(f"{order}{len(words)}H", *words)


# -- other byte strings ----------------------------------------------------------------------

_ARRAY_CODES: Final = {
    size: code
    for code in ("Q", "L", "I", "H")
    for size in (array.array(code).itemsize,)
    if size in (2, 4, 8)
}


def swap_bytes(raw: bytes, size: int) -> bytes:
    """``raw`` with each ``size``-byte word reversed (LE <-> BE, PS3.5 §7.3).

    A trailing partial word (malformed odd length) is kept as it is.
    """
    if size == 1 or not raw:
        return raw
    whole = len(raw) - len(raw) % size
    words = array.array(_ARRAY_CODES[size])
    words.frombytes(raw[:whole])
    words.byteswap()
    return words.tobytes() + raw[whole:]


class BytesCodec:
    """OB OD OF OL OV OW UN: byte strings, swapped per word for big endian (PS3.5 §7.3)."""

    __slots__ = ("_pad", "_size", "vr")

    def __init__(self, vr: VR) -> None:
        info = VR_INFO[vr]
        self.vr = vr
        self._size = info.item_size
        self._pad = info.padding

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        if ctx.little_endian or self._size == 1:
            return raw
        return swap_bytes(raw, self._size)

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        if value is None:
            return b""
        if not isinstance(value, bytes):
            raise EncodeError(f"a {self.vr.value} value is bytes, not {type(value).__name__}")
        raw = value if ctx.little_endian or self._size == 1 else swap_bytes(value, self._size)
        if len(raw) & 1:
            raw += b"\x00"
        return raw


class SequenceCodec:
    """SQ: sequences are parsed and written by the reader and writer, never as bytes."""

    __slots__ = ()
    vr = VR.SQ

    def decode(self, raw: bytes, ctx: CodecContext) -> ElementValue:
        raise DecodeError("an SQ value is parsed as items by the reader, not decoded as bytes")

    def encode(self, value: ElementValue, ctx: CodecContext) -> bytes:
        raise EncodeError("an SQ value is encoded as items by the writer, not as bytes")


def _make_table() -> dict[VR, VRCodec]:
    table: dict[VR, VRCodec] = {}
    for vr, info in VR_INFO.items():
        if vr is VR.DS:
            table[vr] = DecimalStringCodec()
        elif vr is VR.IS:
            table[vr] = IntegerStringCodec()
        elif vr is VR.AT:
            table[vr] = AttributeTagCodec()
        elif vr is VR.SQ:
            table[vr] = SequenceCodec()
        elif info.kind is VRKind.TEXT:
            table[vr] = StringCodec(vr)
        elif info.kind is VRKind.NUMBER:
            table[vr] = NumberCodec(vr)
        else:
            table[vr] = BytesCodec(vr)
    return table


#: The codec of every VR.
VR_CODECS: Final[Mapping[VR, VRCodec]] = _make_table()

#: True on big-endian hosts (only matters to callers that view bytes as native arrays).
HOST_LITTLE_ENDIAN: Final = sys.byteorder == "little"
