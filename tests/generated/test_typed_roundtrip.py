"""from_dataset/to_dataset round trips of the generated IOD classes on pydicom's bundled files
(read with dicompile's read_file; pydicom serves only to find the files and as an oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom_files import bundled_file

from dicompile.generated.iods import BY_SOP_CLASS, TABLES, iod_class
from dicompile.generated.iods.ct_image import CTImage
from dicompile.generated.iods.mr_image import MRImage
from dicompile.runtime import read_file, write_file
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.typed import TypedIOD

pydicom_data = pytest.importorskip("pydicom.data")


def _empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, Sequence) and not value)


def _module_tags(iod: TypedIOD) -> set[int]:
    return {
        spec.tag
        for slot in iod.MODULES
        if getattr(iod, slot.name) is not None
        for spec in slot.module.FIELDS
    }


@pytest.mark.parametrize(
    ("name", "cls", "module_count"), [("CT_small.dcm", CTImage, 11), ("MR_small.dcm", MRImage, 11)]
)
def test_round_trip(name: str, cls: type[TypedIOD], module_count: int, tmp_path: Path) -> None:
    source = read_file(bundled_file(name))
    typed = cls.from_dataset(source.dataset)
    present = [slot.name for slot in cls.MODULES if getattr(typed, slot.name) is not None]
    assert len(present) >= module_count, present
    again = typed.to_dataset()
    covered = _module_tags(typed)
    # Every non-empty attribute of the file that a present module lists comes back equal.
    kept = [e for e in source.dataset if e.tag in covered and not _empty(e.value)]
    assert len(kept) > 40
    for element in kept:
        assert again[element.tag] == element, element
    # Nothing is invented: elements not in the file are empty Type 2 attributes only.
    for element in again:
        if element.tag not in source.dataset:
            assert _empty(element.value), element
    # The typed instance survives a Part 10 file and a second reading.
    write_file(tmp_path / name, again)
    assert cls.from_dataset(read_file(tmp_path / name).dataset) == typed


def test_ct_values_against_pydicom() -> None:
    pydicom = pytest.importorskip("pydicom")
    path = bundled_file("CT_small.dcm")
    oracle = pydicom.dcmread(path)
    ct = CTImage.from_dataset(read_file(path).dataset)
    assert str(ct.patient.patient_name) == str(oracle.PatientName)
    assert ct.image_pixel.rows == oracle.Rows
    assert ct.image_pixel.pixel_representation == oracle.PixelRepresentation
    assert ct.image_plane.pixel_spacing == tuple(float(v) for v in oracle.PixelSpacing)
    assert ct.ct_image.kvp == float(oracle.KVP)
    assert ct.ct_image.image_type == tuple(oracle.ImageType)
    assert ct.sop_common.sop_instance_uid == oracle.SOPInstanceUID
    assert ct.image_pixel.pixel_data == oracle.PixelData


def test_signed_pixels_keep_ss() -> None:
    """MR_small has Pixel Representation 1: its US-or-SS attributes are written as SS."""
    source = read_file(bundled_file("MR_small.dcm")).dataset
    again = MRImage.from_dataset(source).to_dataset()
    assert again[0x00280106].vr == source[0x00280106].vr == "SS"


def test_wrong_iod_is_refused() -> None:
    from dicompile.runtime.errors import TypedDatasetError

    source = read_file(bundled_file("MR_small.dcm")).dataset
    with pytest.raises(TypedDatasetError, match=r"\(0008,0016\)"):
        CTImage.from_dataset(source)


def test_registry() -> None:
    assert len(TABLES) == 143
    assert iod_class("1.2.840.10008.5.1.4.1.1.2") is CTImage
    assert BY_SOP_CLASS["1.2.840.10008.5.1.4.1.1.4"][1] == "MRImage"
    assert "1.2.840.10008.5.1.4.1.1.2" in CTImage.SOP_CLASS_UIDS
    with pytest.raises(KeyError):
        iod_class("1.2.3")


def test_every_generated_file_imports() -> None:
    """All 783 files import (no dangling reference between shared item classes)."""
    import importlib

    from dicompile.generated.modules import TABLES as MODULES
    from dicompile.generated.modules.macros import TABLES as MACROS

    assert (len(MODULES), len(MACROS)) == (375, 262)
    for module, name in [*MODULES.values(), *MACROS.values(), *TABLES.values()]:
        cls = getattr(importlib.import_module(module), name)
        assert cls.__name__ == name
        if not issubclass(cls, TypedIOD):
            assert all(spec.name for spec in cls.FIELDS)
