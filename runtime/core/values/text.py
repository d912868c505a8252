"""Splitting decoded text into values and joining them back (PS3.5 §6.2, §6.4).

A text element's value field holds one or more values separated by BACKSLASH (05/12),
except for LT, ST, UT and UR which are single-valued and may contain a backslash.  What is
padding differs per VR (Table 6.2-1): most string VRs treat leading and trailing spaces as
insignificant, the text VRs (LT, ST, UT, and UC, UR of later editions) keep leading spaces,
UI is padded with a trailing NUL.  Reading is lenient: DA, TM and DT may not have leading
spaces, but a reader strips them all the same (the validator reports them).  Trailing NULs
are stripped from every text VR because writers that pad text with NUL are common.

These functions work on decoded ``str``; the character set layer turns bytes into text.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final

from dicompile.runtime.core.vr import VR, VR_INFO, VRKind


class Padding(enum.Enum):
    """Which ends of a value carry insignificant padding."""

    BOTH = "both"  # leading and trailing spaces are not significant
    TRAILING = "trailing"  # only trailing spaces; leading spaces are significant


#: Padding rule per text VR (PS3.5 Table 6.2-1; UC and UR from the 2014+ editions).
PADDING: Final[dict[VR, Padding]] = {
    VR.AE: Padding.BOTH,
    VR.AS: Padding.BOTH,
    VR.CS: Padding.BOTH,
    VR.DA: Padding.BOTH,  # leading spaces are not allowed; stripped when reading
    VR.DS: Padding.BOTH,
    VR.DT: Padding.BOTH,  # leading spaces are not allowed; stripped when reading
    VR.IS: Padding.BOTH,
    VR.LO: Padding.BOTH,
    VR.LT: Padding.TRAILING,
    VR.PN: Padding.TRAILING,
    VR.SH: Padding.BOTH,
    VR.ST: Padding.TRAILING,
    VR.TM: Padding.BOTH,  # leading spaces are not allowed; stripped when reading
    VR.UC: Padding.TRAILING,
    VR.UI: Padding.BOTH,  # NUL-padded; spaces are not allowed, stripped when reading
    VR.UR: Padding.TRAILING,
    VR.UT: Padding.TRAILING,
}

#: Text VRs that never split on backslash.
SINGLE_VALUED: Final = frozenset({VR.LT, VR.ST, VR.UT, VR.UR})

_SINGLE: Final = "single"
_STRIP_BOTH: Final = "both"
_STRIP_TRAILING: Final = "trailing"
_RULE: Final[dict[VR, str]] = {
    vr: _SINGLE if vr in SINGLE_VALUED else _STRIP_BOTH if rule is Padding.BOTH else _STRIP_TRAILING
    for vr, rule in PADDING.items()
}


def split_values(text: str, vr: VR) -> tuple[str, ...]:
    """The values of a decoded text element, padding removed.

    Parameters
    ----------
    text:
        The whole value field, decoded to ``str``.
    vr:
        A text VR (``VRKind.TEXT``).

    Returns
    -------
    tuple[str, ...]
        ``()`` for an empty field or one of padding only; otherwise one entry per value
        (empty strings for empty values, e.g. ``"A\\\\B"`` gives three values).

    References
    ----------
    PS3.5 §6.2 and Table 6.2-1 (padding per VR), §6.4 (value multiplicity and delimitation).
    """
    # Trailing NUL: UI padding, and a frequent non-conformant pad of other VRs.
    text = text.rstrip(" \x00")
    if not text:
        return ()
    rule = _RULE[vr]  # one lookup: hashing a VR member is not free
    if rule is _SINGLE or "\\" not in text:
        return (text.lstrip(" "),) if rule is _STRIP_BOTH else (text,)
    if rule is _STRIP_BOTH:
        return tuple([value.strip(" ") for value in text.split("\\")])
    return tuple([value.rstrip(" ") for value in text.split("\\")])


def join_values(values: Iterable[str], vr: VR) -> str:
    """The value field text for ``values`` (no padding to even length: see :func:`pad`).

    Raises ValueError when a value of a multi-valued VR contains a backslash (it would
    change the multiplicity) or when a single-valued VR (LT, ST, UT, UR) gets several values.

    References
    ----------
    PS3.5 §6.4 (BACKSLASH delimiter), Table 6.2-1 (single-valued text VRs).
    """
    items = tuple(values)
    if vr in SINGLE_VALUED:
        if len(items) > 1:
            raise ValueError(f"{vr} is single-valued; got {len(items)} values")
        return items[0] if items else ""
    for index, value in enumerate(items):
        if "\\" in value:
            raise ValueError(
                f"value {index + 1} of a {vr} element contains a backslash, the value "
                f"delimiter (PS3.5 §6.4): {value!r}"
            )
    return "\\".join(items)


def pad(raw: bytes, vr: VR) -> bytes:
    """``raw`` padded to an even length with the VR's padding byte (SPACE, or NUL for UI/OB/UN).

    References
    ----------
    PS3.5 §6.2 (values are padded to even length; UI and OB with NUL, text with SPACE).
    """
    if len(raw) % 2 == 0:
        return raw
    return raw + VR_INFO[vr].padding


def is_text_vr(vr: VR) -> bool:
    """True for the VRs whose value field is a character string."""
    return VR_INFO[vr].kind is VRKind.TEXT
