"""The conversion rules of dicompile.runtime.typed, on small hand-written typed classes."""

from __future__ import annotations

import attrs
import pytest

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.values import DA, PersonName
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import TypedDatasetError
from dicompile.runtime.typed import EMPTY, Empty, ModuleSlot, TypedAttributes, TypedIOD, field


@attrs.frozen(kw_only=True)
class Item(TypedAttributes):
    code_value: str | None = None
    code_meaning: str


@attrs.frozen(kw_only=True)
class Module(TypedAttributes):
    patient_name: PersonName | None
    patient_id: str
    other_patient_ids: tuple[str, ...] | None = None
    birth_date: DA | Empty | None = None
    smallest: int | None = None
    pixel_representation: int | None = None
    codes: tuple[Item, ...] | None = None
    raw: tuple[Dataset, ...]


Item.FIELDS = (
    field("code_value", 0x00080100, "SH", False, "1C"),
    field("code_meaning", 0x00080104, "LO", False, "1"),
)
Module.FIELDS = (
    field("patient_name", 0x00100010, "PN", False, "2"),
    field("patient_id", 0x00100020, "LO", False, "1"),
    field("other_patient_ids", 0x00101000, "LO", True, "3"),
    field("birth_date", 0x00100030, "DA", False, "2C"),
    field("smallest", 0x00280106, "US or SS", False, "3"),
    field("pixel_representation", 0x00280103, "US", False, "3"),
    field("codes", 0x00082218, "SQ", False, "3", Item),
    field("raw", 0x00082220, "SQ", False, "2"),
)


def test_write_by_type() -> None:
    module = Module(patient_name=None, patient_id="1", raw=())
    ds = module.to_dataset()
    assert ds.tags() == [0x00082220, 0x00100010, 0x00100020]  # Type 2: present, empty
    assert ds[0x00100010].value is None
    assert ds[0x00082220].value == []
    assert Module.from_dataset(ds) == module


def test_round_trip_with_items_and_empty_2c() -> None:
    module = Module(
        patient_name=PersonName("Doe^J"),
        patient_id="1",
        other_patient_ids=("a", "b"),
        birth_date=EMPTY,
        smallest=-5,
        codes=(Item(code_value="1", code_meaning="one"), Item(code_meaning="two")),
        raw=(Dataset(),),
    )
    ds = module.to_dataset()
    assert ds[0x00100030].value is None  # 2C EMPTY: present with zero length
    assert ds[0x00280106].vr is VR.SS  # negative: SS
    assert len(ds[0x00082218].values[0]) == 2  # type: ignore[arg-type]
    assert Module.from_dataset(ds) == module


def test_signed_from_pixel_representation() -> None:
    module = Module(patient_name=None, patient_id="1", smallest=5, pixel_representation=1, raw=())
    assert module.to_dataset()[0x00280106].vr is VR.SS
    unsigned = attrs.evolve(module, pixel_representation=0)
    assert unsigned.to_dataset()[0x00280106].vr is VR.US


def test_single_value_of_a_multi_valued_field_is_a_tuple() -> None:
    ds = Module(patient_name=None, patient_id="1", raw=()).to_dataset()
    ds.set(0x00101000, "only")
    assert Module.from_dataset(ds).other_patient_ids == ("only",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ds: ds.pop(0x00100020), r"\(0010,0020\): a Type 1 attribute is missing"),
        (lambda ds: ds.set(0x00100020, None), r"\(0010,0020\): a Type 1 attribute is empty"),
        (lambda ds: ds.set(0x00100020, ["a", "b"]), "2 values where the VM is 1"),
        (lambda ds: ds.add(DataElement(0x00100020, VR.UN, b"ab")), "bytes where a LO"),
        (
            lambda ds: ds.set(0x00082218, [Dataset()]),
            r"\(0008,2218\)\[0\]/\(0008,0104\): a Type 1 attribute is missing",
        ),
    ],
)
def test_read_errors_name_the_tag_path(change: object, message: str) -> None:
    ds = Module(patient_name=None, patient_id="1", raw=()).to_dataset()
    assert callable(change)
    change(ds)
    with pytest.raises(TypedDatasetError, match=message):
        Module.from_dataset(ds)


def test_text_read_with_another_vr_becomes_the_value_type() -> None:
    ds = Module(patient_name=None, patient_id="1", raw=()).to_dataset()
    ds.add(DataElement(0x00100010, VR.LO, "Doe^J"))
    assert Module.from_dataset(ds).patient_name == PersonName("Doe^J")


@attrs.frozen(kw_only=True)
class Other(TypedAttributes):
    patient_id: str | None = None
    note: str | None = None


Other.FIELDS = (
    field("patient_id", 0x00100020, "LO", False, "3"),
    field("note", 0x00204000, "LT", False, "3"),
)


@attrs.frozen(kw_only=True)
class Iod(TypedIOD):
    module: Module
    other: Other | None = None


Iod.MODULES = (
    ModuleSlot("module", Module, "Patient", "M"),
    ModuleSlot("other", Other, "Image", "U"),
)
Iod.SOP_CLASS_UIDS = ("1.2.3",)


def test_iod_merges_modules_and_detects_optional_ones() -> None:
    iod = Iod(module=Module(patient_name=None, patient_id="1", raw=()))
    ds = iod.to_dataset()
    assert Iod.from_dataset(ds).other is None  # (0010,0020) alone belongs to the M module
    with_other = Iod(module=iod.module, other=Other(patient_id="1", note="n"))
    ds = with_other.to_dataset()
    assert Iod.from_dataset(ds) == with_other
    clash = Iod(module=iod.module, other=Other(patient_id="2"))
    with pytest.raises(TypedDatasetError, match="module other gives"):
        clash.to_dataset()
    ds.set(0x00080016, "1.2.4")
    with pytest.raises(TypedDatasetError, match="not one of Iod's"):
        Iod.from_dataset(ds)


def test_field_refuses_unknown_type() -> None:
    with pytest.raises(ValueError, match="not an attribute type"):
        field("x", 1, "LO", False, "4")
