"""Builders of data sets for the archive tests (keywords in, runtime Datasets out)."""

from __future__ import annotations

from dicompile.runtime.archive.matching import compile_identifier
from dicompile.runtime.core.dataset import Dataset

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"


def ds(**values: object) -> Dataset:
    """A data set from PS3.6 keywords; each value stored with the dictionary VR."""
    dataset = Dataset()
    for keyword, value in values.items():
        dataset[keyword] = value
    return dataset


def matches(identifier: Dataset, entity: Dataset, *, combined: bool = False) -> bool:
    """What the reference matcher says of ``entity`` for ``identifier``."""
    return compile_identifier(identifier, combined_datetime=combined).matches(entity)


def instance(
    *,
    patient_id: str = "P1",
    patient_name: str = "Doe^John",
    study: str = "1.2.3.1",
    series: str = "1.2.3.1.1",
    sop: str = "1.2.3.1.1.1",
    modality: str = "CT",
    study_date: str = "20200102",
    study_time: str = "101500",
    sop_class: str = CT_IMAGE_STORAGE,
    **extra: object,
) -> Dataset:
    """A small composite instance with the keys of PS3.4 Tables C.6-1..C.6-4."""
    dataset = ds(
        SOPClassUID=sop_class,
        SOPInstanceUID=sop,
        StudyDate=study_date,
        StudyTime=study_time,
        Modality=modality,
        PatientName=patient_name,
        PatientID=patient_id,
        StudyInstanceUID=study,
        SeriesInstanceUID=series,
    )
    for keyword, value in extra.items():
        dataset[keyword] = value
    return dataset
