"""``OTHERS``: a typed item that keeps the elements its table does not list (functional group
items of enhanced IODs), on small hand-written classes."""

from __future__ import annotations

import attrs
import pytest

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import TypedDatasetError
from dicompile.runtime.typed import TypedAttributes, field


@attrs.frozen(kw_only=True)
class Measures(TypedAttributes):
    pixel_spacing: tuple[float, ...] | None = None


@attrs.frozen(kw_only=True)
class GroupsItem(TypedAttributes):
    pixel_measures_sequence: tuple[Measures, ...] | None = None
    other_elements: Dataset | None = None


@attrs.frozen(kw_only=True)
class Plain(TypedAttributes):
    pixel_measures_sequence: tuple[Measures, ...] | None = None


Measures.FIELDS = (field("pixel_spacing", 0x00280030, "DS", True, "1"),)
GroupsItem.FIELDS = (field("pixel_measures_sequence", 0x00289110, "SQ", False, "1C", Measures),)
GroupsItem.OTHERS = "other_elements"
Plain.FIELDS = GroupsItem.FIELDS

CREATOR = DataElement(0x00290010, VR.LO, "ACME 1.0")
PRIVATE = DataElement(0x00291001, VR.LO, "private value")
# An attribute of a macro the item's class does not list (Frame Content Sequence).
OTHER_MACRO = DataElement(0x00209111, VR.SQ, [Dataset([DataElement(0x00209056, VR.SS, 1)])])


def _item() -> Dataset:
    measures = Dataset([DataElement(0x00280030, VR.DS, (0.5, 0.5))])
    return Dataset([DataElement(0x00289110, VR.SQ, [measures]), CREATOR, PRIVATE, OTHER_MACRO])


def test_others_are_kept_and_written_back() -> None:
    source = _item()
    item = GroupsItem.from_dataset(source)
    assert item.pixel_measures_sequence == (Measures(pixel_spacing=(0.5, 0.5)),)
    assert item.other_elements is not None
    assert item.other_elements.tags() == [0x00209111, 0x00290010, 0x00291001]
    again = item.to_dataset()
    assert again == source
    assert again.tags() == source.tags()


def test_without_others_the_class_ignores_them() -> None:
    again = Plain.from_dataset(_item()).to_dataset()
    assert again.tags() == [0x00289110]


def test_no_others_is_none() -> None:
    item = GroupsItem.from_dataset(Dataset([]))
    assert item.other_elements is None
    assert len(item.to_dataset()) == 0


def test_others_inside_a_sequence_item() -> None:
    """Items of a typed sequence keep their others too (the per-frame items of an IOD)."""

    @attrs.frozen(kw_only=True)
    class Groups(TypedAttributes):
        per_frame: tuple[GroupsItem, ...]

    Groups.FIELDS = (field("per_frame", 0x52009230, "SQ", False, "1", GroupsItem),)
    source = Dataset([DataElement(0x52009230, VR.SQ, [_item(), _item()])])
    groups = Groups.from_dataset(source)
    assert all(i.other_elements is not None for i in groups.per_frame)
    assert groups.to_dataset() == source


def test_a_listed_attribute_among_the_others_is_refused() -> None:
    wrong = GroupsItem(other_elements=Dataset([DataElement(0x00289110, VR.SQ, [])]))
    with pytest.raises(TypedDatasetError, match=r"at \(0028,9110\): GroupsItem has a field"):
        wrong.to_dataset()


def test_others_must_be_a_dataset() -> None:
    wrong = GroupsItem(other_elements=(PRIVATE,))  # type: ignore[arg-type]
    with pytest.raises(TypedDatasetError, match="Dataset"):
        wrong.to_dataset()
