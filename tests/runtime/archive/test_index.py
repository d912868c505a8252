"""SQLiteIndex: storing instances and hierarchical / relational C-FIND (PS3.4 C.4.1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dicompile.runtime.archive import QueryLevel, QueryModel, SQLiteIndex
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.errors import QueryError, ValidationError
from tests.runtime.archive.helpers import MR_IMAGE_STORAGE, ds, instance

PATIENT_ROOT = QueryModel.PATIENT_ROOT
STUDY_ROOT = QueryModel.STUDY_ROOT


@pytest.fixture
def index(tmp_path: Path) -> SQLiteIndex:
    """Two patients; P1 has a CT+MR study of 3 instances and a CT study; P2 one US study."""
    idx = SQLiteIndex(tmp_path / "index.sqlite")
    idx.add(instance(sop="1.1.1.1", series="1.1.1", study="1.1", study_date="20200102"), "a")
    idx.add(instance(sop="1.1.1.2", series="1.1.1", study="1.1", study_date="20200102"), "b")
    idx.add(
        instance(
            sop="1.1.2.1",
            series="1.1.2",
            study="1.1",
            study_date="20200102",
            modality="MR",
            sop_class=MR_IMAGE_STORAGE,
        ),
        "c",
    )
    idx.add(instance(sop="1.2.1.1", series="1.2.1", study="1.2", study_date="20210305"), "d")
    idx.add(
        instance(
            patient_id="P2",
            patient_name="Smith^Ann",
            sop="2.1.1.1",
            series="2.1.1",
            study="2.1",
            study_date="20200615",
            modality="US",
        ),
        "e",
    )
    return idx


def _values(responses: list[Dataset], keyword: str) -> list[object]:
    return [response[keyword].value for response in responses]


def test_counts_and_paths(index: SQLiteIndex) -> None:
    assert index.count() == 5
    assert list(index.instances(QueryLevel.STUDY, ["1.1"])) == ["a", "b", "c"]
    assert list(index.instances(QueryLevel.SERIES, ["1.1.2", "2.1.1"])) == ["c", "e"]
    assert list(index.instances(QueryLevel.PATIENT, ["P2"])) == ["e"]
    assert list(index.instances(QueryLevel.IMAGE, ["1.2.1.1"])) == ["d"]
    assert list(index.instances(QueryLevel.IMAGE, ["9.9"])) == []


def test_patient_root_patient_level(index: SQLiteIndex) -> None:
    """C.6.1.1.2: PATIENT level; Number of Patient Related Studies (C.3.4)."""
    identifier = ds(
        QueryRetrieveLevel="PATIENT",
        PatientID="",
        PatientName="",
        NumberOfPatientRelatedStudies=None,
    )
    found = list(index.find(QueryLevel.PATIENT, identifier, model=PATIENT_ROOT))
    assert _values(found, "PatientID") == ["P1", "P2"]
    assert _values(found, "NumberOfPatientRelatedStudies") == [2, 1]
    assert _values(found, "QueryRetrieveLevel") == ["PATIENT", "PATIENT"]


def test_patient_root_study_level_needs_patient_id(index: SQLiteIndex) -> None:
    """C.4.1.2.1: a hierarchical STUDY query holds one Patient ID value."""
    identifier = ds(StudyInstanceUID="", StudyDate="")
    with pytest.raises(QueryError, match=r"\(0010,0020\)"):
        list(index.find(QueryLevel.STUDY, identifier, model=PATIENT_ROOT))
    identifier["PatientID"] = "P1"
    found = list(index.find(QueryLevel.STUDY, identifier, model=PATIENT_ROOT))
    assert _values(found, "StudyInstanceUID") == ["1.1", "1.2"]
    assert all(response["PatientID"].value == "P1" for response in found)
    # Relational queries (C.4.1.2.2) lift the rule.
    everything = list(
        index.find(QueryLevel.STUDY, ds(StudyInstanceUID=""), model=PATIENT_ROOT, relational=True)
    )
    assert len(everything) == 3


def test_study_root_study_level(index: SQLiteIndex) -> None:
    """C.6.2.1: patient attributes are study keys in Study Root; date range; modalities."""
    identifier = ds(
        PatientName="doe*",
        StudyDate="20200101-20201231",
        StudyInstanceUID="",
        ModalitiesInStudy="",
        NumberOfStudyRelatedInstances=None,
        NumberOfStudyRelatedSeries=None,
    )
    (found,) = index.find(QueryLevel.STUDY, identifier)
    assert found["StudyInstanceUID"].value == "1.1"
    assert found["ModalitiesInStudy"].value == ("CT", "MR")
    assert found["NumberOfStudyRelatedInstances"].value == 3
    assert found["NumberOfStudyRelatedSeries"].value == 2
    assert found["PatientName"].value == "Doe^John"


def test_modalities_in_study_matching(index: SQLiteIndex) -> None:
    """C.2.2.2.7: Modalities in Study matches when one modality of the study does."""
    found = list(index.find(QueryLevel.STUDY, ds(ModalitiesInStudy="MR", StudyInstanceUID="")))
    assert _values(found, "StudyInstanceUID") == ["1.1"]
    found = list(
        index.find(QueryLevel.STUDY, ds(ModalitiesInStudy=["US", "MR"], StudyInstanceUID=""))
    )
    assert _values(found, "StudyInstanceUID") == ["1.1", "2.1"]


def test_series_and_image_levels(index: SQLiteIndex) -> None:
    """C.6.2.1.3, C.6.2.1.4: SERIES and IMAGE levels under a single study / series UID."""
    series = list(
        index.find(QueryLevel.SERIES, ds(StudyInstanceUID="1.1", SeriesInstanceUID="", Modality=""))
    )
    assert _values(series, "SeriesInstanceUID") == ["1.1.1", "1.1.2"]
    assert _values(series, "Modality") == ["CT", "MR"]
    images = list(
        index.find(
            QueryLevel.IMAGE,
            ds(StudyInstanceUID="1.1", SeriesInstanceUID="1.1.1", SOPInstanceUID=""),
        )
    )
    assert _values(images, "SOPInstanceUID") == ["1.1.1.1", "1.1.1.2"]
    # List of UID matching at the query level (C.4.1.2.1 allows it for the unique key).
    listed = list(
        index.find(
            QueryLevel.IMAGE,
            ds(
                StudyInstanceUID="1.1",
                SeriesInstanceUID="1.1.1",
                SOPInstanceUID=["1.1.1.2", "9"],
            ),
        )
    )
    assert _values(listed, "SOPInstanceUID") == ["1.1.1.2"]


def test_hierarchical_needs_single_value_above(index: SQLiteIndex) -> None:
    """C.4.1.2.1: a unique key above the query level is a single value, not a list."""
    with pytest.raises(QueryError, match=r"\(0020,000D\)"):
        list(index.find(QueryLevel.SERIES, ds(StudyInstanceUID=["1.1", "1.2"])))


def test_lower_level_keys_are_unsupported_optional_keys(index: SQLiteIndex) -> None:
    """C.2.2.1.3: a key of a lower level is not matched and not returned."""
    found = list(index.find(QueryLevel.STUDY, ds(StudyInstanceUID="", Modality="XX")))
    assert len(found) == 3
    assert all("Modality" not in response for response in found)


def test_level_errors(index: SQLiteIndex) -> None:
    """C.4.1.1.3.1: the level must be one of the model and agree with the Identifier."""
    with pytest.raises(QueryError):
        list(index.find(QueryLevel.PATIENT, ds(PatientID="")))  # no PATIENT in Study Root
    with pytest.raises(QueryError, match="Query/Retrieve Level"):
        list(index.find(QueryLevel.STUDY, ds(QueryRetrieveLevel="SERIES", StudyInstanceUID="")))
    with pytest.raises(QueryError, match="empty Identifier"):
        list(index.find(QueryLevel.STUDY, Dataset()))
    with pytest.raises(QueryError):
        list(index.find(QueryLevel.STUDY, ds(StudyDate="yesterday")))


def test_restore_replaces(index: SQLiteIndex) -> None:
    """C.2.2.1.1: one SOP Instance UID is one entity; storing it again replaces it."""
    index.add(instance(sop="1.1.1.1", series="1.1.1", study="1.1", study_date="20200102"), "a2")
    assert index.count() == 5
    assert list(index.instances(QueryLevel.IMAGE, ["1.1.1.1"])) == ["a2"]
    # Moved to another study: the emptied series and study go.
    index.add(instance(sop="1.2.1.1", series="1.1.9", study="1.1", modality="SR"), "d2")
    assert index.count() == 5
    studies = list(index.find(QueryLevel.STUDY, ds(StudyInstanceUID="", ModalitiesInStudy="")))
    assert _values(studies, "StudyInstanceUID") == ["1.1", "2.1"]
    assert studies[0]["ModalitiesInStudy"].value == ("CT", "MR", "SR")


def test_unique_keys_stay_unique(index: SQLiteIndex) -> None:
    """C.2.2.1.1: two entities at one level never share a unique key value."""
    index.add(instance(sop="1.1.1.3", series="1.1.1", study="1.1", study_date="20200102"), "f")
    found = list(index.find(QueryLevel.STUDY, ds(StudyInstanceUID="1.1")))
    assert len(found) == 1
    series = list(index.find(QueryLevel.SERIES, ds(StudyInstanceUID="1.1", SeriesInstanceUID="")))
    assert len(series) == 2


def test_instance_without_uids_is_refused(tmp_path: Path) -> None:
    idx = SQLiteIndex(tmp_path / "x.sqlite")
    bad = instance()
    del bad["SeriesInstanceUID"]
    with pytest.raises(ValidationError, match=r"\(0020,000E\)"):
        idx.add(bad, "x")
    assert idx.count() == 0


def test_optional_keys_from_stored_attributes(index: SQLiteIndex) -> None:
    """C.2.2.1.3: optional keys (here Body Part Examined, a series attribute) are matched
    and returned from the stored attributes."""
    index.add(instance(sop="3.1.1.1", series="3.1.1", study="3.1", BodyPartExamined="CHEST"), "g")
    found = list(
        index.find(
            QueryLevel.SERIES,
            ds(StudyInstanceUID="3.1", SeriesInstanceUID="", BodyPartExamined="CH*"),
        )
    )
    assert _values(found, "BodyPartExamined") == ["CHEST"]


def test_pydicom_test_files(tmp_path: Path) -> None:
    """Real files read with dicompile (pydicom's test data only supplies the bytes)."""
    data = pytest.importorskip("pydicom.data")
    from dicompile.runtime import read_file

    idx = SQLiteIndex(tmp_path / "files.sqlite")
    for name in ("CT_small.dcm", "MR_small.dcm"):
        path = data.get_testdata_file(name)
        idx.add(read_file(path, stop_before_pixels=True).dataset, path)
    found = list(idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="", ModalitiesInStudy="")))
    modalities = sorted(str(value) for r in found for value in r["ModalitiesInStudy"].values)
    assert modalities == ["CT", "MR"]


def test_concurrent_writers(tmp_path: Path) -> None:
    """Many asyncio tasks storing through worker threads: every add lands once."""
    idx = SQLiteIndex(tmp_path / "c.sqlite")

    async def store(number: int) -> None:
        study = f"5.{number % 3}"
        dataset = instance(sop=f"5.{number}", series=f"{study}.{number % 7}", study=study)
        await asyncio.to_thread(idx.add, dataset, f"f{number}")

    async def main() -> None:
        await asyncio.gather(*(store(n) for n in range(200)))

    asyncio.run(main())
    assert idx.count() == 200
    found = list(
        idx.find(QueryLevel.STUDY, ds(StudyInstanceUID="", NumberOfStudyRelatedSeries=None))
    )
    assert _values(found, "NumberOfStudyRelatedSeries") == [7, 7, 7]


def test_person_name_groups_through_sql(tmp_path: Path) -> None:
    """C.2.2.2.1: the ideographic group of a stored name is found through the index too
    (the SQL filter must not drop a match that only the second group gives)."""
    idx = SQLiteIndex(tmp_path / "pn.sqlite")
    idx.add(instance(patient_name="Wang^XiaoDong=王^小東", patient_id="W"), "w")
    idx.add(instance(patient_name="Doe^John", sop="9.1", series="9.1", study="9"), "d")
    for key in ("王^小東", "王*", "wang^xiaodong", "*^小東", "Wang^XiaoDong=王^小東"):
        found = list(idx.find(QueryLevel.STUDY, ds(PatientName=key, StudyInstanceUID="")))
        assert [r["StudyInstanceUID"].value for r in found] == ["1.2.3.1"], key


def test_study_moves_to_its_new_patient(index: SQLiteIndex) -> None:
    """Rule 2 of index.py: a study re-stored under another Patient ID moves; the emptied
    patient is deleted (a patient without studies is no entity to report)."""
    index.add(
        instance(
            patient_id="P2",
            patient_name="Smith^Ann",
            sop="2.1.1.1",
            series="2.1.1",
            study="2.1",
            modality="US",
        ),
        "e",
    )
    index.add(
        instance(
            patient_id="P3", patient_name="New^One", sop="2.1.1.1", series="2.1.1", study="2.1"
        ),
        "e2",
    )
    patients = list(
        index.find(
            QueryLevel.PATIENT,
            ds(PatientID="", NumberOfPatientRelatedInstances=None),
            model=PATIENT_ROOT,
        )
    )
    assert _values(patients, "PatientID") == ["P1", "P3"]
    assert _values(patients, "NumberOfPatientRelatedInstances") == [4, 1]


def test_patient_level_ignores_study_keys(index: SQLiteIndex) -> None:
    """C.2.2.1.3 / C.4.1.2.1: at PATIENT level a study key is an unsupported key."""
    found = list(
        index.find(QueryLevel.PATIENT, ds(PatientID="", StudyDate="19000101"), model=PATIENT_ROOT)
    )
    assert _values(found, "PatientID") == ["P1", "P2"]
    assert all("StudyDate" not in response for response in found)


def test_add_many_equals_adding_one_by_one(tmp_path: Path) -> None:
    """add_many encodes parents once per batch; the result must be that of sequential adds,
    including a study whose description changes and an instance stored twice."""
    batch = [
        instance(sop="7.1", series="7.0.1", study="7", StudyDescription="first"),
        instance(sop="7.2", series="7.0.2", study="7", modality="MR", StudyDescription="second"),
        instance(sop="8.1", series="8.0.1", study="8", patient_id="P9", patient_name="X^Y"),
        instance(sop="7.1", series="7.0.2", study="7", modality="MR", StudyDescription="third"),
    ]
    one = SQLiteIndex(tmp_path / "one.sqlite")
    for number, dataset in enumerate(batch):
        one.add(dataset, f"f{number}")
    many = SQLiteIndex(tmp_path / "many.sqlite")
    assert many.add_many((dataset, f"f{n}") for n, dataset in enumerate(batch)) == 4
    identifier = ds(
        StudyInstanceUID="",
        StudyDescription="",
        PatientName="",
        ModalitiesInStudy="",
        NumberOfStudyRelatedSeries=None,
        NumberOfStudyRelatedInstances=None,
    )
    expected = list(one.find(QueryLevel.STUDY, identifier))
    assert list(many.find(QueryLevel.STUDY, identifier)) == expected
    assert _values(expected, "StudyDescription") == ["third", None]
    assert _values(expected, "NumberOfStudyRelatedSeries") == [1, 1]
    assert list(many.instances(QueryLevel.STUDY, ["7", "8"])) == list(
        one.instances(QueryLevel.STUDY, ["7", "8"])
    )


def test_patient_root_series_and_image_levels(index: SQLiteIndex) -> None:
    """C.4.1.2.1 in Patient Root: SERIES and IMAGE queries carry one value of every unique
    key above (Patient ID, Study and Series Instance UID); responses return them."""
    with pytest.raises(QueryError, match=r"\(0010,0020\)"):
        list(
            index.find(
                QueryLevel.SERIES,
                ds(StudyInstanceUID="1.1", SeriesInstanceUID=""),
                model=PATIENT_ROOT,
            )
        )
    series = list(
        index.find(
            QueryLevel.SERIES,
            ds(PatientID="P1", StudyInstanceUID="1.1", SeriesInstanceUID="", Modality="M*"),
            model=PATIENT_ROOT,
        )
    )
    assert _values(series, "SeriesInstanceUID") == ["1.1.2"]
    assert _values(series, "PatientID") == ["P1"]
    images = list(
        index.find(
            QueryLevel.IMAGE,
            ds(
                PatientID="P1", StudyInstanceUID="1.1", SeriesInstanceUID="1.1.1", SOPInstanceUID=""
            ),
            model=PATIENT_ROOT,
        )
    )
    assert _values(images, "SOPInstanceUID") == ["1.1.1.1", "1.1.1.2"]
    assert {r["SeriesInstanceUID"].value for r in images} == {"1.1.1"}
    # A study of another patient is not found under P2 (the hierarchy is followed).
    assert (
        list(
            index.find(
                QueryLevel.SERIES,
                ds(PatientID="P2", StudyInstanceUID="1.1", SeriesInstanceUID=""),
                model=PATIENT_ROOT,
            )
        )
        == []
    )
