"""DS and IS: numbers that keep their text (PS3.5 Table 6.2-1), and what they cost."""

from __future__ import annotations

import math
import pickle
import timeit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicompile.runtime.core.values import (
    DS,
    IS,
    ds_value,
    ds_values,
    format_ds,
    is_value,
    is_values,
    parse_ds,
    parse_is,
)


@pytest.mark.parametrize("text", ["1.50", "1", "-0.0", "+3", "1.0000E+00", ".5", "5.", "1e-3"])
def test_ds_keeps_text_and_value(text: str) -> None:
    value = DS(text)
    assert value == float(text)
    assert value.text == text
    assert str(value) == text
    assert isinstance(value + 1, float) and type(value + 1) is float


def test_ds_from_number() -> None:
    assert DS(1.5).text == "1.5"
    assert DS(1 / 3).text == "0.33333333333333"  # 16 characters, the DS maximum
    assert len(DS(-1 / 3).text) <= 16
    assert DS(1e-300).text == "1e-300"
    assert DS(12345678901234567890.0).text == "1.2345678901e+19"
    assert DS(DS("1.50")).text == "1.50"
    with pytest.raises(ValueError, match="cannot be written"):
        DS(math.inf)
    with pytest.raises(ValueError):
        DS("abc")


def test_ds_pickles_with_its_text() -> None:
    value = pickle.loads(pickle.dumps(DS("001.50")))
    assert type(value) is DS and value.text == "001.50" and value == 1.5


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_ds_fits_and_is_close(number: float) -> None:
    text = format_ds(number)
    assert len(text) <= 16
    # 16 characters leave at least 9 significant digits ("-1.22368114e+270").
    assert float(text) == pytest.approx(number, rel=1e-8, abs=0.0) or number == 0.0
    if len(repr(number)) <= 16:
        assert float(text) == number  # exact when repr fits


DS_TEXT = r"[+-]?([0-9]{1,6}(\.[0-9]{0,6})?|\.[0-9]{1,6})([eE][+-]?[0-9]{1,2})?"


@given(st.from_regex(DS_TEXT, fullmatch=True))
def test_ds_text_round_trip(text: str) -> None:
    assert DS(text).text == text
    (bulk,) = ds_values([text])
    assert bulk.text == text and bulk == float(text) and type(bulk) is DS


@given(st.from_regex(DS_TEXT, fullmatch=True))
def test_ds_value_is_ds(text: str) -> None:
    one = ds_value(text)
    assert type(one) is DS and one.text == text and one == DS(text)


@given(st.from_regex(r"[+-]?[0-9]{1,11}(\.0{1,2})?|x|1\.5", fullmatch=True))
def test_is_value_is_is(text: str) -> None:
    try:
        expected = IS(text)
    except ValueError:
        with pytest.raises(ValueError):
            is_value(text)
        return
    one = is_value(text)
    assert type(one) is IS and one == expected and one.text == text
    assert vars(one) == vars(expected)  # the text is stored exactly when IS() stores it


@pytest.mark.parametrize(
    ("text", "number", "stored"),
    [("7", 7, False), ("-12", -12, False), ("0", 0, False), ("007", 7, True), ("+5", 5, True),
     ("-0", 0, True), ("1.0", 1, True)],
)  # fmt: skip
def test_is_text(text: str, number: int, stored: bool) -> None:
    value = IS(text)
    assert value == number and value.text == text and str(value) == text
    assert ("_original" in vars(value)) is stored  # canonical texts store nothing
    assert type(value + 1) is int


def test_is_rejects_fractions_and_keeps_ints() -> None:
    with pytest.raises(ValueError, match="not an integer"):
        IS("1.5")
    assert IS(42).text == "42"
    assert pickle.loads(pickle.dumps(IS("007"))).text == "007"
    assert parse_is("") is None and parse_is("x") is None and parse_is("3") == 3
    assert parse_ds("") is None and parse_ds("x") is None and parse_ds("3.5") == 3.5


@given(st.from_regex(r"[+-]?[0-9]{1,11}", fullmatch=True))
def test_is_text_round_trip(text: str) -> None:
    assert IS(text).text == text
    assert [v.text for v in is_values([text, "1"])] == [text, "1"]


def test_agrees_with_pydicom() -> None:
    valuerep = pytest.importorskip("pydicom.valuerep")
    for text in ["1.50", "-0.0", "1.0000E+00", ".5", "12345678.1234567"]:
        theirs = valuerep.DSfloat(text, validation_mode=0)
        assert DS(text) == float(theirs) and DS(text).text == str(theirs)
    for text in ["007", "+5", "-12"]:
        assert IS(text) == int(valuerep.IS(text, validation_mode=0))


@pytest.mark.slow
def test_construction_cost_is_close_to_float() -> None:
    """The figures of the module docstring; loose bounds so that a busy machine passes."""
    texts = ["0.5", "1.2345", "512", "-12.5e3"] * 250
    runs = 20

    def best(function: object) -> float:
        timer = timeit.Timer(function)  # type: ignore[arg-type]
        return min(timer.repeat(repeat=5, number=runs)) / runs / len(texts) * 1e9

    plain = best(lambda: tuple(map(float, texts)))
    bulk = best(lambda: ds_values(texts))
    single = best(lambda: [DS(t) for t in texts])
    print(f"\nfloat {plain:.0f} ns, ds_values {bulk:.0f} ns, DS() {single:.0f} ns per value")
    assert bulk < 10 * plain
    assert single < 20 * plain
