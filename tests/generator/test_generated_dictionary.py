"""The committed generated dictionary, tags and UIDs: the interface the runtime codes against."""

from __future__ import annotations

from dicompile.generated import context_groups, tags, uids
from dicompile.generated.dictionary import DictEntry, entry_for_tag, iter_entries, tag_for_keyword


def test_exact_lookup() -> None:
    entry = entry_for_tag(0x00100010)
    assert entry == DictEntry(
        "00100010", "PN", "1", "PatientName", "Patient's Name", False, "PS3.6 2020 attributes.json"
    )
    assert entry_for_tag(0x7FE00010) is not None
    assert entry_for_tag(0x00100011) is None


def test_repeating_groups() -> None:
    for group in (0x6000, 0x6002, 0x601E):
        entry = entry_for_tag(group << 16 | 0x3000)
        assert entry is not None and entry.keyword == "OverlayData" and entry.tag == "60xx3000"
    coefficient = entry_for_tag(0x00280412)
    assert coefficient is not None and coefficient.tag == "002804x2"
    triplet = entry_for_tag(0x10001235)
    assert triplet is not None and triplet.keyword == "ShiftTableTriplet"
    assert entry_for_tag(0x60013000) is None  # odd group: private, never a repeating group


def test_exact_entry_wins_over_a_pattern() -> None:
    pixel = entry_for_tag(0x7FE00010)
    assert pixel is not None and pixel.keyword == "PixelData"  # not (7Fxx,0010)
    variable = entry_for_tag(0x7F020010)
    assert variable is not None and variable.keyword == "VariablePixelData"


def test_keywords() -> None:
    assert tag_for_keyword("PatientName") == 0x00100010
    assert tag_for_keyword("OverlayData") == 0x60003000
    assert tag_for_keyword("NoSuchKeyword") is None


def test_iter_entries_sorted_and_complete() -> None:
    entries = list(iter_entries())
    assert len(entries) == 4793
    bases = [int(e.tag.replace("x", "0"), 16) for e in entries]
    assert bases == sorted(bases)
    assert {e.vr for e in entries} >= {"US or SS", "OB or OW", "See Note 2", ""}


def test_tag_constants_match_the_dictionary() -> None:
    named = [e for e in iter_entries() if e.keyword]
    for entry in named:
        assert getattr(tags, entry.keyword) == int(entry.tag.replace("x", "0"), 16), entry
    assert tags.PatientName == 0x00100010
    assert tags.OverlayData == 0x60003000


def test_uid_constants_and_registry() -> None:
    assert uids.ExplicitVRLittleEndian == "1.2.840.10008.1.2.1"
    assert uids.CTImageStorage == "1.2.840.10008.5.1.4.1.1.2"
    entry = uids.uid_entry(uids.ImplicitVRLittleEndian)
    assert entry is not None and entry.type == "Transfer Syntax" and not entry.retired
    big = uids.uid_entry("1.2.840.10008.1.2.2")
    assert big is not None and big.retired and big.keyword == "ExplicitVRBigEndian"
    assert uids.uid_entry("1.2.3.4") is None
    for entry in uids.UIDS.values():
        assert getattr(uids, entry.keyword) == entry.uid


def test_erratum_uid_is_corrected() -> None:
    assert uids.CornealTopographyMapStorage == "1.2.840.10008.5.1.4.1.1.82.1"
    assert uids.uid_entry("11.2.840.10008.5.1.4.1.1.82.1") is None


def test_transfer_syntaxes() -> None:
    implicit = uids.TRANSFER_SYNTAXES[uids.ImplicitVRLittleEndian]
    assert implicit.implicit_vr and implicit.little_endian and not implicit.encapsulated
    big = uids.TRANSFER_SYNTAXES["1.2.840.10008.1.2.2"]
    assert not big.little_endian and big.retired
    assert uids.TRANSFER_SYNTAXES["1.2.840.10008.1.2.1.99"].deflated
    assert uids.TRANSFER_SYNTAXES["1.2.840.10008.1.2.5"].encapsulated  # RLE Lossless
    assert "1.2.840.10008.1.2.6.2" not in uids.TRANSFER_SYNTAXES  # XML: a file format
    assert all(uids.UIDS[u].type == "Transfer Syntax" for u in uids.TRANSFER_SYNTAXES)


def test_context_groups() -> None:
    group = context_groups.context_group(4)
    assert group is not None and group.uid == "1.2.840.10008.6.1.2"
    entry = uids.uid_entry("1.2.840.10008.6.1.2")
    assert entry is not None and entry.type == "Context Group Name"
    assert entry.name == "Anatomic Region" and entry.keyword == "AnatomicRegion"
