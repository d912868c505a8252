"""The one place where the VR codecs meet the character sets and the value types.

Two neighbouring modules are written in parallel with the codecs: the Specific Character
Set codecs (``runtime/codec/charset.py``, PS3.5 §6.1) and the value types
(``runtime/core/values``: PersonName, DA/TM/DT, DS/IS with exact text).  The VR codecs reach
both only through this module, so that adopting them (or a change in their API) is an
edit here and nowhere else.

Until ``charset.py`` exists, text is decoded with the single-byte or UTF-8 Python codec of
the first defined term (ISO 2022 code extensions are not interpreted: their escape
sequences stay in the text), and the default repertoire is read as ISO 8859-1 so that no
byte is lost (PS3.5 §6.1.2.1 allows only ISO-IR 6 there; lenient reading keeps the rest).
"""

from __future__ import annotations

import functools
from typing import Final, Protocol

import attrs

from dicompile.runtime.core.vr import VR


class TextCodec(Protocol):
    """Decodes and encodes the text of charset-dependent VRs for one Specific Character Set."""

    @property
    def terms(self) -> tuple[str, ...]:
        """The defined terms of (0008,0005) this codec is for (``()``: default repertoire)."""
        ...

    def decode(self, raw: bytes, vr: VR) -> str: ...

    def encode(self, text: str, vr: VR) -> bytes: ...


# PS3.3 C.12.1.1.2 defined terms -> Python codecs, for the single-codec interim.
_PYTHON_CODECS: Final[dict[str, str]] = {
    "": "latin_1",
    "ISO_IR 6": "latin_1",
    "ISO 2022 IR 6": "latin_1",
    "ISO_IR 100": "latin_1",
    "ISO 2022 IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO 2022 IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO 2022 IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO 2022 IR 110": "iso8859_4",
    "ISO_IR 144": "iso8859_5",
    "ISO 2022 IR 144": "iso8859_5",
    "ISO_IR 127": "iso8859_6",
    "ISO 2022 IR 127": "iso8859_6",
    "ISO_IR 126": "iso8859_7",
    "ISO 2022 IR 126": "iso8859_7",
    "ISO_IR 138": "iso8859_8",
    "ISO 2022 IR 138": "iso8859_8",
    "ISO_IR 148": "iso8859_9",
    "ISO 2022 IR 148": "iso8859_9",
    "ISO_IR 203": "iso8859_15",
    "ISO 2022 IR 203": "iso8859_15",
    "ISO_IR 13": "shift_jis",
    "ISO 2022 IR 13": "shift_jis",
    "ISO_IR 166": "tis_620",
    "ISO 2022 IR 166": "tis_620",
    "ISO 2022 IR 87": "iso2022_jp",
    "ISO 2022 IR 159": "iso2022_jp_2",
    "ISO 2022 IR 149": "euc_kr",
    "ISO 2022 IR 58": "gb2312",
    "ISO_IR 192": "utf_8",
    "GB18030": "gb18030",
    "GBK": "gbk",
}


@attrs.frozen
class _SingleCodec:
    """Interim :class:`TextCodec`: one Python codec for every value."""

    terms: tuple[str, ...]
    python_codec: str

    def decode(self, raw: bytes, vr: VR) -> str:
        return raw.decode(self.python_codec, "replace")

    def encode(self, text: str, vr: VR) -> bytes:
        return text.encode(self.python_codec)


@functools.lru_cache(maxsize=64)
def text_codec(terms: tuple[str, ...]) -> TextCodec:
    """The :class:`TextCodec` for the values of Specific Character Set (0008,0005).

    Cached, so that contexts with equal character sets share one codec object and
    ``a.text is b.text`` tells a writer that raw bytes can be reused.

    References
    ----------
    PS3.5 §6.1.2.5 (use of Specific Character Set); PS3.3 C.12.1.1.2 (defined terms).
    """
    cleaned = tuple(term.strip() for term in terms)
    first = next((term for term in cleaned if term), "")
    python_codec = _PYTHON_CODECS.get(first, "latin_1")
    return _SingleCodec(cleaned, python_codec)


#: The default character repertoire (no Specific Character Set), PS3.5 §6.1.2.1.
DEFAULT_TEXT: Final = text_codec(())
