"""Data elements (PS3.5 §7.1): a tag, a VR and a value that may stay encoded until read.

Theory of operation
-------------------
A :class:`DataElement` is immutable from the outside.  An element made by a reader holds the
value's *raw bytes* exactly as they were in the stream, plus the decoding context they came
with (byte order, character set: a :class:`ValueDecoder`), and decodes them on the first
access to :attr:`DataElement.value`; the decoded value is cached.  An element made by a user
holds only a value.  Two rules follow:

Rule 1 -- a writer that finds raw bytes whose context matches the output (same byte order
and character set) writes those bytes back unchanged, so DS, IS and any text round-trip to
the byte, and unread values cost nothing.

Rule 2 -- changing a value means replacing the element (``ds[tag] = new_value``), which drops
the raw bytes; there is no way to have raw bytes and a value that disagree.

Raw bytes of OB/OW/... in a big-endian stream are those of the stream; the decoded value of
every binary VR is in little-endian order (the byte order of all transfer syntaxes but one,
PS3.5 §7.3), so a value means the same whatever syntax it was read from.

A very large value (Pixel Data) may be *deferred*: its raw bytes are a
:class:`DeferredSource` that reads them from the file on access (runtime/media/deferred.py).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Final, Protocol, Self, TypeAlias

import attrs

from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.values import DA, DS, DT, IS, TM, PersonName, format_ds
from dicompile.runtime.core.vr import VR

if TYPE_CHECKING:
    from dicompile.runtime.core.sequence import Sequence


class DeferredSource(Protocol):
    """Raw bytes of a value that stay in their file until asked for (PS3.10 media)."""

    @property
    def length(self) -> int:
        """Number of bytes of the value."""
        ...

    def read(self) -> bytes:
        """All the bytes (checks that the file has not changed since it was parsed)."""
        ...

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        """The bytes in pieces of at most ``chunk_size``, for streaming writers."""
        ...


@attrs.frozen
class Encapsulated:
    """The value of an encapsulated (undefined-length) Pixel Data element (PS3.5 §A.4).

    ``data`` is the item stream as it follows the element header: the Basic Offset Table
    item, the fragment items and the closing Sequence Delimitation Item -- the layout that
    ``dicompile.runtime.codec.encapsulation`` parses and builds.  It may be deferred.
    """

    data: bytes | DeferredSource = attrs.field(repr=False)

    @property
    def length(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data.length

    def load(self) -> bytes:
        """The item stream as bytes (reads it from the file when deferred)."""
        return self.data if isinstance(self.data, bytes) else self.data.read()


#: One value of a multi-valued element: text (``str``, or PersonName/DA/TM/DT for those VRs)
#: or a number (``int``/``float``; DS and IS values are the DS/IS subclasses keeping text).
ScalarValue: TypeAlias = str | int | float | PersonName | DA | TM | DT
#: What :attr:`DataElement.value` can be:
#: None (empty), one scalar (VM 1), a tuple of scalars (VM > 1; None for an empty component of
#: a numeric string), bytes (OB OD OF OL OV OW UN), a Sequence (SQ) or Encapsulated pixel data.
ElementValue: TypeAlias = (
    "ScalarValue | tuple[ScalarValue | None, ...] | bytes | Sequence | Encapsulated | None"
)


class ValueDecoder(Protocol):
    """Decodes raw value bytes of a VR; the codec layer's CodecContext is one."""

    @property
    def decoders(self) -> Mapping[VR, Callable[[bytes, Self], ElementValue]]:
        """The decode function of each VR, called with the raw bytes and this decoder
        (what :meth:`decode_value` does, one Python call shorter: :attr:`DataElement.value`
        runs once per element read)."""
        ...

    def decode_value(self, vr: VR, raw: bytes) -> ElementValue:
        """The value of ``raw`` encoded with VR ``vr`` in this context."""
        ...


class _Undecoded(enum.Enum):
    """Marker of a value not decoded yet (distinct from None, a valid empty value)."""

    UNDECODED = "undecoded"


UNDECODED: Final = _Undecoded.UNDECODED

_new = object.__new__


class DataElement:
    """One data element: ``tag`` (int), ``vr`` (:class:`VR`) and a value (PS3.5 §7.1).

    ``DataElement(0x00100010, VR.PN, "Doe^John")`` makes an element from a value.  Lists are
    frozen into tuples, bytearray/memoryview into bytes, and a list of Datasets for SQ into a
    :class:`~dicompile.runtime.core.sequence.Sequence`.  Codecs make elements with raw bytes
    through :func:`raw_element`.
    """

    __slots__ = ("_ctx", "_raw", "_value", "tag", "vr")

    tag: int
    vr: VR
    _raw: bytes | DeferredSource | None
    _value: ElementValue | _Undecoded
    _ctx: ValueDecoder | None

    def __init__(self, tag: int, vr: VR, value: object = None) -> None:
        if not 0 <= tag <= 0xFFFFFFFF:
            raise ValueError(f"a tag is a 32-bit unsigned number, not {tag:#x}")
        self.tag = tag
        self.vr = VR(vr)
        self._raw = None
        self._ctx = None
        self._value = normalize_value(self.vr, value)

    # -- access ---------------------------------------------------------------------------

    @property
    def value(self) -> ElementValue:
        """The decoded value (decoded from the raw bytes on first access, then cached)."""
        value = self._value
        if value is UNDECODED:
            raw = self._raw
            ctx = self._ctx
            if raw is None or ctx is None:  # pragma: no cover - made only by raw_element
                raise AssertionError("an undecoded element without raw bytes")
            value = self._value = ctx.decoders[self.vr](
                raw if type(raw) is bytes else raw.read(),  # type: ignore[union-attr]
                ctx,
            )
        return value

    @property
    def values(self) -> tuple[object, ...]:
        """The value as a tuple: () when empty, the values of a multi-valued element,
        or a one-tuple of a scalar, bytes, Sequence or Encapsulated value."""
        value = self.value
        if value is None:
            return ()
        if isinstance(value, tuple):
            return value
        return (value,)

    @property
    def vm(self) -> int:
        """Value Multiplicity of the value as held (PS3.5 §6.4); 1 for bytes and SQ."""
        value = self.value
        if value is None:
            return 0
        if isinstance(value, tuple):
            return len(value)
        return 1

    @property
    def raw(self) -> bytes | DeferredSource | None:
        """The undecoded bytes as read (None for elements made from a value, and for SQ)."""
        return self._raw

    @property
    def decoder(self) -> ValueDecoder | None:
        """The context the raw bytes were read in (byte order, character set)."""
        return self._ctx

    @property
    def is_deferred(self) -> bool:
        """True while the value's bytes are still in the file."""
        raw = self._raw
        if raw is not None and not isinstance(raw, bytes):
            return self._value is UNDECODED
        value = self._value
        return isinstance(value, Encapsulated) and not isinstance(value.data, bytes)

    # -- comparisons and text ---------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataElement):
            return NotImplemented
        if self.tag != other.tag or self.vr != other.vr:
            return False
        return values_equal(self.value, other.value)

    __hash__ = None  # type: ignore[assignment]  # mutable Sequence values

    def __repr__(self) -> str:
        if self._value is UNDECODED:
            raw = self._raw
            size = len(raw) if isinstance(raw, bytes) else getattr(raw, "length", "?")
            shown = f"<{size} raw bytes>"
        else:
            shown = _short_repr(self._value)
        return f"DataElement({format_tag(self.tag)} {self.vr.value} {shown})"


def raw_element(tag: int, vr: VR, raw: bytes | DeferredSource, ctx: ValueDecoder) -> DataElement:
    """An element holding undecoded bytes (for codecs; skips the value normalisation)."""
    element: DataElement = _new(DataElement)
    element.tag = tag
    element.vr = vr
    element._raw = raw
    element._value = UNDECODED
    element._ctx = ctx
    return element


def decoded_element(tag: int, vr: VR, value: ElementValue) -> DataElement:
    """An element from a value already in normal form (for codecs: SQ, encapsulated)."""
    element: DataElement = _new(DataElement)
    element.tag = tag
    element.vr = vr
    element._raw = None
    element._value = value
    element._ctx = None
    return element


_BYTES_VRS: Final = frozenset({VR.OB, VR.OD, VR.OF, VR.OL, VR.OV, VR.OW, VR.UN})


def normalize_value(vr: VR, value: object) -> ElementValue:
    """A user's value in the immutable form elements hold; TypeError if it cannot be.

    Lists and tuples become tuples (a one-item list becomes its item), bytearray and
    memoryview become bytes, a list of Datasets for SQ becomes a Sequence.
    """
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.sequence import Sequence

    if value is None:
        return Sequence() if vr is VR.SQ else None
    if vr is VR.SQ:
        if isinstance(value, Sequence):
            return value
        if isinstance(value, (list, tuple)) and all(isinstance(v, Dataset) for v in value):
            return Sequence(value)
        raise TypeError(f"an SQ value is a Sequence or a list of Datasets, not {value!r:.80}")
    if isinstance(value, Encapsulated):
        if vr not in (VR.OB, VR.OW, VR.UN):
            raise TypeError(f"encapsulated pixel data needs VR OB, not {vr.value}")
        return value
    if vr in _BYTES_VRS:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if vr is VR.UN and isinstance(value, Sequence):
            return value  # a UN element of undefined length read as a sequence
        raise TypeError(f"a {vr.value} value is bytes, not {type(value).__name__}")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"a {vr.value} value is not bytes (raw bytes need a codec)")
    if isinstance(value, (list, tuple)):
        items = tuple(_check_scalar(vr, v) for v in value)
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    scalar = _check_scalar(vr, value)
    # An empty text is a zero-length value, which decodes as None (PS3.5 §7.1.1: a value
    # of length 0 is "empty"); normalising it here makes a set '' equal to the value read
    # back.  Inside a multi-valued tuple an empty string is a real (empty) value and stays.
    if isinstance(scalar, (str, PersonName, DA, TM, DT)) and not str(scalar):
        return None
    return scalar


_TEXT_TYPES: Final[dict[VR, type[PersonName | DA | TM | DT]]] = {
    VR.PN: PersonName,
    VR.DA: DA,
    VR.TM: TM,
    VR.DT: DT,
}


def _check_scalar(vr: VR, value: object) -> ScalarValue | None:
    """One value in the type its VR decodes to (str for PN/DA/TM/DT becomes the value type,
    numbers for DS/IS become DS/IS); TypeError/ValueError if it cannot be."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"a {vr.value} value is not a bool")
    if vr is VR.DS:
        if isinstance(value, DS):
            return value
        if isinstance(value, str):
            return DS(value)
        if isinstance(value, (int, float)):
            # From the text that will be written, so that the value is what a reader gets
            # back (a float needing more than 16 characters is rounded, PS3.5 Table 6.2-1).
            return DS(format_ds(float(value)))
        raise TypeError(f"a DS value is a number or its text, not {type(value).__name__}")
    if vr is VR.IS:
        if isinstance(value, (str, int)):
            return value if isinstance(value, IS) else IS(value)
        if isinstance(value, float) and value.is_integer():
            return IS(int(value))
        raise TypeError(f"an IS value is an integer or its text, not {value!r}")
    text_type = _TEXT_TYPES.get(vr)
    if text_type is not None:
        if isinstance(value, text_type):
            return value
        if isinstance(value, str):
            return text_type(value)
        raise TypeError(f"a {vr.value} value is {text_type.__name__} or str, not {value!r:.60}")
    if isinstance(value, (str, int, float, PersonName, DA, TM, DT)):
        return value
    raise TypeError(f"a {vr.value} value is str, int or float, not {type(value).__name__}")


def values_equal(a: object, b: object) -> bool:
    """Value equality where NaN equals NaN (so a float value read back equals itself)."""
    if a is b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "UNDECODED",
    "DataElement",
    "DeferredSource",
    "ElementValue",
    "Encapsulated",
    "ScalarValue",
    "ValueDecoder",
    "decoded_element",
    "normalize_value",
    "raw_element",
    "values_equal",
]
