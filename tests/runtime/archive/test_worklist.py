"""Modality Worklist items from DICOM JSON, matched with the K.6 keys (PS3.4 K.6.1.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicompile.runtime.archive import SQLiteWorklist
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.errors import DecodeError, QueryError, ValidationError
from tests.runtime.archive.helpers import ds


def _item(
    accession: str, name: str, modality: str, station: str, date: str, time: str, step: str
) -> dict[str, object]:
    """One worklist item as a DICOM JSON Model object (PS3.18 F.2)."""
    return {
        "00080050": {"vr": "SH", "Value": [accession]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": name}]},
        "00100020": {"vr": "LO", "Value": [f"PID-{accession}"]},
        "0020000D": {"vr": "UI", "Value": [f"1.2.826.0.1.{accession[1:]}"]},
        "00401001": {"vr": "SH", "Value": ["RP1"]},
        "00400100": {
            "vr": "SQ",
            "Value": [
                {
                    "00080060": {"vr": "CS", "Value": [modality]},
                    "00400001": {"vr": "AE", "Value": [station]},
                    "00400002": {"vr": "DA", "Value": [date]},
                    "00400003": {"vr": "TM", "Value": [time]},
                    "00400009": {"vr": "SH", "Value": [step]},
                    "00400007": {"vr": "LO", "Value": [f"{modality} exam"]},
                }
            ],
        },
    }


@pytest.fixture
def worklist(tmp_path: Path) -> SQLiteWorklist:
    store = SQLiteWorklist(tmp_path / "archive.sqlite")
    items = [
        _item("A1", "Doe^John", "CT", "CT01", "20240301", "0800", "S1"),
        _item("A2", "Roe^Jane", "MR", "MR01", "20240301", "1430", "S2"),
        _item("A3", "Poe^Edgar", "CT", "CT02", "20240302", "0915", "S3"),
    ]
    assert store.add_json(json.dumps(items)) == ["A1\\RP1\\S1", "A2\\RP1\\S2", "A3\\RP1\\S3"]
    return store


def _step_key(**values: object) -> Dataset:
    return ds(ScheduledProcedureStepSequence=[ds(**values)])


def _accessions(found: list[Dataset]) -> list[object]:
    return [response["AccessionNumber"].value for response in found]


def test_modality_and_station(worklist: SQLiteWorklist) -> None:
    """K.6.1.2.2 / C.2.2.2.6: sequence matching on Modality and Scheduled Station AE Title."""
    key = _step_key(Modality="CT", ScheduledStationAETitle="", ScheduledProcedureStepStartDate="")
    key["AccessionNumber"] = ""
    found = list(worklist.find(key))
    assert _accessions(found) == ["A1", "A3"]
    steps = found[0]["ScheduledProcedureStepSequence"].value
    assert isinstance(steps, Sequence)
    # Only the requested attributes of the matching item come back (C.2.2.2.6).
    assert steps[0].tags() == [0x00080060, 0x00400001, 0x00400002]
    key = _step_key(ScheduledStationAETitle="CT02")
    key["AccessionNumber"] = ""
    assert _accessions(list(worklist.find(key))) == ["A3"]


def test_date_and_time_ranges(worklist: SQLiteWorklist) -> None:
    """K.6.1.2.2 / C.2.2.2.5: start date and time ranges, separately and combined."""
    key = _step_key(ScheduledProcedureStepStartDate="20240301", ScheduledProcedureStepStartTime="")
    key["AccessionNumber"] = ""
    assert _accessions(list(worklist.find(key))) == ["A1", "A2"]
    key = _step_key(
        ScheduledProcedureStepStartDate="20240301-20240302",
        ScheduledProcedureStepStartTime="0900-1500",
    )
    key["AccessionNumber"] = ""
    # Separately: times between 09:00 and 15:00 on either day.
    assert _accessions(list(worklist.find(key))) == ["A2", "A3"]
    # Combined: from March 1 09:00 to March 2 15:00.
    assert _accessions(list(worklist.find(key, combined_datetime=True))) == ["A2", "A3"]
    key = _step_key(
        ScheduledProcedureStepStartDate="20240301-20240302",
        ScheduledProcedureStepStartTime="1000-0900",
    )
    key["AccessionNumber"] = ""
    assert _accessions(list(worklist.find(key, combined_datetime=True))) == ["A2"]


def test_patient_keys_and_replace(worklist: SQLiteWorklist) -> None:
    """K.6.1.2.2: patient keys are matched as C.2.2.2 says (PN case-insensitive here)."""
    assert _accessions(list(worklist.find(ds(PatientName="ROE*", AccessionNumber="")))) == ["A2"]
    worklist.add_json(json.dumps(_item("A2", "Roe^Janet", "MR", "MR01", "20240301", "1430", "S2")))
    assert worklist.count() == 3
    found = list(worklist.find(ds(PatientName="", AccessionNumber="A2")))
    assert [str(r["PatientName"].value) for r in found] == ["Roe^Janet"]
    assert worklist.remove("A2\\RP1\\S2")
    assert not worklist.remove("A2\\RP1\\S2")
    assert worklist.count() == 2


def test_bad_input(worklist: SQLiteWorklist) -> None:
    with pytest.raises(ValidationError, match="Scheduled Procedure Step Sequence"):
        worklist.add_json(json.dumps({"00080050": {"vr": "SH", "Value": ["X"]}}))
    with pytest.raises(DecodeError):
        worklist.add_json("[1, 2]")
    assert worklist.count() == 3
    with pytest.raises(QueryError):
        list(worklist.find(_step_key(ScheduledProcedureStepStartDate="March")))
    with pytest.raises(QueryError, match="empty Identifier"):
        list(worklist.find(Dataset()))
