"""Property: the index (SQL filter, then Python) returns exactly what naive matching of every
entity returns, on random small archives and random queries (PS3.4 C.2.2.2, C.4.1.3)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicompile.runtime.archive import QueryLevel, SQLiteIndex
from dicompile.runtime.archive.matching import compile_identifier
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.errors import QueryError
from tests.runtime.archive.helpers import ds

# Characters that are special to SQL LIKE/GLOB or to DICOM matching, mixed with letters.
_TEXT = st.text(alphabet="aAbB%_[]* ", min_size=0, max_size=4)
_PATTERN = st.text(alphabet="aAbB%_[]*?", min_size=0, max_size=4)
_NAMES = st.sampled_from(["", "Doe^John", "DOE^JOHN^^", "Doe^Jo", "Roe=Ro^e", "a%b^_c", "[x]^y"])
_DATES = st.sampled_from(["", "20200101", "20200115", "20201231", "20210101", "2020"])
_TIMES = st.sampled_from(["", "0800", "101500", "1015", "235959.5", "99"])
_MODALITIES = st.sampled_from(["CT", "MR", "US", ""])
_PN_KEYS = st.sampled_from(
    ["Ro^e", "ro*", "*^E", "doe*", "DOE^JOHN", "=ro^e", "a%b*", "[x]*", "?oe*"]
)


@st.composite
def _archive(draw: st.DrawFn) -> list[Dataset]:
    """Instances of up to 4 studies; study and patient attributes agree within a study."""
    datasets = []
    for study in range(draw(st.integers(1, 4))):
        patient = draw(st.integers(0, 2))
        study_attrs = {
            "PatientID": f"P{patient}",
            "PatientName": draw(_NAMES),
            "StudyInstanceUID": f"1.{study}",
            "StudyDate": draw(_DATES),
            "StudyTime": draw(_TIMES),
            "AccessionNumber": draw(_TEXT),
            "StudyDescription": draw(_TEXT),
        }
        for series in range(draw(st.integers(1, 3))):
            modality = draw(_MODALITIES)
            description = draw(_TEXT)
            for number in range(draw(st.integers(1, 2))):
                dataset = ds(**study_attrs)
                dataset["SeriesInstanceUID"] = f"1.{study}.{series}"
                dataset["SOPInstanceUID"] = f"1.{study}.{series}.{number}"
                dataset["Modality"] = modality
                dataset["SeriesDescription"] = description
                datasets.append(dataset)
    # Patient attributes are those of the patient's last stored study (Rule 1 of index.py):
    # make them agree so that the naive reference needs no notion of storage order.
    last_name: dict[object, object] = {}
    for dataset in datasets:
        last_name[dataset["PatientID"].value] = dataset["PatientName"].value
    for dataset in datasets:
        dataset["PatientName"] = last_name[dataset["PatientID"].value]
    return datasets


_RANGES = st.sampled_from(
    ["", "20200101", "20200101-20200131", "-20200115", "20201231-", "20210101-20200101"]
)
_TIME_RANGES = st.sampled_from(["", "1015", "0800-1015", "-0900", "1000-", "2300-0100"])


@st.composite
def _study_query(draw: st.DrawFn) -> Dataset:
    identifier = ds(StudyInstanceUID="")
    if draw(st.booleans()):
        identifier["PatientName"] = draw(st.one_of(_NAMES, _PN_KEYS, _PATTERN))
    if draw(st.booleans()):
        identifier["StudyDate"] = draw(_RANGES)
    if draw(st.booleans()):
        identifier["StudyTime"] = draw(_TIME_RANGES)
    if draw(st.booleans()):
        identifier["AccessionNumber"] = draw(_PATTERN)
    if draw(st.booleans()):
        identifier["StudyDescription"] = draw(_TEXT)
    if draw(st.booleans()):
        identifier["ModalitiesInStudy"] = draw(
            st.lists(_MODALITIES.filter(bool), min_size=1, max_size=2)
        )
    if draw(st.booleans()):
        identifier["PatientID"] = draw(st.sampled_from(["P0", "P1", "P*", "?1"]))
    if draw(st.booleans()):
        identifier["StudyInstanceUID"] = draw(
            st.lists(st.sampled_from(["1.0", "1.1", "1.2", "1.3"]), min_size=1, max_size=3)
        )
    return identifier


def _naive_studies(datasets: list[Dataset], identifier: Dataset, combined: bool) -> list[str]:
    query = compile_identifier(identifier, combined_datetime=combined)
    studies: dict[str, Dataset] = {}
    modalities: dict[str, set[str]] = {}
    for dataset in datasets:
        uid = str(dataset["StudyInstanceUID"].value)
        studies[uid] = dataset
        modality = dataset["Modality"].value
        if modality:
            modalities.setdefault(uid, set()).add(str(modality))
    found = []
    for uid, dataset in studies.items():
        entity = Dataset()
        for keyword in (
            "PatientID",
            "PatientName",
            "StudyInstanceUID",
            "StudyDate",
            "StudyTime",
            "AccessionNumber",
            "StudyDescription",
        ):
            entity.add(dataset[keyword])
        if modalities.get(uid):
            entity["ModalitiesInStudy"] = sorted(modalities[uid])
        if query.matches(entity):
            found.append(uid)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_archive(), _study_query(), st.booleans())
def test_sql_equals_naive_at_study_level(
    datasets: list[Dataset], identifier: Dataset, combined: bool
) -> None:
    index = SQLiteIndex(":memory:")
    for number, dataset in enumerate(datasets):
        index.add(dataset, f"f{number}")
    try:
        expected = _naive_studies(datasets, identifier, combined)
    except QueryError:
        expected = None
    try:
        responses = list(
            index.find(QueryLevel.STUDY, identifier, relational=True, combined_datetime=combined)
        )
        got: list[str] | None = sorted(str(r["StudyInstanceUID"].value) for r in responses)
    except QueryError:
        got = None
    assert got == (sorted(expected) if expected is not None else None)
    index.close()


@settings(max_examples=100, deadline=None)
@given(_archive(), _MODALITIES, _PATTERN)
def test_sql_equals_naive_at_series_level(
    datasets: list[Dataset], modality: str, description: str
) -> None:
    index = SQLiteIndex(":memory:")
    for number, dataset in enumerate(datasets):
        index.add(dataset, f"f{number}")
    identifier = ds(
        StudyInstanceUID="1.0",
        SeriesInstanceUID="",
        Modality=modality,
        SeriesDescription=description,
    )
    query = compile_identifier(identifier)
    expected = sorted(
        {str(dataset["SeriesInstanceUID"].value) for dataset in datasets if query.matches(dataset)}
    )
    got = sorted(
        str(r["SeriesInstanceUID"].value) for r in index.find(QueryLevel.SERIES, identifier)
    )
    assert got == expected
    index.close()
