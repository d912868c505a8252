"""Helpers of the Query/Retrieve tests: a small study set written by pydicom (a test-only
oracle), and a minimal in-memory archive behind the SCP's protocol, so the network side is
tested apart from the real archive (tests with the SQLite index are in
test_query_retrieve_archive.py)."""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import attrs

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.media.part10 import read_file
from dicompile.runtime.net.services.query_retrieve import Level, QueryModel

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
_CONTROL = {0x00080005, 0x00080052, 0x00080054, 0x00080201}


@attrs.frozen
class Made:
    path: Path
    patient_id: str
    patient_name: str
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    study_date: str
    modality: str


def make_instance(
    path: Path,
    *,
    patient_id: str,
    patient_name: str,
    study_uid: str,
    series_uid: str,
    sop_instance_uid: str,
    study_date: str,
    modality: str = "CT",
    number: int = 1,
    syntax: str = EXPLICIT_LE,
) -> Made:
    """One small CT image file (8x8 pixels) written by pydicom."""
    from pydicom.dataset import Dataset as PDataset
    from pydicom.dataset import FileDataset, FileMetaDataset

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(path), PDataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop_instance_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.StudyDate = study_date
    ds.StudyID = "1"
    ds.AccessionNumber = "A" + study_date
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(128))
    ds["PixelData"].VR = "OW"
    import pydicom

    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return Made(
        path,
        patient_id,
        patient_name,
        study_uid,
        series_uid,
        sop_instance_uid,
        study_date,
        modality,
    )


def make_studies(folder: Path, *, seed: int = 7) -> list[Made]:
    """Two patients, three studies, five series, twelve instances."""
    rng = random.Random(seed)

    def uid() -> str:
        return "2.25." + str(rng.getrandbits(96))

    folder.mkdir(parents=True, exist_ok=True)
    plan = [
        ("P1", "Müller^Jürgen", "20200101", [("CT", 3), ("MR", 2)]),
        ("P1", "Müller^Jürgen", "20210315", [("CT", 2)]),
        ("P2", "Doe^Jane", "20220707", [("US", 4), ("CT", 1)]),
    ]
    made: list[Made] = []
    for patient_id, name, date, series in plan:
        study = uid()
        for modality, count in series:
            series_uid = uid()
            for number in range(1, count + 1):
                instance = uid()
                made.append(
                    make_instance(
                        folder / f"{instance}.dcm",
                        patient_id=patient_id,
                        patient_name=name,
                        study_uid=study,
                        series_uid=series_uid,
                        sop_instance_uid=instance,
                        study_date=date,
                        modality=modality,
                        number=number,
                    )
                )
    return made


def _texts(dataset: Dataset, tag: int) -> tuple[str, ...]:
    value = dataset.get_value(tag)
    if value is None:
        return ()
    items = value if isinstance(value, tuple) else (value,)
    return tuple(str(v) for v in items)


def _matches(identifier: Dataset, record: Dataset, unsupported: frozenset[int]) -> bool:
    # Single value, wildcard and UID list matching only (PS3.4 C.2.2.2.1, .3, .2).
    for element in identifier:
        if element.tag in _CONTROL or element.tag in unsupported:
            continue
        if element.value in (None, "", ()):
            continue
        wanted = _texts(identifier, element.tag)
        have = _texts(record, element.tag)
        if not have:
            return False
        if len(wanted) > 1:
            if not set(wanted) & set(have):
                return False
            continue
        pattern = wanted[0]
        if not any(fnmatch.fnmatchcase(h, pattern) for h in have):
            return False
    return True


class MemoryArchive:
    """The SCP's archive protocol over files read into memory."""

    def __init__(self, paths: list[Path], *, unsupported: Collection[int] = ()) -> None:
        self.records = [(read_file(p, stop_before_pixels=True).dataset, str(p)) for p in paths]
        self.unsupported = frozenset(unsupported)

    def find(
        self, level: Level, identifier: Dataset, model: QueryModel, *, relational: bool
    ) -> Iterator[Dataset]:
        key = level.unique_key
        seen: set[str] = set()
        for record, _ in self.records:
            unique = str(record.get_value(key))
            if unique in seen or not _matches(identifier, record, self.unsupported):
                continue
            seen.add(unique)
            response = Dataset()
            for element in identifier:
                if element.tag in _CONTROL or element.tag in self.unsupported:
                    continue
                found = record.get(element.tag)
                response.add(found if found is not None else DataElement(element.tag, element.vr))
            charset = record.get(0x00080005)
            if charset is not None:
                response.add(charset)
            yield response

    def locate(self, level: Level, uids: Sequence[str]) -> Iterator[str]:
        for record, path in self.records:
            if str(record.get_value(level.unique_key)) in uids:
                yield path
