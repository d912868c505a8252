"""Query/Retrieve levels and which attributes belong to each (PS3.4 C.3, C.6).

The Patient Root and Study Root information models (PS3.4 C.6.1, C.6.2) share four entity
levels.  Tables C.6-1..C.6-4 (patient root) and C.6-5..C.6-7 (study root, where the patient
attributes are keys of the study level) name the unique, required and optional keys; the
archive also uses them to decide at which level an attribute of a stored instance is kept.
An attribute not named here is kept at the IMAGE level.

These tables are hand-written from PS3.4 2013; once ``generated/services`` emits the key
tables, a test can compare them (the generated code is not imported here so the archive
stays importable while it is regenerated, DESIGN.md).
"""

from __future__ import annotations

import enum
from typing import Final


class QueryLevel(enum.Enum):
    """Query/Retrieve Level (0008,0052) values (PS3.4 C.6.1.1.1, C.6.2.1.1)."""

    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"

    @property
    def depth(self) -> int:
        return _DEPTH[self]


_DEPTH: Final = {
    QueryLevel.PATIENT: 0,
    QueryLevel.STUDY: 1,
    QueryLevel.SERIES: 2,
    QueryLevel.IMAGE: 3,
}


class QueryModel(enum.Enum):
    """The information model of the negotiated SOP Class (PS3.4 C.6.1, C.6.2)."""

    PATIENT_ROOT = "PATIENT_ROOT"
    STUDY_ROOT = "STUDY_ROOT"

    @property
    def levels(self) -> tuple[QueryLevel, ...]:
        if self is QueryModel.PATIENT_ROOT:
            return (QueryLevel.PATIENT, QueryLevel.STUDY, QueryLevel.SERIES, QueryLevel.IMAGE)
        return (QueryLevel.STUDY, QueryLevel.SERIES, QueryLevel.IMAGE)


QUERY_RETRIEVE_LEVEL: Final = 0x00080052
SPECIFIC_CHARACTER_SET: Final = 0x00080005
TIMEZONE_OFFSET_FROM_UTC: Final = 0x00080201
QUERY_RETRIEVE_VIEW: Final = 0x00080053

PATIENT_ID: Final = 0x00100020
ISSUER_OF_PATIENT_ID: Final = 0x00100021
STUDY_INSTANCE_UID: Final = 0x0020000D
SERIES_INSTANCE_UID: Final = 0x0020000E
SOP_INSTANCE_UID: Final = 0x00080018
SOP_CLASS_UID: Final = 0x00080016
MODALITY: Final = 0x00080060

#: The unique key of each level (PS3.4 Tables C.6-1..C.6-4).
UNIQUE_KEY: Final = {
    QueryLevel.PATIENT: PATIENT_ID,
    QueryLevel.STUDY: STUDY_INSTANCE_UID,
    QueryLevel.SERIES: SERIES_INSTANCE_UID,
    QueryLevel.IMAGE: SOP_INSTANCE_UID,
}

#: Attributes that identify the request rather than being matched (PS3.4 C.4.1.1.3.1).
NOT_MATCHED: Final = frozenset(
    {QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET, TIMEZONE_OFFSET_FROM_UTC, QUERY_RETRIEVE_VIEW}
)

# Patient Study module attributes of group 0010 are study-level (PS3.4 Table C.6-2/C.6-5).
_PATIENT_STUDY: Final = frozenset(
    {
        0x00101010,  # PatientAge
        0x00101020,  # PatientSize
        0x00101030,  # PatientWeight
        0x00102180,  # Occupation
        0x001021B0,  # AdditionalPatientHistory
    }
)

#: PATIENT level (Table C.6-1) besides the rest of group 0010; plus C.3.4 counts.
_PATIENT_EXTRA: Final = frozenset(
    {
        0x00081120,  # ReferencedPatientSequence
        0x00201200,  # NumberOfPatientRelatedStudies
        0x00201202,  # NumberOfPatientRelatedSeries
        0x00201204,  # NumberOfPatientRelatedInstances
    }
)

#: STUDY level keys (Tables C.6-2, C.6-5) and C.3.4 study attributes.
STUDY_TAGS: Final = frozenset(
    {
        0x00080020,  # StudyDate
        0x00080030,  # StudyTime
        0x00080050,  # AccessionNumber
        0x00080051,  # IssuerOfAccessionNumberSequence
        0x00080061,  # ModalitiesInStudy
        0x00080062,  # SOPClassesInStudy
        0x00080090,  # ReferringPhysicianName
        0x00081030,  # StudyDescription
        0x00081032,  # ProcedureCodeSequence
        0x00081060,  # NameOfPhysiciansReadingStudy
        0x00081080,  # AdmittingDiagnosesDescription
        0x00081110,  # ReferencedStudySequence
        0x0020000D,  # StudyInstanceUID
        0x00200010,  # StudyID
        0x00201070,  # OtherStudyNumbers
        0x00201206,  # NumberOfStudyRelatedSeries
        0x00201208,  # NumberOfStudyRelatedInstances
        *_PATIENT_STUDY,
    }
)

#: SERIES level keys (Table C.6-3) and the General Series / Equipment attributes.
SERIES_TAGS: Final = frozenset(
    {
        0x00080021,  # SeriesDate
        0x00080031,  # SeriesTime
        0x00080060,  # Modality
        0x00080070,  # Manufacturer
        0x00080080,  # InstitutionName
        0x00081010,  # StationName
        0x0008103E,  # SeriesDescription
        0x00081050,  # PerformingPhysicianName
        0x00081070,  # OperatorsName
        0x00180015,  # BodyPartExamined
        0x00181030,  # ProtocolName
        0x0020000E,  # SeriesInstanceUID
        0x00200011,  # SeriesNumber
        0x00200052,  # FrameOfReferenceUID
        0x00200060,  # Laterality
        0x00201209,  # NumberOfSeriesRelatedInstances
        0x00400244,  # PerformedProcedureStepStartDate
        0x00400245,  # PerformedProcedureStepStartTime
        0x00400253,  # PerformedProcedureStepID
        0x00400275,  # RequestAttributesSequence
    }
)


def level_of(tag: int) -> QueryLevel:
    """The entity level an attribute belongs to (PS3.4 C.6.1.1.2-C.6.1.1.5); IMAGE if unnamed.

    References
    ----------
    PS3.4 Tables C.6-1..C.6-4 (Patient Root keys), C.3.4 (additional attributes).
    """
    if tag in STUDY_TAGS:
        return QueryLevel.STUDY
    if tag in SERIES_TAGS:
        return QueryLevel.SERIES
    if tag >> 16 == 0x0010 or tag in _PATIENT_EXTRA:
        return QueryLevel.PATIENT
    return QueryLevel.IMAGE


def model_level_of(tag: int, model: QueryModel) -> QueryLevel:
    """:func:`level_of` in ``model``: patient attributes are study keys in Study Root (C.6.2)."""
    level = level_of(tag)
    if model is QueryModel.STUDY_ROOT and level is QueryLevel.PATIENT:
        return QueryLevel.STUDY
    return level
