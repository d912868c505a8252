"""Builds the benchmark corpus on disk (never committed; ``tests/bench/corpus-data/`` is ignored).

The files are written by pydicom (a test-only dependency), not by dicompile, so that the
corpus is independent of the code it measures.  Every file is deterministic: the same seed
gives the same bytes, so figures from different runs compare.

* ``header/``  header-heavy files: RT Structure Sets with many DS-valued contours and
  Comprehensive SRs with deep content trees (what issue 3 measures decoding on);
* ``ct/``      512×512 16-bit CT images (pixel data to be deferred);
* ``big/``     one multi-frame file of about 400 MB (peak-memory measurements).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path

# A folder name that is not a valid module name, so mypy never takes it for corpus.py.
CORPUS = Path(__file__).parent / "corpus-data"


def _uid(rng: random.Random) -> str:
    return "2.25." + str(rng.getrandbits(120))


def _file_meta(sop_class: str, sop_instance: str, syntax: str = "1.2.840.10008.1.2.1"):  # type: ignore[no-untyped-def]
    from pydicom.dataset import FileMetaDataset

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1561.1"
    return meta


def _patient(ds, rng: random.Random, index: int) -> None:  # type: ignore[no-untyped-def]
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = f"Bench^Patient{index}^^Dr.^"
    ds.PatientID = f"P{index:06d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = rng.choice(["F", "M", "O"])
    ds.StudyInstanceUID = _uid(rng)
    ds.SeriesInstanceUID = _uid(rng)
    ds.StudyDate = "20201231"
    ds.StudyTime = "101112.123456"
    ds.AccessionNumber = f"A{index:08d}"
    ds.ReferringPhysicianName = "Referring^Doctor"
    ds.StudyID = str(index)
    ds.SeriesNumber = "1"
    ds.Manufacturer = "dicompile bench"


def rt_structure_set(index: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """An RT Structure Set: 10 ROIs × 8 contours × 50 points (12,000 DS values)."""
    from pydicom.dataset import Dataset, FileDataset
    from pydicom.sequence import Sequence

    sop_class = "1.2.840.10008.5.1.4.1.1.481.3"
    sop_instance = _uid(rng)
    meta = _file_meta(sop_class, sop_instance)
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    _patient(ds, rng, index)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "RTSTRUCT"
    ds.StructureSetLabel = "Bench"
    ds.StructureSetDate = "20201231"
    ds.StructureSetTime = "101112"
    frame = _uid(rng)
    rois = []
    contours = []
    for roi in range(1, 11):
        item = Dataset()
        item.ROINumber = roi
        item.ReferencedFrameOfReferenceUID = frame
        item.ROIName = f"ROI {roi}"
        item.ROIGenerationAlgorithm = "MANUAL"
        rois.append(item)
        roi_contour = Dataset()
        roi_contour.ReferencedROINumber = roi
        roi_contour.ROIDisplayColor = [rng.randrange(256) for _ in range(3)]
        seq = []
        for c in range(8):
            contour = Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = 50
            z = f"{-100 + 2.5 * c:.1f}"
            points: list[str] = []
            for _ in range(50):
                points += [f"{rng.uniform(-200, 200):.6g}", f"{rng.uniform(-200, 200):.6g}", z]
            contour.ContourData = points
            seq.append(contour)
        roi_contour.ContourSequence = Sequence(seq)
        contours.append(roi_contour)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    return ds


def comprehensive_sr(index: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """A Comprehensive SR: 10 containers of 10 measurements each, with codes and units."""
    from pydicom.dataset import Dataset, FileDataset
    from pydicom.sequence import Sequence

    sop_class = "1.2.840.10008.5.1.4.1.1.88.33"
    sop_instance = _uid(rng)
    meta = _file_meta(sop_class, sop_instance)
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    _patient(ds, rng, index)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"

    def code(value: str, scheme: str, meaning: str) -> Dataset:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = scheme
        item.CodeMeaning = meaning
        return item

    ds.ConceptNameCodeSequence = Sequence([code("126000", "DCM", "Imaging Measurement Report")])
    groups = []
    for g in range(10):
        group = Dataset()
        group.RelationshipType = "CONTAINS"
        group.ValueType = "CONTAINER"
        group.ContinuityOfContent = "SEPARATE"
        group.ConceptNameCodeSequence = Sequence([code("125007", "DCM", f"Measurement Group {g}")])
        items = []
        for m in range(10):
            num = Dataset()
            num.RelationshipType = "CONTAINS"
            num.ValueType = "NUM"
            num.ConceptNameCodeSequence = Sequence([code("410668003", "SCT", f"Length {m}")])
            measured = Dataset()
            measured.NumericValue = f"{rng.uniform(0, 500):.4f}"
            measured.FloatingPointValue = float(measured.NumericValue)
            measured.MeasurementUnitsCodeSequence = Sequence([code("mm", "UCUM", "millimeter")])
            num.MeasuredValueSequence = Sequence([measured])
            items.append(num)
        group.ContentSequence = Sequence(items)
        groups.append(group)
    ds.ContentSequence = Sequence(groups)
    return ds


def ct_image(index: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """A 512×512, 16-bit CT image with noise pixel data."""
    from pydicom.dataset import Dataset, FileDataset

    sop_class = "1.2.840.10008.5.1.4.1.1.2"
    sop_instance = _uid(rng)
    meta = _file_meta(sop_class, sop_instance)
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    _patient(ds, rng, index)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceNumber = index
    ds.ImagePositionPatient = ["-250", "-250", f"{index * 1.25:.2f}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["0.976562", "0.976562"]
    ds.SliceThickness = "1.25"
    ds.KVP = "120"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 512
    ds.Columns = 512
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = rng.randbytes(512 * 512 * 2)
    return ds


def big_multiframe(frames: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """A multi-frame 512×512 16-bit image of ``frames`` frames (800 ≈ 400 MB)."""
    ds = ct_image(0, rng)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.NumberOfFrames = frames
    frame = rng.randbytes(512 * 512 * 2)
    ds.PixelData = frame * frames
    return ds


def _write_all(folder: Path, count: int, make, seed: int) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        path = folder / f"{index:05d}.dcm"
        if not path.exists():
            # One generator per file, seeded by (kind, index): a corpus grown in steps, or
            # with some files already there, gets the same bytes and unique UIDs per file.
            rng = random.Random(seed * 1_000_003 + index)
            make(index, rng).save_as(path, enforce_file_format=True)
        yield path


def build(root: Path = CORPUS, *, header: int = 2000, ct: int = 300, big_frames: int = 800) -> None:
    """Write the corpus under ``root`` (files already there are kept)."""
    list(_write_all(root / "header", header // 2, rt_structure_set, seed=1))
    list(_write_all(root / "header" / "sr", header - header // 2, comprehensive_sr, seed=2))
    list(_write_all(root / "ct", ct, ct_image, seed=3))
    if big_frames:
        big = root / "big" / "multiframe.dcm"
        if not big.exists():
            big.parent.mkdir(parents=True, exist_ok=True)
            big_multiframe(big_frames, random.Random(4)).save_as(big, enforce_file_format=True)


def files(root: Path, kind: str) -> list[Path]:
    """The corpus files of one kind (``header``, ``ct`` or ``big``), sorted."""
    return sorted((root / kind).rglob("*.dcm"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=CORPUS)
    parser.add_argument("--header", type=int, default=2000)
    parser.add_argument("--ct", type=int, default=300)
    parser.add_argument("--big-frames", type=int, default=800)
    args = parser.parse_args()
    build(args.root, header=args.header, ct=args.ct, big_frames=args.big_frames)


if __name__ == "__main__":
    main()
