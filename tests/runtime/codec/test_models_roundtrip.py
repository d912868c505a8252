"""Hypothesis: generated data sets survive the JSON (PS3.18 F) and XML (PS3.19 A.1) models."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.json_model import from_json, to_json
from dicompile.runtime.codec.xml_model import from_xml, to_xml
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values import DS, IS, PersonName
from dicompile.runtime.core.vr import VR

# Text without what the models or XML 1.0 cannot carry (C0 controls other than TAB/LF/CR,
# surrogates), and without the backslash delimiter.
TEXT = (
    st.text(
        st.characters(
            blacklist_categories=["Cs"],
            blacklist_characters="\\\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10"
            "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
        ),
        min_size=1,
        max_size=12,
    )
    .map(lambda s: s.strip(" "))
    .filter(bool)
)
COMPONENT = TEXT.map(lambda s: s.replace("^", "").replace("=", "").strip(" ")).filter(bool)
NAME = st.lists(COMPONENT, min_size=1, max_size=5).map("^".join)
PERSON = st.lists(NAME, min_size=1, max_size=3).map("=".join).map(PersonName)
DS_TEXT = st.from_regex(r"[+-]?([0-9]{1,5}(\.[0-9]{1,5})?|\.[0-9]{1,4})([eE][+-]?[0-9]{1,2})?",
                        fullmatch=True)  # fmt: skip
FLOAT32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


def _values(draw: st.DrawFn, vr: VR) -> object:
    count = draw(st.integers(1, 3))
    if vr is VR.PN:
        items: list[object] = draw(st.lists(PERSON, min_size=count, max_size=count))
    elif vr is VR.DS:
        items = [DS(t) for t in draw(st.lists(DS_TEXT, min_size=count, max_size=count))]
    elif vr is VR.IS:
        items = [IS(str(n)) for n in draw(st.lists(st.integers(-(2**31), 2**31 - 1),
                                                    min_size=count, max_size=count))]  # fmt: skip
    elif vr is VR.FL:
        items = [
            struct.unpack("<f", struct.pack("<f", x))[0]
            for x in draw(st.lists(FLOAT32, min_size=count, max_size=count))
        ]
    elif vr is VR.FD:
        items = draw(st.lists(st.floats(allow_nan=False, allow_infinity=False),
                              min_size=count, max_size=count))  # fmt: skip
    elif vr is VR.US:
        items = draw(st.lists(st.integers(0, 65535), min_size=count, max_size=count))
    elif vr is VR.AT:
        items = draw(st.lists(st.integers(0, 0xFFFFFFFF), min_size=count, max_size=count))
    elif vr is VR.LT:
        items = [draw(TEXT)]
    else:
        items = draw(st.lists(TEXT, min_size=count, max_size=count))
    return items[0] if len(items) == 1 else tuple(items)


VRS = [VR.LO, VR.SH, VR.LT, VR.PN, VR.DS, VR.IS, VR.FL, VR.FD, VR.US, VR.AT, VR.UC]


@st.composite
def datasets(draw: st.DrawFn, depth: int = 0) -> Dataset:
    tags = draw(st.lists(st.integers(0x0008, 0x7FDF).map(lambda g: g & ~1), min_size=1,
                         max_size=6, unique=True))  # fmt: skip
    elements = []
    for index, group in enumerate(tags):
        tag = (group << 16) | (0x0100 + index)
        kind = draw(st.sampled_from(["value", "empty", "bytes", "sq"] if depth < 2
                                    else ["value", "empty", "bytes"]))  # fmt: skip
        if kind == "sq":
            items = draw(st.lists(datasets(depth + 1), max_size=2))
            elements.append(DataElement(tag, VR.SQ, Sequence(items)))
        elif kind == "bytes":
            elements.append(DataElement(tag, VR.OB, draw(st.binary(max_size=16))))
        else:
            vr = draw(st.sampled_from(VRS))
            elements.append(DataElement(tag, vr, None if kind == "empty" else _values(draw, vr)))
    return Dataset(elements)


@settings(max_examples=150, deadline=None)
@given(datasets())
def test_json_round_trip(dataset: Dataset) -> None:
    text = to_json(dataset)
    assert from_json(text) == dataset
    assert to_json(from_json(text)) == text  # DS/IS/PN text kept exactly


@settings(max_examples=150, deadline=None)
@given(datasets())
def test_xml_round_trip(dataset: Dataset) -> None:
    assert from_xml(to_xml(dataset)) == dataset
