"""Checks of one data element against its rule: emptiness, VR, VM, Enumerated Values.

These never decode more than they must: emptiness of a bulk value (Pixel Data, a deferred
OB/OW) is read from its raw length, and VM and value lists are only checked for the VRs where
values can be counted and compared.

References
----------
PS3.5 §6.2 (VRs), §6.4 (Value Multiplicity), §7.4 (types); PS3.3 §5.3 (Enumerated Values and
Defined Terms); PS3.6 §6 (VR and VM of the registry).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Final

import attrs

from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.validate.evaluate import same_value
from dicompile.runtime.validate.tables import Values, ValuesKind

# VRs whose value is one opaque block (VM 1): never decoded to check it.
BULK_VRS: Final = frozenset(
    {VR.OB, VR.OW, VR.OF, VR.OD, VR.OL, VR.OV, VR.UN, VR.UT, VR.LT, VR.ST, VR.UR}
)
_VM: Final = re.compile(r"(\d+)(?:-(\d+)?(n)?)?")


@functools.cache
def vm_bounds(spec: str) -> tuple[int, int | None, int] | None:
    """(minimum, maximum or None, step) of a PS3.6 VM: ``"2-2n"`` → (2, None, 2).

    ``None`` when the spec is not one (``""``, ``"See Note"``).

    References
    ----------
    PS3.5 §6.4; PS3.6 §6 ("1-n", "2-2n", "3-3n", "1-3", "6-n").
    """
    match = _VM.fullmatch(spec.strip())
    if match is None:
        return None
    low = int(match[1])
    if match[2] is None and match[3] is None:
        return (low, low, 1) if "-" not in spec else (low, None, 1)
    if match[3] is not None:  # "2-2n", "1-n", "3-3n"
        factor = int(match[2]) if match[2] else 1
        return (low, None, factor)
    return (low, int(match[2]), 1)


def vm_allows(spec: str, count: int) -> bool:
    """True when ``count`` values satisfy the PS3.6 VM ``spec`` (an unreadable spec allows)."""
    bounds = vm_bounds(spec)
    if bounds is None:
        return True
    low, high, step = bounds
    if count < low or (high is not None and count > high):
        return False
    return count % step == 0 if step > 1 else True


def is_empty(element: DataElement) -> bool:
    """True when ``element`` has zero length (no value, no Item), without decoding bulk data."""
    if element.vr is VR.SQ:
        value = element.value
        return not (isinstance(value, Sequence) and len(value) > 0)
    raw = element.raw
    if raw is not None and element.vr in BULK_VRS:
        return (len(raw) if isinstance(raw, bytes) else raw.length) == 0
    value = element.value
    if value is None or value == "" or value == b"":
        return True
    if isinstance(value, tuple):
        return all(v is None or v == "" for v in value)
    return False


def vr_allows(spec: str, vr: VR) -> bool:
    """True when the dictionary VR ``spec`` (``"US or SS"``) allows ``vr`` (UN always does).

    References
    ----------
    PS3.5 §6.2.2 (UN for a VR not known to the sender); PS3.6 §6.
    """
    if not spec or vr is VR.UN or spec.startswith("See"):
        return True
    return vr.value in _vr_choices(spec)


@functools.cache
def _vr_choices(spec: str) -> frozenset[str]:
    return frozenset(part.strip() for part in spec.split(" or "))


@attrs.frozen(slots=True)
class ValueProblem:
    """A value outside the value lists of its position (1-based)."""

    position: int
    value: str
    kind: ValuesKind
    allowed: tuple[str, ...]


def value_problems(element: DataElement, lists: tuple[Values, ...]) -> Iterator[ValueProblem]:
    """The values of ``element`` that no applicable list allows.

    A list applies to every value (no index) or to the value of its index.  Several lists that
    apply to one position are alternatives: a value in any of them is allowed, and it is an
    Enumerated Values violation only when every applicable list is enumerated.

    References
    ----------
    PS3.3 §5.3 (Enumerated Values and Defined Terms).
    """
    if element.vr in BULK_VRS or element.vr is VR.SQ:
        return
    for position, value in enumerate(element.values, start=1):
        if value is None or value == "":
            continue
        applicable = [v for v in lists if v.index is None or v.index == position]
        if not applicable:
            continue
        if any(same_value(value, term) for v in applicable for term in v.terms):
            continue
        enumerated = all(v.kind is ValuesKind.ENUMERATED for v in applicable)
        allowed = tuple(dict.fromkeys(t for v in applicable for t in v.terms))
        yield ValueProblem(
            position,
            str(value).strip(),
            ValuesKind.ENUMERATED if enumerated else ValuesKind.DEFINED,
            allowed,
        )
