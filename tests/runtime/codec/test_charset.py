"""Specific Character Set: the PS3.5 annex examples, defined terms, leniency, round trips.

The byte sequences of PS3.5 Annexes H, I, J and K are copied below from the 2013 DocBook
(``part05.xml``), with the example's id; ``test_vectors_match_the_standard_text`` re-reads
them from ``../shared`` so that a copying mistake cannot hide.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.charset import DEFINED_TERMS, CharacterSet
from dicompile.runtime.core.values import ProblemKind, validate_text
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError


def _column_row(text: str) -> bytes:
    """Bytes from the standard's column/row notation ("05/09 06/01": 0x59 0x61)."""
    return bytes(int(col) * 16 + int(row) for col, row in (t.split("/") for t in text.split()))


def _hex(text: str) -> bytes:
    return bytes(int(token, 16) for token in text.split())


# PS3.5 H.3.1 Example 1 (sect_H.3.1): value 1 absent, ISO 2022 IR 87 for ideographic and
# phonetic groups; ESC ( B before every delimiter.
H31_TERMS = ["", "ISO 2022 IR 87"]
H31_TEXT = "Yamada^Tarou=山田^太郎=やまだ^たろう"
H31_BYTES = _column_row(
    "05/09 06/01 06/13 06/01 06/04 06/01 5/14 05/04 06/01 07/02 06/15 07/05 03/13 01/11 02/04 "
    "04/02 03/11 03/03 04/05 04/04 01/11 02/08 04/02 05/14 01/11 02/04 04/02 04/02 04/00 04/15 "
    "03/10 01/11 02/08 04/02 03/13 01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 "
    "02/08 04/02 05/14 01/11 02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/02"
)

# PS3.5 H.3.2 Example 2 (sect_H.3.2): value 1 ISO 2022 IR 13 (JIS X 0201: romaji in GL,
# half-width katakana in GR), back to ISO-IR 14 with ESC ( J.  The annex prints full-width
# katakana for the first group, but bytes D4 CF C0 DE are JIS X 0201 half-width katakana.
H32_TERMS = ["ISO 2022 IR 13", "ISO 2022 IR 87"]
H32_TEXT = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
H32_BYTES = _column_row(
    "13/04 12/15 12/00 13/14 05/14 12/00 13/11 11/03 03/13 01/11 02/04 04/02 03/11 03/03 04/05 "
    "04/04 01/11 02/08 04/10 05/14 01/11 02/04 04/02 04/02 04/00 04/15 03/10 01/11 02/08 04/10 "
    "03/13 01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 02/08 04/10 05/14 01/11 "
    "02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/10"
)

# PS3.5 I.2 Example (sect_I.2-1): Korean, ISO 2022 IR 149 in G1, its escape repeated after
# every delimiter.
I2_TERMS = ["", "ISO 2022 IR 149"]
I2_TEXT = "Hong^Gildong=洪^吉洞=홍^길동"
I2_BYTES = _column_row(
    "04/08 06/15 06/14 06/07 05/14 04/07 06/09 06/12 06/04 06/15 06/14 06/07 03/13 01/11 02/04 "
    "02/09 04/03 15/11 15/03 05/14 01/11 02/04 02/09 04/03 13/01 12/14 13/04 13/07 03/13 01/11 "
    "02/04 02/09 04/03 12/08 10/11 05/14 01/11 02/04 02/09 04/03 11/01 14/06 11/05 11/15"
)

# PS3.5 J.1 Example (sect_J.1-1): UTF-8, with a trailing empty phonetic group ("=").
J1_TERMS = ["ISO_IR 192"]
J1_TEXT = "Wang^XiaoDong=王^小東="
J1_BYTES = _hex(
    "0x57 0x61 0x6e 0x67 0x5e 0x58 0x69 0x61 0x6f 0x44 0x6f 0x6e 0x67 0x3d "
    "0xe7 0x8e 0x8b 0x5e 0xe5 0xb0 0x8f 0xe6 0x9d 0xb1 0x3d"
)

# PS3.5 J.2 Example (sect_J.2-1): UTF-8 Long Text.  ERRATUM of the annex text (J.2, J.4):
# the character string has a SPACE before 中文 that the bytes do not have; the bytes are
# what is tested.
J2_TERMS = ["ISO_IR 192"]
J2_TEXT = (
    "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n"
)
J2_BYTES = _hex(
    "0x54 0x68 0x65 0x20 0x66 0x69 0x72 0x73 0x74 0x20 0x6c 0x69 0x6e 0x65 0x20 0x69 0x6e 0x63 "
    "0x6c 0x75 0x64 0x65 0x73 0xe4 0xb8 0xad 0xe6 0x96 0x87 0x2e 0x0d 0x0a 0x54 0x68 0x65 0x20 "
    "0x73 0x65 0x63 0x6f 0x6e 0x64 0x20 0x6c 0x69 0x6e 0x65 0x20 0x69 0x6e 0x63 0x6c 0x75 0x64 "
    "0x65 0x73 0xe4 0xb8 0xad 0xe6 0x96 0x87 0x2c 0x20 0x74 0x6f 0x6f 0x2e 0x0d 0x0a 0x54 0x68 "
    "0x65 0x20 0x74 0x68 0x69 0x72 0x64 0x20 0x6c 0x69 0x6e 0x65 0x2e 0x0d 0x0a"
)

# PS3.5 J.3 Example (sect_J.3-1): GB18030 person name (simplified script).
J3_TERMS = ["GB18030"]
J3_TEXT = "Wang^XiaoDong=王^小东="
J3_BYTES = _hex(
    "0x57 0x61 0x6e 0x67 0x5e 0x58 0x69 0x61 0x6f 0x44 0x6f 0x6e 0x67 0x3d 0xcd 0xf5 0x5e "
    "0xd0 0xa1 0xb6 0xab 0x3d"
)

# PS3.5 J.4 Example (sect_J.4-1): GB18030 Long Text.
J4_TERMS = ["GB18030"]
J4_TEXT = J2_TEXT
J4_BYTES = J2_BYTES.replace(b"\xe4\xb8\xad\xe6\x96\x87", b"\xd6\xd0\xce\xc4")

# PS3.5 K.2 Example (sect_K.2-1): GB 2312 as ISO 2022 IR 58 in G1; the annex ends the
# Hanzi with ESC ( B and pads the value with one SPACE.
K2_TERMS = ["", "ISO 2022 IR 58"]
K2_TEXT = "Zhang^XiaoDong=张小东="
K2_BYTES = _hex(
    "0x5A 0x68 0x61 0x6E 0x67 0x5E 0x58 0x69 0x61 0x6F 0x44 0x6F 0x6E 0x67 0x3D 0x1B 0x24 "
    "0x29 0x41 0xD5 0xC5 0xD0 0xA1 0xB6 0xAB 0x1B 0x28 0x42 0x3D 0x20"
)

# PS3.5 K.3 Example (sect_K.3-1): GB 2312 Long Text, each line opened with ESC $ ) A and
# closed with ESC ( B.  ERRATUM of the annex text: its character string shows "1)" but the
# bytes are 0x31 0x2E, "1."; the bytes are what is tested.
K3_TERMS = ["", "ISO 2022 IR 58"]
K3_TEXT = "1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n"
K3_BYTES = _hex(
    "0x31 0x2e 0x1B 0x24 0x29 0x41 0xB5 0xDA 0xD2 0xBB 0xD0 0xD0 0xCE 0xC4 0xD7 0xD6 0xA1 0xA3 "
    "0x1B 0x28 0x42 0x0D 0x0A 0x32 0x2e 0x1B 0x24 0x29 0x41 0xB5 0xDA 0xB6 0xFE 0xD0 0xD0 0xCE "
    "0xC4 0xD7 0xD6 0xA1 0xA3 0x1B 0x28 0x42 0x0D 0x0A 0x33 0x2e 0x1B 0x24 0x29 0x41 0xB5 0xDA "
    "0xC8 0xFD 0xD0 0xD0 0xCE 0xC4 0xD7 0xD6 0xA1 0xA3 0x1B 0x28 0x42 0x0D 0x0A 0x20"
)

ANNEX_EXAMPLES = [
    pytest.param(H31_TERMS, VR.PN, H31_TEXT, H31_BYTES, id="H.3.1"),
    pytest.param(H32_TERMS, VR.PN, H32_TEXT, H32_BYTES, id="H.3.2"),
    pytest.param(I2_TERMS, VR.PN, I2_TEXT, I2_BYTES, id="I.2"),
    pytest.param(J1_TERMS, VR.PN, J1_TEXT, J1_BYTES, id="J.1"),
    pytest.param(J2_TERMS, VR.LT, J2_TEXT, J2_BYTES, id="J.2"),
    pytest.param(J3_TERMS, VR.PN, J3_TEXT, J3_BYTES, id="J.3"),
    pytest.param(J4_TERMS, VR.LT, J4_TEXT, J4_BYTES, id="J.4"),
    pytest.param(K2_TERMS, VR.PN, K2_TEXT + " ", K2_BYTES, id="K.2"),
    pytest.param(K3_TERMS, VR.LT, K3_TEXT + " ", K3_BYTES, id="K.3"),
]


@pytest.mark.parametrize(("terms", "vr", "text", "raw"), ANNEX_EXAMPLES)
def test_annex_example_decodes(terms: list[str], vr: VR, text: str, raw: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CharacterSet.from_values(terms).decode(raw, vr) == text


@pytest.mark.parametrize(("terms", "vr", "text", "raw"), ANNEX_EXAMPLES)
def test_annex_example_encodes_to_the_same_bytes(
    terms: list[str], vr: VR, text: str, raw: bytes
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CharacterSet.from_values(terms).encode(text, vr) == raw


def test_korean_long_text_of_annex_i3() -> None:
    # PS3.5 I.3 (sect_I.3-1) gives the escapes but not the bytes: ESC $ ) C at the start of
    # the first two lines, then ASCII and Hangul intermixed without further escapes.
    hangul = "한글".encode("euc_kr")
    raw = (
        b"\x1b$)CThe first line includes " + hangul + b".\r\n"
        b"\x1b$)CThe second line includes " + hangul + b", too.\r\nThe third line"
    )
    text = "The first line includes 한글.\r\nThe second line includes 한글, too.\r\nThe third line"
    charset = CharacterSet.from_values(I2_TERMS)
    assert charset.decode(raw, VR.LT) == text
    assert charset.decode(charset.encode(text, VR.LT), VR.LT) == text


def _annex_bytes(part05: Path, example_id: str) -> bytes:
    """The bytes of an example's "encoded representation" paragraph(s) in part05.xml."""
    from lxml import etree

    ns = {"d": "http://docbook.org/ns/docbook", "xml": "http://www.w3.org/XML/1998/namespace"}
    tree = etree.parse(str(part05))
    found = tree.xpath(f"//*[@xml:id='{example_id}']", namespaces=ns)
    assert found, example_id
    paras = found[0].xpath(".//d:para", namespaces=ns)
    for para in paras:
        if "encoded representation" in "".join(para.itertext()).lower():
            listing = para.getnext()
            tokens = " ".join(
                "".join(code.itertext())
                for code in listing.xpath(".//d:computeroutput", namespaces=ns)
            ).split()
            if "/" in tokens[0]:
                return _column_row(" ".join(tokens))
            return _hex(" ".join(tokens))
    raise AssertionError(f"no encoded representation in {example_id} ({len(paras)} paras)")


@pytest.mark.shared
@pytest.mark.parametrize(
    ("example_id", "raw"),
    [
        ("sect_H.3.1", H31_BYTES),
        ("sect_H.3.2", H32_BYTES),
        ("sect_I.2-1", I2_BYTES),
        ("sect_J.1-1", J1_BYTES),
        ("sect_J.2-1", J2_BYTES),
        ("sect_J.3-1", J3_BYTES),
        ("sect_J.4-1", J4_BYTES),
        ("sect_K.2-1", K2_BYTES),
        ("sect_K.3-1", K3_BYTES),
    ],
)
def test_vectors_match_the_standard_text(xml_2013: Path, example_id: str, raw: bytes) -> None:
    assert _annex_bytes(xml_2013 / "part05.xml", example_id) == raw


# --- single-byte sets -------------------------------------------------------------------

SINGLE_BYTE = {
    "ISO_IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO_IR 144": "iso8859_5",
    "ISO_IR 127": "iso8859_6",
    "ISO_IR 126": "iso8859_7",
    "ISO_IR 138": "iso8859_8",
    "ISO_IR 148": "iso8859_9",
    "ISO_IR 203": "iso8859_15",
    "ISO_IR 166": "tis_620",
}


def test_gunther_example_of_6_1_2_3() -> None:
    # PS3.5 §6.1.2.3 note: "Günther" is 04/07 15/12 06/14 07/04 06/08 06/05 07/02 in Latin-1.
    raw = _column_row("04/07 15/12 06/14 07/04 06/08 06/05 07/02")
    assert CharacterSet.from_values("ISO_IR 100").decode(raw, VR.PN) == "Günther"


@pytest.mark.parametrize("term", sorted(SINGLE_BYTE))
def test_single_byte_set_reads_its_upper_half(term: str) -> None:
    charset = CharacterSet.from_values(term)
    codec = SINGLE_BYTE[term]
    for byte in range(0xA0, 0x100):
        raw = b"A" + bytes([byte])
        try:
            expected = raw.decode(codec)
        except UnicodeDecodeError:
            with pytest.warns(DicomWarning):
                assert charset.decode(raw, VR.LO) == "A\ufffd"
            continue
        assert charset.decode(raw, VR.LO) == expected
        assert charset.encode(expected, VR.LO) == raw


@pytest.mark.parametrize("term", sorted(SINGLE_BYTE))
def test_single_byte_set_as_code_extension_matches_single_value(term: str) -> None:
    # "ISO 2022 IR nnn" with ISO-IR 6 in G0 and the set in G1 reads GR like "ISO_IR nnn".
    single = CharacterSet.from_values(term)
    extended = CharacterSet.from_values([term.replace("ISO_IR", "ISO 2022 IR"), "ISO 2022 IR 87"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sets' unassigned bytes
        text = single.decode(bytes(range(0x20, 0x7F)) + bytes(range(0xA1, 0xFF)), VR.LT)
        text = text.replace("\ufffd", "")
        assert extended.decode(single.encode(text, VR.LT), VR.LT) == text


@pytest.mark.parametrize(
    "terms", [[], ["ISO_IR 100"], ["ISO_IR 192"], ["GB18030"], ["ISO_IR 144"], ["ISO_IR 166"]]
)
def test_single_codec_is_the_decode_fast_path(terms: list[str]) -> None:
    # The VR codecs decode with single_codec directly when it does not raise; that must be
    # what decode() gives, for every byte pair.
    charset = CharacterSet.from_values(terms)
    assert charset.single_codec is not None
    for first in range(0x20, 0x100, 7):
        for second in range(0x20, 0x100, 5):
            raw = bytes([first, second])
            try:
                fast = raw.decode(charset.single_codec)
            except UnicodeDecodeError:
                continue
            assert charset.decode(raw, VR.LO) == fast


def test_code_extensions_have_no_single_codec() -> None:
    assert CharacterSet.from_values(["", "ISO 2022 IR 87"]).single_codec is None


def test_string_codec_falls_back_to_lenient_decoding() -> None:
    from dicompile.runtime.codec.context import CodecContext
    from dicompile.runtime.codec.vr_codecs import VR_CODECS

    ctx = CodecContext(text=CharacterSet.from_values("ISO_IR 192"))
    assert VR_CODECS[VR.LO].decode("Grüße ".encode(), ctx) == "Grüße"
    with pytest.warns(DicomWarning):
        assert VR_CODECS[VR.LO].decode(b"A\xff", ctx) == "A\ufffd"
    iso2022 = CodecContext(text=CharacterSet.from_values(H31_TERMS))
    assert VR_CODECS[VR.PN].decode(H31_BYTES, iso2022) == H31_TEXT


def test_text_vr_outside_charset_vrs_is_ascii() -> None:
    charset = CharacterSet.from_values("ISO_IR 100")
    assert charset.decode(b"ORIGINAL\\PRIMARY", VR.CS) == "ORIGINAL\\PRIMARY"
    with pytest.raises(EncodeError, match="default repertoire"):
        charset.encode("É", VR.CS)
    # A sloppy writer put Latin-1 into a CS: read with the dataset's set (the decoder's
    # fast path does not look at the VR); the validator reports the character.
    assert charset.decode(b"\xc9TAT", VR.CS) == "ÉTAT"
    assert validate_text("ÉTAT", VR.CS)[0].kind is ProblemKind.BAD_CHARACTER


# --- ISO 2022 behaviour -----------------------------------------------------------------


def test_initial_state_restored_after_line_controls() -> None:
    # PS3.5 §6.1.2.5.3: value 1 is active at the start of each line; ESC $ B .. CR LF
    # without ESC ( B: the bytes after CR LF are ASCII again.
    charset = CharacterSet.from_values(H31_TERMS)
    raw = b"\x1b$B;3ED\r\nYamada"
    assert charset.decode(raw, VR.LT) == "山田\r\nYamada"
    assert charset.decode(b"\x1b$B;3ED\tX", VR.LT) == "山田\tX"


def test_double_byte_g0_does_not_stop_at_caret() -> None:
    # In JIS X 0208 (G0) bytes 5E ("^") and 3D ("=") are halves of characters: 3D5E is one
    # kanji, not a delimiter.
    charset = CharacterSet.from_values(H31_TERMS)
    kanji = b"\x3d\x5e".translate(bytes(range(128, 256)) * 2).decode("euc_jp")
    assert charset.decode(b"\x1b$B\x3d\x5e\x1b(B^A", VR.PN) == kanji + "^A"


def test_delimiter_resets_single_byte_g0() -> None:
    # A writer that designated ISO-IR 14 (JIS romaji) and did not switch back before "^":
    # after the delimiter value 1 (ISO-IR 6) applies again, so "~" is a tilde.
    charset = CharacterSet.from_values(["ISO 2022 IR 6", "ISO 2022 IR 13"])
    assert charset.decode(b"\x1b(J~^~", VR.PN) == "\u203e^~"


def test_g1_designation_kept_across_delimiters_when_value1_has_none() -> None:
    # Lenient: KS X 1001 designated once, the writer did not repeat ESC $ ) C after "^".
    charset = CharacterSet.from_values(I2_TERMS)
    raw = b"\x1b$)C\xfb\xf3^\xd1\xce\xd4\xd7"
    assert charset.decode(raw, VR.PN) == "洪^吉洞"


def test_g1_set_of_value1_is_restored_after_delimiter() -> None:
    # Value 1 ISO 2022 IR 100 puts Latin-1 in G1; after ESC - L (Cyrillic) and a "^" the
    # byte E9 is Latin-1 "é" again.
    charset = CharacterSet.from_values(["ISO 2022 IR 100", "ISO 2022 IR 144"])
    assert charset.decode(b"=\x1b-L\xbb^\xe9", VR.PN) == "=Л^é"
    encoded = charset.encode("=Л^é", VR.PN)
    assert encoded == b"=\x1b-L\xbb\x1b-A^\xe9"


def test_multi_valued_element_splits_after_decoding() -> None:
    charset = CharacterSet.from_values(H31_TERMS)
    raw = charset.encode("山田\\やまだ", VR.LO)
    assert raw == b"\x1b$B;3ED\x1b(B\\\x1b$B$d$^$@\x1b(B"
    assert charset.decode(raw, VR.LO) == "山田\\やまだ"


def test_jis_x_0212_supplementary_kanji() -> None:
    # ISO 2022 IR 159: ESC $ ( D, two GL bytes per character (JIS X 0212 row 16 cell 1).
    charset = CharacterSet.from_values(["", "ISO 2022 IR 87", "ISO 2022 IR 159"])
    char = bytes([0x8F, 0xB0, 0xA1]).decode("euc_jp")
    raw = b"\x1b$(D\x30\x21\x1b(B"
    assert charset.decode(raw, VR.LO) == char
    assert charset.encode(char, VR.LO) == raw


def test_space_in_kanji() -> None:
    # PS3.5 H.1: DICOM, unlike ISO-2022-JP-2, may write SPACE without leaving JIS X 0208;
    # such bytes are read.  Written, SPACE leaves JIS X 0208 first, which every ISO-2022-JP
    # decoder reads (Python's iso2022_jp codec rejects a SPACE in kanji mode).
    charset = CharacterSet.from_values(H31_TERMS)
    assert charset.decode(b"\x1b$B;3ED \x42\x40\x4f\x3a\x1b(B", VR.LO) == "山田 太郎"
    raw = charset.encode("山田 太郎", VR.LO)
    assert raw == b"\x1b$B;3ED\x1b(B \x1b$B\x42\x40\x4f\x3a\x1b(B"
    assert raw.decode("iso2022_jp") == "山田 太郎"


def test_jis_x_0201_yen_and_overline() -> None:
    # PS3.5 H.1.1: in ISO-IR 14, 05/12 is YEN SIGN and 07/14 OVERLINE; in multi-valued
    # VRs 05/12 can only be the value delimiter and stays a backslash.
    charset = CharacterSet.from_values("ISO_IR 13")
    assert charset.decode(b"100\\~", VR.LT) == "100¥‾"
    assert charset.decode(b"A\\B", VR.LO) == "A\\B"
    assert charset.encode("100¥‾", VR.LT) == b"100\\~"
    assert charset.decode(b"\xb1\xdd", VR.LO) == "ｱﾝ"


def test_alphabetic_group_uses_value1_only() -> None:
    charset = CharacterSet.from_values(H31_TERMS)
    with pytest.warns(DicomWarning, match="alphabetic PN group"):
        raw = charset.encode("山田", VR.PN)
    assert raw == b"\x1b$B;3ED\x1b(B"


def test_unencodable_character() -> None:
    charset = CharacterSet.from_values(I2_TERMS)
    with pytest.raises(EncodeError, match="cannot be encoded"):
        charset.encode("ก", VR.LO)  # Thai: not in KS X 1001 (which has Cyrillic and Greek)
    assert charset.encode("AกB", VR.LO, errors="replace") == b"A?B"
    latin = CharacterSet.from_values("ISO_IR 100")
    with pytest.raises(EncodeError, match="ISO_IR 100"):
        latin.encode("Ж", VR.LO)
    assert latin.encode("Ж", VR.LO, errors="replace") == b"?"


def test_unknown_escape_and_undeclared_set() -> None:
    charset = CharacterSet.from_values(H31_TERMS)
    with pytest.warns(DicomWarning, match="unknown escape"):
        assert charset.decode(b"A\x1b(ZB", VR.LO) == "A\ufffdB"
    with pytest.warns(DicomWarning, match="not declared"):
        assert charset.decode(b"\x1b$)C\xc8\xab", VR.LO) == "홍"


def test_gr_bytes_without_g1_designation() -> None:
    charset = CharacterSet.from_values(H31_TERMS)
    with pytest.warns(DicomWarning):
        assert charset.decode(b"A\xe9", VR.LO) == "A\ufffd"


# --- defined terms ----------------------------------------------------------------------


def test_cached_per_value() -> None:
    first = CharacterSet.from_values(["", "ISO 2022 IR 87"])
    assert CharacterSet.from_values(("", "ISO 2022 IR 87")) is first
    assert CharacterSet.from_values("ISO_IR 100") is CharacterSet.from_values(["ISO_IR 100"])
    assert CharacterSet.from_values(None).is_default
    assert CharacterSet.from_values("").is_default


@pytest.mark.parametrize(
    ("spelled", "term"),
    [
        ("ISO-IR 100", "ISO_IR 100"),
        ("ISO_IR100", "ISO_IR 100"),
        ("iso_ir 144", "ISO_IR 144"),
        ("UTF-8", "ISO_IR 192"),
        ("ISO IR 192", "ISO_IR 192"),
    ],
)
def test_misspelled_term_warns_and_is_read(spelled: str, term: str) -> None:
    with pytest.warns(DicomWarning, match="read as"):
        charset = CharacterSet.from_values(spelled)
    assert charset.terms == (term,)
    with pytest.raises(DecodeError):
        CharacterSet.from_values(spelled, strict=True)


def test_unknown_term_falls_back_to_default() -> None:
    with pytest.warns(DicomWarning, match="not a defined term"):
        charset = CharacterSet.from_values("ISO_IR 999")
    assert charset.is_default
    # The fallback never raises on bytes: it warns and replaces.
    with pytest.warns(DicomWarning, match="cannot be decoded"):
        assert charset.decode(b"J\xe9r", VR.PN) == "J\ufffdr"
    with pytest.raises(DecodeError, match="ISO_IR 999"):
        CharacterSet.from_values("ISO_IR 999", strict=True)


def test_code_extensions_with_utf8_are_ignored() -> None:
    # PS3.3 Table C.12-5 (2017+): ISO_IR 192, GB18030 and GBK allow no code extensions.
    with pytest.warns(DicomWarning, match="does not allow code extensions"):
        charset = CharacterSet.from_values(["ISO_IR 192", "ISO 2022 IR 87"])
    assert charset.terms == ("ISO_IR 192",)
    assert charset.decode("山田".encode(), VR.PN) == "山田"
    with pytest.warns(DicomWarning, match="cannot be a code extension"):
        charset = CharacterSet.from_values(["ISO 2022 IR 100", "GB18030"])
    assert charset.terms == ("ISO 2022 IR 100",)


def test_repeated_and_misplaced_terms() -> None:
    with pytest.warns(DicomWarning, match="repeats"):
        charset = CharacterSet.from_values(["ISO 2022 IR 100", "ISO 2022 IR 100"])
    assert charset.terms == ("ISO 2022 IR 100",)
    with pytest.warns(DicomWarning, match="should be spelled"):
        charset = CharacterSet.from_values(["ISO_IR 100", "ISO 2022 IR 87"])
    assert charset.decode(b"\xe9\x1b$B;3\x1b(B", VR.LO) == "é山"
    with pytest.warns(DicomWarning, match="values 2 to n"):
        charset = CharacterSet.from_values("ISO 2022 IR 87")
    assert charset.decode(H31_BYTES, VR.PN) == H31_TEXT


def test_every_defined_term_builds_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for term in DEFINED_TERMS:
            if term in ("ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58"):
                CharacterSet.from_values(["", term])
            else:
                CharacterSet.from_values(term)


# --- properties -------------------------------------------------------------------------

TEXT_VRS = [vr for vr, info in VR_INFO.items() if info.kind is VRKind.TEXT]
ALL_TERM_SETS = [
    *([term] for term in DEFINED_TERMS if term not in {
        "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58"}),
    H31_TERMS,
    H32_TERMS,
    I2_TERMS,
    K2_TERMS,
    ["ISO 2022 IR 100", "ISO 2022 IR 144", "ISO 2022 IR 87", "ISO 2022 IR 159"],
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=40)
    | st.lists(
        st.sampled_from([b"\x1b$B", b"\x1b(B", b"\x1b$)C", b"\x1b(J", b"\x1b-A", b"^", b"=",
                         b"\\", b"\r\n", b"\xb0\xa1", b";3", b"A", b"\x1b", b"\xff"]),
        max_size=12,
    ).map(b"".join),
    terms=st.sampled_from(ALL_TERM_SETS),
    vr=st.sampled_from(TEXT_VRS),
)  # fmt: skip
def test_decode_never_raises(raw: bytes, terms: list[str], vr: VR) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        text = CharacterSet.from_values(terms).decode(raw, vr)
    assert isinstance(text, str)


JAPANESE = st.text(
    st.sampled_from(list("山田太郎やまだたろうヤマダ漢字ｱｲｳ ABCxyz019.,")), max_size=20
)


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(JAPANESE.map(lambda s: s.replace(" ", "")), min_size=1, max_size=3))
def test_japanese_person_name_round_trip(groups: list[str]) -> None:
    charset = CharacterSet.from_values(H32_TERMS)
    # The alphabetic group is written with value 1 (JIS X 0201) only.
    first = "".join(ch for ch in groups[0] if ch in "ｱｲｳABCxyz019.,")
    text = "=".join([first, *groups[1:]])
    assert charset.decode(charset.encode(text, VR.PN), VR.PN) == text


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.sampled_from(list("홍길동洪吉洞한글 Hong^=\r\nabc.")), max_size=30),
    vr=st.sampled_from([VR.LO, VR.LT, VR.PN]),
)
def test_korean_round_trip(text: str, vr: VR) -> None:
    charset = CharacterSet.from_values(I2_TERMS)
    if vr is not VR.PN:
        text = text.replace("^", "").replace("=", "")
    if vr is not VR.LT:
        text = text.replace("\r", "").replace("\n", "")
    if vr is VR.PN:
        text = text.replace(" ", "")
        groups = text.split("=")
        groups[0] = "".join(ch for ch in groups[0] if ch.isascii())
        text = "=".join(groups)
    assert charset.decode(charset.encode(text, vr), vr) == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30), term=st.sampled_from(["ISO_IR 192", "GB18030"]))
def test_unicode_sets_round_trip(text: str, term: str) -> None:
    text = re.sub(r"[\ud800-\udfff]", "", text)
    charset = CharacterSet.from_values(term)
    assert charset.decode(charset.encode(text, VR.UT), VR.UT) == text
