"""The 34 Value Representations of PS3.5 and the facts about each that codecs need.

References
----------
PS3.5 §6.2, Table 6.2-1 (definitions, lengths, character repertoires, padding);
PS3.5 §7.1.2, Table 7.1-1 (explicit-VR header layout with a 32-bit length).
OV, SV, UV (2019), UC and UR (2014) postdate the 2013 text; their rules follow the later editions.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs


class VR(enum.StrEnum):
    """A Value Representation, by its two-letter code."""

    AE = "AE"
    AS = "AS"
    AT = "AT"
    CS = "CS"
    DA = "DA"
    DS = "DS"
    DT = "DT"
    FL = "FL"
    FD = "FD"
    IS = "IS"
    LO = "LO"
    LT = "LT"
    OB = "OB"
    OD = "OD"
    OF = "OF"
    OL = "OL"
    OV = "OV"
    OW = "OW"
    PN = "PN"
    SH = "SH"
    SL = "SL"
    SQ = "SQ"
    SS = "SS"
    ST = "ST"
    SV = "SV"
    TM = "TM"
    UC = "UC"
    UI = "UI"
    UL = "UL"
    UN = "UN"
    UR = "UR"
    US = "US"
    UT = "UT"
    UV = "UV"

    # Enum hashes through a Python-level __hash__ (about 50 ns a call); every member's name
    # equals its value, so str's C hash gives the same numbers at a fraction of the cost, and
    # VRs are hashed in every codec table lookup.
    __hash__ = str.__hash__

    @property
    def info(self) -> VRInfo:
        return VR_INFO[self]


class VRKind(enum.Enum):
    """How a VR's value is represented in bytes."""

    TEXT = "text"  # character string, possibly multi-valued with backslash
    NUMBER = "number"  # fixed-size binary numbers (FL FD SL SS SV UL US UV), and AT
    BYTES = "bytes"  # other byte / word / float / long / very long strings, and UN
    SEQUENCE = "sequence"


@attrs.frozen
class VRInfo:
    """Facts about one VR (PS3.5 Table 6.2-1)."""

    kind: VRKind
    # Maximum length of one value: characters for text, bytes for binary; None = unlimited
    # (bounded only by the 32-bit length field).
    max_length: int | None
    # True if the value is encoded with the dataset's Specific Character Set (0008,0005),
    # False if it is limited to the default repertoire (PS3.5 §6.1.2.3).
    uses_charset: bool = False
    # True if a backslash separates values (VM > 1); LT, ST, UT, UR never split.
    multi_valued: bool = True
    # Byte used to pad a value to even length (PS3.5 §6.2: UI and OB pad with NUL).
    padding: bytes = b" "
    # Bytes per number for NUMBER kinds and the word size for byte-swapping OW/OF/OL/OD/OV.
    item_size: int = 1
    # struct format character for NUMBER kinds (little-endian order chosen by the codec).
    struct_format: str = ""
    # Explicit VR header with 2 reserved bytes and a 32-bit length (PS3.5 Table 7.1-1).
    long_header: bool = False


_T = VRKind.TEXT
_N = VRKind.NUMBER
_B = VRKind.BYTES

VR_INFO: Final[dict[VR, VRInfo]] = {
    VR.AE: VRInfo(_T, 16),
    VR.AS: VRInfo(_T, 4),
    VR.AT: VRInfo(_N, 4, item_size=4, struct_format="HH"),
    VR.CS: VRInfo(_T, 16),
    VR.DA: VRInfo(_T, 8),  # 18 in a range query (PS3.4 C.2.2.2.5)
    VR.DS: VRInfo(_T, 16),
    VR.DT: VRInfo(_T, 26),  # 54 in a range query
    VR.FL: VRInfo(_N, 4, item_size=4, struct_format="f"),
    VR.FD: VRInfo(_N, 8, item_size=8, struct_format="d"),
    VR.IS: VRInfo(_T, 12),
    VR.LO: VRInfo(_T, 64, uses_charset=True),
    VR.LT: VRInfo(_T, 10240, uses_charset=True, multi_valued=False),
    VR.OB: VRInfo(_B, None, multi_valued=False, padding=b"\x00", long_header=True),
    VR.OD: VRInfo(_B, None, multi_valued=False, item_size=8, long_header=True),
    VR.OF: VRInfo(_B, None, multi_valued=False, item_size=4, long_header=True),
    VR.OL: VRInfo(_B, None, multi_valued=False, item_size=4, long_header=True),
    VR.OV: VRInfo(_B, None, multi_valued=False, item_size=8, long_header=True),
    VR.OW: VRInfo(_B, None, multi_valued=False, item_size=2, long_header=True),
    VR.PN: VRInfo(_T, 64, uses_charset=True),  # 64 characters per component group
    VR.SH: VRInfo(_T, 16, uses_charset=True),
    VR.SL: VRInfo(_N, 4, item_size=4, struct_format="l"),
    VR.SQ: VRInfo(VRKind.SEQUENCE, None, multi_valued=False, long_header=True),
    VR.SS: VRInfo(_N, 2, item_size=2, struct_format="h"),
    VR.ST: VRInfo(_T, 1024, uses_charset=True, multi_valued=False),
    VR.SV: VRInfo(_N, 8, item_size=8, struct_format="q", long_header=True),
    VR.TM: VRInfo(_T, 14),  # 28 in a range query
    VR.UC: VRInfo(_T, None, uses_charset=True, long_header=True),
    VR.UI: VRInfo(_T, 64, padding=b"\x00"),
    VR.UL: VRInfo(_N, 4, item_size=4, struct_format="L"),
    VR.UN: VRInfo(_B, None, multi_valued=False, padding=b"\x00", long_header=True),
    VR.UR: VRInfo(_T, None, multi_valued=False, long_header=True),
    VR.US: VRInfo(_N, 2, item_size=2, struct_format="H"),
    VR.UT: VRInfo(_T, None, uses_charset=True, multi_valued=False, long_header=True),
    VR.UV: VRInfo(_N, 8, item_size=8, struct_format="Q", long_header=True),
}

#: VRs whose explicit-VR header is 12 bytes: tag, VR, 2 reserved bytes, 32-bit length.
LONG_HEADER_VRS: Final = frozenset(vr for vr, info in VR_INFO.items() if info.long_header)

#: Text VRs whose bytes are decoded with the Specific Character Set.
CHARSET_VRS: Final = frozenset(vr for vr, info in VR_INFO.items() if info.uses_charset)


def parse_vr(code: bytes | str) -> VR | None:
    """The VR for a two-letter code, or None if it is not one of the 34 (e.g. bad bytes)."""
    text = code.decode("ascii", "replace") if isinstance(code, bytes) else code
    try:
        return VR(text)
    except ValueError:
        return None


def dictionary_vr(text: str) -> tuple[VR, ...]:
    """The VRs a data dictionary entry allows: ``"US or SS"`` → ``(VR.US, VR.SS)``.

    An empty text, "See Note" or anything unrecognised gives ``()``; PS3.6 Table 6-1 leaves
    the VR of item and sequence delimiters unspecified.
    """
    parts = (parse_vr(part) for part in text.replace(",", " ").split())
    return tuple(vr for vr in parts if vr is not None)
