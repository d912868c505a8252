"""Tests of the VR table and tag helpers against PS3.5 Tables 6.2-1 and 7.1-1."""

from __future__ import annotations

import pytest

from dicompile.runtime.core.tag import Tag, format_tag, is_private, is_private_creator, parse_tag
from dicompile.runtime.core.vr import LONG_HEADER_VRS, VR, VR_INFO, dictionary_vr, parse_vr


def test_all_34_vrs_have_facts() -> None:
    assert len(VR) == 34
    assert set(VR_INFO) == set(VR)


def test_long_header_vrs_per_ps35_table_7_1_1() -> None:
    expected = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
    assert {vr.value for vr in LONG_HEADER_VRS} == expected


def test_padding_and_charset() -> None:
    assert VR.UI.info.padding == b"\x00" and VR.OB.info.padding == b"\x00"
    assert VR.SH.info.padding == b" "
    assert VR.PN.info.uses_charset and not VR.CS.info.uses_charset and not VR.UR.info.uses_charset


def test_dictionary_vr_alternatives() -> None:
    assert dictionary_vr("US or SS") == (VR.US, VR.SS)
    assert dictionary_vr("US or SS or OW") == (VR.US, VR.SS, VR.OW)
    assert dictionary_vr("See Note") == ()
    assert parse_vr(b"\x00\x01") is None and parse_vr(b"OB") is VR.OB


@pytest.mark.parametrize("text", ["(0010,0010)", "0010,0010", "00100010", "( 0010 , 0010 )"])
def test_parse_tag_forms(text: str) -> None:
    assert parse_tag(text) == 0x00100010


def test_tag_text_and_privacy() -> None:
    tag = Tag(0x00291010)
    assert str(tag) == "(0029,1010)" and tag.group == 0x29 and tag.element == 0x1010
    assert is_private(tag) and not is_private(0x00100010) and not is_private(0xFFFEE000)
    assert is_private_creator(0x00290010) and not is_private_creator(0x00291010)
    assert format_tag(0x7FE00010) == "(7FE0,0010)"
    with pytest.raises(ValueError, match="not a tag"):
        parse_tag("(0010,001G)")
    with pytest.raises(ValueError):
        Tag(1 << 32)


def test_vr_hash_is_the_code_hash() -> None:
    # VR tables may be keyed by the VR or by its two-letter code interchangeably.
    assert all(hash(vr) == hash(vr.value) for vr in VR)
    assert {vr.value: vr for vr in VR}[VR.OB] is VR.OB
