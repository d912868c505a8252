"""Data elements, datasets, sequences and private blocks (PS3.5 §7.1, §7.5, §7.8)."""

from __future__ import annotations

import math

import pytest

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, values_equal
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values import DA, DS, IS, PersonName
from dicompile.runtime.core.vr import VR

needs_dictionary = pytest.mark.skipif(
    not DEFAULT_LOOKUP.available, reason="dicompile.generated.dictionary is not generated yet"
)


def test_element_values_are_normalised_and_immutable() -> None:
    element = DataElement(0x00280030, VR.DS, [0.5, "0.50"])
    assert element.value == (0.5, 0.5)
    assert isinstance(element.value, tuple) and all(isinstance(v, DS) for v in element.value)
    assert element.vm == 2 and element.values == element.value
    assert DataElement(0x00100010, VR.PN, "Doe^J").value == PersonName("Doe^J")
    assert isinstance(DataElement(0x00080020, VR.DA, "20200101").value, DA)
    assert isinstance(DataElement(0x00200013, VR.IS, 3.0).value, IS)
    assert DataElement(0x7FE00010, VR.OW, bytearray(b"ab")).value == b"ab"
    assert DataElement(0x00100010, VR.PN, []).value is None
    with pytest.raises(AttributeError):
        DataElement(0x00100010, VR.PN, "x").value = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        DataElement(0x00100010, VR.PN, b"raw")
    with pytest.raises(TypeError):
        DataElement(0x00081115, VR.SQ, ["not a dataset"])
    with pytest.raises(ValueError):
        DataElement(1 << 32, VR.UL, 1)


def test_nan_equals_nan_for_value_equality() -> None:
    assert values_equal(math.nan, math.nan)
    assert values_equal((1.0, math.nan), (1.0, math.nan))
    a = DataElement(0x00189219, VR.FD, math.nan)
    assert a == DataElement(0x00189219, VR.FD, math.nan)
    assert a != DataElement(0x00189219, VR.FL, math.nan)


def test_dataset_access_order_and_mutation() -> None:
    ds = Dataset()
    ds.add(DataElement(0x00200013, VR.IS, 2))
    ds.add(DataElement(0x00080060, VR.CS, "CT"))  # inserted out of order
    ds[0x00100020] = DataElement(0x00100020, VR.LO, "id")
    assert ds.tags() == [0x00080060, 0x00100020, 0x00200013]
    assert [e.tag for e in ds] == ds.tags()
    assert len(ds) == 3 and 0x00080060 in ds and 0x00080061 not in ds
    assert ds.get(0x00080061) is None and ds.get_value(0x00080060) == "CT"
    del ds[0x00080060]
    assert ds.tags() == [0x00100020, 0x00200013]
    with pytest.raises(KeyError, match=r"\(0008,0060\)"):
        ds[0x00080060]
    with pytest.raises(KeyError):
        ds[0x00100021] = DataElement(0x00100020, VR.LO, "x")
    assert ds.pop(0x00100020) is not None and ds.pop(0x00100020) is None


@needs_dictionary
def test_keyword_access_uses_the_generated_dictionary() -> None:
    ds = Dataset()
    ds["PatientName"] = "Doe^John"
    assert ds[0x00100010].vr is VR.PN
    assert ds["PatientName"].value == "Doe^John"
    assert "PatientName" in ds and "PatientID" not in ds and "NoSuchKeyword" not in ds
    with pytest.raises(KeyError, match="unknown keyword"):
        ds["NoSuchKeyword"]
    with pytest.raises(ValueError, match="several VRs"):
        ds["SmallestImagePixelValue"] = 0  # US or SS: the VR must be given
    ds.set("SmallestImagePixelValue", -3, VR.SS)
    assert ds["SmallestImagePixelValue"].value == -3


def test_iter_all_walks_items_depth_first() -> None:
    inner = Dataset([DataElement(0x00081150, VR.UI, "1.2")])
    item = Dataset([DataElement(0x00081199, VR.SQ, [inner]), DataElement(0x00200013, VR.IS, 1)])
    ds = Dataset([DataElement(0x00081115, VR.SQ, [item]), DataElement(0x00100010, VR.PN, "a")])
    assert [e.tag for e in ds.iter_all()] == [
        0x00081115,
        0x00081199,
        0x00081150,
        0x00200013,
        0x00100010,
    ]


def test_iter_all_is_a_snapshot() -> None:
    # The walk is done when iter_all returns: changing the tree while consuming it is safe
    # and does not change what is yielded.
    first = Dataset([DataElement(0x00081150, VR.UI, "1.2")])
    second = Dataset([DataElement(0x00081155, VR.UI, "1.3")])
    ds = Dataset([DataElement(0x00081115, VR.SQ, [first, second])])
    ds.set(0x00100010, "a", VR.PN)
    walked = []
    for element in ds.iter_all():
        walked.append(element.tag)
        ds.set(0x00100020, "id", VR.LO)
        first.pop(0x00081150)
    assert walked == [0x00081115, 0x00081150, 0x00081155, 0x00100010]
    assert [e.tag for e in ds.iter_all()] == [0x00081115, 0x00081155, 0x00100010, 0x00100020]


def test_iter_all_orders_items_and_skips_empty_sequences() -> None:
    item = Dataset([DataElement(0x00200013, VR.IS, 1)])
    item.add(DataElement(0x00081150, VR.UI, "1.2"))  # inserted out of order
    ds = Dataset([DataElement(0x00081115, VR.SQ, [item]), DataElement(0x00081140, VR.SQ, [])])
    assert [e.tag for e in ds.iter_all()] == [0x00081115, 0x00081150, 0x00200013, 0x00081140]


def test_copy_is_deep_for_sequences() -> None:
    item = Dataset([DataElement(0x00081150, VR.UI, "1.2")])
    ds = Dataset([DataElement(0x00081115, VR.SQ, [item])])
    copied = ds.copy()
    assert copied == ds
    seq = copied[0x00081115].value
    assert isinstance(seq, Sequence)
    seq[0].add(DataElement(0x00081155, VR.UI, "3.4"))
    assert copied != ds and len(item) == 1


def test_sequence_accepts_only_datasets() -> None:
    seq = Sequence([Dataset()])
    seq.append(Dataset())
    seq.insert(0, Dataset())
    seq[1] = Dataset()
    seq[0:1] = [Dataset()]
    seq += [Dataset()]
    assert len(seq) == 4
    with pytest.raises(TypeError):
        seq.append(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        seq.extend([1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        seq[0] = "x"  # type: ignore[call-overload]
    assert seq.copy() == seq and seq.copy() is not seq


def test_private_block_reservation() -> None:
    ds = Dataset([DataElement(0x00290010, VR.LO, "OTHER CREATOR")])
    block = ds.private_block(0x0029, "ACME 1.0", create=True)
    assert block.block == 0x11 and block.creator_tag == 0x00290011
    assert ds[0x00290011].value == "ACME 1.0"
    block.set(0x01, VR.US, 7)
    assert block.tag(0x01) == 0x00291101 and ds[0x00291101].value == 7
    assert 0x01 in block and [e.tag for e in block] == [0x00291101]
    # The same creator is found again, wherever it sits (PS3.5 §7.8.1).
    again = ds.private_block(0x0029, "ACME 1.0 ")
    assert again.block == 0x11 and again[0x01].value == 7
    del again[0x01]
    assert 0x00291101 not in ds
    with pytest.raises(KeyError):
        ds.private_block(0x0029, "NOT THERE")
    with pytest.raises(ValueError, match="not a private group"):
        ds.private_block(0x0010, "ACME")
    with pytest.raises(ValueError):
        block.tag(0x100)


def test_private_group_full() -> None:
    ds = Dataset([DataElement(0x00090000 | xx, VR.LO, f"C{xx}") for xx in range(0x10, 0x100)])
    with pytest.raises(ValueError, match="no free private block"):
        ds.private_block(0x0009, "ONE MORE", create=True)


def test_nesting_hint_follows_additions() -> None:
    item = Dataset([DataElement(0x00081150, VR.UI, "1.2")])
    ds = Dataset([DataElement(0x00100010, VR.PN, "a")])
    assert [e.tag for e in ds.iter_all()] == [0x00100010]
    ds.add(DataElement(0x00081115, VR.SQ, [item]))  # now nested: its items are walked
    assert [e.tag for e in ds.iter_all()] == [0x00081115, 0x00081150, 0x00100010]
    ds[0x00081115].value.append(Dataset([DataElement(0x00081199, VR.SQ, [item])]))
    assert [e.tag for e in ds.iter_all()] == [
        0x00081115,
        0x00081150,
        0x00081199,
        0x00081150,
        0x00100010,
    ]
