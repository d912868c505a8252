"""Property tests: datasets of every VR and nesting depth survive every native transfer syntax.

The tag of each generated element encodes its VR (``(0011, vr_index << 8 | n)``) and a
matching :class:`MappingLookup` is injected, so that Implicit VR Little Endian can find the
VRs again without the generated dictionary (PS3.5 §7.1.3: implicit VR needs a dictionary).
"""

from __future__ import annotations

import datetime
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.writer import LengthPolicy, WriteOptions, encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.lookup import MappingLookup
from dicompile.runtime.core.vr import VR
from dicompile.runtime.media.part10 import FileDataset, file_bytes, read_bytes

ALL_VRS = sorted(VR, key=lambda vr: vr.value)
GROUP = 0x0011


def tag_for(vr: VR, n: int) -> int:
    return (GROUP << 16) | ((ALL_VRS.index(vr) + 1) << 8) | n


LOOKUP = MappingLookup(
    {tag_for(vr, n): (vr.value, "") for vr in ALL_VRS for n in range(256)}
    | {0x00080005: ("CS", "SpecificCharacterSet")}
)

_ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\\")
_WORDS = st.text(_ASCII, min_size=1, max_size=10)


def _text(max_size: int, *, unicode: bool = False) -> st.SearchStrategy[str]:
    chars = (
        st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"), exclude_characters="\\^=")
        if unicode
        else _ASCII
    )
    # No leading/trailing spaces: they are padding for most text VRs (PS3.5 Table 6.2-1).
    return st.text(chars, min_size=1, max_size=max_size)


def _multi(one: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), one, st.lists(one, min_size=2, max_size=4).map(tuple))


_DATES = st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)).map(
    lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}"
)
_TIMES = st.times().map(lambda t: f"{t.hour:02d}{t.minute:02d}{t.second:02d}")
_UIDS = st.lists(st.integers(0, 10**6), min_size=2, max_size=6).map(
    lambda parts: ".".join(str(p) for p in parts)
)
_DS = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


def value_for(vr: VR, unicode: bool) -> st.SearchStrategy[object]:
    if vr in (VR.AE, VR.CS, VR.SH):
        return _multi(_text(16))
    if vr in (VR.LO, VR.UC):
        return _multi(_text(64, unicode=unicode))
    if vr is VR.PN:
        return _multi(st.lists(_text(12, unicode=unicode), min_size=1, max_size=5).map("^".join))
    if vr in (VR.LT, VR.ST, VR.UT):
        return st.one_of(st.none(), _text(200, unicode=unicode).map(lambda t: " " + t))
    if vr is VR.UR:
        return st.one_of(st.none(), _WORDS.map(lambda w: "http://example.com/" + w))
    if vr is VR.AS:
        return _multi(
            st.tuples(st.integers(0, 999), st.sampled_from("DWMY")).map(
                lambda a: f"{a[0]:03d}{a[1]}"
            )
        )
    if vr is VR.DA:
        return _multi(_DATES)
    if vr is VR.TM:
        return _multi(_TIMES)
    if vr is VR.DT:
        return _multi(_DATES.map(lambda d: d + "101010"))
    if vr is VR.UI:
        return _multi(_UIDS)
    if vr is VR.DS:
        return _multi(_DS)
    if vr is VR.IS:
        return _multi(st.integers(-(2**31), 2**31 - 1))
    ranges = {
        VR.US: (0, 2**16 - 1),
        VR.SS: (-(2**15), 2**15 - 1),
        VR.UL: (0, 2**32 - 1),
        VR.SL: (-(2**31), 2**31 - 1),
        VR.UV: (0, 2**64 - 1),
        VR.SV: (-(2**63), 2**63 - 1),
        VR.AT: (0, 2**32 - 1),
    }
    if vr in ranges:
        low, high = ranges[vr]
        return _multi(st.integers(low, high))
    if vr is VR.FL:
        return _multi(st.floats(width=32))
    if vr is VR.FD:
        return _multi(st.floats())
    if vr in (VR.OB, VR.UN):
        return st.binary(max_size=64).map(lambda b: b + b"\x00" * (len(b) % 2))
    sizes = {VR.OW: 2, VR.OF: 4, VR.OL: 4, VR.OD: 8, VR.OV: 8}
    size = sizes[vr]
    return st.binary(max_size=64).map(lambda b: b[: len(b) - len(b) % size])


@st.composite
def datasets(draw: st.DrawFn, depth: int = 0, unicode: bool = False) -> Dataset:
    elements: dict[int, DataElement] = {}
    for _ in range(draw(st.integers(0, 8 if depth else 14))):
        vr = draw(st.sampled_from(ALL_VRS))
        tag = tag_for(vr, draw(st.integers(0, 255)))
        if vr is VR.SQ:
            if depth >= 3:
                continue
            items = draw(st.lists(datasets(depth + 1, unicode), max_size=3))
            element = DataElement(tag, VR.SQ, items)
            assert element.value is not None
            element.value.undefined_length = draw(st.sampled_from([None, True, False]))  # type: ignore[union-attr]
        else:
            element = DataElement(tag, vr, draw(value_for(vr, unicode)))
        elements[tag] = element
    return Dataset(list(elements.values()))


@st.composite
def top_datasets(draw: st.DrawFn) -> Dataset:
    unicode = draw(st.booleans())
    ds = draw(datasets(0, unicode))
    if unicode:
        ds.add(DataElement(0x00080005, VR.CS, "ISO_IR 192"))
    return ds


SYNTAXES = [
    CodecContext(implicit_vr=True, lookup=LOOKUP),
    CodecContext(lookup=LOOKUP),
    CodecContext(little_endian=False, lookup=LOOKUP),
]

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(top_datasets(), st.sampled_from(list(LengthPolicy)))
def test_round_trip_every_native_syntax(ds: Dataset, policy: LengthPolicy) -> None:
    for ctx in SYNTAXES:
        data = encode_dataset(ds, ctx, WriteOptions(lengths=policy))
        back, end, _ = read_dataset(data, ctx)
        assert end == len(data)
        assert back == ds
        # What was read is written back byte for byte (raw values reused, lengths kept).
        assert encode_dataset(back, ctx, WriteOptions(lengths=LengthPolicy.PRESERVE)) == data
        # And transcoding to each other syntax keeps the meaning.
        for other in SYNTAXES:
            moved, _, _ = read_dataset(encode_dataset(back, other), other)
            assert moved == ds


@_SETTINGS
@given(top_datasets())
def test_round_trip_part10_deflated(ds: Dataset) -> None:
    ds.add(DataElement(0x00080016, VR.UI, "1.2.3"))
    ds.add(DataElement(0x00080018, VR.UI, "4.5.6"))
    data = file_bytes(ds, transfer_syntax="1.2.840.10008.1.2.1.99")
    back = read_bytes(data, lookup=LOOKUP)
    assert isinstance(back, FileDataset)
    assert back.transfer_syntax.deflated
    assert back.dataset == ds
    assert file_bytes(back) == data
    assert io.BytesIO(data).read(132)[128:] == b"DICM"
