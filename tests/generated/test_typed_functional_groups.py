"""Typed functional group items of the generated enhanced IOD classes, on a real Segmentation
(pydicom's bundled ``liver_1frame.dcm``, written by dcmqi, read with dicompile's read_file;
pydicom serves only to find the file and as an oracle) and under mypy --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom_files import bundled_file

from dicompile.generated.iods.enhanced_ct_image import (
    EnhancedCTImage,
    EnhancedCTImageFunctionalGroupsItem,
)
from dicompile.generated.iods.segmentation import (
    Segmentation,
    SegmentationFunctionalGroupsItem,
    SegmentationMultiFrameFunctionalGroupsModule,
)
from dicompile.generated.modules.macros.frame_content import FrameContentMacro
from dicompile.generated.modules.macros.plane_position_patient import PlanePositionPatientMacro
from dicompile.runtime import read_file, write_file
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR

SHARED, PER_FRAME = 0x52009229, 0x52009230


def _liver(name: str = "liver_1frame.dcm") -> Dataset:
    dataset = read_file(bundled_file(name)).dataset
    # The file was cut down to one frame of pixel data and lost Number of Frames (0028,0008),
    # Type 1 in the Multi-frame Functional Groups Module; it keeps three per-frame items.
    assert 0x00280008 not in dataset
    dataset[0x00280008] = "3"
    return dataset


@pytest.mark.parametrize("name", ["liver_1frame.dcm", "liver_expb_1frame.dcm"])
def test_per_frame_values_against_pydicom(name: str) -> None:
    pydicom = pytest.importorskip("pydicom")
    oracle = pydicom.dcmread(bundled_file(name))
    seg = Segmentation.from_dataset(_liver(name))
    groups = seg.multi_frame_functional_groups
    assert isinstance(groups, SegmentationMultiFrameFunctionalGroupsModule)
    frames = groups.per_frame_functional_groups_sequence
    assert frames is not None
    assert len(frames) == len(oracle.PerFrameFunctionalGroupsSequence) == 3
    for frame, expected in zip(frames, oracle.PerFrameFunctionalGroupsSequence, strict=True):
        assert isinstance(frame, SegmentationFunctionalGroupsItem)
        assert frame.plane_position_sequence is not None
        position = frame.plane_position_sequence[0].image_position_patient
        assert position == tuple(
            float(v) for v in expected.PlanePositionSequence[0].ImagePositionPatient
        )
        assert frame.frame_content_sequence is not None
        assert frame.frame_content_sequence[0].dimension_index_values == tuple(
            expected.FrameContentSequence[0].DimensionIndexValues
        )
        assert frame.segment_identification_sequence is not None
        assert frame.segment_identification_sequence[0].referenced_segment_number == (1,)  # US 1-n
        assert frame.derivation_image_sequence is not None
        source = frame.derivation_image_sequence[0].source_image_sequence[0]
        assert source.referenced_sop_instance_uid == (
            expected.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        )
        assert frame.other_elements is None  # every element of the item is a typed field
    (shared,) = groups.shared_functional_groups_sequence
    assert shared.pixel_measures_sequence is not None
    spacing = oracle.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
    assert shared.pixel_measures_sequence[0].pixel_spacing == tuple(float(v) for v in spacing)
    assert shared.frame_content_sequence is None


def test_functional_groups_written_back_element_for_element(tmp_path: Path) -> None:
    source = _liver()
    typed = Segmentation.from_dataset(source)
    again = typed.to_dataset()
    for tag in (SHARED, PER_FRAME):
        assert again[tag] == source[tag]
        # Every element of every item, nested ones too, in order, equal to the one read.
        for mine, theirs in zip(again[tag].value, source[tag].value, strict=True):
            written, read = list(mine.iter_all()), list(theirs.iter_all())
            assert [e.tag for e in written] == [e.tag for e in read]
            assert len(read) > 5
            for element, original in zip(written, read, strict=True):
                assert (element.vr, element.value) == (original.vr, original.value), original
    # Through a Part 10 file and a second reading, the typed instance is the same.
    write_file(tmp_path / "seg.dcm", again)
    assert Segmentation.from_dataset(read_file(tmp_path / "seg.dcm").dataset) == typed


def test_private_and_foreign_elements_of_an_item_round_trip() -> None:
    source = _liver()
    frame = source[PER_FRAME].value[0]
    frame.add(DataElement(0x00290010, VR.LO, "ACME 1.0"))
    frame.add(DataElement(0x00291001, VR.DS, (1.5,)))
    # A macro the Segmentation IOD does not list (Frame VOI LUT): no field, kept as read.
    voi = Dataset(
        [DataElement(0x00281050, VR.DS, (40.0,)), DataElement(0x00281051, VR.DS, (400.0,))]
    )
    frame.add(DataElement(0x00289132, VR.SQ, [voi]))
    seg = Segmentation.from_dataset(source)
    frames = seg.multi_frame_functional_groups.per_frame_functional_groups_sequence
    assert frames is not None
    others = frames[0].other_elements
    assert others is not None
    assert others.tags() == [0x00289132, 0x00290010, 0x00291001]
    assert frames[1].other_elements is None
    again = seg.to_dataset()
    assert again[PER_FRAME] == source[PER_FRAME]
    assert (
        again[PER_FRAME].value[0][0x00291001].value == source[PER_FRAME].value[0][0x00291001].value
    )


def test_building_per_frame_items() -> None:
    """Items built in code become the Dataset the standard describes (PS3.3 C.7.6.16)."""
    item = EnhancedCTImageFunctionalGroupsItem(
        plane_position_sequence=(
            PlanePositionPatientMacro.PlanePositionSequenceItem(
                image_position_patient=(-10.0, -20.0, 5.5)
            ),
        ),
        frame_content_sequence=(
            FrameContentMacro.FrameContentSequenceItem(dimension_index_values=(1, 2)),
        ),
    )
    dataset = item.to_dataset()
    assert dataset.tags() == [0x00209111, 0x00209113]
    assert dataset[0x00209113].value[0][0x00200032].value == (-10.0, -20.0, 5.5)
    assert dataset[0x00209111].value[0][0x00209157].vr is VR.UL
    assert EnhancedCTImageFunctionalGroupsItem.from_dataset(dataset) == item
    slot = EnhancedCTImage.module_slot("multi_frame_functional_groups")
    assert slot.module.__name__ == "EnhancedCTImageMultiFrameFunctionalGroupsModule"


WRONG = """\
from dicompile.generated.iods.segmentation import SegmentationFunctionalGroupsItem
from dicompile.generated.modules.macros.frame_content import FrameContentMacro
from dicompile.generated.modules.macros.plane_position_patient import PlanePositionPatientMacro

frame = SegmentationFunctionalGroupsItem(
    plane_position_sequence=(
        PlanePositionPatientMacro.PlanePositionSequenceItem(
            image_position_patient=("0", "0", "1")
        ),
    ),
    frame_content_sequence=(
        PlanePositionPatientMacro.PlanePositionSequenceItem(image_position_patient=None),
    ),
)
position: str = frame.plane_position_sequence[0].image_position_patient
content = FrameContentMacro.FrameContentSequenceItem(dimension_index_values=(1, 2))
"""


def test_mypy_reports_wrong_types_in_functional_group_items(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    program = tmp_path / "wrong_groups.py"
    program.write_text(WRONG, encoding="utf-8")
    repo = Path(__file__).resolve().parents[2]
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(repo / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            str(program),
        ]
    )
    assert not stderr, stderr
    errors = [line.split(": error: ", 1)[1] for line in stdout.splitlines() if ": error: " in line]
    lines = [int(line.split(":")[1]) for line in stdout.splitlines() if ": error: " in line]
    assert status == 1
    # A value of the wrong VR type in a macro's item, an item of another macro in a
    # functional group field, and the item's optional sequence used as if always present
    # (and its value as if it were text); the last line is right.
    assert lines == [8, 11, 15, 15], stdout
    assert errors[:3] == [
        'Argument "image_position_patient" to "PlanePositionSequenceItem" has incompatible type'
        ' "tuple[str, str, str]"; expected "tuple[float, ...] | None"  [arg-type]',
        'Argument "frame_content_sequence" to "SegmentationFunctionalGroupsItem" has'
        ' incompatible type "tuple[PlanePositionSequenceItem]"; expected'
        ' "tuple[FrameContentSequenceItem, ...] | None"  [arg-type]',
        'Value of type "tuple[PlanePositionSequenceItem, ...] | None" is not indexable  [index]',
    ], stdout
    assert errors[3].startswith("Incompatible types in assignment"), stdout


def test_every_enhanced_iod_has_typed_groups() -> None:
    """26 IODs of the 2020 rendition list functional group macros; each has its item class.
    Enhanced MR Color Image has the module but the rendition lists no macros for it."""
    import importlib

    from dicompile.generated.iods import TABLES

    typed: dict[str, type] = {}
    untyped: list[str] = []
    for module, name in TABLES.values():
        iod = getattr(importlib.import_module(module), name)
        for slot in iod.MODULES:
            for spec in slot.module.FIELDS:
                if spec.tag in (SHARED, PER_FRAME, 0x00060001):
                    if spec.item is None:
                        untyped.append(name)
                    else:
                        typed[name] = spec.item
    assert len(typed) == 26
    assert untyped == ["EnhancedMRColorImage", "EnhancedMRColorImage"]
    for name, item in typed.items():
        assert item.__name__ == f"{name}FunctionalGroupsItem"
        assert item.OTHERS == "other_elements"
        # Every macro is optional in an item: it is in the shared item or in the per-frame ones.
        assert {spec.requirement for spec in item.FIELDS} <= {"1C", "2C", "3"}
