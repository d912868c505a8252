"""C-FIND attribute matching (PS3.4 C.2.2.2) as pure functions, in Python and in SQL.

Theory of operation
-------------------
:func:`compile_identifier` reads a request Identifier into a :class:`Query`: one
:class:`Key` per attribute, classified by matching type (universal, single value, list of
UID, wild card, range, sequence).  Every rule is decided here, once:

Rule 1 -- :meth:`Query.matches` is the reference: it evaluates every key against an entity
(a :class:`~dicompile.runtime.core.dataset.Dataset` holding the attributes of the entity and
of its parents).  Whatever the index does, a result is returned only if this says so.

Rule 2 -- :func:`sql_condition` translates a key into a WHERE fragment on a normalised column
that selects a *superset* of what Rule 1 accepts (exact for UIDs, plain texts, dates and
times; a cheap filter for person names).  The index runs the SQL, then Rule 1 on the rows it
returns, so SQL only makes queries fast, never changes their results; a Hypothesis test
checks that SQL never drops a match.

Choices where PS3.4 leaves room (to be listed in a conformance statement)
------------------------------------------------------------------------
* An entity whose attribute is absent or empty matches any key of that attribute: PS3.4
  C.2.2.1.2 says matching against a zero-length Required Key "shall be considered a
  successful match"; optional keys are processed as required keys (C.2.2.1.3).  Not so
  for the unique keys (:data:`UNIQUE_TAGS`), which every entity has (C.2.2.1.1).
* Texts: trailing spaces are insignificant, leading spaces too except for ST, LT, UT
  (PS3.5 Table 6.2-1).  Matching is case-sensitive (C.2.2.2.1, C.2.2.2.4) except for PN.
* PN (C.2.2.2.1 lets the SCP choose): case-insensitive (``str.casefold``), empty trailing
  components and groups ignored, spaces around components ignored.  A key without ``=`` is
  matched against each component group of the value (alphabetic, ideographic, phonetic)
  and matches if one does; a key with ``=`` is matched group by group, an empty key group
  matching anything.  Wild cards span component delimiters (``DOE*`` matches ``Doe^John``).
* A key of ``*`` alone is universal matching for every VR (C.2.2.2.4).  Other wild cards
  are only wild cards for AE, CS, LO, LT, PN, SH, ST, UC, UR, UT; in a UI, DA, TM or DT key
  they make the key malformed (:class:`QueryError`).
* A multi-valued key that is not UI (e.g. Modalities in Study ``CT\\MR``) matches when any
  of its values matches (as list of UID matching, C.2.2.2.2); a multi-valued entity value
  matches when any of its values matches (C.2.2.2.7).
* DA, TM, DT match by meaning (C.2.2.2.1, C.2.2.2.5).  A bound covers its own precision: the
  single value or range end ``1800`` (TM) covers 18:00:00-18:00:59.999999, ``2006`` (DT)
  the year 2006; a single value is the range from a value to itself.  A DT with a UTC
  offset is converted to UTC; one without is compared as given (no Timezone query
  adjustment, C.2.2.2.1).  A range whose start is after its end matches nothing.  A value
  that cannot be read as a date or time matches no key but universal matching.
* Matching is on the decoded (Unicode) values: Specific Character Set (0008,0005) only
  decides how the codec decoded the Identifier and the stored values (C.2.2.2), so a name
  stored in ISO_IR 100 matches a key sent in ISO_IR 192.  Timezone Offset From UTC is not
  used to adjust times (no Timezone query adjustment).
* Private keys (odd groups) are unsupported optional keys: not matched, not returned.
* Combined datetime matching (C.2.2.2.5, extended negotiation) applies to the pairs in
  :data:`DATE_TIME_PAIRS` when both keys use the same range form; an entity's missing time
  counts as 00:00.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterable
from typing import Final

import attrs

from dicompile.runtime.archive.levels import NOT_MATCHED
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.values import DA, DT, TM, parse_da, parse_dt, parse_tm
from dicompile.runtime.core.values.dates import Precision, parse_range
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DicomError, QueryError

#: VRs on which "*" and "?" are wild cards (PS3.4 C.2.2.2.4 lists the VRs where they are not).
WILDCARD_VRS: Final = frozenset(
    {VR.AE, VR.CS, VR.LO, VR.LT, VR.PN, VR.SH, VR.ST, VR.UC, VR.UR, VR.UT}
)
#: Texts whose leading spaces are significant (PS3.5 Table 6.2-1).
_LEADING_SIGNIFICANT: Final = frozenset({VR.ST, VR.LT, VR.UT})
_DATE_VRS: Final = frozenset({VR.DA, VR.TM, VR.DT})
_NUMBER_VRS: Final = frozenset({VR.DS, VR.IS, VR.US, VR.SS, VR.UL, VR.SL, VR.FL, VR.FD})
_UID_CHARS: Final = re.compile(r"[0-9.]{1,64}")

#: Date and time attributes matched together under combined datetime matching (C.2.2.2.5).
DATE_TIME_PAIRS: Final = (
    (0x00080020, 0x00080030),  # StudyDate, StudyTime
    (0x00080021, 0x00080031),  # SeriesDate, SeriesTime
    (0x00080022, 0x00080032),  # AcquisitionDate, AcquisitionTime
    (0x00080023, 0x00080033),  # ContentDate, ContentTime
    (0x00400002, 0x00400003),  # ScheduledProcedureStepStartDate, ...StartTime
    (0x00400004, 0x00400005),  # ScheduledProcedureStepEndDate, ...EndTime
    (0x00400244, 0x00400245),  # PerformedProcedureStepStartDate, ...StartTime
)

#: Unique keys (PS3.4 C.2.2.1.1): every entity has a value, so an entity without one is
#: not "unknown" (C.2.2.1.2 speaks of Required Keys) and matches only universal matching.
UNIQUE_TAGS: Final = frozenset({0x00100020, 0x0020000D, 0x0020000E, 0x00080018})

_MIN_TIME: Final = "000000.000000"
_MAX_TIME: Final = "235959.999999"


class MatchType(enum.Enum):
    """The matching types of PS3.4 C.2.2.2 (list matching of other VRs is an extension)."""

    UNIVERSAL = "universal"  # C.2.2.2.3
    SINGLE = "single value"  # C.2.2.2.1
    UID_LIST = "list of UID"  # C.2.2.2.2
    WILDCARD = "wild card"  # C.2.2.2.4
    RANGE = "range"  # C.2.2.2.5
    SEQUENCE = "sequence"  # C.2.2.2.6
    LIST = "list"  # several values of a non-UI key: any may match


# --- normalisation -----------------------------------------------------------------------


def normalize_text(vr: VR, text: str) -> str:
    """The significant part of a text value: trailing (and, but for ST/LT/UT, leading)
    spaces removed, and a UI's trailing NUL padding (PS3.5 Table 6.2-1, §6.4)."""
    text = text.rstrip(" \x00")
    return text if vr in _LEADING_SIGNIFICANT else text.lstrip(" ")


def normalize_pn(text: str) -> tuple[str, ...]:
    """The component groups of a PN text, case-folded, components trimmed, empty trailing
    components and groups dropped (PS3.5 §6.2.1); ``()`` for an empty name."""
    groups: list[str] = []
    for group in text.split("="):
        components = [component.strip(" ") for component in group.split("^")]
        while components and not components[-1]:
            components.pop()
        groups.append("^".join(components).casefold())
    while groups and not groups[-1]:
        groups.pop()
    return tuple(groups)


def pn_column(text: str) -> str:
    """The text the index keeps for a PN: its normalised groups joined by ``=``."""
    return "=".join(normalize_pn(text))


def _format_datetime(value: datetime.datetime) -> str:
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"{value.hour:02d}{value.minute:02d}{value.second:02d}.{value.microsecond:06d}"
    )


def _format_time(value: datetime.time) -> str:
    return f"{value.hour:02d}{value.minute:02d}{value.second:02d}.{value.microsecond:06d}"


def _fraction_digits(text: str) -> int:
    match = re.search(r"\.(\d*)", text)
    return len(match[1]) if match else 0


def _span_end(value: datetime.datetime, precision: Precision, text: str) -> datetime.datetime:
    """The last microsecond of the period ``value`` stands for at ``precision``."""
    if precision is Precision.YEAR:
        following = (
            value.replace(year=value.year + 1, month=1, day=1) if value.year < 9999 else None
        )
    elif precision is Precision.MONTH:
        if value.month == 12:
            following = value.replace(year=value.year + 1, month=1) if value.year < 9999 else None
        else:
            following = value.replace(month=value.month + 1)
    else:
        step = {
            Precision.DAY: datetime.timedelta(days=1),
            Precision.HOUR: datetime.timedelta(hours=1),
            Precision.MINUTE: datetime.timedelta(minutes=1),
            Precision.SECOND: datetime.timedelta(seconds=1),
        }.get(precision)
        if step is None:  # a fraction is exact to its last digit
            step = datetime.timedelta(microseconds=10 ** (6 - max(1, _fraction_digits(text))))
        try:
            following = value + step
        except OverflowError:
            following = None
    if following is None:
        return value.replace(month=12, day=31, hour=23, minute=59, second=59, microsecond=999999)
    return following - datetime.timedelta(microseconds=1)


def _utc_naive(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


def date_point(vr: VR, text: str) -> str | None:
    """The fixed-width sortable text of a stored DA, TM or DT value (the start of the period
    it stands for; DT in UTC when it has an offset), or None when it cannot be read.

    DA gives ``YYYYMMDD``, TM ``HHMMSS.ffffff``, DT ``YYYYMMDDHHMMSS.ffffff``.
    """
    try:
        if vr is VR.DA:
            day = parse_da(text)
            return None if day is None else f"{day.year:04d}{day.month:02d}{day.day:02d}"
        if vr is VR.TM:
            parsed_tm = parse_tm(text)
            return None if parsed_tm is None else _format_time(parsed_tm[0])
        parsed_dt = parse_dt(text)
        return None if parsed_dt is None else _format_datetime(_utc_naive(parsed_dt[0]))
    except OverflowError:  # a DT at the edge of year 1 or 9999 with an offset
        return None


def _bounds_of(value: DA | TM | DT) -> tuple[str, str]:
    """The first and last instant a key value stands for, as :func:`date_point` texts."""
    if isinstance(value, DA):
        point = date_point(VR.DA, value.text)
        assert point is not None  # parse_range only gives readable values
        return point, point
    if isinstance(value, TM):
        assert value.value is not None and value.precision is not None
        start = datetime.datetime.combine(datetime.date(2000, 1, 1), value.value)
        end = _span_end(start, value.precision, value.text)
        if end.date() != start.date():
            return _format_time(start.time()), _MAX_TIME
        return _format_time(start.time()), _format_time(end.time())
    assert value.value is not None and value.precision is not None
    naive = value.value.replace(tzinfo=None)
    end = _span_end(naive, value.precision, value.text)
    offset = value.value.utcoffset() or datetime.timedelta(0)
    try:
        return _format_datetime(naive - offset), _format_datetime(end - offset)
    except OverflowError:
        raise QueryError(f"DT {value.text!r} is out of range once converted to UTC") from None


# --- keys ----------------------------------------------------------------------------------


@attrs.frozen
class Key:
    """One key of an Identifier, classified (PS3.4 C.2.2.2).

    ``values`` are normalised key texts (PN: case-folded, ``=``-joined groups); ``low`` and
    ``high`` the inclusive :func:`date_point` bounds of a DA/TM/DT key (None: open);
    ``items`` the item keys of a sequence key.
    """

    tag: int
    vr: VR
    type: MatchType
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    items: tuple[Key, ...] = ()
    combined: tuple[CombinedKey, ...] = ()
    element: DataElement | None = attrs.field(default=None, eq=False, repr=False)

    def matches(self, entity: Dataset) -> bool:
        """True when ``entity`` matches this key (Rule 1 of the module text)."""
        if self.type is MatchType.UNIVERSAL:
            return True
        element = entity.get(self.tag)
        if element is None:
            return self.tag not in UNIQUE_TAGS  # an unknown value matches (C.2.2.1.2)
        if self.type is MatchType.SEQUENCE:
            value = element.value
            if not isinstance(value, Sequence) or not value:
                return True
            return any(self._item_matches(item) for item in value)
        texts = [_text(value) for value in element.values]
        if not texts or all(not normalize_text(element.vr, text) for text in texts):
            return self.tag not in UNIQUE_TAGS
        return any(self._matches_text(element.vr, text) for text in texts)

    def _item_matches(self, item: Dataset) -> bool:
        return all(key.matches(item) for key in self.items) and all(
            key.matches(item) for key in self.combined
        )

    def _matches_text(self, vr: VR, text: str) -> bool:
        if self.type is MatchType.RANGE or (self.vr in _DATE_VRS and self.type is MatchType.SINGLE):
            point = date_point(self.vr, text)
            if point is None:
                return False
            return (self.low is None or self.low <= point) and (
                self.high is None or point <= self.high
            )
        if self.vr is VR.PN:
            groups = normalize_pn(text)
            return any(_pn_matches(key, groups) for key in self.values)
        if self.vr in _NUMBER_VRS:
            number = _number(text)
            return number is not None and any(_number(key) == number for key in self.values)
        value = normalize_text(vr, text)
        wild = self.vr in WILDCARD_VRS
        return any(_text_matches(key, value, wild) for key in self.values)

    def response_element(self, entity: Dataset) -> DataElement:
        """The element returned for this key (C.4.1.1.3.2): the entity's value, zero length
        when it has none; for a sequence key with item keys, the matching items reduced to
        the requested attributes (C.2.2.2.6)."""
        element = entity.get(self.tag)
        vr = self.element.vr if self.element is not None else self.vr
        if element is None:
            return DataElement(self.tag, vr, None)
        if self.type is MatchType.SEQUENCE and (self.items or self.combined):
            value = element.value
            if not isinstance(value, Sequence):
                return DataElement(self.tag, VR.SQ, None)
            requested = self.element.value if self.element is not None else None
            request_item = requested[0] if isinstance(requested, Sequence) else Dataset()
            kept = [
                _reduce(item, request_item, self.items)
                for item in value
                if self._item_matches(item)
            ]
            return DataElement(self.tag, VR.SQ, kept)
        return element


def _reduce(item: Dataset, request: Dataset, keys: tuple[Key, ...]) -> Dataset:
    by_tag = {key.tag: key for key in keys}
    reduced = Dataset()
    for requested in request:
        key = by_tag.get(requested.tag)
        if key is not None:
            reduced.add(key.response_element(item))
        else:
            found = item.get(requested.tag)
            reduced.add(found if found is not None else DataElement(requested.tag, requested.vr))
    return reduced


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _number(text: str) -> float | None:
    try:
        return float(text.strip(" "))
    except ValueError:
        return None


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _text_matches(key: str, value: str, wild: bool = True) -> bool:
    if wild and ("*" in key or "?" in key):
        return _wildcard_regex(key).fullmatch(value) is not None
    return key == value


def _pn_matches(key: str, groups: tuple[str, ...]) -> bool:
    if "=" not in key:
        return any(group and _text_matches(key, group) for group in groups)
    for index, key_group in enumerate(key.split("=")):
        if not key_group:
            continue
        value_group = groups[index] if index < len(groups) else ""
        if not _text_matches(key_group, value_group):
            return False
    return True


@attrs.frozen
class CombinedKey:
    """A date key and a time key matched as one datetime (C.2.2.2.5, extended negotiation)."""

    date_tag: int
    time_tag: int
    low: str | None
    high: str | None

    def matches(self, entity: Dataset) -> bool:
        date_element = entity.get(self.date_tag)
        if date_element is None or date_element.value is None:
            return True
        time_element = entity.get(self.time_tag)
        times = [_text(v) for v in time_element.values] if time_element is not None else []
        for date_value in date_element.values:
            day = date_point(VR.DA, _text(date_value))
            if day is None:
                continue
            for time_text in times or [""]:
                clock = date_point(VR.TM, time_text) if time_text.strip(" ") else _MIN_TIME
                if clock is None:
                    continue
                point = day + clock
                if (self.low is None or self.low <= point) and (
                    self.high is None or point <= self.high
                ):
                    return True
        return False


@attrs.frozen
class Query:
    """A compiled Identifier: its keys (and combined date-time keys) and the request itself."""

    keys: tuple[Key, ...]
    combined: tuple[CombinedKey, ...] = ()
    identifier: Dataset = attrs.field(factory=Dataset, eq=False, repr=False)

    def matches(self, entity: Dataset) -> bool:
        """True when every key matches ``entity`` (PS3.4 C.4.1.3.1)."""
        return all(key.matches(entity) for key in self.keys) and all(
            key.matches(entity) for key in self.combined
        )

    def key(self, tag: int) -> Key | None:
        for key in self.keys:
            if key.tag == tag:
                return key
        return None

    def response(self, entity: Dataset) -> Dataset:
        """The response Identifier's matched part: one element per requested key."""
        out = Dataset()
        for key in self.keys:
            out.add(key.response_element(entity))
        for combined in self.combined:
            for tag in (combined.date_tag, combined.time_tag):
                element = entity.get(tag)
                requested = self.identifier.get(tag)
                vr = requested.vr if requested is not None else VR.DA
                out.add(element if element is not None else DataElement(tag, vr, None))
        return out


def compile_identifier(
    identifier: Dataset, *, combined_datetime: bool = False, path: str = ""
) -> Query:
    """Classify every key of ``identifier`` (PS3.4 C.2.2.2); raise QueryError when malformed.

    Query/Retrieve Level, Specific Character Set, Timezone Offset From UTC and Query/Retrieve
    View are not keys (C.4.1.1.3.1) and are skipped.  ``combined_datetime`` is True when
    combined datetime matching was negotiated (C.2.2.2.5).

    References
    ----------
    PS3.4 C.2.2.2.1-C.2.2.2.7, C.4.1.1.3.1.
    """
    keys: list[Key] = []
    for element in identifier:
        if element.tag in NOT_MATCHED and not path:
            continue
        if element.tag & 0xFFFF == 0 or element.tag >> 16 < 0x0008:
            continue  # group lengths; groups below 0008 are no part of an Identifier
        if element.tag >> 16 & 1:
            continue  # private keys: unsupported optional keys (C.2.2.1.3)
        keys.append(_compile_key(element, path, combined_datetime))
    combined: list[CombinedKey] = []
    if combined_datetime:
        for date_tag, time_tag in DATE_TIME_PAIRS:
            pair = _combine(identifier, date_tag, time_tag)
            if pair is not None:
                combined.append(pair)
                keys = [key for key in keys if key.tag not in (date_tag, time_tag)]
    return Query(tuple(keys), tuple(combined), identifier)


def _compile_key(element: DataElement, path: str, combined: bool) -> Key:
    where = f"{path}{format_tag(element.tag)}"
    vr = element.vr
    if vr is VR.SQ:
        value = element.value
        if not isinstance(value, Sequence) or not value or not len(value[0]):
            return Key(element.tag, vr, MatchType.UNIVERSAL, element=element)
        if len(value) > 1:
            raise QueryError(
                f"a sequence key holds a single item, not {len(value)} (PS3.4 C.2.2.2.6)",
                tag_path=where,
            )
        items = compile_identifier(value[0], combined_datetime=combined, path=f"{where}[0]/")
        return Key(
            element.tag,
            vr,
            MatchType.SEQUENCE,
            items=items.keys,
            combined=items.combined,
            element=element,
        )
    if vr in (VR.OB, VR.OW, VR.OF, VR.OD, VR.OL, VR.OV, VR.UN):
        if element.vm == 0:
            return Key(element.tag, vr, MatchType.UNIVERSAL, element=element)
        raise QueryError(f"matching on {vr.value} values is not defined", tag_path=where)
    try:
        texts = [_text(value) for value in element.values]
    except (ValueError, TypeError, DicomError) as error:  # undecodable bytes from a peer
        raise QueryError(f"unreadable key value: {error}", tag_path=where) from error
    stripped = [normalize_text(vr, text) for text in texts]
    if not any(stripped) or stripped == ["*"]:
        return Key(element.tag, vr, MatchType.UNIVERSAL, element=element)
    if vr in _DATE_VRS:
        return _date_key(element, texts, where)
    if vr is VR.UI:
        for text in stripped:
            if not _UID_CHARS.fullmatch(text):
                raise QueryError(f"{text!r} is not a UID (PS3.4 C.2.2.2.2)", tag_path=where)
        kind = MatchType.UID_LIST if len(stripped) > 1 else MatchType.SINGLE
        return Key(element.tag, vr, kind, tuple(stripped), element=element)
    if vr is VR.PN:
        values = tuple("=".join(normalize_pn(text)) for text in texts)
    elif vr in _NUMBER_VRS:
        for text in stripped:
            if _number(text) is None:
                raise QueryError(f"{text!r} is not a {vr.value} value", tag_path=where)
        values = tuple(stripped)
    else:
        values = tuple(stripped)
    wild = vr in WILDCARD_VRS and any("*" in value or "?" in value for value in values)
    if len(values) > 1:
        kind = MatchType.LIST
    elif wild:
        kind = MatchType.WILDCARD
    else:
        kind = MatchType.SINGLE
    return Key(element.tag, vr, kind, values, element=element)


def _date_key(element: DataElement, texts: list[str], where: str) -> Key:
    if len(texts) > 1:
        raise QueryError(
            f"a {element.vr.value} key holds one value or one range (PS3.4 C.2.2.2.5)",
            tag_path=where,
        )
    low, high, is_range = _range_bounds(element.vr, texts[0], where)
    kind = MatchType.RANGE if is_range else MatchType.SINGLE
    return Key(element.tag, element.vr, kind, (texts[0].strip(" "),), low, high, element=element)


def _range_bounds(vr: VR, text: str, where: str) -> tuple[str | None, str | None, bool]:
    kinds: dict[VR, type[DA] | type[TM] | type[DT]] = {VR.DA: DA, VR.TM: TM, VR.DT: DT}
    parsed = parse_range(text, kinds[vr])  # type: ignore[type-var]
    if parsed is None:
        raise QueryError(
            f"{text.strip()!r} is not a {vr.value} value or range (PS3.4 C.2.2.2.5)",
            tag_path=where,
        )
    low = _bounds_of(parsed.start)[0] if parsed.start is not None else None
    high = _bounds_of(parsed.end)[1] if parsed.end is not None else None
    return low, high, not parsed.is_single


def _combine(identifier: Dataset, date_tag: int, time_tag: int) -> CombinedKey | None:
    date_element = identifier.get(date_tag)
    time_element = identifier.get(time_tag)
    if date_element is None or time_element is None:
        return None
    if date_element.vm != 1 or time_element.vm != 1:
        return None
    date_text = _text(date_element.value).strip(" ")
    time_text = _text(time_element.value).strip(" ")
    if "-" not in date_text or "-" not in time_text:
        return None
    date_range = parse_range(date_text, DA)
    time_range = parse_range(time_text, TM)
    if date_range is None or time_range is None:
        return None  # left to the separate keys, which raise QueryError
    if (date_range.start is None) != (time_range.start is None) or (date_range.end is None) != (
        time_range.end is None
    ):
        return None  # not "the same form of range matching"
    low = high = None
    if date_range.start is not None and time_range.start is not None:
        low = _bounds_of(date_range.start)[0] + _bounds_of(time_range.start)[0]
    if date_range.end is not None and time_range.end is not None:
        high = _bounds_of(date_range.end)[1] + _bounds_of(time_range.end)[1]
    return CombinedKey(date_tag, time_tag, low, high)


# --- SQL ---------------------------------------------------------------------------------


class ColumnKind(enum.Enum):
    """How the index normalised a column (what :func:`sql_condition` may assume)."""

    TEXT = "text"  # normalize_text of a single value
    UID = "uid"  # normalize_text of a UI value
    PN = "pn"  # pn_column
    DATE = "date"  # date_point of a DA, TM or DT value
    MULTI = "multi"  # "\\A\\B\\": several normalised texts between backslashes


def glob_escape(text: str) -> str:
    """``text`` as a literal inside an SQLite GLOB pattern (``[`` is its only other special
    character once ``*`` and ``?`` are the wild cards they are in DICOM; ``%`` and ``_``,
    special to LIKE, are plain characters to GLOB)."""
    return text.replace("[", "[[]")


def glob_pattern(key: str) -> str:
    """A DICOM wild card key (C.2.2.2.4) as a GLOB pattern: ``*`` and ``?`` keep their
    meaning, every other character is literal."""
    return "".join(ch if ch in "*?" else glob_escape(ch) for ch in key)


def sql_condition(key: Key, column: str, kind: ColumnKind) -> tuple[str, list[str]] | None:
    """A WHERE fragment on ``column`` selecting a superset of the entities ``key`` matches,
    or None when SQL cannot help.  A NULL column (no value) always passes (C.2.2.1.2).

    References
    ----------
    PS3.4 C.2.2.2.1 (single value), C.2.2.2.2 (UID list), C.2.2.2.4 (wild card), C.2.2.2.5
    (range).
    """
    condition: str
    params: list[str]
    if key.type in (MatchType.UNIVERSAL, MatchType.SEQUENCE):
        return None
    if kind is ColumnKind.DATE:
        if key.vr not in _DATE_VRS:
            return None
        parts = []
        params = []
        if key.low is not None:
            parts.append(f"{column} >= ?")
            params.append(key.low)
        if key.high is not None:
            parts.append(f"{column} <= ?")
            params.append(key.high)
        if not parts:
            return None
        condition = " AND ".join(parts)
    elif kind is ColumnKind.PN:
        if key.vr is not VR.PN or any("=" in value for value in key.values):
            return None
        parts = [f"{column} GLOB ?" for _ in key.values]
        params = ["*" + glob_pattern(value) + "*" for value in key.values]
        condition = " OR ".join(parts)
    elif kind is ColumnKind.MULTI:
        if key.type is MatchType.WILDCARD or any("*" in v or "?" in v for v in key.values):
            return None
        condition = " OR ".join(f"instr({column}, ?) > 0" for _ in key.values)
        params = ["\\" + value + "\\" for value in key.values]
    else:
        if key.vr in _NUMBER_VRS or key.vr in _DATE_VRS or key.vr is VR.PN:
            return None
        wild_vr = key.vr in WILDCARD_VRS
        exact = [v for v in key.values if not (wild_vr and ("*" in v or "?" in v))]
        wild = [value for value in key.values if value not in exact]
        parts = []
        params = []
        if exact:
            parts.append(f"{column} IN ({', '.join('?' for _ in exact)})")
            params.extend(exact)
        for value in wild:
            parts.append(f"{column} GLOB ?")
            params.append(glob_pattern(value))
        condition = " OR ".join(parts)
    return f"({column} IS NULL OR {condition})", params


def column_value(vr: VR, values: Iterable[object], kind: ColumnKind) -> str | None:
    """The normalised column text of a stored element; None when it has no value, and also
    when it is *irregular* (several values or an unreadable date where the column holds one
    value): a NULL column passes every SQL condition, so :meth:`Query.matches` decides."""
    texts = [_text(value) for value in values]
    if kind is ColumnKind.MULTI:
        kept = sorted({normalize_text(vr, text) for text in texts} - {""})
        return "\\" + "\\".join(kept) + "\\" if kept else None
    if len(texts) != 1 or not normalize_text(vr, texts[0]):
        return None
    text = texts[0]
    if kind is ColumnKind.PN:
        return pn_column(text)
    if kind is ColumnKind.DATE:
        return date_point(vr, text)
    return normalize_text(vr, text)


__all__ = [
    "DATE_TIME_PAIRS",
    "UNIQUE_TAGS",
    "WILDCARD_VRS",
    "ColumnKind",
    "CombinedKey",
    "Key",
    "MatchType",
    "Query",
    "column_value",
    "compile_identifier",
    "date_point",
    "glob_escape",
    "glob_pattern",
    "normalize_pn",
    "normalize_text",
    "pn_column",
    "sql_condition",
]
