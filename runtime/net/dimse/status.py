"""Status codes (0000,0900) and their classes (PS3.7 Annex C), from the generated dictionary.

Theory of operation
-------------------
* Annex C sorts every status into a class by a code convention (Success 0000; Warning 0001
  or Bxxx; Failure Axxx or Cxxx; Cancel FE00; Pending FF00 and FF01) and assigns some codes
  itself (the 01xx and 02xx ranges: 0107H Attribute List Error is a Warning, 0122H Refused:
  SOP Class Not Supported a Failure ...).  Both tables are read from the standard by the
  generator into ``dicompile.generated.dimse_commands``; this module only applies them.
* A code Annex C assigns takes the class of its section; any other code takes the class whose
  pattern it fits.  A code that fits none (0002H, D000H, or an 01xx/02xx code Annex C does not
  assign) is :attr:`StatusCategory.UNRECOGNIZED`: the standard gives it no meaning, and the
  service layer decides (PS3.4 generally treats an unknown status as a failure).
* Service-class specific codes (A700H, C000H, FF01H ...) are named in PS3.4, not here; their
  class follows from the convention alone.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping

import attrs


class StatusCategory(enum.Enum):
    """The class of a status (PS3.7 Annex C), or UNRECOGNIZED when it fits none."""

    SUCCESS = "Success"
    PENDING = "Pending"
    CANCEL = "Cancel"
    WARNING = "Warning"
    FAILURE = "Failure"
    UNRECOGNIZED = "Unrecognized"


@attrs.frozen
class StatusInfo:
    """What PS3.7 says about one status code.

    ``name`` and ``section`` are those of the Annex C status type that assigns the code
    (``"Processing Failure"``, ``"C.5.21"``), empty for codes PS3.4 assigns per service class.
    ``fields`` are the further command elements (tags) that status type may carry.
    """

    code: int
    category: StatusCategory
    name: str = ""
    section: str = ""
    fields: tuple[int, ...] = ()


@functools.cache
def _tables() -> tuple[Mapping[int, StatusInfo], tuple[tuple[str, StatusCategory], ...]]:
    from dicompile.generated.dimse_commands import STATUS_CLASSES, STATUS_TYPES

    assigned = {
        t.code: StatusInfo(
            code=t.code,
            category=StatusCategory(t.category.value),
            name=t.name,
            section=t.section,
            fields=t.fields,
        )
        for t in STATUS_TYPES
        if t.code is not None
    }
    patterns = tuple(
        (pattern, StatusCategory(c.category.value))
        for c in STATUS_CLASSES
        if c.category is not None
        for pattern in c.patterns
    )
    return assigned, patterns


def _fits(pattern: str, code: int) -> bool:
    return all(p in ("x", d) for p, d in zip(pattern, f"{code:04X}", strict=True))


def status_info(code: int) -> StatusInfo:
    """The class, and where Annex C assigns it the name, of a status code.

    Raises
    ------
    ValueError
        When ``code`` is not a 16-bit value.

    References
    ----------
    PS3.7 Annex C (status class convention, sections C.1 to C.5).
    """
    if not 0 <= code <= 0xFFFF:
        raise ValueError(f"a status is a 16-bit value (US), not {code:#x}")
    assigned, patterns = _tables()
    found = assigned.get(code)
    if found is not None:
        return found
    for pattern, category in patterns:
        if _fits(pattern, code):
            return StatusInfo(code=code, category=category)
    return StatusInfo(code=code, category=StatusCategory.UNRECOGNIZED)


def status_category(code: int) -> StatusCategory:
    """The class of a status code: Success, Pending, Cancel, Warning, Failure or UNRECOGNIZED.

    References
    ----------
    PS3.7 Annex C.
    """
    return status_info(code).category
