"""The PS3.8 state machine reader and emitter: a hand-written fixture, errors, the 2013 file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dicompile.generator.emit.ul_table import UL_TABLE_FILE, render_ul_table
from dicompile.generator.sources.docbook.part08 import ULStateMachine, read_part08
from dicompile.runtime.errors import StandardSourceError

FIXTURE = Path(__file__).parent / "fixtures" / "part08" / "part08.xml"
REPO = Path(__file__).resolve().parents[2]


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "2013" / "part08.xml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ fixture


@pytest.fixture(scope="module")
def fixture_machine() -> ULStateMachine:
    return read_part08(FIXTURE)


def test_fixture_states_events_actions(fixture_machine: ULStateMachine) -> None:
    m = fixture_machine
    assert [s.label for s in m.states] == ["Sta1", "Sta2", "Sta3", "Sta4", "Sta5"]
    # "Sta 1" in Tables 9-1..9-5 is "Sta1" in Table 9-10.
    assert m.states[0].definition == "Idle"
    assert m.states[2].provenance.table_id == "table_9-2"
    assert [e.label for e in m.events] == ["Evt1", "Evt2", "Evt3"]
    assert m.events[2].description == "P-DATA-TF PDU"
    assert m.events[1].provenance.row == 2
    actions = {a.label: a.next_states for a in m.actions}
    # Two paragraphs give two next states; "Nest state" (AA-8's typo) is read too.
    assert actions == {
        "AE-5": ("Sta2",),
        "AE-6": ("Sta3", "Sta5"),
        "DT-2": ("Sta4",),
        "AR-5": ("Sta1",),
        "AA-8": ("Sta5",),
    }


def test_fixture_cells(fixture_machine: ULStateMachine) -> None:
    cells = {(t.state, t.event): (t.action, t.next_states) for t in fixture_machine.transitions}
    assert cells == {
        ("Sta1", "Evt1"): ("AE-5", ("Sta2",)),
        ("Sta2", "Evt2"): ("AE-6", ("Sta3", "Sta5")),  # "Sta3 or 5"
        ("Sta3", "Evt2"): ("AA-8", ("Sta5",)),
        ("Sta4", "Evt2"): ("AA-8", ("Sta5",)),
        ("Sta3", "Evt3"): ("AA-8", ("Sta5",)),
        ("Sta4", "Evt3"): ("DT-2", ("Sta4",)),
        ("Sta5", "Evt3"): ("AR-5", ("Sta1",)),
    }
    first = fixture_machine.transitions[0]
    assert first.provenance.cite() == "PS3.8 2013 table_9-10 row 1"
    assert fixture_machine.digest.source_file == "part08/part08.xml"


def test_missing_table_names_it(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'xml:id="table_9-10"', 'xml:id="table_9-10x"')
    with pytest.raises(StandardSourceError, match="table table_9-10"):
        read_part08(path)


def test_changed_columns_are_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "<th><para>Sta3</para></th>", "<th><para>Sta 3 (new)</para></th>")
    with pytest.raises(StandardSourceError, match="columns changed"):
        read_part08(path)
    path = _variant(tmp_path, "<th><para>Action</para></th>", "<th><para>Step</para></th>")
    with pytest.raises(StandardSourceError, match=r"table_9-8.*columns changed"):
        read_part08(path)


def test_unreadable_cell_names_row_and_column(tmp_path: Path) -> None:
    path = _variant(tmp_path, "<para>Sta3 or 5</para>", "<para>Sta3 and then 5</para>")
    with pytest.raises(StandardSourceError, match=r"row 2 \(Evt2\), column Sta2"):
        read_part08(path)
    path = _variant(tmp_path, "<para>DT-2</para><para>Sta4</para>", "<para>see text</para>")
    with pytest.raises(StandardSourceError, match=r"row 3 \(Evt3\), column Sta4"):
        read_part08(path)


def test_not_ps38(tmp_path: Path) -> None:
    path = _variant(tmp_path, "DICOM PS3.8 2013", "DICOM PS3.7 2013")
    with pytest.raises(StandardSourceError, match=r"not PS3\.8"):
        read_part08(path)


# ------------------------------------------------------------------------- the 2013 file


@pytest.fixture(scope="module")
def part08_2013(xml_2013: Path) -> Path:
    return xml_2013 / "part08.xml"


def test_2013_counts_and_cells(part08_2013: Path) -> None:
    m = read_part08(part08_2013)
    assert m.edition == "2013"
    assert len(m.states) == 13
    assert len(m.events) == 19
    assert len(m.actions) == 28  # AE-1..8, DT-1..2, AR-1..10, AA-1..8
    cells = {(t.state, t.event): (t.action, t.next_states) for t in m.transitions}
    assert len(cells) == 123
    # Checked by eye against the printed PS3.8 2013 Table 9-10.
    assert cells["Sta2", "Evt6"] == ("AE-6", ("Sta3", "Sta13"))  # "Sta3 or 13"
    assert cells["Sta7", "Evt12"] == ("AR-8", ("Sta9", "Sta10"))  # "Sta9 or 10"
    assert cells["Sta13", "Evt17"] == ("AR-5", ("Sta1",))
    assert cells["Sta10", "Evt13"] == ("AR-10", ("Sta12",))
    assert ("Sta1", "Evt17") not in cells  # an empty cell
    assert m.events[17].description == "ARTIM timer expired (Association reject/release timer)"


def test_2013_cells_agree_with_action_definitions(part08_2013: Path) -> None:
    # Table 9-10 and Tables 9-6..9-9 state the next state twice; in 2013 they agree.
    m = read_part08(part08_2013)
    defined = {a.label: a.next_states for a in m.actions}
    assert {t.action for t in m.transitions} == set(defined)
    for cell in m.transitions:
        assert cell.next_states == defined[cell.action], cell


def test_render_is_deterministic_and_committed(part08_2013: Path) -> None:
    first = render_ul_table(part08_2013)
    assert first == render_ul_table(part08_2013)
    assert list(first) == [UL_TABLE_FILE]
    text = first[UL_TABLE_FILE]
    assert text.startswith(
        "# Generated by dicompile.generator from:\n#   PS3.8 2013 (2013/part08.xml sha256 "
    )
    assert "/work" not in text and "shared/" not in text  # no absolute paths
    committed = REPO / "generated" / UL_TABLE_FILE
    assert committed.read_text(encoding="utf-8") == text, "regenerate generated/ul_table_ps38.py"


def test_rendered_file_is_ruff_formatted(part08_2013: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    text = render_ul_table(part08_2013)[UL_TABLE_FILE]
    formatted = subprocess.run(
        [ruff, "format", "--stdin-filename", "generated/ul_table_ps38.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert formatted == text
