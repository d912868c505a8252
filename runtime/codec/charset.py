"""Specific Character Set (0008,0005): text values to and from bytes (PS3.5 §6.1, PS3.3 C.12.1.1.2).

Theory of operation
-------------------
A :class:`CharacterSet` is built once per distinct value of (0008,0005) and cached, so a
dataset parser pays for reading the defined terms once per file, not per element.  It has
two shapes:

* **Without code extensions** — (0008,0005) absent, or one value such as ``ISO_IR 100``,
  ``ISO_IR 192`` (UTF-8), ``GB18030`` or ``GBK``.  Decoding a value is one
  ``bytes.decode(codec)`` call (the fast path), whatever the VR: every such codec reads
  the default repertoire as ASCII, so the VRs limited to it (AE, AS, CS, DA, DS, DT, IS,
  TM, UI, UR; PS3.5 §6.1.2.3) decode alike, and other bytes in them are reported by the
  validator (``values.validate_text``), not the decoder.  Encoding those VRs is ASCII only.
* **With ISO/IEC 2022 code extensions** — several values, the extension ones spelled
  ``ISO 2022 IR nnn``.  Bytes are read through a small state machine: G0 is invoked in
  GL (bytes 21-7E) and G1 in GR (A1-FE), escape sequences re-designate G0 or G1 (Tables
  C.12-3, C.12-4), and the initial state (value 1, or ISO-IR 6 when value 1 is empty) is
  restored at the start of each value, after CR, LF, FF and TAB, and — when G0 holds a
  single-byte set — at the delimiters ``\\`` (between values) and, for PN, ``^`` and
  ``=`` (PS3.5 §6.1.2.5.3).  When value 1 designates no G1 set, the last G1 designation
  is kept across delimiters: a conforming writer repeats it anyway (Annex I example), and
  writers that do not are still read.  Encoding picks, character by character, the
  first set that can write it (the one in use, then value 1, then values 2-n in order),
  restores value 1 before every delimiter and line end, and writes the first (alphabetic)
  PN component group with value 1 only (§6.2.1.2).  The bytes match the examples of
  PS3.5 Annexes H, I, J and K.

Rules for bad input: a byte sequence that cannot be decoded gives U+FFFD replacement
characters and a :class:`~dicompile.runtime.errors.DicomWarning`, never an exception (the
data model keeps the raw bytes).  An unknown or misspelled defined term gives a warning
and falls back (see :meth:`CharacterSet.from_values`), or a DecodeError when ``strict``.
Text that cannot be encoded raises :class:`~dicompile.runtime.errors.EncodeError` unless
``errors="replace"``.

References
----------
PS3.5 §6.1 (repertoires, Tables 6.1-1/6.1-2 of later editions), §6.1.2.5 (code
extensions), §6.2.1.2 (PN component groups); PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5;
PS3.5 Annexes H (Japanese), I (Korean), J (UTF-8, GB18030, GBK), K (Chinese, ISO 2022).
"""

from __future__ import annotations

import enum
import functools
import re
import warnings
from collections.abc import Sequence
from typing import Final, Literal

import attrs

from dicompile.runtime.core.vr import CHARSET_VRS, VR
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError

EncodeErrors = Literal["strict", "replace"]


class Element(enum.Enum):
    """The ISO/IEC 2022 code element a graphic set is designated to (G2, G3 are not used)."""

    G0 = "G0"
    G1 = "G1"


# --- graphic character sets -------------------------------------------------------------


@attrs.frozen(eq=False)  # singletons: identity equality and hashing are what is meant
class GraphicSet:
    """One graphic character set that can be designated to G0 or G1.

    ``codec`` is the Python codec whose bytes for this set are the set's own bytes in GR
    (G1 sets) or, after clearing the high bit, in GL (the 2-byte G0 sets, read through
    EUC-JP).  ``escape`` is the designating escape sequence (PS3.3 Tables C.12-3, C.12-4).
    """

    ir: int
    element: Element
    escape: bytes
    codec: str
    bytes_per_char: int = 1
    description: str = ""

    name: str = attrs.field(
        init=False, default=attrs.Factory(lambda gs: f"ISO-IR {gs.ir}", takes_self=True)
    )


_G0, _G1 = Element.G0, Element.G1

# ESC ( F designates a 94-set to G0, ESC ) F to G1, ESC - F a 96-set to G1,
# ESC $ F / ESC $ ( F a 94^2-set to G0, ESC $ ) F to G1 (ISO/IEC 2022 §14; PS3.5 H.1).
IR6 = GraphicSet(6, _G0, b"\x1b(B", "ascii", description="ISO 646 (ASCII)")
IR14 = GraphicSet(14, _G0, b"\x1b(J", "ascii", description="JIS X 0201 romaji")
IR13 = GraphicSet(13, _G1, b"\x1b)I", "", description="JIS X 0201 katakana")
IR100 = GraphicSet(100, _G1, b"\x1b-A", "latin_1", description="Latin alphabet No. 1")
IR101 = GraphicSet(101, _G1, b"\x1b-B", "iso8859_2", description="Latin alphabet No. 2")
IR109 = GraphicSet(109, _G1, b"\x1b-C", "iso8859_3", description="Latin alphabet No. 3")
IR110 = GraphicSet(110, _G1, b"\x1b-D", "iso8859_4", description="Latin alphabet No. 4")
IR144 = GraphicSet(144, _G1, b"\x1b-L", "iso8859_5", description="Cyrillic")
IR127 = GraphicSet(127, _G1, b"\x1b-G", "iso8859_6", description="Arabic")
IR126 = GraphicSet(126, _G1, b"\x1b-F", "iso8859_7", description="Greek")
IR138 = GraphicSet(138, _G1, b"\x1b-H", "iso8859_8", description="Hebrew")
IR148 = GraphicSet(148, _G1, b"\x1b-M", "iso8859_9", description="Latin alphabet No. 5")
IR203 = GraphicSet(203, _G1, b"\x1b-b", "iso8859_15", description="Latin alphabet No. 9")
IR166 = GraphicSet(166, _G1, b"\x1b-T", "tis_620", description="Thai (TIS 620-2533)")
IR87 = GraphicSet(87, _G0, b"\x1b$B", "euc_jp", 2, "JIS X 0208 kanji")
IR159 = GraphicSet(159, _G0, b"\x1b$(D", "euc_jp", 2, "JIS X 0212 supplementary kanji")
IR149 = GraphicSet(149, _G1, b"\x1b$)C", "euc_kr", 2, "KS X 1001 Hangul and Hanja")
IR58 = GraphicSet(58, _G1, b"\x1b$)A", "gb2312", 2, "GB 2312-80")

_ALL_SETS: Final = (
    IR6, IR14, IR13, IR100, IR101, IR109, IR110, IR144, IR127, IR126, IR138, IR148,
    IR203, IR166, IR87, IR159, IR149, IR58,
)  # fmt: skip
_BY_ESCAPE: Final = {gs.escape: gs for gs in _ALL_SETS}
# Alternative spelling: ESC $ ( B designates JIS X 0208 to G0 with the explicit I byte.
_BY_ESCAPE[b"\x1b$(B"] = IR87

# Annex K writes ESC ( B after GB 2312 text before every delimiter and line end although G0
# never left ISO-IR 6; the encoder does the same so that its bytes equal the annex's.
_CLOSE_WITH_G0: Final = frozenset({IR58})


# --- defined terms ----------------------------------------------------------------------


class Extension(enum.Enum):
    """How a defined term may take part in the value of (0008,0005)."""

    NONE = "none"  # single-byte, without code extensions (PS3.3 Table C.12-2)
    ISO2022 = "iso2022"  # with code extensions (Tables C.12-3, C.12-4)
    FORBIDDEN = "forbidden"  # multi-byte sets that prohibit extensions (Table C.12-5)


@attrs.frozen
class DefinedTerm:
    """A defined term of (0008,0005): its initial G0/G1 (value 1) and the sets it brings."""

    term: str
    extension: Extension
    g0: GraphicSet | None
    g1: GraphicSet | None
    codec: str  # Python codec for the text of a single-valued (0008,0005)
    description: str


def _single(term: str, g1: GraphicSet, codec: str) -> DefinedTerm:
    return DefinedTerm(term, Extension.NONE, IR6, g1, codec, g1.description)


def _iso2022(term: str, g0: GraphicSet | None, g1: GraphicSet | None) -> DefinedTerm:
    described = g1 if g1 is not None else g0
    assert described is not None
    return DefinedTerm(term, Extension.ISO2022, g0, g1, "", described.description)


#: Defined terms of Specific Character Set (PS3.3 C.12.1.1.2 Tables C.12-2 to C.12-5, with
#: ISO_IR 203 of later editions).  The empty term is the default repertoire.
DEFINED_TERMS: Final[dict[str, DefinedTerm]] = {
    term.term: term
    for term in (
        DefinedTerm("", Extension.NONE, IR6, None, "ascii", "Default repertoire"),
        _single("ISO_IR 100", IR100, "latin_1"),
        _single("ISO_IR 101", IR101, "iso8859_2"),
        _single("ISO_IR 109", IR109, "iso8859_3"),
        _single("ISO_IR 110", IR110, "iso8859_4"),
        _single("ISO_IR 144", IR144, "iso8859_5"),
        _single("ISO_IR 127", IR127, "iso8859_6"),
        _single("ISO_IR 126", IR126, "iso8859_7"),
        _single("ISO_IR 138", IR138, "iso8859_8"),
        _single("ISO_IR 148", IR148, "iso8859_9"),
        _single("ISO_IR 203", IR203, "iso8859_15"),
        _single("ISO_IR 166", IR166, "tis_620"),
        DefinedTerm("ISO_IR 13", Extension.NONE, IR14, IR13, "", "JIS X 0201"),
        _iso2022("ISO 2022 IR 6", IR6, None),
        _iso2022("ISO 2022 IR 100", IR6, IR100),
        _iso2022("ISO 2022 IR 101", IR6, IR101),
        _iso2022("ISO 2022 IR 109", IR6, IR109),
        _iso2022("ISO 2022 IR 110", IR6, IR110),
        _iso2022("ISO 2022 IR 144", IR6, IR144),
        _iso2022("ISO 2022 IR 127", IR6, IR127),
        _iso2022("ISO 2022 IR 126", IR6, IR126),
        _iso2022("ISO 2022 IR 138", IR6, IR138),
        _iso2022("ISO 2022 IR 148", IR6, IR148),
        _iso2022("ISO 2022 IR 203", IR6, IR203),
        _iso2022("ISO 2022 IR 166", IR6, IR166),
        _iso2022("ISO 2022 IR 13", IR14, IR13),
        _iso2022("ISO 2022 IR 87", IR87, None),
        _iso2022("ISO 2022 IR 159", IR159, None),
        _iso2022("ISO 2022 IR 149", None, IR149),
        _iso2022("ISO 2022 IR 58", None, IR58),
        DefinedTerm("ISO_IR 192", Extension.FORBIDDEN, None, None, "utf_8", "Unicode in UTF-8"),
        DefinedTerm("GB18030", Extension.FORBIDDEN, None, None, "gb18030", "GB 18030"),
        DefinedTerm("GBK", Extension.FORBIDDEN, None, None, "gbk", "GBK"),
    )
}

#: Multi-byte sets that Table C.12-4 allows only as values 2 to n.
_EXTENSION_ONLY: Final = frozenset({"ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
                                    "ISO 2022 IR 58"})  # fmt: skip

_SPELLING: Final = re.compile(r"ISO[ _-]*(2022)?[ _-]*IR[ _-]*(\d+)", re.IGNORECASE)
#: Names seen in the wild for terms that have a defined spelling.
_ALIASES: Final = {
    "UTF-8": "ISO_IR 192",
    "UTF8": "ISO_IR 192",
    "ISO-IR 192": "ISO_IR 192",
    "ISO_IR 6": "",
    "ISO-8859-1": "ISO_IR 100",
    "LATIN1": "ISO_IR 100",
    "GB2312": "ISO 2022 IR 58",
    "ISO 2022 IR 192": "ISO_IR 192",
}


def _canonical_term(raw: str) -> str | None:
    """The defined term ``raw`` is a misspelling of, or None."""
    upper = raw.upper()
    if upper in _ALIASES:
        return _ALIASES[upper]
    if upper in DEFINED_TERMS:
        return upper
    match = _SPELLING.fullmatch(raw)
    if match is None:
        return None
    term = f"ISO 2022 IR {match[2]}" if match[1] else f"ISO_IR {match[2]}"
    if term in DEFINED_TERMS:
        return term
    other = f"ISO_IR {match[2]}" if match[1] else f"ISO 2022 IR {match[2]}"
    return other if other in DEFINED_TERMS else None


# --- errors on decode -------------------------------------------------------------------


def _warn(message: str) -> None:
    warnings.warn(message, DicomWarning, stacklevel=4)


def _lenient_decode(raw: bytes, codec: str, what: str) -> str:
    """Decode with replacement characters, warning once about the first bad byte."""
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.end]
        _warn(
            f"bytes {bad!r} at offset {exc.start} of {raw[:40]!r} cannot be decoded as "
            f"{what}: replaced with U+FFFD (PS3.5 §6.1)"
        )
        return raw.decode(codec, "replace")


# --- the character set ------------------------------------------------------------------


class CharacterSet:
    """The character set(s) of a dataset: decodes and encodes its text values.

    Build with :meth:`from_values` (cached) rather than the constructor.  ``terms`` are
    the defined terms in force, after correcting misspellings; ``problems`` says what was
    wrong with the raw value of (0008,0005).

    References
    ----------
    PS3.5 §6.1; PS3.3 C.12.1.1.2.
    """

    __slots__ = ("problems", "single_codec", "terms")

    terms: tuple[str, ...]
    problems: tuple[str, ...]
    #: The Python codec that decodes any value in one ``bytes.decode`` call (what
    #: :meth:`decode` does first), or None when code extensions need the ISO 2022 state
    #: machine.  Lets the VR codecs skip a call per value on the common path.
    single_codec: str | None

    def __init__(self, terms: tuple[str, ...], problems: tuple[str, ...] = ()) -> None:
        self.terms = terms
        self.problems = problems
        self.single_codec = None

    @staticmethod
    def from_values(
        values: Sequence[str] | str | None = None, *, strict: bool = False
    ) -> CharacterSet:
        """The character set for the values of (0008,0005).

        Parameters
        ----------
        values:
            The values of Specific Character Set as read (``None``, ``()`` or ``""`` when
            the attribute is absent or empty); a single string is one value.
        strict:
            Raise :class:`~dicompile.runtime.errors.DecodeError` for anything that is not
            a defined term used as PS3.3 allows, instead of warning.

        Lenient reading (a :class:`~dicompile.runtime.errors.DicomWarning` for each):
        misspellings (``ISO-IR 100``, ``ISO_IR100``, ``UTF-8``) are read as the defined
        term; an unknown term is dropped (the default repertoire takes its place when it
        was value 1); ``ISO_IR 192``, ``GB18030`` or ``GBK`` with other values is used
        alone when it is value 1 and dropped otherwise (code extensions are not allowed
        with them); a repeated term is dropped; ``ISO_IR nnn`` spelled without "2022" in
        a multi-valued (0008,0005) is read as ``ISO 2022 IR nnn``.

        References
        ----------
        PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5; PS3.5 §6.1.2.5.
        """
        if values is None:
            key: tuple[str, ...] = ()
        elif isinstance(values, str):
            key = (values,)
        else:
            key = tuple(values)
        charset = _build(key)
        if charset.problems:
            if strict:
                raise DecodeError(
                    "Specific Character Set (0008,0005) "
                    + repr("\\".join(key))
                    + ": "
                    + "; ".join(charset.problems)
                )
            for problem in charset.problems:
                _warn(f"Specific Character Set (0008,0005): {problem}")
        return charset

    @property
    def is_default(self) -> bool:
        """True for the default repertoire (no or empty (0008,0005))."""
        return self.terms in ((), ("",))

    @property
    def uses_code_extensions(self) -> bool:
        return False

    def decode(self, raw: bytes, vr: VR) -> str:
        """The text of a value field ``raw`` of a text VR (padding included, not split).

        Undecodable bytes become U+FFFD with a DicomWarning.

        References
        ----------
        PS3.5 §6.1.2.3 (which VRs use the specific character set), §6.1.2.5.
        """
        raise NotImplementedError

    def encode(self, text: str, vr: VR, *, errors: EncodeErrors = "strict") -> bytes:
        """The bytes of ``text`` (a whole value field, values joined by ``\\``), unpadded.

        Raises :class:`~dicompile.runtime.errors.EncodeError` for a character this
        character set cannot write, unless ``errors="replace"`` (then ``?``).

        References
        ----------
        PS3.5 §6.1.2.5.3 (escape sequences, delimiters), §6.2.1.2 (PN component groups).
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"CharacterSet.from_values({list(self.terms)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CharacterSet):
            return NotImplemented
        return self.terms == other.terms

    def __hash__(self) -> int:
        return hash(self.terms)


def _encode_error(text: str, exc: UnicodeEncodeError, what: str, vr: VR) -> EncodeError:
    char = text[exc.start : exc.end]
    return EncodeError(
        f"{char!r} (position {exc.start} of a {vr} value) cannot be encoded with {what} "
        "(PS3.5 §6.1; declare a Specific Character Set (0008,0005) that has it)"
    )


class _SingleCharacterSet(CharacterSet):
    """No code extensions: one Python codec for the text VRs, ASCII for the others."""

    __slots__ = ("_codec", "_what")

    def __init__(self, terms: tuple[str, ...], problems: tuple[str, ...], codec: str) -> None:
        super().__init__(terms, problems)
        self._codec = codec
        self.single_codec = codec
        self._what = (terms[0] if terms and terms[0] else "the default repertoire") + (
            f" ({codec})"
        )

    def decode(self, raw: bytes, vr: VR) -> str:
        # Fast path, one C call: every codec here reads ASCII as ASCII, so the VRs limited
        # to the default repertoire (AE, CS, DA, ...) decode alike; bytes of theirs outside
        # it are the validator's to report (validate_text), not the decoder's.
        try:
            return raw.decode(self._codec)
        except UnicodeDecodeError:
            return _lenient_decode(raw, self._codec, self._what)

    def encode(self, text: str, vr: VR, *, errors: EncodeErrors = "strict") -> bytes:
        codec = self._codec if vr in CHARSET_VRS else "ascii"
        try:
            return text.encode(codec)
        except UnicodeEncodeError as exc:
            if errors == "replace":
                return text.encode(codec, "replace")
            what = self._what if codec != "ascii" else f"the default repertoire ({vr})"
            raise _encode_error(text, exc, what, vr) from None


# --- ISO 2022 ---------------------------------------------------------------------------

_ESCAPE_SEQUENCE: Final = re.compile(rb"\x1b[\x20-\x2f]*[\x30-\x7e]")
_GL_GR_RUNS: Final = re.compile(rb"[\x00-\x7f]+|[\x80-\xff]+")
_DOUBLE_BYTE_RUNS: Final = re.compile(rb"[\x21-\x7e]+|[\x00-\x20\x7f]+")
_DOUBLE_BYTES_ONLY: Final = re.compile(rb"[\x21-\x7e]+")
_SET_HIGH_BIT: Final = bytes(range(128, 256)) * 2
_CLEAR_HIGH_BIT: Final = bytes(range(128)) * 2
# Control characters that restore the initial state (PS3.5 §6.1.2.5.3; HT of later editions).
_LINE_CONTROLS: Final = b"\t\n\x0c\r"
_LINE_SPLIT: Final = re.compile(r"([\t\n\x0c\r])")
_LINE_CONTROL_BYTES: Final = re.compile(rb"[\t\n\x0c\r]")

# JIS X 0201 (ISO-IR 14 / 13): 05/12 is YEN SIGN and 07/14 OVERLINE (PS3.5 H.1.1);
# 05/12 stays "\\" in multi-valued VRs, where it can only be the value delimiter.
_IR14_TEXT: Final = str.maketrans({"\\": "\u00a5", "~": "\u203e"})
_IR14_MULTI: Final = str.maketrans({"~": "\u203e"})
_TEXT_VRS: Final = frozenset({VR.LT, VR.ST, VR.UT, VR.UR})


def _decode_katakana(raw: bytes) -> str:
    # ISO-IR 13 in GR: A1-DF are U+FF61-U+FF9F (half-width katakana).
    if all(0xA1 <= byte <= 0xDF for byte in raw):
        return "".join(chr(byte - 0xA1 + 0xFF61) for byte in raw)
    return "".join(
        chr(byte - 0xA1 + 0xFF61) if 0xA1 <= byte <= 0xDF else _bad_byte(raw, byte, IR13)
        for byte in raw
    )


def _bad_byte(raw: bytes, byte: int, gs: GraphicSet) -> str:
    _warn(f"byte {byte:#04x} in {raw[:40]!r} is not in {gs.name}: replaced with U+FFFD")
    return "\ufffd"


def _decode_gl(raw: bytes, gs: GraphicSet, vr: VR) -> str:
    """GL bytes (00-7F) under the G0 set ``gs``."""
    if gs.bytes_per_char == 1:
        text = _lenient_decode(raw, "ascii", gs.name)
        if gs is IR14:
            return text.translate(_IR14_TEXT if vr in _TEXT_VRS else _IR14_MULTI)
        return text
    if _DOUBLE_BYTES_ONLY.fullmatch(raw) is not None:  # the usual case: only characters
        high = raw.translate(_SET_HIGH_BIT)
        if gs is IR159:
            high = b"".join(b"\x8f" + high[i : i + 2] for i in range(0, len(high), 2))
        return _lenient_decode(high, "euc_jp", gs.name)
    parts: list[str] = []
    for match in _DOUBLE_BYTE_RUNS.finditer(raw):
        run = match.group()
        if run[0] <= 0x20 or run[0] == 0x7F:  # SPACE and controls are never part of a 94^2 set
            parts.append(run.decode("ascii"))
            continue
        high = run.translate(_SET_HIGH_BIT)
        if gs is IR159:  # EUC-JP writes JIS X 0212 as 8F + two bytes
            high = b"".join(b"\x8f" + high[i : i + 2] for i in range(0, len(high), 2))
        parts.append(_lenient_decode(high, "euc_jp", gs.name))
    return "".join(parts)


def _decode_gr(raw: bytes, gs: GraphicSet | None) -> str:
    """GR bytes (80-FF) under the G1 set ``gs`` (None: nothing designated)."""
    if gs is None:
        _warn(
            f"bytes {raw[:40]!r} use G1 but no G1 set is designated "
            "(PS3.5 §6.1.2.5.3): replaced with U+FFFD"
        )
        return "\ufffd" * len(raw)
    if gs is IR13:
        return _decode_katakana(raw)
    return _lenient_decode(raw, gs.codec, gs.name)


@functools.cache
def _reset_pattern(vr: VR) -> re.Pattern[bytes]:
    """Bytes after which the initial state is restored, when G0 holds a single-byte set."""
    delimiters = b""
    if vr not in _TEXT_VRS:
        delimiters += b"\\\\"
    if vr is VR.PN:
        delimiters += b"^="
    return re.compile(b"[" + re.escape(_LINE_CONTROLS) + delimiters + b"]")


#: The designations in force: (G0, G1); a plain tuple because it is made per segment.
_State = tuple[GraphicSet, GraphicSet | None]


def _describe(state: _State) -> str:
    g0, g1 = state
    return f"{g0.name} in G0, " + (f"{g1.name} in G1" if g1 is not None else "no G1 set designated")


class _Iso2022CharacterSet(CharacterSet):
    """Code extensions per ISO/IEC 2022 as PS3.5 §6.1.2.5 restricts them."""

    __slots__ = ("_declared", "_extensions", "_initial", "_initial_codec", "_initial_what")

    def __init__(
        self,
        terms: tuple[str, ...],
        problems: tuple[str, ...],
        initial: _State,
        extensions: tuple[GraphicSet, ...],
    ) -> None:
        super().__init__(terms, problems)
        self._initial = initial
        # Sets that may be designated, in the order the encoder tries them.
        self._extensions = extensions
        self._declared = frozenset(gs for gs in (*initial, *extensions) if gs is not None)
        # Without escape sequences and with ISO-IR 6 in G0, the initial state is exactly
        # what one Python codec reads (ASCII, or an ISO 8859 part).
        g0, g1 = initial
        single = g0 is IR6 and (g1 is None or (g1.bytes_per_char == 1 and g1 is not IR13))
        self._initial_codec = (g1.codec if g1 is not None else "ascii") if single else ""
        self._initial_what = _describe(initial)

    @property
    def uses_code_extensions(self) -> bool:
        return True

    # decoding ---------------------------------------------------------------------------

    def decode(self, raw: bytes, vr: VR) -> str:
        if self._initial_codec and b"\x1b" not in raw:
            return _lenient_decode(raw, self._initial_codec, self._initial_what)
        return self._decode_with_state(raw, vr)

    def _decode_with_state(self, raw: bytes, vr: VR) -> str:
        initial = state = self._initial
        resets = _reset_pattern(vr)
        parts: list[str] = []
        position = 0
        for match in _ESCAPE_SEQUENCE.finditer(raw):
            start = match.start()
            if start > position:
                if state == initial:
                    parts.append(self._decode_run(raw[position:start], state, vr))
                else:
                    state = self._decode_segment(raw[position:start], state, resets, vr, parts)
            sequence = match.group()
            gs = _BY_ESCAPE.get(sequence)
            if gs is None:
                _warn(
                    f"unknown escape sequence {sequence!r} in {raw[:40]!r} "
                    "(PS3.3 Tables C.12-3, C.12-4): replaced with U+FFFD"
                )
                parts.append("\ufffd")
            else:
                # ESC ( B is tolerated silently: writers return to the default repertoire
                # (§6.1.2.1) even when value 1 is another G0 set (pydicom's chrSQEncoding).
                if gs not in self._declared and gs is not IR6:
                    _warn(
                        f"escape sequence for {gs.name} ({gs.description}) used but not "
                        f"declared in Specific Character Set {list(self.terms)!r} "
                        "(PS3.5 §6.1.2.5.1); decoded anyway"
                    )
                state = (gs, state[1]) if gs.element is Element.G0 else (state[0], gs)
            position = match.end()
        if position < len(raw):
            if state == initial:
                parts.append(self._decode_run(raw[position:], state, vr))
            else:
                self._decode_segment(raw[position:], state, resets, vr, parts)
        return "".join(parts)

    def _decode_segment(
        self,
        raw: bytes,
        state: _State,
        resets: re.Pattern[bytes],
        vr: VR,
        parts: list[str],
    ) -> _State:
        """Decode bytes without escape sequences; returns the state at their end."""
        while raw:
            g0, g1 = state
            # The initial G0; the initial G1, or the last designated one when value 1 has
            # none (see the module docstring).
            initial_g0, initial_g1 = self._initial
            after = (initial_g0, initial_g1 if initial_g1 is not None else g1)
            if after == state:
                parts.append(self._decode_run(raw, state, vr))
                return state
            if g0.bytes_per_char == 2:
                # Any GL byte may be half of a character: only controls end the run.
                match = _LINE_CONTROL_BYTES.search(raw)
            else:
                match = resets.search(raw)
            if match is None:
                parts.append(self._decode_run(raw, state, vr))
                return state
            index = match.end()
            parts.append(self._decode_run(raw[:index], state, vr))
            raw = raw[index:]
            state = after
        return state

    def _decode_run(self, raw: bytes, state: _State, vr: VR) -> str:
        g0, g1 = state
        if g0 is IR6:
            if g1 is None:
                if raw.isascii():
                    return raw.decode("ascii")
            elif g1 is not IR13:
                # ASCII in GL plus the G1 set in GR: exactly what its Python codec reads.
                return _lenient_decode(raw, g1.codec, _describe(state))
        if raw.isascii():
            return _decode_gl(raw, g0, vr)
        parts: list[str] = []
        for match in _GL_GR_RUNS.finditer(raw):
            run = match.group()
            if run[0] < 0x80:
                parts.append(_decode_gl(run, g0, vr))
            else:
                parts.append(_decode_gr(run, g1))
        return "".join(parts)

    # encoding ---------------------------------------------------------------------------

    def encode(self, text: str, vr: VR, *, errors: EncodeErrors = "strict") -> bytes:
        if vr not in CHARSET_VRS:
            try:
                return text.encode("ascii")
            except UnicodeEncodeError as exc:
                if errors == "replace":
                    return text.encode("ascii", "replace")
                raise _encode_error(text, exc, "the default repertoire", vr) from None
        values = [text] if vr in _TEXT_VRS else text.split("\\")
        out: list[bytes] = []
        for value in values:
            if vr is VR.PN:
                groups = value.split("=")
                out.append(
                    b"=".join(
                        b"^".join(
                            self._encode_chunk(component, vr, errors, alphabetic=number == 0)
                            for component in group.split("^")
                        )
                        for number, group in enumerate(groups)
                    )
                )
            else:
                pieces = _LINE_SPLIT.split(value)
                out.append(
                    b"".join(
                        piece.encode("ascii")
                        if index % 2
                        else self._encode_chunk(piece, vr, errors, alphabetic=False)
                        for index, piece in enumerate(pieces)
                    )
                )
        return b"\\".join(out)

    def _candidates(self, state: _State, alphabetic: bool) -> list[GraphicSet]:
        initial_g0, initial_g1 = self._initial
        order: list[GraphicSet] = [state[0]]
        if state[1] is not None:
            order.append(state[1])
        order.append(initial_g0)
        if initial_g1 is not None:
            order.append(initial_g1)
        if not alphabetic:
            order += self._extensions
        return order

    def _encode_chunk(self, chunk: str, vr: VR, errors: EncodeErrors, *, alphabetic: bool) -> bytes:
        """Encode text without delimiters or line controls, ending in the initial state."""
        if not chunk:
            return b""
        initial_g0, initial_g1 = self._initial
        g0, g1 = self._initial
        out = bytearray()
        used_close = False
        for position, char in enumerate(chunk):
            encoded = None
            for gs in self._candidates((g0, g1), alphabetic):
                encoded = _encode_char(char, gs, vr)
                if encoded is not None:
                    break
            if encoded is None and alphabetic:
                for gs in self._extensions:
                    encoded = _encode_char(char, gs, vr)
                    if encoded is not None:
                        _warn(
                            f"{char!r} in the alphabetic PN group needs {gs.name}: written "
                            "with an escape sequence, which PS3.5 §6.2.1.2 does not allow "
                            "in that group"
                        )
                        break
            if encoded is None:
                if errors == "replace":
                    if g0 is not initial_g0:
                        out += initial_g0.escape
                        g0 = initial_g0
                    out += b"?"
                    continue
                what = f"Specific Character Set {list(self.terms)!r}"
                raise EncodeError(
                    f"{char!r} (position {position} of a {vr} value) cannot be encoded "
                    f"with {what} (PS3.5 §6.1.2.5)"
                )
            if gs.element is Element.G0:
                if gs is not g0:
                    out += gs.escape
                    g0 = gs
            else:
                if g0.bytes_per_char == 2:
                    # GR bytes while JIS X 0208/0212 holds GL are legal 8-bit ISO 2022,
                    # but ISO-2022-JP decoders (7-bit) fail on them: leave the kanji first.
                    out += initial_g0.escape
                    g0 = initial_g0
                if gs is not g1:
                    out += gs.escape
                    g1 = gs
            used_close = used_close or gs in _CLOSE_WITH_G0
            out += encoded
        # Value 1 must be in force again before a delimiter or the end (§6.1.2.5.3).
        if g0 is not initial_g0 or used_close:
            out += initial_g0.escape
        if g1 is not initial_g1 and initial_g1 is not None:
            out += initial_g1.escape
        return bytes(out)


def _encode_char(char: str, gs: GraphicSet, vr: VR) -> bytes | None:
    """The bytes of ``char`` in ``gs`` as invoked in GL (G0) or GR (G1), or None."""
    code = ord(char)
    if gs.element is Element.G0:
        if code < 0x20:
            return None if char == "\x1b" else char.encode("ascii")  # C0: in any state
        if char == " " and gs.bytes_per_char == 2:
            # PS3.5 H.1 lets SPACE follow JIS X 0208 without an escape and the decoder
            # accepts that, but ISO-2022-JP decoders (Python's, iconv's) do not: write
            # SPACE from the single-byte set, as pydicom and ISO-2022-JP-2 do.
            return None
        if gs is IR6:
            return char.encode("ascii") if code < 0x7F else None
        if gs is IR14:
            if char in "\u00a5\\":
                return b"\\"
            if char in "\u203e~":
                return b"~"
            return char.encode("ascii") if code < 0x7F else None
        # Two-byte G0 sets (JIS X 0208 / 0212), written through EUC-JP with the high bit
        # cleared.
        try:
            euc = char.encode("euc_jp")
        except UnicodeEncodeError:
            return None
        if gs is IR87 and len(euc) == 2 and euc[0] >= 0xA1:
            return euc.translate(_CLEAR_HIGH_BIT)
        if gs is IR159 and len(euc) == 3 and euc[0] == 0x8F:
            return euc[1:].translate(_CLEAR_HIGH_BIT)
        return None
    if code < 0x80:
        return None  # G1 holds only the upper half
    if gs is IR13:
        return bytes([code - 0xFF61 + 0xA1]) if 0xFF61 <= code <= 0xFF9F else None
    try:
        encoded = char.encode(gs.codec)
    except UnicodeEncodeError:
        return None
    if len(encoded) != gs.bytes_per_char or encoded[0] < 0xA0:
        return None
    return encoded


# --- building from (0008,0005) ----------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _build(values: tuple[str, ...]) -> CharacterSet:
    """Resolve the raw values of (0008,0005) into a CharacterSet (cached by the tuple)."""
    problems: list[str] = []
    raw_terms = [value.strip(" \x00") for value in values]
    while len(raw_terms) > 1 and not raw_terms[-1]:
        raw_terms.pop()
        problems.append("empty trailing value ignored")
    terms: list[DefinedTerm | None] = []
    for index, raw in enumerate(raw_terms):
        if raw in DEFINED_TERMS:
            terms.append(DEFINED_TERMS[raw])
            continue
        canonical = _canonical_term(raw)
        if canonical is None:
            problems.append(
                f"value {index + 1} {raw!r} is not a defined term (PS3.3 C.12.1.1.2); "
                + ("the default repertoire is used instead" if index == 0 else "ignored")
            )
            terms.append(DEFINED_TERMS[""] if index == 0 else None)
        else:
            problems.append(f"value {index + 1} {raw!r} read as the defined term {canonical!r}")
            terms.append(DEFINED_TERMS[canonical])

    if len(terms) <= 1:
        term = terms[0] if terms else DEFINED_TERMS[""]
        if term is None:  # pragma: no cover - value 1 always resolves
            term = DEFINED_TERMS[""]
        return _single_or_2022((term,), problems)

    first = terms[0]
    assert first is not None
    if first.extension is Extension.FORBIDDEN:
        problems.append(
            f"{first.term} does not allow code extensions (PS3.3 Table C.12-5); "
            "the other values are ignored"
        )
        return _single_or_2022((first,), problems)
    kept: list[DefinedTerm] = [first]
    for index, term in enumerate(terms[1:], start=2):
        if term is None:
            continue
        if term.extension is Extension.FORBIDDEN:
            problems.append(
                f"value {index} {term.term} cannot be a code extension (PS3.3 Table C.12-5); "
                "ignored"
            )
            continue
        if not term.term:
            problems.append(f"value {index} is empty; only value 1 may be (ignored)")
            continue
        if term.extension is Extension.NONE:
            spelled = "ISO 2022 IR " + term.term.removeprefix("ISO_IR ")
            problems.append(f"value {index} {term.term!r} read as {spelled!r} (PS3.3 C.12.1.1.2)")
            term = DEFINED_TERMS[spelled]
        if term in kept or any(k.g0 == term.g0 and k.g1 == term.g1 for k in kept):
            problems.append(f"value {index} {term.term} repeats a character set; ignored")
            continue
        kept.append(term)
    return _single_or_2022(tuple(kept), problems)


def _single_or_2022(terms: tuple[DefinedTerm, ...], problems: list[str]) -> CharacterSet:
    first = terms[0]
    names = tuple(term.term for term in terms)
    if len(terms) == 1 and first.codec:
        return _SingleCharacterSet(names, tuple(problems), first.codec)
    # Value 1 gives the initial G0/G1 (PS3.5 §6.1.2.5.4); a 2-byte extension set given as
    # value 1 is moved to the extensions with ISO-IR 6 as the initial G0.
    initial_term = first
    extension_terms = list(terms[1:])
    if first.term in _EXTENSION_ONLY:
        problems.append(
            f"{first.term} is for values 2 to n (PS3.3 Table C.12-4); ISO-IR 6 is value 1"
        )
        initial_term = DEFINED_TERMS["ISO 2022 IR 6"]
        extension_terms.insert(0, first)
    if first.extension is Extension.NONE and first.term and len(terms) > 1:
        # "ISO_IR 100" as value 1 of a multi-valued (0008,0005): same sets, 2022 spelling.
        problems.append(
            f"value 1 {first.term!r} of a multi-valued Specific Character Set should be "
            f"spelled {'ISO 2022 IR ' + first.term.removeprefix('ISO_IR ')!r} "
            "(PS3.3 C.12.1.1.2); read as that"
        )
    g0 = initial_term.g0 if initial_term.g0 is not None else IR6
    initial: _State = (g0, initial_term.g1)
    extensions: list[GraphicSet] = []
    for term in extension_terms:
        for gs in (term.g0, term.g1):
            if gs is not None and gs not in extensions and gs is not g0 and gs is not initial[1]:
                extensions.append(gs)
    # ISO-IR 6 is always reachable when an extension set takes over G0.
    return _Iso2022CharacterSet(names, tuple(problems), initial, tuple(extensions))


#: The default repertoire: (0008,0005) absent or empty.
DEFAULT: Final = CharacterSet.from_values(())
