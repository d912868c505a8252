"""Age String (AS) values: ``nnnD``, ``nnnW``, ``nnnM`` or ``nnnY`` (PS3.5 Table 6.2-1)."""

from __future__ import annotations

import enum
import re
from typing import Final

import attrs


class AgeUnit(enum.StrEnum):
    """The unit letter of an AS value."""

    DAYS = "D"
    WEEKS = "W"
    MONTHS = "M"
    YEARS = "Y"


_AS: Final = re.compile(r"(\d{1,3})([DWMY])")


@attrs.frozen
class Age:
    """An AS value: a count and a unit.  ``str(Age(18, AgeUnit.MONTHS))`` is ``"018M"``.

    References
    ----------
    PS3.5 Table 6.2-1 (AS: 4 bytes fixed).
    """

    count: int = attrs.field()
    unit: AgeUnit

    @count.validator
    def _check_count(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if not 0 <= value <= 999:
            raise ValueError(f"an AS count is 0 to 999, not {value}")

    @property
    def text(self) -> str:
        return f"{self.count:03d}{self.unit.value}"

    def __str__(self) -> str:
        return self.text


def parse_age(text: str) -> Age | None:
    """The age of an AS text, or None when it is not ``nnn`` + D/W/M/Y.

    Lenient: fewer than three digits (``"18Y"``) is read too; validation reports it.

    References
    ----------
    PS3.5 Table 6.2-1 (AS).
    """
    match = _AS.fullmatch(text.strip(" "))
    if match is None or not match[1].isascii():
        return None
    return Age(int(match[1]), AgeUnit(match[2]))
