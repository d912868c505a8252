"""The one place where the VR codecs meet the character sets and the value types.

Two neighbouring modules supply what the codecs hand out: the Specific Character Set
codecs (:mod:`dicompile.runtime.codec.charset`, PS3.5 §6.1, ISO 2022 included) and the value
types of :mod:`dicompile.runtime.core.values` (PersonName, DA/TM/DT, DS/IS that keep their
exact text).  The VR codecs reach both only through this module, so a change in either
API is an edit here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from dicompile.runtime.codec.charset import CharacterSet
from dicompile.runtime.core.element import ScalarValue
from dicompile.runtime.core.values import DA, DT, TM, PersonName
from dicompile.runtime.core.values.text import PADDING, Padding
from dicompile.runtime.core.vr import VR


class TextCodec(Protocol):
    """Decodes and encodes the text of charset-dependent VRs for one Specific Character Set."""

    @property
    def terms(self) -> tuple[str, ...]:
        """The defined terms of (0008,0005) this codec is for (``()``: default repertoire)."""
        ...

    #: A Python codec such that ``raw.decode(single_codec)``, when it does not raise, is
    #: what :meth:`decode` returns for any VR; None if there is none.
    single_codec: str | None

    def decode(self, raw: bytes, vr: VR) -> str: ...

    def encode(self, text: str, vr: VR) -> bytes: ...


def text_codec(terms: tuple[str, ...], *, strict: bool = False) -> TextCodec:
    """The :class:`TextCodec` for the values of Specific Character Set (0008,0005).

    Equal terms give the same (cached) object, so ``a.text is b.text`` tells a writer
    that raw bytes can be reused.  Misspelled or unknown terms warn (strict: DecodeError).

    References
    ----------
    PS3.5 §6.1.2.5 (use of Specific Character Set); PS3.3 C.12.1.1.2 (defined terms).
    """
    return CharacterSet.from_values(terms, strict=strict)


#: The default character repertoire (no Specific Character Set), PS3.5 §6.1.2.1.
DEFAULT_TEXT: Final[TextCodec] = text_codec(())

#: Value types of text VRs whose values are more than strings (PS3.5 Table 6.2-1).
TEXT_TYPES: Final[dict[VR, Callable[[str], ScalarValue]]] = {
    VR.PN: PersonName,
    VR.DA: DA,
    VR.TM: TM,
    VR.DT: DT,
}

#: Text VRs whose leading spaces are padding too (PS3.5 Table 6.2-1; lenient for DA/TM/DT).
STRIP_LEADING: Final = frozenset(vr for vr, rule in PADDING.items() if rule is Padding.BOTH)
