"""What the codecs must know about a transfer syntax to read and write a data set.

Only four transfer syntaxes change how the data set itself is encoded (PS3.5 Annex A):
Implicit VR Little Endian (A.1), Explicit VR Little Endian (A.2), Explicit VR Big Endian
(A.3, retired but still read and written), and Deflated Explicit VR Little Endian (A.5).
Every other transfer syntax encapsulates its pixel data (A.4) in an otherwise Explicit VR
Little Endian data set, so "anything else is encapsulated explicit LE" is all the decoder
needs.  That knowledge lives here, in the runtime; names come from the generated UID
registry (``dicompile.generated.uids``), looked up lazily and only for display.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Final

import attrs

IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN: Final = "1.2.840.10008.1.2.2"
JPIP_REFERENCED: Final = "1.2.840.10008.1.2.4.94"
JPIP_REFERENCED_DEFLATE: Final = "1.2.840.10008.1.2.4.95"

_UID_TEXT: Final = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@attrs.frozen
class TransferSyntax:
    """The encoding facts of one transfer syntax UID (PS3.5 Annex A)."""

    uid: str
    implicit_vr: bool = False
    little_endian: bool = True
    deflated: bool = False
    encapsulated: bool = True

    @property
    def name(self) -> str:
        """The UID's name from the generated registry, or the UID itself when unknown."""
        return uid_name(self.uid) or self.uid

    @property
    def is_native(self) -> bool:
        """True for the syntaxes whose pixel data is not encapsulated (A.1, A.2, A.3, A.5)."""
        return not self.encapsulated


IMPLICIT_LE: Final = TransferSyntax(IMPLICIT_VR_LITTLE_ENDIAN, implicit_vr=True, encapsulated=False)
EXPLICIT_LE: Final = TransferSyntax(EXPLICIT_VR_LITTLE_ENDIAN, encapsulated=False)
DEFLATED_LE: Final = TransferSyntax(
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, deflated=True, encapsulated=False
)
EXPLICIT_BE: Final = TransferSyntax(EXPLICIT_VR_BIG_ENDIAN, little_endian=False, encapsulated=False)

# JPIP Referenced (Deflate) carry no Pixel Data at all (PS3.5 A.6, A.7): not encapsulated.
JPIP_LE: Final = TransferSyntax(JPIP_REFERENCED, encapsulated=False)
JPIP_DEFLATED_LE: Final = TransferSyntax(JPIP_REFERENCED_DEFLATE, deflated=True, encapsulated=False)

#: The transfer syntaxes whose data sets are not encapsulated, by UID.
NATIVE_SYNTAXES: Final = {
    ts.uid: ts
    for ts in (IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE, JPIP_LE, JPIP_DEFLATED_LE)
}


def transfer_syntax(uid: str) -> TransferSyntax:
    """The facts for a transfer syntax UID; any other UID is encapsulated Explicit VR LE.

    Trailing NUL and space padding is ignored (PS3.5 §9.1 pads UIDs with NUL).

    References
    ----------
    PS3.5 Annex A (A.1-A.3, A.5 native; A.4 encapsulated, explicit VR little endian).
    """
    cleaned = uid.rstrip("\x00 ").strip()
    return NATIVE_SYNTAXES.get(cleaned) or TransferSyntax(cleaned)


def is_valid_uid_text(uid: str) -> bool:
    """True if ``uid`` has the form of a UID: digits and dots, at most 64 (PS3.5 §9.1)."""
    return len(uid) <= 64 and bool(_UID_TEXT.match(uid))


@functools.lru_cache(maxsize=256)
def uid_name(uid: str) -> str | None:
    """The name of a UID in the generated registry, or None (also while it is absent)."""
    try:
        module = importlib.import_module("dicompile.generated.uids")
    except ImportError:
        return None
    registry = getattr(module, "TRANSFER_SYNTAXES", None)
    if registry is None:
        return None
    try:
        entry = registry.get(uid)
    except AttributeError:
        return None
    name = getattr(entry, "name", None)
    return name if isinstance(name, str) else None


def is_known_transfer_syntax(uid: str) -> bool | None:
    """True/False if the generated registry knows ``uid``; None when the registry is absent."""
    try:
        module = importlib.import_module("dicompile.generated.uids")
    except ImportError:
        return None
    registry = getattr(module, "TRANSFER_SYNTAXES", None)
    if registry is None:
        return None
    try:
        return uid in registry
    except TypeError:
        return None
