"""Splitting, joining, padding and validating text values; UI, AS and AT helpers."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicompile.runtime.core.values import (
    Age,
    AgeUnit,
    ProblemKind,
    at_from_text,
    at_to_text,
    check_uid,
    join_values,
    pack_at,
    pad,
    parse_age,
    split_values,
    uid_from_uuid,
    unpack_at,
    validate_text,
    validate_value,
)
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind

TEXT_VRS = [vr for vr, info in VR_INFO.items() if info.kind is VRKind.TEXT]


# --- split / join / pad -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("vr", "text", "values"),
    [
        (VR.DS, " 1.5\\ 2 \\-3 ", ("1.5", "2", "-3")),
        (VR.CS, "ORIGINAL\\PRIMARY\\AXIAL ", ("ORIGINAL", "PRIMARY", "AXIAL")),
        (VR.UI, "1.2.840.10008.1.2\x00", ("1.2.840.10008.1.2",)),
        (VR.LO, "  lead and trail  ", ("lead and trail",)),
        (VR.PN, "Doe^John \\Roe^Jane ", ("Doe^John", "Roe^Jane")),
        # LT, ST, UT: one value, backslash allowed, leading spaces significant.
        (VR.LT, "  a\\b  ", ("  a\\b",)),
        (VR.ST, "x\\y", ("x\\y",)),
        (VR.UT, "line\r\n", ("line\r\n",)),
        (VR.UR, "http://a/b ", ("http://a/b",)),
        (VR.UC, " a\\ b ", (" a", " b")),
        (VR.CS, "", ()),
        (VR.CS, "  ", ()),
        (VR.CS, "\\", ("", "")),
        (VR.SH, "A\\\\B", ("A", "", "B")),
        (VR.DA, "20200101 ", ("20200101",)),
        (VR.LO, "padded with NUL\x00", ("padded with NUL",)),
    ],
)
def test_split_values(vr: VR, text: str, values: tuple[str, ...]) -> None:
    assert split_values(text, vr) == values


def test_join_values() -> None:
    assert join_values(["ORIGINAL", "PRIMARY"], VR.CS) == "ORIGINAL\\PRIMARY"
    assert join_values(["a\\b"], VR.LT) == "a\\b"
    assert join_values([], VR.LO) == ""
    with pytest.raises(ValueError, match="backslash"):
        join_values(["a\\b"], VR.LO)
    with pytest.raises(ValueError, match="single-valued"):
        join_values(["a", "b"], VR.ST)


def test_pad() -> None:
    assert pad(b"1.2.3", VR.UI) == b"1.2.3\x00"
    assert pad(b"ABC", VR.CS) == b"ABC "
    assert pad(b"AB", VR.CS) == b"AB"
    assert pad(b"\x01", VR.OB) == b"\x01\x00"


VALUE = st.text(
    st.characters(blacklist_characters="\\\x00", blacklist_categories=["Cs"]), max_size=10
).map(lambda s: s.strip(" "))


@given(st.lists(VALUE, min_size=1, max_size=5), st.sampled_from([VR.CS, VR.LO, VR.DS, VR.SH]))
def test_split_join_round_trip(values: list[str], vr: VR) -> None:
    text = join_values(values, vr)
    if len(values) == 1 and not values[0]:
        assert split_values(text, vr) == ()
    else:
        assert split_values(text + " ", vr) == tuple(values)


# --- validation -------------------------------------------------------------------------


def _kinds(text: str, vr: VR, **kwargs: bool) -> set[ProblemKind]:
    return {problem.kind for problem in validate_text(text, vr, **kwargs)}


@pytest.mark.parametrize(
    ("vr", "text"),
    [
        (VR.AE, "STORESCP"),
        (VR.AS, "018M"),
        (VR.CS, "ORIGINAL\\PRIMARY\\OTHER_1 "),
        (VR.DA, "19930822"),
        (VR.DS, " 1.5\\-2E+3 \\.5"),
        (VR.DT, "20200102030405.123456+0930 "),
        (VR.IS, "-2147483648\\2147483647"),
        (VR.LO, "Any text, é and 山田"),
        (VR.LT, "Line one\r\nLine two\\ with backslash\tand tab"),
        (VR.PN, "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        (VR.SH, "0123456789ABCDEF"),
        (VR.TM, "070907.0705 "),
        (VR.UI, "1.2.840.10008.1.2\x00"),
        (VR.UR, "http://example.com/a?b=c#d "),
    ],
)
def test_valid_values_have_no_problems(vr: VR, text: str) -> None:
    assert validate_text(text, vr) == []


@pytest.mark.parametrize(
    ("vr", "text", "kind"),
    [
        (VR.AE, "    ", ProblemKind.BAD_FORMAT),
        (VR.AE, "A" * 17, ProblemKind.TOO_LONG),
        (VR.AS, "18Y", ProblemKind.BAD_FORMAT),
        (VR.AS, "018y", ProblemKind.BAD_CHARACTER),
        (VR.CS, "lower", ProblemKind.BAD_CHARACTER),
        (VR.CS, "A-B", ProblemKind.BAD_CHARACTER),
        (VR.DA, "1993.08.22", ProblemKind.NOT_COMPLIANT),
        (VR.DA, "19930230", ProblemKind.BAD_FORMAT),
        (VR.DA, " 19930822", ProblemKind.BAD_PADDING),
        (VR.DS, "1,5", ProblemKind.BAD_CHARACTER),
        (VR.DS, "1.5.2", ProblemKind.BAD_FORMAT),
        (VR.DS, "1 5", ProblemKind.BAD_FORMAT),
        (VR.DS, "nan", ProblemKind.BAD_CHARACTER),
        (VR.DS, "12345678901234567", ProblemKind.TOO_LONG),
        (VR.DT, "20200101-0000", ProblemKind.BAD_FORMAT),
        (VR.DT, "20200101+1500", ProblemKind.OUT_OF_RANGE),
        (VR.IS, "2147483648", ProblemKind.OUT_OF_RANGE),
        (VR.IS, "1.0", ProblemKind.BAD_CHARACTER),
        (VR.IS, "1_0", ProblemKind.BAD_CHARACTER),
        (VR.LO, "x" * 65, ProblemKind.TOO_LONG),
        (VR.LO, "a\rb", ProblemKind.BAD_CHARACTER),
        (VR.LT, "a\x07b", ProblemKind.BAD_CHARACTER),
        (VR.PN, "a=b=c=d", ProblemKind.MULTIPLICITY),
        (VR.PN, "Doe\nJohn", ProblemKind.BAD_CHARACTER),
        (VR.SH, "x" * 17, ProblemKind.TOO_LONG),
        (VR.TM, "10:15:30", ProblemKind.NOT_COMPLIANT),
        (VR.TM, "2400", ProblemKind.BAD_FORMAT),
        (VR.TM, "1015.", ProblemKind.BAD_FORMAT),
        (VR.UI, "1.2.03", ProblemKind.BAD_FORMAT),
        (VR.UI, "1.2.3 ", ProblemKind.BAD_PADDING),
        (VR.UR, " http://x", ProblemKind.BAD_PADDING),
        (VR.UR, "http://x/a b", ProblemKind.BAD_CHARACTER),
        (VR.CS, "ABC\x00", ProblemKind.BAD_PADDING),
    ],
)
def test_problems(vr: VR, text: str, kind: ProblemKind) -> None:
    assert kind in _kinds(text, vr)


def test_problem_index_and_message() -> None:
    (problem,) = validate_text("1.5\\x\\2", VR.DS)
    assert problem.index == 1
    assert "value 2" in str(problem) and "Table 6.2-1" in str(problem)


def test_query_keys() -> None:
    assert validate_text("20200101-20201231", VR.DA, query=True) == []
    assert ProblemKind.TOO_LONG in _kinds("20200101-20201231", VR.DA)
    assert validate_text("DOE*", VR.CS, query=True) == []
    assert validate_text("-1200", VR.TM, query=True) == []
    assert ProblemKind.BAD_FORMAT in _kinds("2020x-", VR.DA, query=True)


def test_backslash_inside_one_value() -> None:
    assert [p.kind for p in validate_value("A\\B", VR.AE)] == [ProblemKind.BAD_CHARACTER]
    assert validate_value("A\\B", VR.LT) == []


def test_validate_value_rejects_binary_vrs() -> None:
    with pytest.raises(ValueError, match="not a text VR"):
        validate_value("1", VR.US)


@given(st.text(max_size=20), st.sampled_from(TEXT_VRS), st.booleans())
def test_validation_never_raises(text: str, vr: VR, query: bool) -> None:
    for problem in validate_text(text, vr, query=query):
        assert problem.message


# --- UI ---------------------------------------------------------------------------------


def test_check_uid() -> None:
    assert check_uid("1.2.840.10008.5.1.4.1.1.2") == []
    assert check_uid("0.0") == []
    assert len(check_uid("1." + "2" * 63)) == 1
    assert any("leading zero" in p for p in check_uid("1.02.3"))
    assert any("empty component" in p for p in check_uid("1..2"))
    assert any("empty component" in p for p in check_uid("1.2."))
    assert any("characters" in p for p in check_uid("1.2.a"))
    assert check_uid("") == ["a UID cannot be empty (PS3.5 §9.1)"]


def test_uid_from_uuid() -> None:
    value = uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
    # PS3.5 Annex B.2 example.
    assert uid_from_uuid(value) == "2.25.329800735698586629295641978511506172918"
    assert check_uid(uid_from_uuid()) == []


# --- AS, AT -----------------------------------------------------------------------------


def test_age() -> None:
    assert parse_age("018M") == Age(18, AgeUnit.MONTHS)  # Table 6.2-1 example
    assert str(Age(5, AgeUnit.YEARS)) == "005Y"
    assert parse_age("18Y") == Age(18, AgeUnit.YEARS)
    assert parse_age("018X") is None and parse_age("") is None
    with pytest.raises(ValueError):
        Age(1000, AgeUnit.DAYS)


def test_attribute_tag() -> None:
    # Table 6.2-1 AT: (0018,00FF) is 18H,00H,FFH,00H little endian, 00H,18H,00H,FFH big.
    assert pack_at([0x001800FF]) == bytes([0x18, 0x00, 0xFF, 0x00])
    assert pack_at([0x001800FF], little_endian=False) == bytes([0x00, 0x18, 0x00, 0xFF])
    assert unpack_at(bytes([0x00, 0x18, 0x00, 0xFF]), little_endian=False) == (0x001800FF,)
    assert at_to_text(0x001800FF) == "001800FF"
    assert at_from_text("(0018,00FF)") == at_from_text("001800FF") == 0x001800FF
    with pytest.raises(ValueError):
        unpack_at(b"\x00\x01")


@given(st.lists(st.integers(0, 0xFFFFFFFF), max_size=8), st.booleans())
def test_at_round_trip(tags: list[int], little: bool) -> None:
    assert unpack_at(pack_at(tags, little_endian=little), little_endian=little) == tuple(tags)
