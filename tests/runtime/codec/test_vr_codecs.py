"""VR codecs: decoded forms, padding and byte order (PS3.5 §6.2 Table 6.2-1, §7.3)."""

from __future__ import annotations

import math
import struct
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.vr_codecs import BULK_VALUES, VR_CODECS, format_ds, swap_bytes
from dicompile.runtime.core.values import DA, DS, IS, TM, PersonName
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError

LE = CodecContext()
BE = CodecContext(little_endian=False)
STRICT = CodecContext(strict=True)


def decode(vr: VR, raw: bytes, ctx: CodecContext = LE) -> object:
    return VR_CODECS[vr].decode(raw, ctx)


def encode(vr: VR, value: object, ctx: CodecContext = LE) -> bytes:
    return VR_CODECS[vr].encode(value, ctx)  # type: ignore[arg-type]


def test_every_vr_has_a_codec() -> None:
    assert set(VR_CODECS) == set(VR)
    assert all(codec.vr is vr for vr, codec in VR_CODECS.items())


def test_at_example_of_table_6_2_1() -> None:
    # "(0018,00FF) would be encoded ... as 18H,00H,FFH,00H in a Little-Endian Transfer Syntax
    # and ... as 00H,18H,00H,FFH in a Big-Endian Transfer Syntax" (PS3.5 Table 6.2-1, AT).
    assert encode(VR.AT, 0x001800FF) == b"\x18\x00\xff\x00"
    assert encode(VR.AT, 0x001800FF, BE) == b"\x00\x18\x00\xff"
    assert decode(VR.AT, b"\x00\x18\x00\xff", BE) == 0x001800FF
    assert decode(VR.AT, b"\x18\x00\xff\x00" * 2) == (0x001800FF, 0x001800FF)


@pytest.mark.parametrize(
    ("vr", "raw", "expected"),
    [
        (VR.CS, b" ORIGINAL\\PRIMARY ", ("ORIGINAL", "PRIMARY")),  # both ends insignificant
        (VR.LO, b"  lo  ", "lo"),
        (VR.SH, b"a\\\\b ", ("a", "", "b")),  # an empty value in the middle stays
        (VR.UI, b"1.2.3\x00", "1.2.3"),  # UI pads with NUL (PS3.5 §9.1)
        (VR.LT, b"  two\\lines  ", "  two\\lines"),  # LT: leading spaces significant, no split
        (VR.UT, b"text\\more ", "text\\more"),
        (VR.UR, b"http://a/b ", "http://a/b"),
        (VR.AE, b" STORESCP  ", "STORESCP"),
        (VR.AS, b"018M", "018M"),
        (VR.LO, b"", None),
        (VR.CS, b"  ", None),  # padding only: no value
    ],
)
def test_text_padding_rules(vr: VR, raw: bytes, expected: object) -> None:
    assert decode(vr, raw) == expected


def test_value_types_of_pn_da_tm() -> None:
    name = decode(VR.PN, b"Adams^John Robert Quincy^^Rev.^B.A. M.Div.")
    assert isinstance(name, PersonName) and name.family_name == "Adams"
    names = decode(VR.PN, b"A^B\\C^D ")
    assert isinstance(names, tuple) and [str(n) for n in names] == ["A^B", "C^D"]
    date = decode(VR.DA, b"19930822")
    assert isinstance(date, DA) and date.value is not None and date.value.month == 8
    assert isinstance(decode(VR.TM, b"070907.0705 "), TM)


def test_ds_keeps_text_and_round_trips() -> None:
    value = decode(VR.DS, b" 1.50\\-2E3 ")
    assert isinstance(value, tuple)
    assert value == (1.5, -2000.0)
    assert all(isinstance(v, DS) for v in value)
    assert [v.text for v in value if isinstance(v, DS)] == ["1.50", "-2E3"]
    assert encode(VR.DS, value) == b"1.50\\-2E3 "


def test_long_numeric_arrays_are_plain_numbers() -> None:
    raw = "\\".join(["1.5"] * (BULK_VALUES + 1)).encode() + b" "
    value = decode(VR.DS, raw)
    assert isinstance(value, tuple) and len(value) == BULK_VALUES + 1
    assert type(value[0]) is float and value[0] == 1.5
    ints = decode(VR.IS, "\\".join(["7"] * (BULK_VALUES + 1)).encode())
    assert isinstance(ints, tuple) and type(ints[0]) is int


def test_bulk_threshold() -> None:
    # BULK_VALUES values keep their text; one more are plain numbers, however short.
    kept = decode(VR.DS, "\\".join(["1"] * BULK_VALUES).encode())
    assert isinstance(kept, tuple) and all(type(v) is DS for v in kept)
    raw = "\\".join(["1"] * (BULK_VALUES + 1)).encode()
    assert len(raw) == 2 * BULK_VALUES + 1  # the shortest long array
    plain = decode(VR.DS, raw)
    assert isinstance(plain, tuple) and len(plain) == BULK_VALUES + 1
    assert all(type(v) is float for v in plain)
    # A long array with NUL padding or an empty value takes the general path.
    padded = decode(VR.DS, raw + b"\x00")
    assert isinstance(padded, tuple) and padded[-1] == 1.0
    holes = decode(VR.DS, raw + b"\\")
    assert isinstance(holes, tuple) and holes[-2:] == (1.0, None)


@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"1.50", "1.50"), (b" 1.50 ", "1.50"), (b"-2E3\x00", "-2E3"), (b".5 ", ".5")],
)
def test_one_ds_keeps_text(raw: bytes, text: str) -> None:
    value = decode(VR.DS, raw)
    assert type(value) is DS and value.text == text and value == float(text)
    assert encode(VR.DS, value) == (text.encode() + b" ")[: len(text) + len(text) % 2]


@pytest.mark.parametrize("vr", [VR.DS, VR.IS])
@pytest.mark.parametrize("raw", [b"", b" ", b"  ", b"\x00\x00", b" \x00"])
def test_empty_numeric_strings(vr: VR, raw: bytes) -> None:
    assert decode(vr, raw) is None


@given(st.from_regex(r" ?[+-]?[0-9]{1,5}(\.[0-9]{1,4})?[ \x00]?", fullmatch=True))
def test_one_value_agrees_with_several(text: str) -> None:
    # The one-value fast paths give what the general (multi-valued) path gives.
    raw = text.encode()
    for vr in (VR.DS, VR.IS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            one = decode(vr, raw)
            pair = decode(vr, raw + b"\\" + raw)
        assert isinstance(pair, tuple)
        assert one == pair[0] and type(one) is type(pair[0])
        assert getattr(one, "text", None) == getattr(pair[0], "text", None)


def test_decoders_table_is_decode_value() -> None:
    # DataElement.value calls ctx.decoders[vr](raw, ctx): the same as ctx.decode_value.
    samples = {VR.DS: b"1.5\\2 ", VR.IS: b"7 ", VR.PN: b"Doe^J", VR.US: b"\x01\x00"}
    for ctx in (LE, BE):
        for vr, raw in samples.items():
            assert ctx.decoders[vr](raw, ctx) == ctx.decode_value(vr, raw)
    assert set(LE.decoders) == set(VR)


def test_is_values_and_text() -> None:
    assert decode(VR.IS, b"+05 ") == 5
    value = decode(VR.IS, b"007")
    assert isinstance(value, IS) and value.text == "007"
    assert encode(VR.IS, 12) == b"12"
    assert encode(VR.IS, (1, -2, 30)) == b"1\\-2\\30 "  # 7 bytes, padded to 8


def test_bad_numeric_strings_strict_and_lenient() -> None:
    with pytest.warns(DicomWarning, match="not a decimal number"):
        assert decode(VR.DS, b"1.5\\abc ") == (1.5, "abc")
    with pytest.raises(DecodeError, match="not a decimal number"):
        decode(VR.DS, b"abc ", STRICT)
    with pytest.warns(DicomWarning, match="not an integer"):
        assert decode(VR.IS, b"1A") == "1A"


def test_format_ds_fits_sixteen_characters() -> None:
    for number in (math.pi, -1.0 / 3, 1e-300, 123456789012.345, 2.0**60, 0.1, -0.0):
        text = format_ds(number)
        assert len(text) <= 16
        assert math.isclose(float(text), number, rel_tol=1e-9, abs_tol=1e-300)
    assert format_ds(0.1) == "0.1"
    with pytest.raises(EncodeError):
        format_ds(float("nan"))


@pytest.mark.parametrize(
    ("vr", "fmt", "value"),
    [
        (VR.US, "H", 0xFFFF),
        (VR.SS, "h", -32768),
        (VR.UL, "L", 0xFFFFFFFF),
        (VR.SL, "l", -(2**31)),
        (VR.FL, "f", 1.5),
        (VR.FD, "d", -2.25),
        (VR.SV, "q", -(2**63)),
        (VR.UV, "Q", 2**64 - 1),
    ],
)
def test_binary_numbers_in_both_byte_orders(vr: VR, fmt: str, value: float) -> None:
    assert encode(vr, value) == struct.pack("<" + fmt, value)
    assert encode(vr, value, BE) == struct.pack(">" + fmt, value)
    assert decode(vr, struct.pack(">" + fmt, value), BE) == value
    assert decode(vr, struct.pack("<2" + fmt, value, value)) == (value, value)
    assert decode(vr, b"") is None


def test_out_of_range_number_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match="US"):
        encode(VR.US, 70000)


def test_number_with_leftover_bytes() -> None:
    with pytest.warns(DicomWarning, match="not a multiple of 2"):
        assert decode(VR.US, b"\x01\x00\x02") == 1
    with pytest.raises(DecodeError):
        decode(VR.US, b"\x01\x00\x02", STRICT)


@pytest.mark.parametrize(
    ("vr", "size"), [(VR.OW, 2), (VR.OF, 4), (VR.OL, 4), (VR.OD, 8), (VR.OV, 8)]
)
def test_word_strings_are_swapped_per_word(vr: VR, size: int) -> None:
    value = bytes(range(16))
    big = encode(vr, value, BE)
    assert big == b"".join(value[i : i + size][::-1] for i in range(0, 16, size))
    assert decode(vr, big, BE) == value  # values are always little endian
    assert encode(vr, value) == value


def test_ob_and_un_are_never_swapped_and_pad_with_nul() -> None:
    assert encode(VR.OB, b"\x01\x02\x03", BE) == b"\x01\x02\x03\x00"
    assert decode(VR.UN, b"\x01\x02", BE) == b"\x01\x02"


def test_swap_keeps_a_trailing_partial_word() -> None:
    assert swap_bytes(b"\x01\x02\x03", 2) == b"\x02\x01\x03"


def test_text_encoding_pads_and_checks() -> None:
    assert encode(VR.UI, "1.2.3") == b"1.2.3\x00"
    assert encode(VR.CS, ("A", "B")) == b"A\\B "
    with pytest.raises(EncodeError, match="backslash"):
        encode(VR.LO, ("a\\b", "c"))
    with pytest.raises(EncodeError, match="single-valued"):
        encode(VR.LT, ("a", "b"))
    with pytest.raises(EncodeError, match="default repertoire"):
        encode(VR.CS, "Ä", STRICT)


def test_charset_is_used_for_person_names() -> None:
    latin1 = LE.with_charset(("ISO_IR 100",))
    assert encode(VR.PN, "Müller", latin1) == "Müller".encode("latin-1")
    assert str(decode(VR.PN, "Müller".encode("latin-1"), latin1)) == "Müller"
    utf8 = LE.with_charset(("ISO_IR 192",))
    assert str(decode(VR.PN, "Wang^XiaoDong=王^小東".encode(), utf8)) == "Wang^XiaoDong=王^小東"


def test_sequence_codec_refuses_bytes() -> None:
    with pytest.raises(DecodeError):
        decode(VR.SQ, b"")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EncodeError):
            encode(VR.SQ, None)
