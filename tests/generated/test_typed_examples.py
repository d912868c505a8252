"""Typed application development: mypy --strict on the example and on a wrong program, and the
example's Part 10 files read back with dicompile and with pydicom (test-only oracle)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dicompile.generated.iods.ct_image import CTImage
from dicompile.generated.iods.segmentation import Segmentation
from dicompile.runtime import read_file

mypy_api = pytest.importorskip("mypy.api")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "typed_images.py"


def run_mypy(path: Path, cache: Path) -> tuple[str, int]:
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--strict",
            "--cache-dir",
            str(cache),
            "--no-error-summary",
            "--hide-error-context",
            str(path),
        ]
    )
    assert not stderr, stderr
    return stdout, status


WRONG = """\
from dicompile.generated.modules.image_pixel import ImagePixelModule
from dicompile.generated.modules.patient import PatientModule
from dicompile.runtime.core.values import PersonName

pixels = ImagePixelModule(
    samples_per_pixel="1",
    photometric_interpretation="MONOCHROME2",
    rows=4,
    columns=4,
    bits_allocated=16,
    bits_stored=16,
    high_bit=15,
    pixel_representation=0,
)
patient = PatientModule(
    patient_name=PersonName("Doe^Jane"), patient_id="1", patient_birth_date=None
)
"""


def test_mypy_reports_exactly_the_two_mistakes(tmp_path: Path) -> None:
    program = tmp_path / "wrong.py"
    program.write_text(WRONG, encoding="utf-8")
    out, status = run_mypy(program, tmp_path / "cache")
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert errors == [
        f'{program}:6: error: Argument "samples_per_pixel" to "ImagePixelModule" has'
        ' incompatible type "str"; expected "int"  [arg-type]',
        f'{program}:15: error: Missing named argument "patient_sex" for "PatientModule"'
        "  [call-arg]",
    ], out


def test_mypy_accepts_the_example(tmp_path: Path) -> None:
    out, status = run_mypy(EXAMPLE, tmp_path / "cache")
    assert status == 0, out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("typed_example")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(out)], capture_output=True, text=True, check=True
    )
    ct, seg = (Path(line) for line in result.stdout.split())
    return ct, seg


def test_example_files_read_back_with_dicompile(written: tuple[Path, Path]) -> None:
    ct_file, seg_file = written
    ct = CTImage.from_dataset(read_file(ct_file).dataset)
    assert str(ct.patient.patient_name) == "Doe^Jane"
    assert ct.patient.patient_sex == "F"
    assert ct.image_plane.pixel_spacing == (0.5, 0.5)
    assert ct.ct_image.rescale_intercept == -1024.0
    assert ct.ct_image.image_type == ("ORIGINAL", "PRIMARY", "AXIAL")
    assert ct.ct_image.acquisition_number is None  # Type 2 written empty
    assert ct.image_pixel.rows == 4
    seg = Segmentation.from_dataset(read_file(seg_file).dataset)
    (segment,) = seg.segmentation_image.segment_sequence
    assert segment.segment_label == "upper half"
    assert segment.segmented_property_category_code_sequence[0].code_value == "91723000"
    assert seg.image_pixel.pixel_data == bytes([0xFF, 0x00])
    assert seg.general_study.study_instance_uid == ct.general_study.study_instance_uid
    # The typed functional groups: one frame at the CT image's position, spacing shared.
    frames = seg.multi_frame_functional_groups.per_frame_functional_groups_sequence
    assert frames is not None and len(frames) == 1
    assert frames[0].plane_position_sequence is not None
    position = frames[0].plane_position_sequence[0].image_position_patient
    assert position == ct.image_plane.image_position_patient == (-1.0, -1.0, 0.0)
    assert frames[0].frame_content_sequence is not None
    assert frames[0].frame_content_sequence[0].dimension_index_values == (1,)
    (shared,) = seg.multi_frame_functional_groups.shared_functional_groups_sequence
    assert shared.pixel_measures_sequence is not None
    assert shared.pixel_measures_sequence[0].pixel_spacing == ct.image_plane.pixel_spacing
    assert shared.frame_content_sequence is None


def test_example_files_read_back_with_pydicom(written: tuple[Path, Path]) -> None:
    pydicom = pytest.importorskip("pydicom")
    ct_file, seg_file = written
    ct = pydicom.dcmread(ct_file)
    assert ct.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert ct.file_meta.MediaStorageSOPClassUID == ct.SOPClassUID
    assert str(ct.PatientName) == "Doe^Jane"
    assert [float(v) for v in ct.PixelSpacing] == [0.5, 0.5]
    assert float(ct.RescaleIntercept) == -1024.0
    assert "AcquisitionNumber" in ct and ct.AcquisitionNumber is None  # present, empty
    assert ct["PixelData"].VR == "OW"
    assert ct.pixel_array.tolist()[0] == [1024, 1034, 1044, 1054]
    seg = pydicom.dcmread(seg_file)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert seg.SegmentSequence[0].SegmentLabel == "upper half"
    code = seg.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("39607008", "SCT")
    assert seg.BitsAllocated == 1
    assert seg.FrameOfReferenceUID == ct.FrameOfReferenceUID
    frame = seg.PerFrameFunctionalGroupsSequence[0]
    assert [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient] == [
        float(v) for v in ct.ImagePositionPatient
    ]
    assert frame.FrameContentSequence[0].DimensionIndexValues == 1
    assert frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 1
    shared = seg.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [0.5, 0.5]
    assert seg.DimensionIndexSequence[0].DimensionIndexPointer == 0x0062000B
