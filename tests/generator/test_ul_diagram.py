"""The state diagram drawn from the generated PS3.8 Table 9-10."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dicompile.generated import ul_table_ps38 as table
from dicompile.generator.ul_diagram import state_diagram_dot

_EDGE = re.compile(r'^  (Sta\d+) -> (Sta\d+) \[label="([^"]*)"\];$', re.MULTILINE)


def _dot() -> str:
    return state_diagram_dot(table.STATES, table.EVENTS, table.TRANSITIONS, edition="2013")


def test_every_cell_is_an_edge_label() -> None:
    labels: dict[tuple[str, str], set[str]] = {}
    for source, target, text in _EDGE.findall(_dot()):
        labels[(source, target)] = set(text.split("\\n"))
    expected: dict[tuple[str, str], set[str]] = {}
    for (state, event), (action, next_states) in table.TRANSITIONS.items():
        for target in next_states:
            expected.setdefault((state, target), set()).add(f"{event}/{action}")
    assert labels == expected
    # Spot checks against PS3.8 Table 9-10: A-ASSOCIATE request in Sta1 is AE-1 to Sta4;
    # an A-ASSOCIATE-RQ PDU in Sta2 is AE-6, to Sta3 or Sta13.
    assert "Evt1/AE-1" in labels[("Sta1", "Sta4")]
    assert "Evt6/AE-6" in labels[("Sta2", "Sta3")] and "Evt6/AE-6" in labels[("Sta2", "Sta13")]


def test_nodes_are_the_thirteen_states_in_order() -> None:
    nodes = re.findall(r"^  (Sta\d+) \[label=", _dot(), re.MULTILINE)
    assert nodes == [f"Sta{n}" for n in range(1, 14)]


def test_output_is_deterministic() -> None:
    shuffled = dict(reversed(list(table.TRANSITIONS.items())))
    again = state_diagram_dot(table.STATES, table.EVENTS, shuffled, edition="2013")
    assert again == _dot()


def test_unknown_state_is_an_error() -> None:
    with pytest.raises(ValueError, match="Sta99"):
        state_diagram_dot(
            table.STATES, table.EVENTS, {("Sta99", "Evt1"): ("AE-1", ("Sta4",))}, edition="2013"
        )


def test_command_writes_the_dot_file(tmp_path: Path) -> None:
    out = tmp_path / "ul.dot"
    subprocess.run(
        [sys.executable, "-m", "dicompile.generator.ul_diagram", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert out.read_text(encoding="utf-8") == _dot()
    if shutil.which("dot") is not None:
        assert out.with_suffix(".svg").read_text(encoding="utf-8").lstrip().startswith("<")
