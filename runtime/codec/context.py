"""The encoding context every codec is handed explicitly (STYLE.md item 7).

A :class:`CodecContext` says how the bytes of a data set are (or are to be) encoded: byte
order and VR explicitness (from the transfer syntax, PS3.5 §7.1, §7.3, Annex A), the text
codec of the data set's Specific Character Set (PS3.5 §6.1), whether a deviation from the
standard is an error (strict) or a warning with the best reading (lenient), and the data
dictionary used for implicit VRs.  There is no module-level configuration: two readers with
different policies can run side by side.

A reader makes one context per transfer syntax and derives a new one only where a data set
or item carries its own Specific Character Set; elements keep a reference to the context
they were read in (it is their :class:`~dicompile.runtime.core.element.ValueDecoder`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Final

import attrs

from dicompile.runtime.codec.value_wiring import DEFAULT_TEXT, TextCodec, text_codec
from dicompile.runtime.codec.vr_codecs import VR_CODECS
from dicompile.runtime.core.element import ElementValue
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP, TagLookup
from dicompile.runtime.core.vr import VR

#: The decode function of each VR (one dict lookup per decoded element).
_DECODERS: Final[dict[VR, Callable[[bytes, CodecContext], ElementValue]]] = {
    vr: codec.decode for vr, codec in VR_CODECS.items()
}


@attrs.frozen(eq=False)
class CodecContext:
    """How values are encoded: byte order, VR explicitness, character set, strictness."""

    little_endian: bool = True
    implicit_vr: bool = False
    text: TextCodec = DEFAULT_TEXT
    #: Errors instead of warnings for data that breaks PS3.5 (lengths, VRs, values).
    strict: bool = False
    lookup: TagLookup = DEFAULT_LOOKUP

    #: The decode function of each VR (the ValueDecoder protocol of core).
    decoders: ClassVar[Mapping[VR, Callable[[bytes, CodecContext], ElementValue]]] = _DECODERS

    def decode_value(self, vr: VR, raw: bytes) -> ElementValue:
        """Decode ``raw`` bytes of VR ``vr`` (the ValueDecoder protocol of core)."""
        return _DECODERS[vr](raw, self)

    def with_charset(self, terms: tuple[str, ...]) -> CodecContext:
        """This context for a data set whose Specific Character Set is ``terms``."""
        codec = text_codec(terms, strict=self.strict)
        if codec is self.text:
            return self
        return attrs.evolve(self, text=codec)

    def with_syntax(self, *, little_endian: bool, implicit_vr: bool) -> CodecContext:
        """This context with another byte order / VR explicitness."""
        if little_endian == self.little_endian and implicit_vr == self.implicit_vr:
            return self
        return attrs.evolve(self, little_endian=little_endian, implicit_vr=implicit_vr)

    def same_value_encoding(self, other: CodecContext) -> bool:
        """True if value bytes from ``other`` can be copied unchanged into this context
        (same byte order and character set; VR explicitness does not change values)."""
        return self.little_endian == other.little_endian and self.text is other.text


#: Explicit VR Little Endian, default character repertoire, lenient.
EXPLICIT_LE = CodecContext()
#: Implicit VR Little Endian (PS3.5 Annex A.1), default character repertoire, lenient.
IMPLICIT_LE = CodecContext(implicit_vr=True)
