"""PS3.4 C.2.2.2 attribute matching, rule by rule, on the reference (Python) matcher and on
the SQL it is translated to."""

from __future__ import annotations

import sqlite3

import pytest

from dicompile.runtime.archive.matching import (
    ColumnKind,
    MatchType,
    column_value,
    compile_identifier,
    glob_pattern,
    sql_condition,
)
from dicompile.runtime.codec.context import EXPLICIT_LE
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, raw_element
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DicomWarning, QueryError
from tests.runtime.archive.helpers import ds, matches


def _type(identifier: Dataset) -> MatchType:
    (key,) = compile_identifier(identifier).keys
    return key.type


# --- C.2.2.2.1 single value matching -----------------------------------------------------


def test_single_value_is_exact_and_case_sensitive() -> None:
    """C.2.2.2.1: non-PN values match exactly, case-sensitively."""
    key = ds(StudyDescription="Chest CT")
    assert _type(key) is MatchType.SINGLE
    assert matches(key, ds(StudyDescription="Chest CT"))
    assert not matches(key, ds(StudyDescription="chest ct"))
    assert not matches(key, ds(StudyDescription="Chest CT abdomen"))


def test_single_value_ignores_padding_spaces() -> None:
    """C.2.2.2.1 with PS3.5 Table 6.2-1: trailing (LO: also leading) spaces are padding."""
    assert matches(ds(AccessionNumber="A1 "), ds(AccessionNumber=" A1"))
    # ST keeps its leading spaces significant.
    assert not matches(ds(StudyComments=" x"), ds(StudyComments="x"))


def test_single_value_pn_is_case_insensitive_and_component_aware() -> None:
    """C.2.2.2.1: PN may be matched insensitive to case; empty trailing components are
    not significant (PS3.5 §6.2.1)."""
    key = ds(PatientName="DOE^JOHN")
    assert matches(key, ds(PatientName="Doe^John"))
    assert matches(key, ds(PatientName="Doe^John^^^"))
    assert not matches(key, ds(PatientName="Doe^Johnny"))
    assert not matches(ds(PatientName="Doe"), ds(PatientName="Doe^John"))


def test_pn_groups() -> None:
    """C.2.2.2.1: a key without "=" may match any component group; with "=" group-wise."""
    value = ds(PatientName="Wang^XiaoDong=王^小東")
    assert matches(ds(PatientName="Wang^XiaoDong"), value)
    assert matches(ds(PatientName="王^小東"), value)
    assert matches(ds(PatientName="=王^小東"), value)
    assert matches(ds(PatientName="wang^xiaodong=王^小東"), value)
    assert not matches(ds(PatientName="Wang^XiaoDong=李^小東"), value)


def test_single_value_dates_match_by_meaning() -> None:
    """C.2.2.2.1: dates and times match by meaning (TM "2230" matches "223000"; DT with and
    without fraction; DT with offset compared in UTC)."""
    assert matches(ds(StudyTime="2230"), ds(StudyTime="223000"))
    assert not matches(ds(StudyTime="2230"), ds(StudyTime="2231"))
    assert matches(
        ds(AcquisitionDateTime="19980128103000.0000"), ds(AcquisitionDateTime="19980128103000")
    )
    assert matches(
        ds(AcquisitionDateTime="19980128103000+0000"),
        ds(AcquisitionDateTime="19980128073000-0300"),
    )


def test_entity_without_value_matches_required_key() -> None:
    """C.2.2.1.2: a zero-length (unknown) required key of an entity matches any key."""
    key = ds(StudyDescription="Chest")
    assert matches(key, ds(StudyDescription=""))
    assert matches(key, Dataset())
    assert not matches(key, ds(StudyDescription="Head"))


def test_entity_without_unique_key_value_does_not_match() -> None:
    """C.2.2.1.1: unique keys always have a value; a missing one is not "unknown"."""
    assert not matches(ds(PatientID="P1"), ds(PatientID=""))
    assert not matches(ds(StudyInstanceUID="1.2"), Dataset())
    assert matches(ds(PatientID=""), Dataset())


# --- C.2.2.2.2 list of UID matching ------------------------------------------------------


def test_uid_list() -> None:
    """C.2.2.2.2: a backslash-separated list of UIDs; each may generate a match."""
    key = ds(StudyInstanceUID=["1.2.3", "1.2.4"])
    assert _type(key) is MatchType.UID_LIST
    assert matches(key, ds(StudyInstanceUID="1.2.4"))
    assert not matches(key, ds(StudyInstanceUID="1.2.5"))
    assert not matches(key, ds(StudyInstanceUID="1.2"))


def test_uid_key_with_wildcard_is_malformed() -> None:
    """C.2.2.2.4: UI is not wild-card matched; "1.2.*" is no UID."""
    with pytest.raises(QueryError) as caught:
        compile_identifier(ds(SeriesInstanceUID="1.2.*"))
    assert caught.value.tag_path == "(0020,000E)"
    assert caught.value.status == 0xA900


# --- C.2.2.2.3 universal matching --------------------------------------------------------


def test_universal_matching() -> None:
    """C.2.2.2.3: a zero-length key matches every entity; "*" alone is equivalent (C.2.2.2.4)."""
    assert _type(ds(PatientID="")) is MatchType.UNIVERSAL
    assert _type(ds(PatientID="*")) is MatchType.UNIVERSAL
    assert matches(ds(PatientID=""), ds(PatientID="X"))
    assert matches(ds(StudyDate=""), ds(StudyDate="20200101"))


# --- C.2.2.2.4 wild card matching --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("AB*", "ABC", True),
        ("AB*", "AB", True),  # "*" matches a zero length sequence
        ("AB*", "XABC", False),
        ("A?C", "ABC", True),
        ("A?C", "AC", False),
        ("A?C", "ABBC", False),
        ("*B*", "ABC", True),
        ("ab*", "ABC", False),  # case sensitive for non-PN
        ("A%", "ABC", False),  # "%" (LIKE's wild card) is a plain character
        ("A%", "A%", True),
        ("A_C", "ABC", False),  # so is "_"
        ("A_*", "A_C", True),
        ("A[B]*", "AB", False),  # "[" is literal, not a GLOB class
        ("A[B]*", "A[B]x", True),
    ],
)
def test_wildcards(key: str, value: str, expected: bool) -> None:
    """C.2.2.2.4: "*" any sequence, "?" one character; other characters literal."""
    identifier = ds(AccessionNumber=key)
    entity = ds(AccessionNumber=value)
    assert matches(identifier, entity) is expected
    assert _sql_selects(identifier, "AccessionNumber", VR.SH, ColumnKind.TEXT, value) is expected


def test_wildcard_pn_is_case_insensitive() -> None:
    """C.2.2.2.4: PN wild card matching is implementation dependent: ours folds case."""
    assert matches(ds(PatientName="doe*"), ds(PatientName="DOE^JOHN"))
    assert matches(ds(PatientName="D?E^J*"), ds(PatientName="Doe^John"))
    assert not matches(ds(PatientName="Smith*"), ds(PatientName="Doe^John"))


def test_no_wildcards_in_dates_and_numbers() -> None:
    """C.2.2.2.4: no wild card matching for DA, TM, DT, DS, IS, UI."""
    with pytest.raises(QueryError):
        compile_identifier(ds(StudyDate="2020*"))
    as_read = raw_element(0x00200011, VR.IS, b"1*", EXPLICIT_LE)  # SeriesNumber from a peer
    with pytest.warns(DicomWarning), pytest.raises(QueryError, match=r"\(0020,0011\)"):
        compile_identifier(Dataset([as_read]))


def test_glob_pattern_escapes_bracket() -> None:
    """C.2.2.2.4 in SQL: only "*" and "?" are wild cards; GLOB's "[" is made literal."""
    assert glob_pattern("a[b*?") == "a[[]b*?"


# --- C.2.2.2.5 range matching ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("20200101-20200131", "20200101", True),  # inclusive
        ("20200101-20200131", "20200131", True),
        ("20200101-20200131", "20200201", False),
        ("20200101-20200131", "20191231", False),
        ("-20200131", "19000101", True),  # "-date": prior to and including
        ("-20200131", "20200201", False),
        ("20200101-", "29991231", True),  # "date-": and subsequent
        ("20200101-", "20191231", False),
        ("20200201-20200101", "20200115", False),  # start after end: nothing
    ],
)
def test_date_range(key: str, value: str, expected: bool) -> None:
    """C.2.2.2.5: date ranges "d1-d2", "-d2", "d1-"."""
    assert matches(ds(StudyDate=key), ds(StudyDate=value)) is expected
    assert _sql_selects(ds(StudyDate=key), "StudyDate", VR.DA, ColumnKind.DATE, value) is expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("1000-1800", "1000", True),
        ("1000-1800", "095959", False),
        ("1000-1800", "180059.99", True),  # "1800" covers the minute 18:00
        ("1000-1800", "1801", False),
        ("-0930", "0001", True),
        ("1200-", "235959", True),
        ("1200-", "115959.999999", False),
    ],
)
def test_time_range(key: str, value: str, expected: bool) -> None:
    """C.2.2.2.5: time ranges, times by meaning at the precision given."""
    assert matches(ds(StudyTime=key), ds(StudyTime=value)) is expected
    assert _sql_selects(ds(StudyTime=key), "StudyTime", VR.TM, ColumnKind.DATE, value) is expected


def test_datetime_range_with_offsets() -> None:
    """C.2.2.2.5: the UTC offset of a DT value is taken into account."""
    key = ds(AcquisitionDateTime="20200101120000+0000-20200101130000+0000")
    assert matches(key, ds(AcquisitionDateTime="20200101080000-0430"))  # 12:30 UTC
    assert not matches(key, ds(AcquisitionDateTime="20200101130000+0200"))  # 11:00 UTC
    assert matches(ds(AcquisitionDateTime="2006-2006"), ds(AcquisitionDateTime="20061231235959"))


def test_combined_datetime_range() -> None:
    """C.2.2.2.5: with combined datetime matching negotiated, "20060705-20060707" and
    "1000-1800" are one period, July 5 10:00 to July 7 18:00 (the standard's example)."""
    key = ds(StudyDate="20060705-20060707", StudyTime="1000-1800")
    evening = ds(StudyDate="20060706", StudyTime="2200")
    assert matches(key, evening, combined=True)
    assert not matches(key, evening, combined=False)
    early = ds(StudyDate="20060705", StudyTime="0900")
    assert not matches(key, early, combined=True)
    assert not matches(key, ds(StudyDate="20060707", StudyTime="1801"), combined=True)
    # Different forms of range are not combined: matched separately.
    mixed = ds(StudyDate="20060705-", StudyTime="1000-1800")
    assert not matches(mixed, evening, combined=True)


def test_malformed_ranges() -> None:
    """C.2.2.2.5: range matching is defined for DA/TM/DT texts only."""
    for bad in ("2019-2020", "-", "20200101-2020013", "20201301"):
        with pytest.raises(QueryError, match=r"\(0008,0020\)"):
            compile_identifier(ds(StudyDate=bad))


# --- C.2.2.2.6 sequence matching ---------------------------------------------------------


def _code(value: str, scheme: str = "DCM") -> Dataset:
    return ds(CodeValue=value, CodingSchemeDesignator=scheme)


def test_sequence_matching() -> None:
    """C.2.2.2.6: an item matches when all item keys match; any item of the entity may."""
    entity = ds(ProcedureCodeSequence=[_code("A"), _code("B", "99X")])
    assert matches(ds(ProcedureCodeSequence=[ds(CodeValue="B")]), entity)
    assert matches(
        ds(ProcedureCodeSequence=[ds(CodeValue="B", CodingSchemeDesignator="99*")]), entity
    )
    # Both keys must match in the same item.
    assert not matches(
        ds(ProcedureCodeSequence=[ds(CodeValue="A", CodingSchemeDesignator="99X")]), entity
    )


def test_sequence_universal_and_response() -> None:
    """C.2.2.2.6: an empty item is universal and returns the whole sequence; otherwise only
    matching items, with only the requested attributes."""
    entity = ds(ProcedureCodeSequence=[_code("A"), _code("B")])
    universal = compile_identifier(ds(ProcedureCodeSequence=[Dataset()]))
    assert universal.keys[0].type is MatchType.UNIVERSAL
    assert len(universal.response(entity)["ProcedureCodeSequence"].value) == 2  # type: ignore[arg-type]
    query = compile_identifier(ds(ProcedureCodeSequence=[ds(CodeValue="B")]))
    items = query.response(entity)["ProcedureCodeSequence"].value
    assert isinstance(items, list) and len(items) == 1
    assert items[0].tags() == [0x00080100]
    assert items[0]["CodeValue"].value == "B"


def test_sequence_key_with_two_items_is_malformed() -> None:
    """C.2.2.2.6: the key is "a Sequence of Items with a single Item"."""
    with pytest.raises(QueryError, match="single item"):
        compile_identifier(ds(ProcedureCodeSequence=[_code("A"), _code("B")]))


# --- C.2.2.2.7 multiple values -----------------------------------------------------------


def test_multiple_values_any_matches() -> None:
    """C.2.2.2.7: an entity value of VM > 1 matches when any of its values does, and all
    values are returned."""
    entity = ds(OtherPatientIDs=["X1", "Y2"])
    query = compile_identifier(ds(OtherPatientIDs="Y*"))
    assert query.matches(entity)
    assert query.response(entity)["OtherPatientIDs"].value == ("X1", "Y2")


def test_response_has_zero_length_for_missing_values() -> None:
    """C.4.1.1.3.2: requested keys without a value are returned with zero length."""
    response = compile_identifier(ds(StudyDescription="")).response(Dataset())
    assert response["StudyDescription"].value is None
    assert response["StudyDescription"].vr is VR.LO


# --- SQL translation -------------------------------------------------------------------


def _sql_selects(identifier: Dataset, keyword: str, vr: VR, kind: ColumnKind, value: str) -> bool:
    """Whether the SQL fragment of the key selects a row holding ``value``."""
    (key,) = compile_identifier(identifier).keys
    found = sql_condition(key, "c", kind)
    assert found is not None, f"no SQL for {keyword}"
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (c TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (column_value(vr, [value], kind),))
    return bool(db.execute(f"SELECT count(*) FROM t WHERE {found[0]}", found[1]).fetchone()[0])


def test_sql_keeps_empty_values() -> None:
    """C.2.2.1.2 in SQL: a NULL column (no value) passes every condition."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (c TEXT)")
    db.execute("INSERT INTO t VALUES (NULL)")
    (key,) = compile_identifier(ds(AccessionNumber="A*")).keys
    found = sql_condition(key, "c", ColumnKind.TEXT)
    assert found is not None
    assert db.execute(f"SELECT count(*) FROM t WHERE {found[0]}", found[1]).fetchone()[0] == 1


def test_identifier_skips_non_keys() -> None:
    """C.4.1.1.3.1: Query/Retrieve Level and Specific Character Set are not matched."""
    identifier = ds(QueryRetrieveLevel="STUDY", SpecificCharacterSet="ISO_IR 100")
    assert compile_identifier(identifier).keys == ()


def test_binary_key_is_malformed() -> None:
    """C.2.2.2: no matching type is defined on binary values (here Encapsulated Document)."""
    identifier = Dataset([DataElement(0x00420011, VR.OB, b"\x01\x02")])
    with pytest.raises(QueryError, match=r"\(0042,0011\)"):
        compile_identifier(identifier)


def test_private_keys_are_unsupported() -> None:
    """C.2.2.1.3: an unsupported optional key is neither matched nor returned."""
    identifier = Dataset([DataElement(0x00291010, VR.OB, b"\x01\x02")])
    assert compile_identifier(identifier).keys == ()
