"""DA, TM, DT: the formats of PS3.5 Table 6.2-1, precision, ACR-NEMA forms, ranges."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicompile.runtime.core.values import DA, DT, TM, Precision, parse_range

UTC = datetime.UTC


def _tz(minutes: int) -> datetime.timezone:
    return datetime.timezone(datetime.timedelta(minutes=minutes))


# --- DA ---------------------------------------------------------------------------------


def test_da_example_and_acr_nema_form() -> None:
    # Table 6.2-1 DA: "19930822" is August 22, 1993; "1993.08.22" is the ACR-NEMA form.
    assert DA("19930822").value == datetime.date(1993, 8, 22)
    assert DA("1993.08.22").value == datetime.date(1993, 8, 22)
    assert DA("19930822").precision is Precision.DAY
    assert DA("19930822 ").value == datetime.date(1993, 8, 22)  # trailing padding


@pytest.mark.parametrize("text", ["", "1993082", "19931322", "19930230", "1993-08-22", "abc"])
def test_da_unreadable_keeps_text(text: str) -> None:
    value = DA(text)
    assert value.value is None
    assert value.text == text
    assert value.precision is None


def test_da_equality_and_from_date() -> None:
    assert DA("19930822") == DA("1993.08.22")
    assert DA("19930822") == datetime.date(1993, 8, 22)
    assert DA("bad") == DA("bad") and DA("bad") != DA("worse")
    assert DA.from_date(datetime.date(7, 1, 2)).text == "00070102"
    assert hash(DA("19930822")) == hash(datetime.date(1993, 8, 22))


# --- TM ---------------------------------------------------------------------------------


def test_tm_examples_of_table_6_2_1() -> None:
    # "070907.0705 " is 7 h 9 min 7.0705 s; "1010" is 10 h 10 min; "021 " is invalid.
    assert TM("070907.0705 ").value == datetime.time(7, 9, 7, 70500)
    assert TM("070907.0705").precision is Precision.FRACTION
    assert TM("1010").value == datetime.time(10, 10)
    assert TM("1010").precision is Precision.MINUTE
    assert TM("021 ").value is None


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("10", datetime.time(10), Precision.HOUR),
        ("1015", datetime.time(10, 15), Precision.MINUTE),
        ("101530", datetime.time(10, 15, 30), Precision.SECOND),
        ("101530.1", datetime.time(10, 15, 30, 100000), Precision.FRACTION),
        ("101530.123456", datetime.time(10, 15, 30, 123456), Precision.FRACTION),
        ("000000", datetime.time(0), Precision.SECOND),
        ("10:15:30.25", datetime.time(10, 15, 30, 250000), Precision.FRACTION),  # ACR-NEMA
        ("10:15", datetime.time(10, 15), Precision.MINUTE),
        # Leap second: datetime has no second 60, the text keeps it.
        ("235960", datetime.time(23, 59, 59, 999999), Precision.SECOND),
    ],
)
def test_tm_precision(text: str, value: datetime.time, precision: Precision) -> None:
    parsed = TM(text)
    assert (parsed.value, parsed.precision, parsed.text) == (value, precision, text)


@pytest.mark.parametrize("text", ["2400", "1060", "106061", "1", "101530.1234567", "10.5"])
def test_tm_unreadable(text: str) -> None:
    assert TM(text).value is None


def test_tm_from_time() -> None:
    assert TM.from_time(datetime.time(7, 9, 7)).text == "070907"
    assert TM.from_time(datetime.time(7, 9, 7, 70500)).text == "070907.070500"
    assert TM.from_time(datetime.time(7, 9), Precision.MINUTE).text == "0709"


# --- DT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        # Table 6.2-1 DT: "195308" is August 1953; "19530827111300.0" is 11:13 a.m.
        ("195308", datetime.datetime(1953, 8, 1), Precision.MONTH),
        ("19530827111300.0", datetime.datetime(1953, 8, 27, 11, 13), Precision.FRACTION),
        ("2020", datetime.datetime(2020, 1, 1), Precision.YEAR),
        ("20200102", datetime.datetime(2020, 1, 2), Precision.DAY),
        ("2020010203", datetime.datetime(2020, 1, 2, 3), Precision.HOUR),
        # "2007-0500 is a legal value": the offset regardless of null components.
        ("2007-0500", datetime.datetime(2007, 1, 1, tzinfo=_tz(-300)), Precision.YEAR),
        (
            "20200102030405.123+0930",
            datetime.datetime(2020, 1, 2, 3, 4, 5, 123000, tzinfo=_tz(570)),
            Precision.FRACTION,
        ),
        (
            "20200102030405+0000",
            datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
            Precision.SECOND,
        ),
    ],
)  # fmt: skip
def test_dt(text: str, value: datetime.datetime, precision: Precision) -> None:
    parsed = DT(text)
    assert parsed.value == value
    assert (parsed.value.tzinfo is None) == (value.tzinfo is None)  # type: ignore[union-attr]
    assert parsed.precision is precision


@pytest.mark.parametrize("text", ["202", "2020130", "20200230", "2020010224", "2020+2400", ""])
def test_dt_unreadable(text: str) -> None:
    assert DT(text).value is None


def test_dt_from_datetime_and_equality() -> None:
    aware = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=_tz(-300))
    assert DT.from_datetime(aware).text == "20200102030405-0500"
    assert DT.from_datetime(aware, Precision.DAY).text == "20200102-0500"
    assert DT("20200102030405-0500") == aware
    assert DT("20200102030405") != aware  # naive vs aware never equal
    assert DT("2020") != DT("20200101")  # same instant, different precision
    assert DT("20200101") == DT("20200101 ")


# --- property: text -> value -> text ---------------------------------------------------

DATES = st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))
TIMES = st.times()


@given(DATES)
def test_da_round_trip(date: datetime.date) -> None:
    text = DA.from_date(date).text
    assert DA(text).value == date
    assert DA(text).text == text


@given(TIMES, st.sampled_from(list(Precision)[3:]))
def test_tm_round_trip(time: datetime.time, precision: Precision) -> None:
    text = TM.from_time(time, precision).text
    parsed = TM(text)
    assert parsed.precision is precision
    assert TM.from_time(parsed.value, precision).text == text  # type: ignore[arg-type]


@given(
    st.datetimes(datetime.datetime(1, 1, 2), datetime.datetime(9999, 12, 30)),
    st.sampled_from(list(Precision)),
    st.none() | st.integers(-12 * 60, 14 * 60).map(_tz),
)
def test_dt_round_trip(
    value: datetime.datetime, precision: Precision, tz: datetime.timezone | None
) -> None:
    text = DT.from_datetime(value.replace(tzinfo=tz), precision).text
    parsed = DT(text)
    assert parsed.precision is precision
    assert parsed.value is not None
    assert DT.from_datetime(parsed.value, precision).text == text


def test_agrees_with_pydicom() -> None:
    valuerep = pytest.importorskip("pydicom.valuerep")
    for text in ["19930822", "1993.08.22"]:
        assert DA(text).value == valuerep.DA(text)
    # pydicom 3 refuses the ACR-NEMA "10:15:30" that we read (and report as not compliant).
    for text in ["070907.0705", "1010", "10"]:
        theirs = valuerep.TM(text)
        assert TM(text).value == datetime.time(
            theirs.hour, theirs.minute, theirs.second, theirs.microsecond
        )
    for text in ["195308", "19530827111300.0", "2007-0500", "20200102030405.123+0930"]:
        assert DT(text).value == valuerep.DT(text)


# --- ranges (PS3.4 C.2.2.2.5) ----------------------------------------------------------


def test_ranges() -> None:
    both = parse_range("20200101-20201231", DA)
    assert both is not None and both.start == DA("20200101") and both.end == DA("20201231")
    assert not both.is_single
    opened = parse_range("-20201231", DA)
    assert opened is not None and opened.start is None and opened.end == DA("20201231")
    closed = parse_range("20200101-", DA)
    assert closed is not None and closed.end is None
    single = parse_range("20200101", DA)
    assert single is not None and single.is_single
    assert parse_range("1000-1200", TM) is not None
    assert parse_range("2020x-", DA) is None
    assert parse_range("-", DA) is None


def test_dt_range_with_offsets() -> None:
    # The offset "-" and the range "-" look alike: an ordered split wins.
    pair = parse_range("20200101-0500-20200102", DT)
    assert pair is not None
    assert pair.start == DT("20200101-0500") and pair.end == DT("20200102")
    # No ordered split: one value with an offset.
    one = parse_range("20200101-0500", DT)
    assert one is not None and one.is_single and one.start is not None and one.start.has_offset
    years = parse_range("1990-2000", DT)
    assert years is not None and years.start == DT("1990") and years.end == DT("2000")
