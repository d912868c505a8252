"""Reader and writer round trips through the native transfer syntaxes (PS3.5 §7, Annex A)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.writer import LengthPolicy, WriteOptions, encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.lookup import MappingLookup
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR

LOOKUP = MappingLookup(
    {
        0x00080005: ("CS", "SpecificCharacterSet"),
        0x00081115: ("SQ", "ReferencedSeriesSequence"),
        0x00081150: ("UI", "ReferencedSOPClassUID"),
        0x00100010: ("PN", "PatientName"),
        0x00181050: ("DS", "SpatialResolution"),
        0x00200013: ("IS", "InstanceNumber"),
        0x00280010: ("US", "Rows"),
        0x00280103: ("US", "PixelRepresentation"),
        0x00280106: ("US or SS", "SmallestImagePixelValue"),
        0x7FE00010: ("OB or OW", "PixelData"),
    }
)

SYNTAXES = {
    "implicit-le": CodecContext(implicit_vr=True, lookup=LOOKUP),
    "explicit-le": CodecContext(lookup=LOOKUP),
    "explicit-be": CodecContext(little_endian=False, lookup=LOOKUP),
}


def sample() -> Dataset:
    item = Dataset([DataElement(0x00081150, VR.UI, "1.2.3.4")])
    return Dataset(
        [
            DataElement(0x00080005, VR.CS, "ISO_IR 100"),
            DataElement(0x00081115, VR.SQ, [item, Dataset()]),
            DataElement(0x00100010, VR.PN, "Müller^Jörg"),
            DataElement(0x00181050, VR.DS, (0.5, -1.25e-5)),
            DataElement(0x00200013, VR.IS, 7),
            DataElement(0x00280010, VR.US, 512),
            DataElement(0x00280103, VR.US, 1),
            DataElement(0x00280106, VR.SS, -5),
            DataElement(0x7FE00010, VR.OW, bytes(range(8))),
        ]
    )


@pytest.mark.parametrize("name", list(SYNTAXES))
@pytest.mark.parametrize("policy", list(LengthPolicy))
def test_round_trip(name: str, policy: LengthPolicy) -> None:
    ctx = SYNTAXES[name]
    ds = sample()
    data = encode_dataset(ds, ctx, WriteOptions(lengths=policy))
    back, end, _ = read_dataset(data, ctx)
    assert end == len(data)
    assert back == ds
    assert back["PatientName" if False else 0x00100010].value == "Müller^Jörg"
    # Rewriting what was read gives the same bytes (raw values are reused).
    assert encode_dataset(back, ctx, WriteOptions(lengths=policy)) == data


def test_explicit_le_bytes_by_hand() -> None:
    ds = Dataset([DataElement(0x00100010, VR.PN, "Doe^J")])
    # (0010,0010) PN, length 6 (odd value padded with a space, PS3.5 §7.1.1 and Table 6.2-1).
    assert encode_dataset(ds, CodecContext()) == b"\x10\x00\x10\x00PN\x06\x00Doe^J "


def test_big_endian_words_swapped() -> None:
    ds = Dataset(
        [DataElement(0x00280010, VR.US, 0x0102), DataElement(0x7FE00010, VR.OW, b"\x01\x02")]
    )
    data = encode_dataset(ds, SYNTAXES["explicit-be"])
    assert data == (
        b"\x00\x28\x00\x10US\x00\x02\x01\x02\x7f\xe0\x00\x10OW\x00\x00\x00\x00\x00\x02\x02\x01"
    )
    back, _, _ = read_dataset(data, SYNTAXES["explicit-be"])
    assert back[0x7FE00010].value == b"\x01\x02"


def test_sequence_value_type() -> None:
    back, _, _ = read_dataset(encode_dataset(sample(), CodecContext()), CodecContext())
    seq = back[0x00081115].value
    assert isinstance(seq, Sequence) and len(seq) == 2
    assert seq[0][0x00081150].value == "1.2.3.4"


def _reference_walk(ds: Dataset) -> list[int]:
    # What iter_all promises, written the obvious way: each element, then its items'.
    tags: list[int] = []
    for element in ds:
        tags.append(element.tag)
        value = element.value
        if isinstance(value, Sequence):
            for item in value:
                tags += _reference_walk(item)
    return tags


def _trees(depth: int) -> st.SearchStrategy[Dataset]:
    leaf = st.builds(
        lambda tags: Dataset([DataElement(0x00100010 + 2 * t, VR.LO, f"v{t}") for t in tags]),
        st.sets(st.integers(0, 20), max_size=4).map(sorted),
    )
    if depth == 0:
        return leaf

    def build(plain: list[int], nested: list[tuple[int, list[Dataset]]]) -> Dataset:
        ds = Dataset()
        for tag in plain:
            ds.set(0x00200010 + 2 * tag, "x", VR.SH)
        for tag, items in nested:
            ds.add(DataElement(0x00400010 + 2 * tag, VR.SQ, items))
        return ds

    inner = st.one_of(leaf, _trees(depth - 1))
    return st.builds(
        build,
        st.lists(st.integers(0, 20), max_size=3, unique=True),
        st.lists(
            st.tuples(st.integers(0, 20), st.lists(inner, max_size=3)),
            max_size=3,
            unique_by=lambda pair: pair[0],
        ),
    )


@settings(max_examples=150, deadline=None)
@given(_trees(3))
def test_iter_all_agrees_with_a_recursive_walk(ds: Dataset) -> None:
    expected = _reference_walk(ds)
    assert [e.tag for e in ds.iter_all()] == expected
    # The same tree read back from bytes (the reader sets the items' nesting hints).
    read, _, _ = read_dataset(encode_dataset(ds, CodecContext()), CodecContext())
    assert [e.tag for e in read.iter_all()] == expected
    assert [e.tag for e in ds.copy().iter_all()] == expected
