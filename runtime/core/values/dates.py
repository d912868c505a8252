"""Date (DA), Time (TM) and Date Time (DT) values, with their precision (PS3.5 §6.2).

Each type keeps the text exactly as read (``.text``) and offers the Python value when the
text can be understood (``.value``: ``datetime.date``, ``datetime.time`` or
``datetime.datetime``; None otherwise).  Reading is lenient: the ACR-NEMA forms
``YYYY.MM.DD`` and ``HH:MM:SS.frac`` (not compliant, Table 6.2-1 DA and TM) are read, and a
fraction with a trailing "." but no digits is accepted; :func:`dicompile.runtime.core.values.
validate.validate_value` reports what is not compliant.

Partial values keep their precision: DT ``"2020"`` is 2020-01-01 at :attr:`Precision.YEAR`,
TM ``"10"`` is 10:00 at :attr:`Precision.HOUR`.  A leap second (SS = 60) is given as
59.999999 s, since Python's datetime has no second 60; the text keeps the 60.

Range matching (PS3.4 C.2.2.2.5) uses ``<a>-<b>``, ``-<b>`` and ``<a>-``:
:func:`parse_range` reads those for DA, TM and DT.
"""

from __future__ import annotations

import datetime
import enum
import re
from typing import Final, Generic, TypeVar

import attrs


class Precision(enum.IntEnum):
    """The last component present in a DA, TM or DT value (PS3.5 Table 6.2-1, DT)."""

    YEAR = 1
    MONTH = 2
    DAY = 3
    HOUR = 4
    MINUTE = 5
    SECOND = 6
    FRACTION = 7


_DA_ACR_NEMA: Final = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})")
_TM: Final = re.compile(r"(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{0,6}))?)?)?")
_TM_ACR_NEMA: Final = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{0,6}))?)?")
_DT: Final = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{0,6}))?)?)?)?)?)?"
    r"(?:([+-])(\d{2})(\d{2}))?"
)


def _microseconds(fraction: str) -> int:
    return int(fraction.ljust(6, "0")) if fraction else 0


def _time_parts(
    hh: str, mm: str | None, ss: str | None, frac: str | None
) -> tuple[datetime.time, Precision] | None:
    hour = int(hh)
    minute = int(mm) if mm else 0
    second = int(ss) if ss else 0
    micro = _microseconds(frac) if frac else 0
    if hour > 23 or minute > 59 or second > 60:
        return None
    if second == 60:  # leap second: datetime stops at 59
        second, micro = 59, 999999
    if frac is not None:
        precision = Precision.FRACTION if frac else Precision.SECOND
    elif ss:
        precision = Precision.SECOND
    elif mm:
        precision = Precision.MINUTE
    else:
        precision = Precision.HOUR
    return datetime.time(hour, minute, second, micro), precision


class DA:
    """A DA value: ``YYYYMMDD`` (or the non-compliant ACR-NEMA ``YYYY.MM.DD``).

    ``.value`` is the ``datetime.date``, or None when the text is not a valid date.

    References
    ----------
    PS3.5 Table 6.2-1 (DA).
    """

    __slots__ = ("text", "value")

    text: str
    value: datetime.date | None

    def __init__(self, text: str) -> None:
        self.text = text
        self.value = parse_da(text)

    @classmethod
    def from_date(cls, value: datetime.date) -> DA:
        """``YYYYMMDD`` for ``value`` (a ``datetime`` gives its date)."""
        return cls(f"{value.year:04d}{value.month:02d}{value.day:02d}")

    @property
    def precision(self) -> Precision | None:
        return Precision.DAY if self.value is not None else None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"DA({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DA):
            if self.value is None or other.value is None:
                return self.text == other.text
            return self.value == other.value
        if isinstance(other, datetime.date) and not isinstance(other, datetime.datetime):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value) if self.value is not None else hash(self.text)


class TM:
    """A TM value: ``HH[MM[SS[.F{1,6}]]]`` (or the ACR-NEMA ``HH:MM[:SS[.frac]]``).

    References
    ----------
    PS3.5 Table 6.2-1 (TM).
    """

    __slots__ = ("precision", "text", "value")

    text: str
    value: datetime.time | None
    precision: Precision | None

    def __init__(self, text: str) -> None:
        self.text = text
        parsed = parse_tm(text)
        self.value, self.precision = parsed if parsed is not None else (None, None)

    @classmethod
    def from_time(cls, value: datetime.time, precision: Precision | None = None) -> TM:
        """The text of ``value`` down to ``precision`` (default: seconds, or the fraction
        when ``value`` has microseconds).  A time zone is dropped: TM has none."""
        if precision is None:
            precision = Precision.FRACTION if value.microsecond else Precision.SECOND
        return cls(_format_time(value, precision))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"TM({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TM):
            if self.value is None or other.value is None:
                return self.text == other.text
            return (self.value, self.precision) == (other.value, other.precision)
        if isinstance(other, datetime.time):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value) if self.value is not None else hash(self.text)


class DT:
    """A DT value: ``YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]``.

    ``.value`` is a ``datetime.datetime`` (aware when the UTC offset suffix is present),
    missing components filled with their minimum, ``.precision`` the last component given.

    References
    ----------
    PS3.5 Table 6.2-1 (DT).
    """

    __slots__ = ("precision", "text", "value")

    text: str
    value: datetime.datetime | None
    precision: Precision | None

    def __init__(self, text: str) -> None:
        self.text = text
        parsed = parse_dt(text)
        self.value, self.precision = parsed if parsed is not None else (None, None)

    @classmethod
    def from_datetime(cls, value: datetime.datetime, precision: Precision | None = None) -> DT:
        """The text of ``value`` down to ``precision`` (default: seconds, or the fraction
        when it has microseconds), with ``&ZZXX`` when ``value`` is aware."""
        if precision is None:
            precision = Precision.FRACTION if value.microsecond else Precision.SECOND
        text = f"{value.year:04d}"
        if precision >= Precision.MONTH:
            text += f"{value.month:02d}"
        if precision >= Precision.DAY:
            text += f"{value.day:02d}"
        if precision >= Precision.HOUR:
            text += _format_time(value.time(), precision)
        offset = value.utcoffset()
        if offset is not None:
            text += _format_offset(offset)
        return cls(text)

    @property
    def has_offset(self) -> bool:
        return self.value is not None and self.value.tzinfo is not None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"DT({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DT):
            if self.value is None or other.value is None:
                return self.text == other.text
            if self.has_offset != other.has_offset:
                return False
            return (self.value, self.precision) == (other.value, other.precision)
        if isinstance(other, datetime.datetime):
            if self.value is None or (self.value.tzinfo is None) != (other.tzinfo is None):
                return False
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value) if self.value is not None else hash(self.text)


def _format_time(value: datetime.time, precision: Precision) -> str:
    text = f"{value.hour:02d}"
    if precision >= Precision.MINUTE:
        text += f"{value.minute:02d}"
    if precision >= Precision.SECOND:
        text += f"{value.second:02d}"
    if precision >= Precision.FRACTION:
        text += f".{value.microsecond:06d}"
    return text


def _format_offset(offset: datetime.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


# --- parsing functions ------------------------------------------------------------------


def parse_da(text: str) -> datetime.date | None:
    """The date of a DA text, or None when it is not one.

    Accepts ``YYYYMMDD`` and the ACR-NEMA ``YYYY.MM.DD``; surrounding spaces are ignored.

    References
    ----------
    PS3.5 Table 6.2-1 (DA).
    """
    text = text.strip(" ")
    try:
        if len(text) == 8 and text.isdigit() and text.isascii():
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        match = _DA_ACR_NEMA.fullmatch(text)
        if match is not None:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # day or month out of range
        return None
    return None


def parse_tm(text: str) -> tuple[datetime.time, Precision] | None:
    """The time and precision of a TM text, or None when it is not one.

    References
    ----------
    PS3.5 Table 6.2-1 (TM).
    """
    text = text.strip(" ")
    match = _TM.fullmatch(text) or _TM_ACR_NEMA.fullmatch(text)
    if match is None or not text.isascii():
        return None
    return _time_parts(match[1], match[2], match[3], match[4])


def parse_dt(text: str) -> tuple[datetime.datetime, Precision] | None:
    """The date-time and precision of a DT text, or None when it is not one.

    A UTC offset suffix makes the result aware; offsets outside the range Python can hold
    (±24 h) make the text unreadable.

    References
    ----------
    PS3.5 Table 6.2-1 (DT).
    """
    text = text.strip(" ")
    match = _DT.fullmatch(text)
    if match is None or not text.isascii():
        return None
    year, month, day, hh, mm, ss, frac, sign, zh, zm = match.groups()
    tzinfo: datetime.tzinfo | None = None
    if sign is not None:
        minutes = int(zh) * 60 + int(zm)
        if minutes >= 24 * 60 or int(zm) > 59:
            return None
        tzinfo = datetime.timezone(datetime.timedelta(minutes=-minutes if sign == "-" else minutes))
    time_value = datetime.time()
    precision = Precision.YEAR
    if month:
        precision = Precision.MONTH
    if day:
        precision = Precision.DAY
    if hh:
        parts = _time_parts(hh, mm, ss, frac)
        if parts is None:
            return None
        time_value, precision = parts
    try:
        date_value = datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    return datetime.datetime.combine(date_value, time_value, tzinfo), precision


# --- range matching -----------------------------------------------------------------------

T = TypeVar("T", DA, TM, DT)


@attrs.frozen
class DateTimeRange(Generic[T]):
    """A range-matching key: ``start-end``, ``-end`` or ``start-`` (None for an open end).

    A key without ``-`` is a single value: ``start`` and ``end`` are the same value.

    References
    ----------
    PS3.4 C.2.2.2.5 (range matching of DA, TM and DT).
    """

    start: T | None
    end: T | None
    text: str

    @property
    def is_single(self) -> bool:
        return self.start is not None and self.start is self.end


def _readable(value: DA | TM | DT) -> bool:
    return value.value is not None


def parse_range(text: str, kind: type[T]) -> DateTimeRange[T] | None:
    """Read a range-matching key of DA, TM or DT (``kind``), or None when unreadable.

    For DT the ``-`` of a UTC offset and the range ``-`` look alike: every split whose
    sides are both readable is tried and the first with ``start <= end`` wins; when no
    split is ordered and the whole key is one readable DT (``"20200101-0500"``), it is a
    single value.

    References
    ----------
    PS3.4 C.2.2.2.5; PS3.5 Table 6.2-1 (lengths 18, 28 and 54 in a range query).
    """
    text = text.strip(" ")
    if "-" not in text:
        single = kind(text)
        return DateTimeRange(single, single, text) if _readable(single) else None
    candidates: list[DateTimeRange[T]] = []
    for position, char in enumerate(text):
        if char != "-":
            continue
        left, right = text[:position], text[position + 1 :]
        if not left and not right:
            continue
        start = kind(left) if left else None
        end = kind(right) if right else None
        if (start is not None and not _readable(start)) or (end is not None and not _readable(end)):
            continue
        candidate = DateTimeRange(start, end, text)
        if _ordered(candidate):
            return candidate
        candidates.append(candidate)
    if kind is DT:
        single = kind(text)
        if _readable(single):
            return DateTimeRange(single, single, text)
    return candidates[0] if candidates else None


def _ordered(candidate: DateTimeRange[T]) -> bool:
    start, end = candidate.start, candidate.end
    if start is None or end is None:
        return True
    a, b = start.value, end.value
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime):
        if (a.tzinfo is None) != (b.tzinfo is None):
            a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
        return a <= b
    if isinstance(a, datetime.time) and isinstance(b, datetime.time):
        return a <= b
    if isinstance(a, datetime.date) and isinstance(b, datetime.date):
        return a <= b
    return False
